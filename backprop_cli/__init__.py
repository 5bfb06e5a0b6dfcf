"""backprop: a backprop tutor and calculator.

>>> from backprop_cli import grad
>>> grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}).gradients
{'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

from .api import build, grad
from .errors import BackpropError, DomainError, InputError, LimitError, ParseError
from .result import Result

__version__ = "0.1.0"

__all__ = [
    "BackpropError",
    "DomainError",
    "InputError",
    "LimitError",
    "ParseError",
    "Result",
    "build",
    "grad",
    "__version__",
]
