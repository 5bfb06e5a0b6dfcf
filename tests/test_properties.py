"""Property tests: on random expressions the engine's gradients equal SymPy's symbolic
derivatives and central finite differences.

The random expressions are built twice, side by side: as text for our parser and directly as
SymPy objects, so the reference never goes through our parser, graph or gate registry.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop_cli import BackpropError, grad

NAMES = ("x", "y", "z")
SYMBOLS = {name: sp.Symbol(name, real=True) for name in NAMES}

leaf = st.one_of(
    st.sampled_from(NAMES).map(lambda n: (n, SYMBOLS[n])),
    st.integers(1, 5).map(lambda k: (str(k), sp.Integer(k))),
    st.sampled_from(["0.5", "1.5", "2.25"]).map(lambda t: (t, sp.Rational(t))),
)


def _binary(children):
    ops = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
    }
    return st.tuples(st.sampled_from(sorted(ops)), children, children).map(
        lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})", ops[t[0]](t[1][1], t[2][1]))
    )


def _unary(children):
    functions = {
        "exp": sp.exp,
        "log": sp.log,
        "sqrt": sp.sqrt,
        "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
        "tanh": sp.tanh,
        "relu": lambda a: sp.Max(0, a, evaluate=False),
        "abs": sp.Abs,
        "sin": sp.sin,
        "cos": sp.cos,
        "-": lambda a: -a,
    }
    return st.tuples(st.sampled_from(sorted(functions)), children).map(
        lambda t: (f"-({t[1][0]})" if t[0] == "-" else f"{t[0]}({t[1][0]})", functions[t[0]](t[1][1]))
    )


def _other(children):
    power = st.tuples(children, st.integers(2, 3)).map(lambda t: (f"({t[0][0]}) ** {t[1]}", t[0][1] ** t[1]))
    extreme = st.tuples(st.sampled_from(["max", "min"]), children, children).map(
        lambda t: (f"{t[0]}({t[1][0]}, {t[2][0]})", (sp.Max if t[0] == "max" else sp.Min)(t[1][1], t[2][1], evaluate=False))
    )
    return st.one_of(power, extreme)


expressions = st.recursive(leaf, lambda c: st.one_of(_binary(c), _unary(c), _other(c)), max_leaves=12)
points = st.fixed_dictionaries({name: st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3)) for name in NAMES})


def engine_or_reject(text: str, point: dict):
    try:
        result = grad(text, point)
    except BackpropError:
        assume(False)  # outside a gate's domain (log of a negative, division by 0): not a case
    # at a kink (relu(0), a max tie) the engine follows a documented convention, not calculus;
    # SymPy may even simplify the kink away (max(x, min(x, y)) is x)
    assume(not result.graph.kinks(result.values))
    return result


def smooth_here(symbolic, point) -> bool:
    """True when no max/min/abs/relu sits on or next to its kink and nothing is complex."""
    try:
        return _smooth_here(symbolic, point)
    except (TypeError, ValueError):  # a sub-expression SymPy cannot compare as a real number
        return False


def _smooth_here(symbolic, point) -> bool:
    for node in sp.preorder_traversal(symbolic):
        if isinstance(node, (sp.Max, sp.Min)):
            values = [float(a.subs(point)) for a in node.args]
            if len(set(values)) < len(values) or min(abs(a - b) for a in values for b in values if a != b) < 1e-6:
                return False
        if isinstance(node, sp.Abs) and abs(float(node.args[0].subs(point))) < 1e-6:
            return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions, points)
def test_engine_matches_sympy(pair, point):
    text, symbolic = pair
    result = engine_or_reject(text, point)
    assume(smooth_here(symbolic, {SYMBOLS[n]: v for n, v in point.items()}))
    subs = {SYMBOLS[n]: sp.Float(v, 30) for n, v in point.items()}
    assert result.value == pytest.approx(float(symbolic.evalf(30, subs=subs)), rel=1e-9, abs=1e-9)
    for name, value in result.gradients.items():
        reference = complex(sp.diff(symbolic, SYMBOLS[name]).evalf(30, subs=subs))
        assume(abs(reference.imag) < 1e-12 and math.isfinite(reference.real))
        assert value == pytest.approx(reference.real, rel=1e-8, abs=1e-8), (text, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions, points)
def test_engine_matches_central_differences(pair, point):
    text, symbolic = pair
    result = engine_or_reject(text, point)
    assume(smooth_here(symbolic, {SYMBOLS[n]: v for n, v in point.items()}))
    for name, value in result.gradients.items():
        estimates = []
        for h in (1e-5, 1e-6):
            try:
                up = grad(text, {**point, name: point[name] + h}).value
                down = grad(text, {**point, name: point[name] - h}).value
            except BackpropError:
                assume(False)
            estimates.append((up - down) / (2 * h))
        # a kink or a steep region shows as two step sizes that disagree: not a fair case
        assume(math.isclose(estimates[0], estimates[1], rel_tol=1e-4, abs_tol=1e-6))
        assert value == pytest.approx(estimates[1], rel=1e-4, abs=1e-5), (text, name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions, points)
def test_built_in_cross_check_agrees(pair, point):
    """The tool's own check (`backprop grad` without --no-check) never reports a false alarm."""
    text, _ = pair
    try:
        result = grad(text, point, check=True)
    except BackpropError:
        assume(False)
    assert result.check.ok, (text, result.check)
