"""backprop: a backprop tutor and calculator.

>>> from backprop_cli import grad
>>> grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}).gradients
{'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

from .errors import BackpropError, DomainError, InputError, LimitError, ParseError

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


def __getattr__(name: str):
    # the engine is imported on first use, so `backprop --help` and `--version` skip it
    if name in ("grad", "build"):
        from . import api

        return getattr(api, name)
    if name == "Result":
        from .result import Result

        return Result
    raise AttributeError(f"module 'backprop_cli' has no attribute {name!r}")
