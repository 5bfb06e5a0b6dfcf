"""The library entry point: ``grad(expression, values)`` -> Result."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from .errors import InputError
from .graph import Graph
from .i18n import _
from .numeric import Number, parse_number
from .parse import parse, short_name
from .result import Result

NumberLike = int | float | Fraction | str
_INF = math.inf


def read_value(name: str, value: NumberLike, exact: bool) -> Number:
    """One user value as a float, or as a Fraction in exact mode (2.2 means 11/5)."""
    if type(value) is float and not exact and -_INF < value < _INF:
        return value  # the common case, without composing a message it would not need
    what = _("value of {name!r}").format(name=short_name(name))
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, str)):
        raise InputError(_("{what} must be a number, got {type}").format(what=what, type=type(value).__name__))
    if isinstance(value, str):
        return parse_number(value, exact, what)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(_("{what} must be finite, got {value}").format(what=what, value=value))
    if exact:
        return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    try:
        return float(value)
    except OverflowError:
        raise InputError(_("{what} is too large for a floating-point number").format(what=what)) from None


def build(expression: str) -> Graph:
    """Parse an expression or staged program into a graph (no values needed)."""
    return Graph(parse(expression))


def grad(
    expression: str,
    values: Mapping[str, NumberLike] | None = None,
    *,
    exact: bool = False,
    check: bool = False,
    check_method: str = "auto",
) -> Result:
    """Forward and backward pass of ``expression`` at ``values``.

    >>> r = grad("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    >>> r.value, r.gradients
    (-12.0, {'x': -4.0, 'y': -4.0, 'z': 3.0})

    ``exact=True`` uses fractions where the gates allow it; ``check=True`` cross-checks the
    gradients with SymPy (or finite differences for large graphs). Raises BackpropError
    with a message fit for a user on any bad input.
    """
    values = dict(values or {})
    graph = build(expression)
    # the values given are read first: "x=1,y=2" is one malformed value, not a missing y
    inputs = {name: read_value(name, values[name], exact) for name in graph.inputs if name in values}
    if len(inputs) < len(graph.inputs):
        missing = [name for name in graph.inputs if name not in values]
        # a given value that is neither an input nor computed by the program may be a typo
        unused = [name for name in values if name not in graph.inputs and name not in graph.names]
        raise graph.missing_values(missing, unused)
    node_values = graph.forward(inputs, exact)
    locals_ = graph.local_gradients(node_values)
    seed: Number = Fraction(1) if exact else 1.0
    grads = graph.backward(locals_, seed)

    notes: list[str] = []
    if graph.program.caret_power:
        notes.append(_("'^' is read as power (**), as in SymPy; Python's XOR has no meaning here"))
    kinks = graph.kinks(node_values)
    notes += kinks
    if exact:
        notes += _float_fallbacks(graph, node_values, locals_)
    warnings = graph.ignored_values(values)

    result = Result(
        expression=expression,
        graph=graph,
        inputs=inputs,
        values=node_values,
        locals=locals_,
        grads=grads,
        exact=exact,
        notes=notes,
        warnings=warnings,
    )
    if check:
        from .verify import cross_check

        result.check = cross_check(graph, inputs, grads, bool(kinks), check_method)
    return result


def _float_fallbacks(graph: Graph, values: list, locals_: list[tuple]) -> list[str]:
    """Name the gates where exact arithmetic had to give way to floats: an irrational value
    (exp(1)) or local gradient (d(2**x)/dx = 2**x log 2) from exact inputs."""
    fallen = []
    for i, operands in enumerate(graph.args):
        if not operands or any(isinstance(values[j], float) for j in operands):
            continue
        floats = [isinstance(local, float) for j, local in zip(operands, locals_[i]) if graph.needs_grad[j]]
        if isinstance(values[i], float) or any(floats):
            if graph.gates[i].name not in fallen:
                fallen.append(graph.gates[i].name)
    if not fallen:
        return []
    return [
        _("exact mode: irrational values or local gradients came out of {gates}, so they and what depends on "
          "them are floats").format(gates=", ".join(fallen))
    ]
