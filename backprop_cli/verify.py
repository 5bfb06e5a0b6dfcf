"""Independent checks of the engine's gradients.

* ``sympy``: SymPy differentiates the whole expression symbolically (symbols declared real,
  so abs and max need no complex parts) and the derivatives are evaluated numerically with
  ``lambdify`` (with common-subexpression elimination), never evalf or subs.
* ``finite-difference``: for graphs too large or too deep for symbolic work, central
  differences along random directions: (f(x + h v) - f(x - h v)) / 2h against grad . v.

SymPy is imported here only, and only when a check runs, so `--no-check` and `--help` never
pay its import time.
"""

from __future__ import annotations

import math
import random
import threading
from fractions import Fraction

from .errors import BackpropError
from .gates import CONST, INPUT
from .graph import Graph
from .i18n import _
from .numeric import to_float
from .parse import short_name
from .result import Check, CheckItem

#: Above these sizes SymPy's recursive algorithms get slow or hit Python's recursion limit;
#: the finite-difference check takes over. Measured (bench/bench_crosscheck.py): a
#: 1,000-node network of 100 neurons takes ~2 s, tanh nested 100 deep ~1.5 s, 130 deep ~3 s,
#: and 160 deep exhausts the recursion limit.
SYMPY_MAX_NODES = 1_500
#: Nesting as SymPy sees it: a chain of + (or of *) is one flat sum (product), one level.
SYMPY_MAX_DEPTH = 100
#: SymPy gets this long before the finite-difference check takes over.
SYMPY_SECONDS = 10.0

REL_TOL = 1e-7
ABS_TOL = 1e-10


def heaviside(x: float, at_zero: float = 0.5) -> float:
    return 0.0 if x < 0 else 1.0 if x > 0 else float(at_zero)


# SymPy writes the derivative of abs(u) with re(u) and im(u) when it cannot prove u real
# (z**y); the values here are real numbers
def _real_part(x: float) -> float:
    return x


def _imaginary_part(x: float) -> float:
    return 0.0


def cross_check(graph: Graph, inputs: dict, grads: list, has_kinks: bool, method: str = "auto") -> Check:
    """Check the engine's input gradients; method is "auto", "sympy" or "finite-difference"."""
    reason = ""
    if method == "auto":
        depth = sympy_depth(graph)
        if len(graph) > SYMPY_MAX_NODES:
            reason = _("the graph has {nodes:,} nodes (SymPy is used up to {limit:,})").format(
                nodes=len(graph), limit=SYMPY_MAX_NODES
            )
        elif depth > SYMPY_MAX_DEPTH:
            reason = _("the expression is nested {depth:,} levels deep (SymPy is used up to {limit})").format(
                depth=depth, limit=SYMPY_MAX_DEPTH
            )
        method = "finite-difference" if reason else "sympy"
    # exact values past a float's range: both checks compare floats
    beyond = [name for name, node in graph.inputs.items() if math.isinf(to_float(grads[node]))]
    beyond += [name for name, value in inputs.items() if math.isinf(to_float(value))]
    if beyond:
        note = _("the gradient or value of {name!r} is beyond the range of a float, so it cannot be checked").format(
            name=short_name(beyond[0])
        )
        return Check(method, True, note=note, skipped=True)
    if method == "sympy":
        outcome: list = []
        worker = threading.Thread(
            target=lambda: outcome.append(_sympy_or_error(graph, inputs, grads, has_kinks)), daemon=True
        )
        worker.start()
        worker.join(SYMPY_SECONDS)
        if outcome and isinstance(outcome[0], Check):
            return outcome[0]
        if outcome and isinstance(outcome[0], _NotANumber):
            name, symbolic, value = outcome[0].args
            if symbolic in ("nan", "zoo", "oo", "-oo"):  # SymPy simplified it to that already (0**y)
                reason = _("SymPy's derivative for {name!r} is {symbolic}").format(name=short_name(name), symbolic=symbolic)
            else:
                reason = _("SymPy's derivative for {name!r}, {symbolic}, is {value} at this point").format(
                    name=short_name(name), symbolic=symbolic if len(symbolic) <= 60 else symbolic[:57] + "...", value=value
                )
        elif outcome:
            reason = _("SymPy failed ({error})").format(error=outcome[0])
        else:
            reason = _("SymPy took longer than {seconds:g} s").format(seconds=SYMPY_SECONDS)
    check = finite_difference_check(graph, inputs, grads, has_kinks)
    if reason:
        check.note = _("{reason}; {note}").format(reason=reason, note=check.note)
    return check


def sympy_depth(graph: Graph) -> int:
    """Nesting depth of the graph as SymPy builds it: SymPy flattens a chain of additions
    (subtractions) into one sum and a chain of products into one product, so those links
    add no level; every other gate does."""
    flat = {"add": "add", "sub": "add", "mul": "mul"}
    depth = [0] * len(graph)
    for i, operands in enumerate(graph.args):
        kind = flat.get(graph.gates[i].name)
        for j in operands:
            level = depth[j] if kind is not None and flat.get(graph.gates[j].name) == kind else depth[j] + 1
            depth[i] = max(depth[i], level)
    return depth[graph.output]


class _NotANumber(Exception):
    """SymPy's derivative evaluates to nan or infinity at the point (0**y: 0**y*log(0))."""


def _sympy_or_error(graph: Graph, inputs: dict, grads: list, has_kinks: bool):
    try:
        return sympy_check(graph, inputs, grads, has_kinks)
    except _NotANumber as error:
        return error
    except Exception as error:  # any failure inside SymPy means: use the other check
        return type(error).__name__


class _SympyForGates:
    """The sympy module as the gates see it, except that Max and Min skip their search for
    dominated arguments: it asks the assumption system about every pair and costs ~17 ms
    per relu. The expressions mean the same; SymPy differentiates them as usual."""

    def __init__(self, sympy) -> None:
        self._sympy = sympy

    def __getattr__(self, name: str):
        return getattr(self._sympy, name)

    def Max(self, *args):  # noqa: N802 - SymPy's name
        return self._sympy.Max(*args, evaluate=False)

    def Min(self, *args):  # noqa: N802 - SymPy's name
        return self._sympy.Min(*args, evaluate=False)


def sympy_expressions(graph: Graph) -> tuple[dict, list]:
    """Symbols (real) per input name and the SymPy expression of every node."""
    import sympy as sp

    symbols = {name: sp.Symbol(name, real=True) for name in graph.inputs}
    gate_sympy = _SympyForGates(sp)
    expressions: list = [None] * len(graph)
    for name, node in graph.inputs.items():
        expressions[node] = symbols[name]
    for i, gate in enumerate(graph.gates):
        if gate is CONST:
            exact = Fraction(graph.literals[i])
            expressions[i] = sp.Rational(exact.numerator, exact.denominator)
        elif gate is not INPUT:
            expressions[i] = gate.sympy(gate_sympy, *[expressions[j] for j in graph.args[i]])
    return symbols, expressions


def sympy_check(graph: Graph, inputs: dict, grads: list, has_kinks: bool) -> Check:
    import sympy as sp

    symbols, expressions = sympy_expressions(graph)
    output = expressions[graph.output]
    names = list(graph.inputs)
    derivatives = _derivatives(sp, output, [symbols[name] for name in names])
    # lambdify gets plain argument names of our own (_v0, _v1, ...): its dummify=True would
    # protect odd user names (lambda, math) too, but costs ~4 ms per derivative
    plain = {symbols[name]: sp.Symbol(f"_v{i}", real=True) for i, name in enumerate(names)}
    evaluate = sp.lambdify(
        [list(plain.values())],
        [derivative.xreplace(plain) for derivative in derivatives],
        modules=[{"Heaviside": heaviside, "re": _real_part, "im": _imaginary_part}, "math"],
        cse=True,
    )
    references = evaluate([float(inputs[name]) for name in names]) if names else []
    engine = [grads[graph.inputs[name]] for name in names]
    scale = max([abs(float(v)) for v in engine] + [1.0])
    items = []
    for name, derivative, reference, mine in zip(names, derivatives, references, engine):
        reference = float(reference)
        if not math.isfinite(reference):  # nothing to compare with: the finite differences take over
            raise _NotANumber(name, sp.sstr(derivative), reference)
        ok = math.isclose(float(mine), reference, rel_tol=REL_TOL, abs_tol=ABS_TOL * scale)
        note = ""
        if not ok and any(isinstance(v, Fraction) for v in inputs.values()):
            # --exact: inputs that differ only past a float's precision (1/3 and 0.3333333333333333333)
            # tie once rounded; SymPy evaluates again at the exact point
            exact_point = {symbols[n]: sp.Rational(v.numerator, v.denominator) for n, v in inputs.items()}
            reference = float(sp.N(derivative.subs(exact_point), 30))
            ok = math.isclose(float(mine), reference, rel_tol=REL_TOL, abs_tol=ABS_TOL * scale)
        if not ok and has_kinks:
            ok, note = True, _("differs at a non-differentiable point: the engine follows its convention")
        items.append(CheckItem(name, mine, reference, ok, symbolic=sp.sstr(derivative), note=note))
    return Check("sympy", all(item.ok for item in items), items)


def _derivatives(sp, output, wrt: list) -> list:
    """SymPy's derivative of output with respect to each symbol in wrt.

    A loss is usually a sum, and d(sum)/dx is the sum of the derivatives of the terms that
    contain x: visiting only those (instead of every term for every symbol) makes the
    200-variable sum of the benchmarks 30x faster. SymPy still does every differentiation.
    """
    terms = output.args if output.is_Add else (output,)
    containing: dict = {symbol: [] for symbol in wrt}
    for term in terms:
        for symbol in term.free_symbols:
            if symbol in containing:
                containing[symbol].append(term)
    return [sp.Add(*[sp.diff(term, symbol) for term in containing[symbol]]) for symbol in wrt]


def _central_difference(graph: Graph, names: list[str], point: dict, direction: list[float], step: float) -> float:
    """(f(x + step v) - f(x - step v)) / (2 step)."""
    plus = graph.forward({n: point[n] + step * d for n, d in zip(names, direction)})
    minus = graph.forward({n: point[n] - step * d for n, d in zip(names, direction)})
    return (plus[graph.output] - minus[graph.output]) / (2 * step)


def finite_difference_check(
    graph: Graph, inputs: dict, grads: list, has_kinks: bool, directions: int = 3, seed: int = 0
) -> Check:
    """Central differences along random +-1 directions, compared with grad . direction."""
    names = list(graph.inputs)
    if not names:
        return Check("finite-difference", True, note=_("no inputs to check"))
    point = {name: float(inputs[name]) for name in names}
    gradient = [float(grads[graph.inputs[name]]) for name in names]
    values = graph.forward(point)
    # rounding noise of one evaluation: a few ulps of every value that was added up
    noise = 8 * 2.2e-16 * sum(abs(float(v)) for v in values)
    rng = random.Random(seed)
    worst = ""
    for _direction in range(directions):
        direction = [rng.choice((-1.0, 1.0)) for _name in names]
        expected = sum(g * d for g, d in zip(gradient, direction))
        step = 1e-6 * max([1.0] + [abs(v) for v in point.values()])
        measured = None
        for _attempt in range(3):
            try:
                measured = _central_difference(graph, names, point, direction, step)
                break
            except BackpropError:
                step /= 100  # stepped outside a domain (log near 0): look closer
        if measured is None:
            note = _("the function is undefined next to this point")
            return Check("finite-difference", True, note=note, skipped=True)
        tolerance = 1e-5 * (abs(expected) + sum(abs(g) for g in gradient)) + noise / step + 1e-9
        if abs(measured - expected) > tolerance:
            # a strongly curved function (x**20000) needs a smaller step: the central
            # difference's error shrinks as step**2, so halve it and extrapolate (Richardson),
            # allowing for the error that the two estimates show
            try:
                finer = _central_difference(graph, names, point, direction, step / 2)
            except BackpropError:
                finer = measured
            extrapolated = (4 * finer - measured) / 3
            if abs(extrapolated - expected) > tolerance + 2 * noise / step + abs(finer - measured):
                worst = _(
                    "direction derivative {measured:.9g} by finite differences, {expected:.9g} by the engine"
                ).format(measured=extrapolated, expected=expected)
                break
    ok = not worst
    note = _("central differences along {count} random directions agree").format(count=directions)
    if worst:
        note = worst
        if has_kinks:
            ok, note = True, _("{mismatch}: expected next to a non-differentiable point").format(mismatch=worst)
    return Check("finite-difference", ok, note=note)
