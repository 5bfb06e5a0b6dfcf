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
from .result import Check, CheckItem

#: Above these sizes SymPy's recursive algorithms get slow or hit Python's recursion limit;
#: the finite-difference check takes over.
SYMPY_MAX_NODES = 4_000
SYMPY_MAX_DEPTH = 300
#: SymPy gets this long before the finite-difference check takes over.
SYMPY_SECONDS = 20.0

REL_TOL = 1e-7
ABS_TOL = 1e-10


def heaviside(x: float, at_zero: float = 0.5) -> float:
    return 0.0 if x < 0 else 1.0 if x > 0 else float(at_zero)


def cross_check(graph: Graph, inputs: dict, grads: list, has_kinks: bool, method: str = "auto") -> Check:
    """Check the engine's input gradients; method is "auto", "sympy" or "finite-difference"."""
    reason = ""
    if method == "auto":
        depth = graph.depth()
        if len(graph) > SYMPY_MAX_NODES:
            reason = f"the graph has {len(graph):,} nodes (SymPy is used up to {SYMPY_MAX_NODES:,})"
        elif depth > SYMPY_MAX_DEPTH:
            reason = f"the graph is {depth:,} levels deep (SymPy is used up to {SYMPY_MAX_DEPTH})"
        method = "finite-difference" if reason else "sympy"
    if method == "sympy":
        outcome: list = []
        worker = threading.Thread(
            target=lambda: outcome.append(_sympy_or_error(graph, inputs, grads, has_kinks)), daemon=True
        )
        worker.start()
        worker.join(SYMPY_SECONDS)
        if outcome and isinstance(outcome[0], Check):
            return outcome[0]
        reason = f"SymPy failed ({outcome[0]})" if outcome else f"SymPy took longer than {SYMPY_SECONDS:g} s"
    check = finite_difference_check(graph, inputs, grads, has_kinks)
    if reason:
        check.note = f"{reason}; {check.note}"
    return check


def _sympy_or_error(graph: Graph, inputs: dict, grads: list, has_kinks: bool):
    try:
        return sympy_check(graph, inputs, grads, has_kinks)
    except (RecursionError, MemoryError, ArithmeticError, ValueError, TypeError) as error:
        return type(error).__name__


def sympy_expressions(graph: Graph) -> tuple[dict, list]:
    """Symbols (real) per input name and the SymPy expression of every node."""
    import sympy as sp

    symbols = {name: sp.Symbol(name, real=True) for name in graph.inputs}
    expressions: list = [None] * len(graph)
    for i, gate in enumerate(graph.gates):
        if gate is INPUT:
            expressions[i] = symbols[graph.labels[i]]
        elif gate is CONST:
            exact = Fraction(graph.literals[i])
            expressions[i] = sp.Rational(exact.numerator, exact.denominator)
        else:
            expressions[i] = gate.sympy(sp, *[expressions[j] for j in graph.args[i]])
    return symbols, expressions


def sympy_check(graph: Graph, inputs: dict, grads: list, has_kinks: bool) -> Check:
    import sympy as sp

    symbols, expressions = sympy_expressions(graph)
    output = expressions[graph.output]
    names = list(graph.inputs)
    derivatives = [sp.diff(output, symbols[name]) for name in names]
    evaluate = sp.lambdify(
        [[symbols[name] for name in names]],
        derivatives,
        modules=[{"Heaviside": heaviside}, "math"],
        cse=True,
        dummify=True,
    )
    references = evaluate([float(inputs[name]) for name in names]) if names else []
    engine = [grads[graph.inputs[name]] for name in names]
    scale = max([abs(float(v)) for v in engine] + [1.0])
    items = []
    for name, derivative, reference, mine in zip(names, derivatives, references, engine):
        reference = float(reference)
        ok = math.isclose(float(mine), reference, rel_tol=REL_TOL, abs_tol=ABS_TOL * scale)
        note = ""
        if not ok and has_kinks:
            ok, note = True, "differs at a non-differentiable point: the engine follows its convention"
        items.append(CheckItem(name, mine, reference, ok, symbolic=sp.sstr(derivative), note=note))
    return Check("sympy", all(item.ok for item in items), items)


def finite_difference_check(
    graph: Graph, inputs: dict, grads: list, has_kinks: bool, directions: int = 3, seed: int = 0
) -> Check:
    """Central differences along random +-1 directions, compared with grad . direction."""
    names = list(graph.inputs)
    if not names:
        return Check("finite-difference", True, note="no inputs to check")
    point = {name: float(inputs[name]) for name in names}
    gradient = [float(grads[graph.inputs[name]]) for name in names]
    values = graph.forward(point)
    # rounding noise of one evaluation: a few ulps of every value that was added up
    noise = 8 * 2.2e-16 * sum(abs(float(v)) for v in values)
    rng = random.Random(seed)
    worst = ""
    for _ in range(directions):
        direction = [rng.choice((-1.0, 1.0)) for _ in names]
        expected = sum(g * d for g, d in zip(gradient, direction))
        step = 1e-6 * max([1.0] + [abs(v) for v in point.values()])
        measured = None
        for _attempt in range(3):
            try:
                plus = graph.forward({n: point[n] + step * d for n, d in zip(names, direction)})
                minus = graph.forward({n: point[n] - step * d for n, d in zip(names, direction)})
                measured = (plus[graph.output] - minus[graph.output]) / (2 * step)
                break
            except BackpropError:
                step /= 100  # stepped outside a domain (log near 0): look closer
        if measured is None:
            return Check("finite-difference", True, note="skipped: the function is undefined next to this point")
        tolerance = 1e-5 * (abs(expected) + sum(abs(g) for g in gradient)) + noise / step + 1e-9
        if abs(measured - expected) > tolerance:
            worst = f"direction derivative {measured:.9g} by finite differences, {expected:.9g} by the engine"
            break
    ok = not worst
    note = f"central differences along {directions} random directions agree"
    if worst:
        note = worst
        if has_kinks:
            ok, note = True, f"{worst}: expected next to a non-differentiable point"
    return Check("finite-difference", ok, note=note)
