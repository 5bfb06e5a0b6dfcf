"""Homework checking, the library: grading, every diagnosis code on crafted answers, batch input.

Every expected number is worked out by hand here (or taken from MISSION.md's worked examples),
never copied from the program's output.
"""

from __future__ import annotations

import math

import pytest

from backprop_cli.check import (
    CODES,
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    Entry,
    Grader,
    check_answer,
    grade_batch,
    make_claim,
    read_batch,
    rounds,
    written_precision,
)
from backprop_cli.errors import BackpropError, InputError

CIRCUIT = {"x": -2, "y": 5, "z": -4}
STAGED = "q = x + y; f = q * z"
NEURON = "sigmoid(w0*x0 + w1*x1 + w2)"
NEURON_VALUES = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
# MISSION.md: the dot product is 2*(-1) + (-3)*(-2) + (-3) = 1, so s = sigmoid(1)
S = 1 / (1 + math.exp(-1))  # 0.7311
DS = S * (1 - S)  # 0.1966, sigmoid's local gradient


def grade(expression: str, values: dict, *claims: tuple[str, str, object], **options):
    graded = Grader(**options).grade(expression, values, [make_claim(kind, name, value) for kind, name, value in claims])
    return graded.verdicts


def one(expression: str, values: dict, kind: str, name: str, value: object, **options):
    (verdict,) = grade(expression, values, (kind, name, value), **options)
    return verdict


def diagnosed(expression: str, values: dict, kind: str, name: str, value: object, **options):
    verdict = one(expression, values, kind, name, value, **options)
    assert not verdict.ok, f"{name} = {value} should be wrong"
    return verdict.diagnosis


# ------------------------------------------------------------------ right answers


def test_worked_circuit_all_right():
    # MISSION.md: q = 3, f = -12; df/dz = q = 3, df/dq = z = -4, df/dx = df/dy = -4
    verdicts = grade(
        STAGED,
        CIRCUIT,
        ("value", "", "-12"),
        ("grad", "x", "-4"),
        ("grad", "y", "-4"),
        ("grad", "z", "3"),
        ("node", "q", "3"),
        ("node-grad", "q", "-4"),
    )
    assert [v.ok for v in verdicts] == [True] * 6
    assert [v.expected for v in verdicts] == [-12, -4, -4, 3, 3, -4]
    assert [v.what for v in verdicts] == ["f", "df/dx", "df/dy", "df/dz", "q", "df/dq"]
    assert all(v.diagnosis is None for v in verdicts)


def test_sigmoid_neuron_to_four_digits_is_right():
    # MISSION.md: f ~= 0.7311, dw = [-0.1966, -0.3932, 0.1966], dx = [0.3932, -0.5898]
    claims = [("value", "", "0.7311"), ("grad", "w0", "-0.1966"), ("grad", "w1", "-0.3932"), ("grad", "w2", "0.1966")]
    claims += [("grad", "x0", "0.3932"), ("grad", "x1", "-0.5898")]
    assert all(v.ok for v in grade(NEURON, NEURON_VALUES, *claims))


def test_fractions_and_the_apple_example():
    # 2 apples at 100, tax 1.1: d/dapple = 2 * 1.1 = 2.2 = 11/5, d/dapple_num = 110, d/dtax = 200
    values = {"apple": 100, "apple_num": 2, "tax": "11/10"}
    verdicts = grade(
        "apple*apple_num*tax", values, ("value", "", "220"), ("grad", "apple", "11/5"), ("grad", "apple_num", "110"),
        ("grad", "tax", "200"),
    )
    assert all(v.ok for v in verdicts)


def test_sub_expression_and_label_name_an_intermediate():
    # (x+y)*z has no staged name: x+y can be named by writing it (any spacing)
    verdicts = grade("(x+y)*z", CIRCUIT, ("node", "x + y", "3"), ("node-grad", "x+y", "-4"))
    assert [v.ok for v in verdicts] == [True, True]
    assert verdicts[1].what == "df/d(x+y)"


def test_tolerance_defaults():
    assert (DEFAULT_RTOL, DEFAULT_ATOL) == (1e-3, 1e-6)
    assert one(NEURON, NEURON_VALUES, "grad", "w2", "0.19661").ok  # 0.19661193: 5 digits
    assert one(NEURON, NEURON_VALUES, "grad", "w2", "0.1966").ok  # 4 digits
    assert not one(NEURON, NEURON_VALUES, "grad", "w2", "0.2").ok  # 1 digit
    # any correct rounding to 4 significant digits passes: 1.0005 -> 1.001 is 0.05 % off
    assert one("x", {"x": "1.0005"}, "value", "", "1.001").ok
    # absolute tolerance for zero answers: relu(-1) * y has gradient 0 for x
    assert one("relu(x)*y", {"x": -1, "y": 3}, "grad", "x", "0.0000001").ok
    assert not one("relu(x)*y", {"x": -1, "y": 3}, "grad", "x", "0.0001").ok


def test_tolerance_options():
    assert not one(NEURON, NEURON_VALUES, "grad", "w2", "0.1966", rtol=1e-6).ok
    assert one(NEURON, NEURON_VALUES, "grad", "w2", "0.2", rtol=0.02).ok
    assert one("x", {"x": 0}, "value", "", "0.01", atol=0.05).ok
    with pytest.raises(InputError):
        Grader(rtol=-1)


def test_written_precision():
    assert written_precision("0.2") == pytest.approx(0.05)
    assert written_precision("-0.1966") == pytest.approx(0.00005)
    assert written_precision("3") == pytest.approx(0.5)
    assert written_precision("1.50e-2") == pytest.approx(0.00005)
    assert written_precision("2e3") == pytest.approx(500)
    assert written_precision("11/5") == 0  # a fraction is exact


# ------------------------------------------------------------------ diagnoses


def test_sign_from_a_dropped_minus():
    # df/dx = z = -4 along q; 4 has the minus sign of mul's local gradient z = -4 dropped
    found = diagnosed(STAGED, CIRCUIT, "grad", "x", "4")
    assert found.code == "sign"
    assert found.node == "f"
    # the correct value comes from the row q -> x: the 3rd edge from the output (f->q, f->z, q->x, q->y)
    assert found.step.startswith("backward pass row 3: gate q -> x")
    # sub's local gradient for its right input is -1
    found = diagnosed("x - y", {"x": 1, "y": 2}, "grad", "y", "1")
    assert (found.code, found.node) == ("sign", "(x - y)")


def test_sign_of_a_whole_value():
    found = diagnosed("x*y", {"x": 2, "y": 3}, "grad", "x", "-3")  # no negative local gradient anywhere
    assert (found.code, found.node) == ("sign", "x")
    found = diagnosed("(x+y)*z", CIRCUIT, "value", "", "12")
    assert found.code == "sign"
    assert found.step == "forward pass row #4: ((x + y) * z) = -12"


def test_rounding():
    found = diagnosed(NEURON, NEURON_VALUES, "grad", "w2", "0.2")
    assert found.code == "rounding"
    assert found.node == "w2"
    assert "0.196612" in found.message
    assert diagnosed(NEURON, NEURON_VALUES, "value", "", "0.73").code == "rounding"
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "x1", "-0.6").code == "rounding"  # -0.5898
    # one digit off in the 4th place is a wrong answer, not a rounding
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "w2", "0.1977").code == "unknown"


def test_local_only_chain_rule_not_applied():
    # dy = upstream -4 x add's local 1; the student wrote the local gradient 1
    found = diagnosed("(x+y)*z", CIRCUIT, "grad", "y", "1")
    assert (found.code, found.node) == ("local-only", "(x + y)")
    assert "-4 x 1 = -4" in found.message
    # MISSION.md: the bias gradient is 1 x upstream (add gate), not 1
    found = diagnosed(NEURON, NEURON_VALUES, "grad", "w2", "1")
    assert found.code == "local-only"
    # dw0 = upstream 0.1966 x mul's local x0 = -1
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "w0", "-1").code == "local-only"


def test_output_as_local_gradient_sigmoid():
    # MISSION.md's classic bug: the activation s used instead of s(1-s) at the sigmoid gate
    found = diagnosed(NEURON, NEURON_VALUES, "grad", "w0", f"{-1 * S:.4f}")  # x0 * s = -0.7311
    assert found.code == "output-as-local-grad"
    assert found.node.startswith("sigmoid(")
    assert "s*(1-s) = 0.196612" in found.message
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "x1", f"{-3 * S:.4f}").code == "output-as-local-grad"


WRITTEN_OUT_NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"


def test_output_as_local_gradient_sigmoid_written_out_in_primitive_gates():
    # the same neuron with the sigmoid as 1/(1+exp(-z)): s = 0.7311 taken as the local gradient of
    # the whole chain from z to s gives dw0 = x0 * s = -s, dx0 = w0 * s = 2s, dw2 = s (1 x s); the
    # right answers are -s(1-s), 2s(1-s), s(1-s)
    verdicts = grade(
        WRITTEN_OUT_NEURON, NEURON_VALUES, ("grad", "w0", "-0.7311"), ("grad", "x0", "1.4621"), ("grad", "w2", "0.7311")
    )
    assert [v.expected for v in verdicts] == pytest.approx([-DS, 2 * DS, DS])
    assert [v.diagnosis.code for v in verdicts] == ["output-as-local-grad"] * 3
    found = verdicts[0].diagnosis
    assert found.node.startswith("sigmoid(") and found.node == verdicts[2].diagnosis.node
    assert f"output {S:.6f} was used as its local gradient" in found.message
    assert f"s*(1-s) = {DS:.6f}" in found.message
    # with a short argument the node is named as the gate version would be: sigmoid(x * y)
    # z = 1.5, s = 1/(1+e^-1.5) = 0.8176: dx = y s = 2.4527 with s as the local gradient
    s = 1 / (1 + math.exp(-1.5))
    found = diagnosed("1/(1+exp(-(x*y)))", {"x": 0.5, "y": 3}, "grad", "x", f"{3 * s:.4f}")
    assert (found.code, found.node) == ("output-as-local-grad", "sigmoid(x * y)")
    assert found.message.startswith("the gates of (1 / (1 + exp(-(x * y)))) compute sigmoid(x * y)")


@pytest.mark.parametrize(
    "expression, gate",
    [
        ("1/(exp(-(x*y))+1)", "sigmoid(x * y)"),
        ("1/(1+exp(-1*(x*y)))", "sigmoid(x * y)"),
        ("1/(1+exp((x*y)*-1))", "sigmoid(x * y)"),
        ("(1+exp(-(x*y)))**-1", "sigmoid(x * y)"),
        ("u = x*y; f = 1/(1+exp(-u))", "sigmoid(u)"),
    ],
)
def test_output_as_local_gradient_sigmoid_written_out_variants(expression, gate):
    s = 1 / (1 + math.exp(-1.5))  # z = x*y = 1.5; dx = y s(1-s) = 0.4474, with s instead 3s = 2.4527
    verdict = one(expression, {"x": 0.5, "y": 3}, "grad", "x", f"{3 * s:.4f}")
    assert verdict.expected == pytest.approx(3 * s * (1 - s))
    assert (verdict.diagnosis.code, verdict.diagnosis.node) == ("output-as-local-grad", gate)


@pytest.mark.parametrize(
    "expression",
    [
        "(exp(x*y)-exp(-(x*y)))/(exp(x*y)+exp(-(x*y)))",
        "(exp(x*y)-exp(-(x*y)))/(exp(-(x*y))+exp(x*y))",
        "(1-exp(-2*(x*y)))/(1+exp(-2*(x*y)))",
        "(exp(2*(x*y))-1)/(exp(2*(x*y))+1)",
    ],
)
def test_output_as_local_gradient_tanh_written_out(expression):
    t = math.tanh(0.75)  # z = x*y = 0.75 at x = 0.25, y = 3: dx = 3(1 - t^2) = 1.2965; with t instead 3t = 1.9051
    verdict = one(expression, {"x": 0.25, "y": 3}, "grad", "x", f"{3 * t:.4f}")
    assert verdict.expected == pytest.approx(3 * (1 - t * t))
    assert (verdict.diagnosis.code, verdict.diagnosis.node) == ("output-as-local-grad", "tanh(x * y)")
    assert f"tanh: 1-t^2 = {1 - t * t:.6f}" in verdict.diagnosis.message


def test_written_out_sigmoid_only_when_nothing_else_uses_its_gates():
    # e = exp(-x) also feeds "+ e": scaling the edge into x would scale that path too, so the chain
    # is not one sigmoid gate. At x = 1: df/dx = s(1-s) - e^-1 = -0.1713, and that path scaled by
    # s / (s(1-s)) = 1/(1-s) would give -0.6371
    s, e = S, math.exp(-1)
    verdict = one("e = exp(-x); f = 1/(1+e) + e", {"x": 1}, "grad", "x", f"{(DS - e) / (1 - s):.4f}")
    assert verdict.expected == pytest.approx(DS - e)
    assert verdict.diagnosis.code != "output-as-local-grad"
    # exp(z)/(1+exp(z)) is the sigmoid too, but there s is the numerator's path alone (d/dz e^z
    # over 1 + e^z): leaving out the denominator's path, missed-accumulation, comes first
    assert diagnosed("exp(z)/(1+exp(z))", {"z": 1}, "grad", "z", f"{S:.4f}").code == "missed-accumulation"


def test_output_as_local_gradient_tanh_not_exp():
    t = math.tanh(0.5)
    found = diagnosed("tanh(x)*y", {"x": 0.5, "y": 2}, "grad", "x", f"{2 * t:.5f}")  # t instead of 1 - t^2
    assert (found.code, found.node) == ("output-as-local-grad", "tanh(x)")
    # exp is the one gate whose output is its local gradient: that mistake cannot happen there
    codes = {
        diagnosed("exp(x)*y", {"x": 0, "y": 3}, "grad", "x", claim).code for claim in ("1", "-3", "6", "0")
    }
    assert "output-as-local-grad" not in codes


def test_missed_accumulation_at_the_input():
    # f = x*x + x at x = 3: the three paths give 1 + 3 + 3 = 7
    assert diagnosed("x*x + x", {"x": 3}, "grad", "x", "6").code == "missed-accumulation"  # forgot + x
    assert diagnosed("x*x + x", {"x": 3}, "grad", "x", "4").code == "missed-accumulation"  # x*x counted once
    found = diagnosed("x*x + x", {"x": 3}, "grad", "x", "1")  # only the + x path
    assert (found.code, found.node) == ("missed-accumulation", "x")
    assert "1 + 3 + 3 = 7" in found.message


def test_missed_accumulation_upstream():
    # q = x + y = 3 feeds q*q and + q: df/dq = 2q + 1 = 7, so df/dx = 7; counting q*q only gives 6
    found = diagnosed("q = x + y; f = q*q + q", {"x": 1, "y": 2}, "grad", "x", "6")
    assert (found.code, found.node) == ("missed-accumulation", "q")


def test_mul_not_swapped():
    # (x+y)*z: df/dz = q = 3; the student passed z its own value -4
    found = diagnosed("(x+y)*z", CIRCUIT, "grad", "z", "-4")
    assert (found.code, found.node) == ("mul-not-swapped", "((x + y) * z)")
    assert diagnosed("x*y", {"x": 2, "y": 5}, "grad", "x", "2").code == "mul-not-swapped"


def test_max_routing():
    # max(x, y) * z at x=1, y=3, z=4: the gradient 4 goes to y (the larger), none to x
    found = diagnosed("max(x, y) * z", {"x": 1, "y": 3, "z": 4}, "grad", "x", "4")
    assert (found.code, found.node) == ("max-routing", "max(x, y)")
    assert diagnosed("max(x, y) * z", {"x": 1, "y": 3, "z": 4}, "grad", "y", "2").code == "max-routing"  # split
    assert diagnosed("min(x, y) * z", {"x": 1, "y": 3, "z": 4}, "grad", "y", "4").code == "max-routing"
    # relu is max(0, a): at a = -1 no gradient passes; passing it is a routing mistake
    found = diagnosed("relu(x)*y", {"x": -1, "y": 3}, "grad", "x", "3")
    assert (found.code, found.node) == ("max-routing", "relu(x)")


def test_precedence_mission_sigmoid_written_without_parentheses():
    # MISSION.md: `1 / 1 + exp(-z)` is 1 + exp(-z) = 1.3679 at z = 1, not the sigmoid 0.7311
    found = diagnosed("1 / 1 + exp(-z)", {"z": 1}, "value", "", f"{S:.4f}")
    assert found.code == "precedence"
    assert "1 / (1 + exp(-z))" in found.message
    assert found.node == "(1 + exp(-z))"
    # a student who read it as the sigmoid also gives the sigmoid's gradient s(1-s) for z,
    # where the expression as written has d/dz (1 + exp(-z)) = -exp(-1) = -0.3679
    verdicts = grade("1 / 1 + exp(-z)", {"z": 1}, ("grad", "z", f"{DS:.4f}"), ("value", "", f"{S:.4f}"))
    assert [v.diagnosis.code for v in verdicts] == ["precedence", "precedence"]
    assert verdicts[0].expected == pytest.approx(-math.exp(-1))


def test_precedence_comes_first_for_the_gradient_of_the_misread_value():
    # the written-out neuron read as 1/1 + exp(-z): the value is 1 + e^-1 = 1.3679, and its gradient
    # for w0 is -e^-z * x0 = e^-1 = 0.3679 (z = 1, x0 = -1). That number is also what leaving out the
    # div gate's local gradient gives (d/dw0 of the denominator 1 + e^-z), but once the value is
    # explained by the misreading, its gradient is the same misreading
    verdicts = grade(
        WRITTEN_OUT_NEURON, NEURON_VALUES, ("value", "", f"{1 + math.exp(-1):.4f}"), ("grad", "w0", f"{math.exp(-1):.4f}")
    )
    assert [v.diagnosis.code for v in verdicts] == ["precedence", "precedence"]
    assert verdicts[1].diagnosis.node == verdicts[0].diagnosis.node == "(1+exp(-(w0*x0+w1*x1+w2)))"
    # alone, without a misread value, the gradient keeps the order of the codes
    assert diagnosed(WRITTEN_OUT_NEURON, NEURON_VALUES, "grad", "w0", f"{math.exp(-1):.4f}").code == "missing-local"
    # a gradient the misreading does not give is diagnosed as usual: dw0 = -0.1966, so 0.1966 is a sign
    verdicts = grade(WRITTEN_OUT_NEURON, NEURON_VALUES, ("value", "", "1.3679"), ("grad", "w0", f"{DS:.4f}"))
    assert [v.diagnosis.code for v in verdicts] == ["precedence", "sign"]


def test_precedence_parentheses_dropped():
    # the sigmoid written in full, computed as 1/1 + exp(-z) = 1 + e^-1 = 1.3679
    expression = "1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))"
    found = diagnosed(expression, NEURON_VALUES, "value", "", f"{1 + math.exp(-1):.4f}")
    assert found.code == "precedence"
    assert "1 / 1 + exp(-(w0*x0 + w1*x1 + w2))" in found.message


def test_precedence_left_to_right():
    # a - b - c is (a - b) - c = 3; a - (b - c) = 7
    found = diagnosed("a - b - c", {"a": 10, "b": 5, "c": 2}, "value", "", "7")
    assert found.code == "precedence"
    assert found.node == "(b - c)"


def test_unknown_still_shows_the_answer_and_step():
    found = diagnosed("(x+y)*z", CIRCUIT, "grad", "x", "17")
    assert found.code == "unknown"
    assert "-4" in found.message
    assert found.step.startswith("backward pass row 3:")


def test_every_code_is_covered_and_ordered():
    assert CODES == (
        "sign", "local-only", "missed-accumulation", "missing-local", "mul-not-swapped", "output-as-local-grad",
        "max-routing", "rounding", "precedence", "unknown",
    )


def test_several_wrong_claims_in_one_answer():
    # the issue's example with two mistakes and three right claims
    verdicts = grade(
        STAGED, CIRCUIT, ("value", "", "-12"), ("grad", "x", "4"), ("grad", "z", "-4"), ("node", "q", "3"),
        ("node-grad", "q", "-4"),
    )
    assert [v.ok for v in verdicts] == [True, False, False, True, True]
    assert [v.diagnosis.code for v in verdicts if v.diagnosis] == ["sign", "mul-not-swapped"]


def test_check_answer_function():
    graded = check_answer("(x+y)*z", CIRCUIT, [make_claim("grad", "x", -4.0)])
    assert graded.ok and graded.parsed == "((x + y) * z)"


# ------------------------------------------------------------------ bad claims


@pytest.mark.parametrize(
    "kind, name, value, message",
    [
        ("grad", "w", "1", "not an input"),
        ("grad", "q", "1", "--node-grad q"),
        ("node", "nope", "1", "not a named node"),
        ("node", "x*y", "1", "not a named node"),
        ("value", "", "abc", "is not a number"),
        ("value", "", True, "must be a number"),
        ("grad", "x", "1/0", "divides by zero"),
    ],
)
def test_bad_claims_are_input_errors(kind, name, value, message):
    with pytest.raises(BackpropError, match=message):
        grade(STAGED, CIRCUIT, (kind, name, value))


def test_missing_value_and_no_claims():
    with pytest.raises(InputError, match="missing value for z"):
        grade("(x+y)*z", {"x": 1, "y": 2}, ("value", "", "1"))
    with pytest.raises(InputError, match="no claims"):
        Grader().grade("(x+y)*z", CIRCUIT, [])


def test_unused_value_is_a_warning():
    graded = Grader().grade("x*2", {"x": 1, "y": 2}, [make_claim("value", "", "2")])
    assert graded.ok and graded.warnings == ["value given for 'y', which the expression does not use"]


# ------------------------------------------------------------------ batch input


def test_batch_jsonl_with_malformed_entries_mixed_in():
    lines = [
        '{"id": "alice", "expression": "(x+y)*z", "values": {"x": -2, "y": 5, "z": -4}, "claims": {"value": -12}}\n',
        "not json at all\n",
        "\n",  # a blank line is not an entry
        "[1, 2]\n",
        '{"id": "bob", "values": {}, "claims": {"value": 1}}\n',
        '{"id": "carol", "expression": "(x+*z", "values": {}, "claims": {"value": 1}}\n',
        '{"id": "dan", "expression": "(x+y)*z", "values": {"x": 1}, "claims": {"value": 1}}\n',
        '{"id": "erin", "expression": "x", "values": {"x": 1}, "claims": {"gradient": {"x": 1}}}\n',
        '{"id": "fay", "expression": "x", "values": {"x": 1}, "claims": {"value": null}}\n',
        '{"id": "gus", "expression": "x*x", "values": {"x": 3}, "claims": {"gradients": {"x": 6}}}\n',
    ]
    report = grade_batch(read_batch(lines, "class.jsonl"))
    assert [entry.id for entry in report.entries] == [
        "alice", "line 2", "line 4", "bob", "carol", "dan", "erin", "fay", "gus",
    ]
    errors = {entry.id: entry.error for entry in report.entries}
    assert errors["alice"] is None and errors["gus"] is None
    assert "not valid JSON" in errors["line 2"]
    assert errors["line 4"] == "expected a JSON object {...} per line"  # the braces as written, not {{...}}
    assert "expression" in errors["bob"]
    assert "column" in errors["carol"]  # the parse error says where
    assert "missing value" in errors["dan"] and "y, z" in errors["dan"]
    assert "unknown key 'gradient'" in errors["erin"]
    assert "must be a number" in errors["fay"]
    assert [entry.line for entry in report.entries] == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    summary = report.summary()
    assert (summary["entries"], summary["correct"], summary["wrong"], summary["errors"]) == (9, 2, 0, 7)
    assert report.exit_code == 2


def test_batch_csv():
    text = (
        "id,expression,values,claims\n"
        'ann,(x+y)*z,"{""x"": -2, ""y"": 5, ""z"": -4}","{""gradients"": {""x"": 4}}"\n'
        'ben,x*x + x,"{""x"": 3}","{""gradients"": {""x"": 7}}"\n'
        'cat,x,"{""x"": 1}","{oops"\n'
    )
    report = grade_batch(read_batch(text.splitlines(keepends=True), "answers.csv"))
    ann, ben, cat = report.entries
    assert ann.verdicts[0].diagnosis.code == "sign"
    assert ben.ok
    assert cat.error.startswith("column claims is not valid JSON")
    assert (ann.line, ben.line, cat.line) == (2, 3, 4)
    # without a .csv name (standard input) it is CSV only when asked for
    asked = grade_batch(read_batch(text.splitlines(keepends=True), "-", "csv"))
    assert [entry.id for entry in asked.entries] == ["ann", "ben", "cat"]


def test_batch_csv_needs_its_columns():
    with pytest.raises(InputError, match="missing: expression"):
        list(read_batch(["id,expr,claims\n"], "answers.csv"))


def test_diagnosis_counts_per_code():
    line = '{{"id": "s{n}", "expression": "x*x + x", "values": {{"x": 3}}, "claims": {{"gradients": {{"x": {claim}}}}}}}\n'
    claims = ["7", "6", "6", "4", "-7", "12"]
    report = grade_batch(read_batch([line.format(n=n, claim=claim) for n, claim in enumerate(claims)]))
    counts = report.summary()["diagnoses"]
    assert counts["missed-accumulation"] == 3 and counts["sign"] == 1 and counts["unknown"] == 1
    assert sum(counts.values()) == 5
    assert report.exit_code == 1


def test_exit_codes_of_reports():
    right = Entry("a", "x", {"x": 1}, [make_claim("value", "", "1")])
    wrong = Entry("b", "x", {"x": 1}, [make_claim("value", "", "2")])
    bad = Entry("c", error="broken")
    assert grade_batch([right]).exit_code == 0
    assert grade_batch([right, wrong]).exit_code == 1
    assert grade_batch([right, wrong, bad]).exit_code == 2


def test_verify_adds_the_sympy_cross_check():
    graded = Grader(verify=True).grade(NEURON, NEURON_VALUES, [make_claim("grad", "w0", "-0.1966")])
    assert graded.ok and graded.check is not None and graded.check.ok and graded.check.method == "sympy"


def test_many_paths_and_the_work_limit(monkeypatch):
    from backprop_cli import check

    # x used 10 times: d/dx = 10; one path alone gives 1, all but one give 9
    ten = " + ".join(["x"] * 10)
    assert diagnosed(ten, {"x": 2}, "grad", "x", "1").code == "missed-accumulation"
    assert diagnosed(ten, {"x": 2}, "grad", "x", "9").code == "missed-accumulation"
    # used 70 times, only "all but one" is tried (69)
    seventy = " + ".join(["x"] * 70)
    assert diagnosed(seventy, {"x": 2}, "grad", "x", "69").code == "missed-accumulation"
    assert diagnosed(seventy, {"x": 2}, "grad", "x", "1").code == "unknown"
    # without work allowed for swapped-rule passes, only the cheap diagnoses remain
    monkeypatch.setattr(check, "MAX_DIAGNOSIS_WORK", 0)
    assert diagnosed("x*y", {"x": 2, "y": 5}, "grad", "x", "2").code == "unknown"
    assert diagnosed("x*y", {"x": 2, "y": 5}, "grad", "x", "-5").code == "sign"


def test_long_name_lists_stay_short():
    expression = " + ".join(f"x{i}" for i in range(30))
    with pytest.raises(InputError, match=r"inputs: x0, x1, x2, x3, x4, x5, x6, x7 and 22 more\)"):
        grade(expression, {}, ("grad", "w", "1"))


def test_the_issue_batch_line():
    # the issue's example names q in "(x+y)*z", which has no staged names: that entry is
    # reported with what to write instead; naming it by its sub-expression grades it
    issue = (
        '{"id": "alice-q1", "expression": "(x+y)*z", "values": {"x": -2, "y": 5, "z": -4},'
        ' "claims": {"value": -12, "gradients": {"x": -4, "z": 3}, "intermediates": {"q": {"value": 3, "grad": -4}}}}\n'
    )
    (entry,) = grade_batch(read_batch([issue])).entries
    assert "'q' is not a named node" in entry.error and "such as '(x + y)'" in entry.error
    (entry,) = grade_batch(read_batch([issue.replace('"q"', '"x+y"')])).entries
    assert entry.ok and len(entry.verdicts) == 5


def test_grading_does_not_import_sympy():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from backprop_cli.check import Grader, make_claim\n"
        "Grader().grade('sigmoid(x*y)', {'x': 1, 'y': 2}, [make_claim('grad', 'x', '5')])\n"
        "print('sympy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


# ------------------------------------------------------------------ a local gradient left out


def test_missing_local_inner_derivative_forgotten():
    # d/dx sin(x^2) = cos(x^2) * 2x = 2 cos(1) at x = 1; cos(1) alone leaves out pow's local gradient 2x
    found = diagnosed("sin(x**2)", {"x": 1}, "grad", "x", f"{math.cos(1):.4f}")
    assert (found.code, found.node) == ("missing-local", "(x ** 2)")
    assert f"{math.cos(1):.6f} x 2 = {2 * math.cos(1):.4f}" in found.message
    assert found.step.startswith("backward pass row 2: gate (x ** 2) -> x")
    # d/dx log(x*x + 1) = 2x / (x^2 + 1) = 4/5 at x = 2; 1/(x^2 + 1) = 0.2 is the gradient arriving at x*x,
    # whose local gradient for x is x + x = 4 (x enters it twice)
    found = diagnosed("log(x*x+1)", {"x": 2}, "grad", "x", "0.2")
    assert (found.code, found.node) == ("missing-local", "(x * x)")
    assert "2 + 2 = 4" in found.message and "0.2 x 4 = 0.8" in found.message


def test_missing_local_exp_of_a_product():
    # d/dx exp(xy) = y exp(xy): 2 e^3 = 40.17 at x = 1.5, y = 2; e^3 = 20.0855 leaves out the factor y
    verdict = one("exp(x*y)", {"x": 1.5, "y": 2}, "grad", "x", f"{math.exp(3):.4f}")
    assert verdict.expected == pytest.approx(2 * math.exp(3))
    assert (verdict.diagnosis.code, verdict.diagnosis.node) == ("missing-local", "(x * y)")
    # at x = 1 the same mistake gives e^2, which a mul gate passing x its own value (1) gives too:
    # leaving out the inner derivative is the likelier mistake, and it comes first
    assert diagnosed("exp(x*y)", {"x": 1, "y": 2}, "grad", "x", f"{math.exp(2):.4f}").code == "missing-local"


def test_missing_local_higher_up_flows_down():
    # d/dx tanh(2x^2) = (1 - tanh(2x^2)^2) * 4x; at x = 1 leaving out tanh's local gradient gives 4x = 4
    verdict = one("tanh(2*x**2)", {"x": 1}, "grad", "x", "4")
    assert verdict.expected == pytest.approx(4 * (1 - math.tanh(2) ** 2))
    found = verdict.diagnosis
    assert found.code == "missing-local" and found.node.startswith("tanh(")
    assert found.message.endswith(", and that flows on down to x")
    # sigmoid(z) * y: leaving out sigmoid's s(1-s) gives dz = y = -1; a mul gate's local for y taken
    # as 1 gives dy = 1 instead of s = 0.7311
    assert diagnosed("sigmoid(z)*y", {"z": 1, "y": -1}, "grad", "z", "-1").code == "missing-local"
    assert diagnosed("sigmoid(z)*y", {"z": 1, "y": -1}, "grad", "y", "1").code == "missing-local"


def test_missing_local_leaves_routing_gates_to_max_routing():
    # relu(x) * y at x = -1: the gradient 3 passed through relu is a routing mistake (test_max_routing);
    # max(x, 2x) = 2x at x = 1, df/dx = 2; max passing the gradient to both inputs gives 1 + 2 = 3
    found = diagnosed("max(x, 2*x)", {"x": 1}, "grad", "x", "3")
    assert found.code == "max-routing"
    assert "passed the whole gradient to every input" in found.message


# ------------------------------------------------------------------ how generous rounding is


def test_rounds_needs_the_digits_and_a_plausible_error():
    assert rounds(0.2, 0.05, 0.19661)  # 1.7 % off, within half a unit of the last digit
    assert rounds(0.12, 0.005, 0.123)  # 2.4 %
    assert rounds(1, 0.5, 0.96)  # 4 %
    assert not rounds(0.1, 0.05, 0.123)  # within half a unit, but 18.7 % off
    assert not rounds(1, 0.5, 0.7311)  # 37 %
    assert not rounds(-1, 0.5, -0.5898)  # 70 %
    assert not rounds(0.3, 0.05, 0.2)  # not the digits: 0.2 rounds to 0.2


def test_one_digit_claims_are_not_called_rounding():
    # sigmoid(1) = 0.7311: 1 is 37 % off, no rounding; nothing else gives 1 either
    assert diagnosed("1/(1+exp(-z))", {"z": 1}, "value", "", "1").code == "unknown"
    # -1 for dx1 = -0.5898 (70 % off) was called rounding; 1 for dx0 = 0.3932 "output-as-local-grad,
    # then rounded" (that mistake gives 2 s = 1.4621, 32 % off); -1 for dw1 = -0.3932 "mul-not-swapped,
    # then rounded" (w1's own value gives -3 * 0.1966 = -0.5898, 70 % off)
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "x1", "-1").code == "unknown"
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "x0", "1").code == "unknown"
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "w1", "-1").code == "unknown"
    # x * y at x = 0.123: dy = 0.123; 0.12 is a rounding, 0.1 (18.7 % off) is not
    assert diagnosed("x*y", {"x": 0.123, "y": 1.5}, "grad", "y", "0.12").code == "rounding"
    assert diagnosed("x*y", {"x": 0.123, "y": 1.5}, "grad", "y", "0.1").code == "unknown"


def test_a_mistake_then_rounded_still_found():
    # s used as sigmoid's local gradient gives dw0 = -s = -0.7311; written -0.73 (0.15 % off)
    assert diagnosed(NEURON, NEURON_VALUES, "grad", "w0", "-0.73").code == "output-as-local-grad"


# ------------------------------------------------------------------ claims given twice


def test_a_quantity_claimed_twice_with_different_values_is_bad_input():
    with pytest.raises(InputError, match=r"df/dq is claimed twice with different values, 13 and 7"):
        grade(STAGED, CIRCUIT, ("node-grad", "q", "13"), ("node-grad", "q", "7"))
    # q and x+y are the same node of the staged program
    with pytest.raises(InputError, match=r"df/dq \(also written df/d\(x\+y\)\) is claimed twice"):
        grade(STAGED, CIRCUIT, ("node-grad", "q", "-4"), ("node-grad", "x+y", "4"))
    with pytest.raises(InputError, match="f is claimed twice with different values, -12 and 12"):
        grade(STAGED, CIRCUIT, ("value", "", "-12"), ("node", "f", "12"))


def test_a_quantity_claimed_twice_with_the_same_value_is_graded_once():
    graded = Grader().grade("x*y", {"x": 2, "y": 3}, [make_claim("grad", "x", "3"), make_claim("grad", "x", "3.0")])
    assert [v.what for v in graded.verdicts] == ["df/dx"] and graded.ok
    assert graded.warnings == ["df/dx is claimed twice (3.0); it is graded once"]
    # a value and a gradient of the same node are two quantities
    verdicts = grade(STAGED, CIRCUIT, ("node", "q", "3"), ("node-grad", "q", "-4"))
    assert [v.ok for v in verdicts] == [True, True]


def test_repeated_json_keys_make_an_entry_bad():
    lines = [
        '{"id": "a", "expression": "x*y", "values": {"x": 1, "x": 2, "y": 3}, "claims": {"value": 6}}\n',
        '{"id": "b", "expression": "x*y", "values": {"x": 2, "y": 3}, "claims": {"gradients": {"x": 3, "x": 4}}}\n',
        '{"id": "c", "expression": "x*y", "values": {"x": 2, "y": 3}, "claims": {"value": 6}}\n',
    ]
    a, b, c = grade_batch(read_batch(lines, "class.jsonl")).entries
    assert a.id == "line 1" and a.error == "key 'x' appears twice in one JSON object: give it once"
    assert b.id == "line 2" and "key 'x' appears twice" in b.error
    assert c.ok
    text = 'id,expression,values,claims\nd,x*y,"{""x"": 1, ""x"": 2}","{""value"": 2}"\n'
    (d,) = grade_batch(read_batch(text.splitlines(keepends=True), "answers.csv")).entries
    assert d.error == "column values: key 'x' appears twice in one JSON object: give it once"


# ------------------------------------------------------------------ what a batch is


def test_a_batch_without_entries_is_bad_input():
    with pytest.raises(InputError, match="^no entries in standard input"):
        list(read_batch([], "-"))
    with pytest.raises(InputError, match="^no entries in 'class.jsonl'"):
        list(read_batch(["\n", "   \n"], "class.jsonl"))
    with pytest.raises(InputError, match="^no entries in 'answers.csv'"):
        list(read_batch(["id,expression,values,claims\n"], "answers.csv"))


def test_json_lines_unless_csv_is_named_or_asked():
    line = '{"id": "a", "expression": "x*y", "values": {"x": 2, "y": 3}, "claims": {"value": 6}}\n'
    for name in ("-", "answers.txt", "answers"):
        (entry,) = grade_batch(read_batch([line], name)).entries
        assert entry.ok, name
    (entry,) = grade_batch(read_batch(["not json\n"], "-")).entries
    assert entry.error == "not valid JSON: Expecting value at column 1"
    # a CSV file read as JSON Lines: its header says what to do
    header, row = "id,expression,values,claims\n", 'a,x,"{""x"": 1}","{""value"": 1}"\n'
    first, second = grade_batch(read_batch([header, row], "-")).entries
    assert first.error.endswith("(this looks like a CSV header: for a CSV file pass --batch-format csv)")
    assert second.error == "not valid JSON: Expecting value at column 1"


def test_precedence_names_the_group_with_its_parentheses():
    # 1 / 1 + exp(-z) read with parentheses added, and 1 / (1 + exp(-z)) read with them removed:
    # both diagnoses name the same group, (1 + exp(-z)); values 1.3679 = 1 + e^-1 and 0.7311 = s
    added = diagnosed("1 / 1 + exp(-z)", {"z": 1}, "value", "", f"{S:.4f}")
    removed = diagnosed("1 / (1 + exp(-z))", {"z": 1}, "value", "", f"{1 + math.exp(-1):.4f}")
    assert (added.code, removed.code) == ("precedence", "precedence")
    assert added.node == removed.node == "(1 + exp(-z))"


@pytest.mark.parametrize(
    "expression, values",
    [
        ("x*x + x", {"x": 3}),
        ("q = x + y; f = q*q*z + q", {"x": 1, "y": 2, "z": -1}),
        ("(x * (d)**2) + d", {"x": 2, "d": -0.5}),  # a constant exponent: its local gradient is log(-0.5)
        ("max(x, y*2, x*y) * tanh(x) + sigmoid(x - y)", {"x": 0.5, "y": -1.5}),
        ("log(x*x+1) * exp(x*y) / (1 + relu(y))", {"x": 2, "y": 0.5}),
        # sigmoid and tanh written out in primitive gates (their whole chain's local gradient swapped)
        ("1/(1+exp(-(x*y))) * ((exp(x)-exp(-x))/(exp(x)+exp(-x)))", {"x": 0.5, "y": -1.5}),
        ("u = x*y + x; f = (1+exp(-1*u))**-1 + (1-exp(-2*u))/(1+exp(-2*u))", {"x": 0.5, "y": 2}),
    ],
)
def test_the_estimate_of_a_swap_is_its_backward_pass(expression, values):
    # a swap is run through the backward pass only when its estimate may give the claim: the
    # estimate must agree with Graph.backward on the swapped local gradients, for every swap
    from backprop_cli import check

    grader = Grader()
    question = grader.question(expression)
    graph = question.graph
    node_values = graph.forward(values)
    locals_ = graph.local_gradients(node_values)
    grads = graph.backward(locals_, 1.0)
    run = check._Pass(grader, question, values, node_values, locals_, grads)
    tried = 0
    for code in check.MUTATED_CODES:
        for mutation in check.mutations(code, graph, node_values, locals_):
            if mutation.detail and mutation.detail[0] == "every":
                continue  # one rule swapped at several gates in a chain is not estimated: always run
            swapped = list(locals_)
            for node, local in mutation.replaced:
                swapped[node] = local
            backward = graph.backward(swapped, 1.0)
            for target in graph.inputs.values():
                tangents = run._above(target)[1]
                estimate = run._estimate(mutation, target, tangents)[0]
                assert estimate == pytest.approx(backward[target], rel=1e-9, abs=1e-12), (code, mutation)
                tried += 1
    assert tried > 5


def test_the_same_wrong_rule_at_every_gate_is_diagnosed():
    """A student who believes sigmoid' = s uses it at both sigmoids of a two-layer chain."""
    w, x, b, w1, b1 = 0.5, 1.0, -0.2, 2.0, 0.1
    a = 1 / (1 + math.exp(-(w * x + b)))
    a2 = 1 / (1 + math.exp(-(w1 * a + b1)))
    correct = a2 * (1 - a2) * w1 * a * (1 - a) * x  # by hand: 0.0846861
    believed = a2 * w1 * a * x  # s for s(1-s) at both gates: 0.892806
    program = "z = w*x + b; a = sigmoid(z); z1 = w1*a + b1; a2 = sigmoid(z1)"
    values = {"w": w, "x": x, "b": b, "w1": w1, "b1": b1}
    assert one(program, values, "grad", "w", f"{correct:.6g}").ok
    found = diagnosed(program, values, "grad", "w", f"{believed:.6g}")
    assert found.code == "output-as-local-grad"
    assert found.message.startswith("at every one of the gates a, a2 the output was used as the local gradient")
    # one gate alone is still named as that gate
    outer_only = a2 * w1 * a * (1 - a) * x
    assert "gate a2's output" in diagnosed(program, values, "grad", "w", f"{outer_only:.6g}").message


def test_mul_not_swapped_at_every_gate():
    # x*y*z at (2, 3, 5): df/dx = y*z = 15; own values at both mul gates: (x*y) = 6, then x = 2: 12
    found = diagnosed("x*y*z", {"x": 2, "y": 3, "z": 5}, "grad", "x", "12")
    assert found.code == "mul-not-swapped" and found.message.startswith("every mul gate on the way")
    single = diagnosed("x*y*z", {"x": 2, "y": 3, "z": 5}, "grad", "x", "10")  # only the lower gate: 5 x 2
    assert single.code == "mul-not-swapped" and single.message.startswith("mul gate (x * y) passed")


def test_a_tiny_answer_of_the_wrong_sign_is_wrong_even_within_atol():
    # sigmoid'(15) = e^-15 / (1 + e^-15)^2 = 3.059e-7 (by hand), well inside atol = 1e-6 of 0
    slope = math.exp(-15) / (1 + math.exp(-15)) ** 2
    assert one("sigmoid(x)", {"x": 15}, "grad", "x", f"{slope:.4g}").ok
    assert one("sigmoid(x)", {"x": 15}, "grad", "x", "0").ok  # rounded to 0: still within atol
    found = diagnosed("sigmoid(x)", {"x": 15}, "grad", "x", f"{-slope:.4g}")
    assert found.code == "sign"
    # a value that is rounding noise (1e-17 for a true 0) may come out with either sign
    assert one("x - 0.1 - 0.2 + 0.3", {"x": 0}, "value", "", "1e-17").ok  # the value is -5.6e-17


def test_a_gradient_passed_through_a_dead_relu_is_max_routing_not_local_only():
    # relu(w*x + b) at w=-1, x=2, b=0.5: the input -1.5 is negative, so every gradient is 0 (by hand).
    # dw = 2 = x and db = 1 are what passing the gradient through the relu gives; they are also the bare
    # local gradients of the mul and add gates, but their upstream is 0 because the relu stopped it
    values = {"w": -1, "x": 2, "b": 0.5}
    for name, claimed in (("w", "2"), ("b", "1")):
        found = diagnosed("relu(w*x + b)", values, "grad", name, claimed)
        assert found.code == "max-routing" and "relu stops it while its input is not positive" in found.message
    # where the upstream is not 0, the bare local gradient is still local-only: (x+y)*z, dx = z = -4, local 1
    assert diagnosed("(x+y)*z", {"x": -2, "y": 5, "z": -4}, "grad", "x", "1").code == "local-only"
