"""The engine against the worked examples of MISSION.md and values worked out by hand."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from backprop_cli import BackpropError, DomainError, InputError, LimitError, ParseError, grad

NEURON = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
# MISSION.md: the dot product is 1; sigmoid(1) ~= 0.7311; its local gradient s(1-s) ~= 0.1966
S = 1 / (1 + math.exp(-1))
DS = S * (1 - S)


def test_cs231n_circuit():
    r = grad("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    assert r.value == -12
    assert r.gradients == {"x": -4, "y": -4, "z": 3}
    assert r.parsed == "((x + y) * z)"
    q = r.graph.args[r.graph.output][0]
    assert r.values[q] == 3 and r.grads[q] == -4  # df/dq = z


def test_staged_program_keeps_names():
    r = grad("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4})
    assert r.output == "f"
    assert r.graph.labels[r.graph.names["q"]] == "q"
    assert r.grads[r.graph.names["q"]] == -4
    assert r.gradients == {"x": -4, "y": -4, "z": 3}


@pytest.mark.parametrize(
    "expression",
    [
        "sigmoid(w0*x0 + w1*x1 + w2)",
        "1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))",
        "z = w0*x0 + w1*x1 + w2; f = 1/(1+exp(-z))",
    ],
)
def test_sigmoid_neuron_as_one_gate_and_expanded(expression):
    r = grad(expression, NEURON)
    assert r.value == pytest.approx(S, rel=1e-15)
    expected = {"w0": -1 * DS, "x0": 2 * DS, "w1": -2 * DS, "x1": -3 * DS, "w2": DS}
    for name, value in expected.items():
        assert r.gradients[name] == pytest.approx(value, rel=1e-14)
    # the figures printed in the course notes
    assert [round(r.gradients[n], 4) for n in ("w0", "w1", "w2")] == [-0.1966, -0.3932, 0.1966]
    assert [round(r.gradients[n], 4) for n in ("x0", "x1")] == [0.3932, -0.5898]


def test_sigmoid_gate_uses_s_times_one_minus_s():
    r = grad("sigmoid(z)", {"z": 1})
    step = next(r.steps())
    assert step.local == pytest.approx(0.1966119332414819, rel=1e-15)
    assert r.rule(step) == "sigmoid: s*(1-s)"


def test_apple_example_exactly():
    r = grad("price = apple * apple_num * tax", {"apple": 100, "apple_num": 2, "tax": "1.1"}, exact=True)
    assert r.value == 220
    assert r.gradients == {"apple": Fraction(11, 5), "apple_num": 110, "tax": 200}
    assert all(isinstance(v, Fraction) for v in r.gradients.values())


def test_apple_example_in_floats_shows_why_exact_exists():
    r = grad("apple * apple_num * tax", {"apple": 100, "apple_num": 2, "tax": 1.1})
    assert r.gradients["apple"] == pytest.approx(2.2) and r.gradients["apple"] == 2 * 1.1


def test_squared_error_of_node_seven():
    r = grad("(x - t)^2", {"x": 7, "t": 10})
    assert r.gradients["x"] == -6  # 2 (x - t)
    assert any("'^' is read as power" in note for note in r.notes)


def test_fan_out_accumulates():
    r = grad("x*x + x", {"x": 3})
    assert r.gradients == {"x": 7}  # 2x + 1
    steps = [s for s in r.steps() if s.input == r.graph.inputs["x"]]
    assert len(steps) == 3 and all(s.paths == 3 for s in steps)
    assert [s.path for s in steps] == [1, 2, 3]
    assert sorted(s.contribution for s in steps) == [1, 3, 3]
    assert steps[-1].accumulated == 7
    assert [s.accumulated for s in steps] == [1, 4, 7]


def test_staged_fan_out_of_an_intermediate():
    r = grad("a = x * y; f = a * a + a", {"x": 2, "y": 3})
    # f = a^2 + a, df/da = 2a + 1 = 13; df/dx = 13 y = 39; df/dy = 13 x = 26
    assert r.grads[r.graph.names["a"]] == 13
    assert r.gradients == {"x": 39, "y": 26}


def test_one_node_per_variable():
    r = grad("x + x + x", {"x": 1})
    assert sum(1 for g in r.graph.gates if g.name == "input") == 1
    assert r.gradients["x"] == 3


@pytest.mark.parametrize(
    "expression, values, expected",
    [
        ("x - y", {"x": 5, "y": 3}, {"x": 1, "y": -1}),
        ("x / y", {"x": 6, "y": 3}, {"x": 1 / 3, "y": -6 / 9}),
        ("-x", {"x": 2}, {"x": -1}),
        ("x ** 3", {"x": 2}, {"x": 12}),
        ("2 ** x", {"x": 3}, {"x": 8 * math.log(2)}),
        ("x ** y", {"x": 2, "y": 3}, {"x": 12, "y": 8 * math.log(2)}),
        ("exp(x)", {"x": 1}, {"x": math.e}),
        ("log(x)", {"x": 4}, {"x": 0.25}),
        ("sqrt(x)", {"x": 9}, {"x": 1 / 6}),
        ("tanh(x)", {"x": 0.5}, {"x": 1 - math.tanh(0.5) ** 2}),
        ("relu(x)", {"x": 2}, {"x": 1}),
        ("relu(x)", {"x": -2}, {"x": 0}),
        ("max(x, y)", {"x": 4, "y": 2}, {"x": 1, "y": 0}),  # max routes
        ("min(x, y)", {"x": 4, "y": 2}, {"x": 0, "y": 1}),
        ("abs(x)", {"x": -3}, {"x": -1}),
        ("sin(x)", {"x": 1}, {"x": math.cos(1)}),
        ("cos(x)", {"x": 1}, {"x": -math.sin(1)}),
        ("mul(x, y)", {"x": 3, "y": 4}, {"x": 4, "y": 3}),
        ("(-8) ** (1/3) * 0 + x ** 2", {"x": 1}, None),  # negative base, fractional power: domain error
    ],
)
def test_every_gate(expression, values, expected):
    if expected is None:
        with pytest.raises(DomainError, match="negative number raised to a non-integer power"):
            grad(expression, values)
        return
    r = grad(expression, values)
    for name, value in expected.items():
        assert r.gradients[name] == pytest.approx(value, rel=1e-14, abs=1e-15)


def test_conventions_at_kinks_are_noted():
    r = grad("relu(x) + abs(y) + max(a, b)", {"x": 0, "y": 0, "a": 1, "b": 1})
    assert r.gradients == {"x": 0, "y": 0, "a": 0.5, "b": 0.5}
    text = " ".join(r.notes)
    assert "relu'(0) = 0" in text and "abs'(0) = 0" in text and "splits the gradient equally" in text


def test_exact_mode_falls_back_to_floats_and_says_so():
    r = grad("x * exp(y)", {"x": "1/3", "y": 0}, exact=True)
    assert isinstance(r.gradients["y"], float)
    assert r.gradients["x"] == 1.0
    assert any("exp" in note and "floats" in note for note in r.notes)
    assert grad("sqrt(x)", {"x": "9/4"}, exact=True).value == Fraction(3, 2)  # perfect squares stay exact


def test_exact_mode_is_bounded():
    with pytest.raises(LimitError, match="bits"):
        grad("9**9**9**9", exact=True)
    with pytest.raises(LimitError):
        grad("x*1e999999", {"x": 1}, exact=True)


def test_float_overflow_is_an_error():
    with pytest.raises(DomainError, match="overflow"):
        grad("9**9**9**9")
    with pytest.raises(DomainError, match="overflow"):
        grad("exp(x)", {"x": 1000})
    with pytest.raises(BackpropError, match="too large"):
        grad("x * 1e400", {"x": 1})


@pytest.mark.parametrize(
    "expression, values, message",
    [
        ("log(x)", {"x": -1}, r"log at node 'log\(x\)': log needs a positive input \(inputs: x = -1\)"),
        ("x / y", {"x": 1, "y": 0}, r"div at node '\(x / y\)': division by zero"),
        ("sqrt(x)", {"x": -4}, "sqrt of a negative number"),
        ("sqrt(x)", {"x": 0}, "infinite slope at 0"),
        ("x ** y", {"x": -2, "y": 2}, "undefined"),  # d/dy needs log(-2)
    ],
)
def test_domain_errors_name_the_node_and_values(expression, values, message):
    with pytest.raises(DomainError, match=message):
        grad(expression, values)


def test_negative_base_with_constant_exponent_is_fine():
    assert grad("x ** 2", {"x": -3}).gradients["x"] == -6


def test_missing_and_bad_values():
    with pytest.raises(InputError, match=r"missing value for z \(first used at column 7\); pass z=VALUE"):
        grad("(x+y)*z", {"x": 1, "y": 2})
    with pytest.raises(InputError, match="'abc' is not a number"):
        grad("x", {"x": "abc"})
    with pytest.raises(InputError, match="must be a number"):
        grad("x", {"x": True})
    with pytest.raises(InputError, match="finite"):
        grad("x", {"x": float("nan")})


def test_unused_value_is_a_warning():
    r = grad("x * 2", {"x": 1, "unused": 5})
    assert r.warnings == ["value given for 'unused', which the expression does not use"]


def test_staged_program_errors():
    with pytest.raises(ParseError, match="'q' is used before it is assigned"):
        grad("f = q * 2; q = x", {"x": 1})
    with pytest.raises(ParseError, match="'q' is assigned twice"):
        grad("q = x; q = q * 2", {"x": 1})


def test_fractions_as_values():
    assert grad("x * 5", {"x": "11/5"}).value == pytest.approx(11)
    assert grad("x * 5", {"x": "11/5"}, exact=True).value == 11


def test_check_with_sympy_and_finite_differences():
    for method in ("sympy", "finite-difference"):
        r = grad("sigmoid(w0*x0 + w1*x1 + w2)", NEURON, check=True, check_method=method)
        assert r.check.method == method and r.check.ok
    r = grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}, check=True)
    assert {item.name: item.symbolic for item in r.check.items} == {"x": "z", "y": "z", "z": "x + y"}


def test_large_graphs_switch_to_finite_differences():
    expression = "+".join(f"relu(x*{i % 7 - 3}.5 + y*{i % 5 - 2}.25)" for i in range(1500))
    r = grad(expression, {"x": 0.3, "y": -0.7}, check=True)
    assert r.check.method == "finite-difference" and r.check.ok
    assert "nodes" in r.check.note


def test_deep_graph():
    depth = 10_000
    r = grad("tanh(" * depth + "x" + ")" * depth, {"x": 0.5}, check=True)
    # d/dx tanh^n(x) = prod (1 - t_k^2): recompute independently
    t, derivative = 0.5, 1.0
    for _ in range(depth):
        t = math.tanh(t)
        derivative *= 1 - t * t
    assert r.gradients["x"] == pytest.approx(derivative, rel=1e-9)
    assert r.check.method == "finite-difference" and r.check.ok


def test_result_to_dict():
    doc = grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}).to_dict()
    assert doc["value"] == -12 and doc["gradients"] == {"x": -4, "y": -4, "z": 3}
    assert [n["label"] for n in doc["nodes"]] == ["x", "y", "(x + y)", "z", "((x + y) * z)"]
    first = doc["backward"][0]
    assert (first["upstream"], first["local"], first["contribution"]) == (1, -4, -4)
    assert first["rule"] == "mul: other input"


def test_finite_differences_hold_on_strongly_curved_functions():
    # d/dx x**n at x = 1 is n; a fixed step of 1e-6 misses it by about n**3 * 1e-12 / 6 (1.3 here)
    text = "x" + "*x" * 19_999
    result = grad(text, {"x": 1}, check=True)
    assert result.gradients["x"] == 20_000
    assert result.check.method == "finite-difference" and result.check.ok and not result.check.skipped


def test_finite_differences_still_catch_a_wrong_gradient():
    from backprop_cli.verify import finite_difference_check

    result = grad("x" + "*x" * 1999, {"x": 1})
    wrong = list(result.grads)
    wrong[result.graph.inputs["x"]] = 2000 * 1.01  # 1% off
    assert not finite_difference_check(result.graph, result.inputs, wrong, has_kinks=False).ok


def test_exact_values_beyond_float_range():
    # log(10**-400) = -400 ln 10 and sqrt(2e-400) = sqrt(2) * 1e-200: both are floats though x is not
    result = grad("log(x)", {"x": "1e-400"}, exact=True)
    assert math.isclose(result.value, -400 * math.log(10))
    assert result.gradients["x"] == Fraction(10**400)
    result = grad("sqrt(x)", {"x": "2e-400"}, exact=True)
    assert math.isclose(result.value, math.sqrt(2) * 1e-200)
    # a gradient of -10**400 cannot be compared as a float: the check says so instead of failing
    result = grad("1/x", {"x": "1e-200"}, exact=True, check=True)
    assert result.gradients["x"] == -(10**400)
    assert result.check.skipped and result.check.ok and "beyond the range of a float" in result.check.note


def test_numbers_that_underflow_a_float_are_errors():
    with pytest.raises(LimitError, match="too small for a floating-point number"):
        grad("1/x", {"x": "1e-400"})
    with pytest.raises(LimitError, match=r"'1e-400' is too small .* at column 3"):
        grad("x*1e-400", {"x": 1})
    assert grad("x*0e-400 + x", {"x": 2}).gradients["x"] == 1  # a zero written with an exponent is fine
    assert grad("x*1e-400", {"x": 1}, exact=True).gradients["x"] == Fraction(1, 10**400)


def test_approximations_of_huge_exact_values():
    from backprop_cli.numeric import approx

    assert approx(Fraction(-(10**400))) == "-1e400"
    assert approx(Fraction(1, 10**400)) == "1e-400"
    assert approx(Fraction(123456789 * 10**500)) == "1.23457e508"
    assert approx(Fraction(2, 3)) == "0.666667"


@pytest.mark.parametrize("x", [40.0, -40.0, 25.0, 700.0])
def test_saturated_sigmoid_and_tanh_keep_their_tiny_gradients(x):
    """s*(1-s) and 1-t^2 where s and t round to 1: e^-|x| / (1+e^-|x|)^2 and 4 e^-2|x| / (...)^2,
    worked out in Decimal with 50 digits (the float formula 1 - s would give 0)."""
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    e = Decimal(-abs(x)).exp()
    sigmoid_slope = e / (1 + e) ** 2
    e2 = Decimal(-2 * abs(x)).exp()
    tanh_slope = 4 * e2 / (1 + e2) ** 2
    assert grad("sigmoid(x)", {"x": x}).gradients["x"] == pytest.approx(float(sigmoid_slope), rel=1e-12)
    assert grad("tanh(x)", {"x": x}).gradients["x"] == pytest.approx(float(tanh_slope), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(
    "expression, values, local",
    [
        ("1/x", {"x": 1e-200}, "input 2, x (-a/b^2)"),  # -1/1e-400: nothing divides by zero
        ("x/y", {"x": 1, "y": 1e-200}, "input 2, y (-a/b^2)"),
        ("log(x)", {"x": 1e-320}, "input 1, x (1/a)"),
        ("x**-1", {"x": 1e-200}, "input 1, x (b*a^(b-1))"),  # the power itself is 1e200, fine
    ],
)
def test_a_local_gradient_too_large_for_a_float_says_overflow(expression, values, local):
    with pytest.raises(DomainError) as caught:
        grad(expression, values)
    assert f"the local gradient for its {local}, is too large for a float here (overflow)" in caught.value.message
    assert "division by zero" not in caught.value.message


def test_a_tiny_but_representable_divisor_still_works():
    # d(1/x)/dx = -1/x^2 = -1e300 at x = 1e-150 (by hand)
    assert grad("1/x", {"x": 1e-150}).gradients["x"] == pytest.approx(-1e300)


@pytest.mark.parametrize(
    "expression, values, noted",
    [
        ("2**x", {"x": 3}, True),  # d/dx = 8 log 2: irrational, though the value 8 is exact
        ("x**y", {"x": 4, "y": Fraction(1, 2)}, True),  # d/dy = 2 log 4
        ("x**2", {"x": 3}, False),  # d/dx = 6, and the constant exponent needs no gradient
        ("x**2", {"x": -3}, False),  # log(-3) is undefined, but nothing needs it
        ("x*y", {"x": 1, "y": 2}, False),
    ],
)
def test_exact_mode_notes_floats_from_local_gradients_too(expression, values, noted):
    result = grad(expression, values, exact=True)
    assert any("exact mode: irrational values or local gradients came out of pow" in n for n in result.notes) is noted


def test_relu_of_a_negative_number_is_plus_zero():
    # max(0, -2) = 0, not -0.0 (which JSON would show as -0.0)
    for value in (-2.0, -0.0):
        output = grad("relu(x)", {"x": value}).value
        assert output == 0 and math.copysign(1.0, output) == 1.0
    assert grad("relu(x)", {"x": Fraction(-1, 3)}, exact=True).value == 0
