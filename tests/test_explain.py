"""The narration of `backprop grad --explain`: the numbers in its sentences are the right ones.

Every expected number is worked out here by hand (the course notes' worked examples) or with
the math module, never read from the program's output.
"""

from __future__ import annotations

import math
import re

import pytest

from backprop_cli import grad
from backprop_cli.explain import backward_hint, explain, forward_hint, render_explanation
from backprop_cli.i18n import set_language


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("en")


def texts(result, digits=6) -> list[str]:
    return [sentence.text for sentence in explain(result, digits)]


def sentence_with(sentences: list[str], fragment: str) -> str:
    """The first sentence containing fragment (``*`` matches any text, as in ``The mul gate * receives``)."""
    pattern = re.compile(".*".join(re.escape(piece) for piece in fragment.split("*")))
    found = [text for text in sentences if pattern.search(text)]
    assert found, f"no sentence contains {fragment!r}:\n" + "\n".join(sentences)
    return found[0]


# --------------------------------------------------------------------------- CS231n circuit


def test_cs231n_circuit_forward_sentences():
    # q = x + y = -2 + 5 = 3; f = q * z = 3 * (-4) = -12
    sentences = texts(grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}))
    assert sentences[0] == "The inputs are x = -2, y = 5, z = -4."
    assert sentences[1] == "The add gate computes (x + y) = -2 + 5 = 3."
    assert sentences[2].startswith("The mul gate computes ((x + y) * z) = 3 × (-4) = -12.")
    assert "This is the output: f = -12." in sentences[2]


def test_cs231n_circuit_backward_sentences():
    sentences = texts(grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}))
    assert "df/df = 1" in sentences[3]
    mul = sentence_with(sentences, "The mul gate ((x + y) * z) receives")
    assert "mul swaps" in mul  # the why, from the gate registry
    # df/dq = upstream 1 x other input z = -4; df/dz = 1 x q = 3
    assert "For (x + y) the local gradient is other input = z = -4; by the chain rule, upstream × local = 1 × (-4) = -4." in mul
    assert "So df/d(x + y) = -4." in mul
    assert "For z the local gradient is other input = (x + y) = 3; by the chain rule, upstream × local = 1 × 3 = 3. So df/dz = 3." in mul
    add = sentence_with(sentences, "The add gate (x + y) receives the gradient df/d(x + y) = -4")
    assert "add distributes" in add
    # df/dx = df/dy = -4 x 1 = -4
    assert "upstream × local = -4 × 1 = -4. So df/dx = -4." in add
    assert "upstream × local = -4 × 1 = -4. So df/dy = -4." in add
    assert sentences[-1] == "Result: f = -12. Gradients: df/dx = -4, df/dy = -4, df/dz = 3."


def test_sentences_are_numbered_in_order_forward_backward_result():
    sentences = explain(grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}))
    assert [s.number for s in sentences] == list(range(1, len(sentences) + 1))
    parts = [s.part for s in sentences]
    assert parts == sorted(parts, key=["forward", "backward", "result"].index)
    assert parts.count("result") == 1


# --------------------------------------------------------------------------- sigmoid neuron


W0, X0, W1, X1, W2 = 2.0, -1.0, -3.0, -2.0, -3.0


def neuron_numbers():
    """The sigmoid neuron of the course notes, by hand with the math module."""
    z = W0 * X0 + W1 * X1 + W2  # = 1
    s = 1 / (1 + math.exp(-z))  # ~ 0.7311
    local = s * (1 - s)  # ~ 0.1966
    return z, s, local


def g4(value: float) -> str:
    return f"{value:.4g}"


@pytest.mark.parametrize(
    "expression",
    ["sigmoid(w0*x0 + w1*x1 + w2)", "z = w0*x0 + w1*x1 + w2; f = sigmoid(z)"],
)
def test_sigmoid_neuron_reads_like_a_worked_solution(expression):
    z, s, local = neuron_numbers()
    assert z == 1
    values = {"w0": W0, "x0": X0, "w1": W1, "x1": X1, "w2": W2}
    sentences = texts(grad(expression, values), digits=4)
    joined = "\n".join(sentences)
    # forward: w0*x0 = -2, w1*x1 = 6, their sum 4, plus the bias -3 gives 1, then the sigmoid
    assert "= 2 × (-1) = -2." in joined
    assert "= -3 × (-2) = 6." in joined
    assert "= -2 + 6 = 4." in joined
    assert "= 4 + (-3) = 1." in joined
    assert f"sigmoid(1) = 1/(1 + exp(-1)) = {g4(s)}" in joined
    assert g4(s) == "0.7311" and g4(local) == "0.1966"
    # backward: sigmoid's local gradient from its own output, with the numbers
    sigmoid = sentence_with(sentences, "The sigmoid gate * receives")
    assert "s*(1-s)" in sigmoid
    assert f"s*(1-s) = {g4(s)} × (1 - {g4(s)}) = {g4(local)}; by the chain rule, upstream × local = 1 × {g4(local)} = {g4(local)}" in sigmoid
    # the bias gets 1 x upstream (add gate); the weights get upstream x the other input
    assert f"So df/dw2 = {g4(local)}." in joined
    assert f"upstream × local = {g4(local)} × (-2) = {g4(local * X1)}. So df/dw1 = {g4(local * X1)}." in joined
    assert f"upstream × local = {g4(local)} × (-3) = {g4(local * W1)}. So df/dx1 = {g4(local * W1)}." in joined
    assert f"upstream × local = {g4(local)} × (-1) = {g4(local * X0)}. So df/dw0 = {g4(local * X0)}." in joined
    assert f"upstream × local = {g4(local)} × 2 = {g4(local * W0)}. So df/dx0 = {g4(local * W0)}." in joined
    # MISSION.md: dw = [-0.1966, -0.3932, 0.1966], dx = [0.3932, -0.5898]
    assert sentences[-1] == (
        "Result: f = 0.7311. Gradients: df/dw0 = -0.1966, df/dx0 = 0.3932, df/dw1 = -0.3932, "
        "df/dx1 = -0.5898, df/dw2 = 0.1966."
    )


def test_sigmoid_as_primitive_gates_tells_each_gate_and_ends_at_the_same_gradient():
    # f = 1/(1 + exp(-z)) at z = 1: d/dz = s(1-s) ~ 0.196612
    z, s, local = neuron_numbers()
    sentences = texts(grad("1 / (1 + exp(-z))", {"z": z}))
    exp_value = math.exp(-1)
    denominator = 1 + exp_value
    joined = "\n".join(sentences)
    assert f"exp(-z) = exp(-1) = {exp_value:.6g}" in joined
    assert f"= 1 + {exp_value:.6g} = {denominator:.6g}" in joined
    div = sentence_with(sentences, "The div gate * receives")
    assert f"-a/b^2 = -1/{denominator:.6g}^2 = {-1 / denominator**2:.6g}" in div
    exp = sentence_with(sentences, "The exp gate * receives")
    assert f"exp(a) = its own output = {exp_value:.6g}" in exp
    neg = sentence_with(sentences, "The neg gate * receives")
    assert f"So df/dz = {local:.6g}." in neg
    assert sentences[-1] == f"Result: f = {s:.6g}. Gradients: df/dz = {local:.6g}."


# --------------------------------------------------------------------------- fan-out


def test_fan_out_contributions_add_up():
    # x*x + x at x = 3: the add gate gives 1, each side of the mul gate gives x = 3: 1 + 3 + 3 = 7
    sentences = texts(grad("x*x + x", {"x": 3}))
    assert "x is used 3 times, so in the backward pass its gradient adds up 3 contributions." in sentences
    joined = "\n".join(sentences)
    assert "this is contribution 1 of 3 (running total 1)" in joined
    assert "this is contribution 2 of 3 (running total 4)" in joined
    assert "they add up: 1 + 3 + 3 = 7, so df/dx = 7." in joined
    assert "For x (input 1)" in joined and "For x (input 2)" in joined


def test_staged_intermediate_used_twice():
    # q = x + y = 3; f = q*z + q = 3*(-4) + 3 = -9; df/dq = 1 + z = -3 (the add gate's path comes first)
    sentences = texts(grad("q = x + y; f = q * z + q", {"x": -2, "y": 5, "z": -4}))
    joined = "\n".join(sentences)
    assert "The add gate computes q = x + y = -2 + 5 = 3. q is used 2 times" in joined
    assert "they add up: 1 + (-4) = -3, so df/dq = -3." in joined
    assert "So df/dx = -3." in joined


# --------------------------------------------------------------------------- exact mode


def test_apple_example_in_exact_fractions():
    # price = apple * apple_num * tax; d price / d apple = apple_num * tax = 2 * 11/10 = 11/5
    result = grad("price = apple * apple_num * tax", {"apple": 100, "apple_num": 2, "tax": "1.1"}, exact=True)
    sentences = texts(result)
    assert sentences[0] == "The inputs are apple = 100, apple_num = 2, tax = 11/10."
    joined = "\n".join(sentences)
    assert "= 100 × 2 = 200." in joined
    assert "= 200 × (11/10) = 220." in joined
    assert "upstream × local = (11/10) × 2 = 11/5. So dprice/dapple = 11/5." in joined
    assert "upstream × local = (11/10) × 100 = 110. So dprice/dapple_num = 110." in joined
    assert "So dprice/dtax = 200." in joined


# --------------------------------------------------------------------------- every gate


@pytest.mark.parametrize(
    "expression, values, fragment",
    [
        ("x / y", {"x": 3, "y": -2}, "1/b = 1/(-2) = -0.5"),  # d(x/y)/dx = 1/y
        ("x / y", {"x": 3, "y": -2}, "-a/b^2 = -3/(-2)^2 = -0.75"),  # d/dy = -x/y^2
        ("x ** 3", {"x": 2}, "b*a^(b-1) = 3 × 2^2 = 12"),  # 3x^2
        ("log(x)", {"x": 4}, "1/a = 1/4 = 0.25"),
        ("sqrt(x)", {"x": 9}, "1/(2*sqrt(a)) = 1/(2 × 3) = 0.166667"),
        ("tanh(x)", {"x": 1}, f"1-t^2 = 1 - {math.tanh(1):.6g}^2 = {1 - math.tanh(1) ** 2:.6g}"),
        ("abs(x)", {"x": -2}, "sign(a) = sign(-2) = -1"),
        ("sin(x)", {"x": 1}, f"cos(a) = cos(1) = {math.cos(1):.6g}"),
        ("cos(x)", {"x": 1}, f"-sin(a) = -sin(1) = {-math.sin(1):.6g}"),
        ("max(x, y)", {"x": 3, "y": -2}, "1 if largest else 0 = 0"),  # y loses: nothing routed to it
        ("relu(x)", {"x": -1}, "1 if a > 0 else 0 = 0"),
        ("x - y", {"x": 1, "y": 2}, "For y the local gradient is -1; by the chain rule, upstream × local = 1 × (-1) = -1."),
        ("-x", {"x": -2}, "The neg gate computes -x = -(-2) = 2."),
    ],
)
def test_each_gate_shows_its_rule_with_numbers(expression, values, fragment):
    assert fragment in "\n".join(texts(grad(expression, values)))


def test_constants_are_not_narrated_as_inputs():
    sentences = texts(grad("2 * x", {"x": 5}))
    assert sentences[0] == "The inputs are x = 5."
    assert "For x the local gradient is other input = 2; by the chain rule, upstream × local = 1 × 2 = 2. So df/dx = 2." in sentences[3]
    assert "For 2" not in "\n".join(sentences)


# --------------------------------------------------------------------------- hints


def test_hints_name_the_rule_but_not_the_answer():
    result = grad("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    hint = forward_hint(result, 2)  # node 2 is (x + y)
    assert hint == "The add gate (x + y) computes x + y: use x = -2, y = 5."
    back = backward_hint(result, 0)  # x: from the add gate with upstream -4
    assert "add: 1" in back and "upstream gradient -4" in back
    assert "= -4" not in back
    fan = backward_hint(grad("x*x + x", {"x": 3}), 0)
    assert "x is used 3 times: add the contributions." in fan


# --------------------------------------------------------------------------- the command


def test_grad_explain_prints_the_narration_after_the_tables(cli):
    done = cli("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--explain", "--no-check", "--lang", "en")
    assert done.exit_code == 0, done.stderr
    out = done.stdout
    assert out.index("Backward pass") < out.index("Explanation")
    assert "2. The add gate computes (x + y) = -2 + 5 = 3." in out
    assert re.search(r"^7\. Result: f = -12\. Gradients: df/dx = -4, df/dy = -4, df/dz = 3\.$", out, re.M)
    assert done.stderr == ""


def test_wrapped_lines_are_indented_under_the_sentence(cli):
    done = cli("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--explain", "--summary", "--no-check", "--lang", "en", env={"COLUMNS": "60"})
    lines = done.stdout.splitlines()
    start = lines.index("Backward pass")
    assert lines[start + 1].startswith("4. ")
    assert lines[start + 2].startswith("   ") and lines[start + 2].strip()
    assert all(len(line) <= 60 for line in lines[start:])
    assert all(line == line.rstrip() for line in lines[start:])


def test_a_huge_graph_is_cut_short():
    from io import StringIO

    from rich.console import Console

    terms = " + ".join(f"x{i}" for i in range(50))
    result = grad(terms, {f"x{i}": i for i in range(50)})
    stream = StringIO()
    render_explanation(result, Console(file=stream, width=200), limit=10)
    out = stream.getvalue()
    assert "10. " in out and "11. " not in out
    assert "the narration stops after 10 sentences" in out


def test_a_kink_names_the_convention():
    # relu at 0 has no derivative: the engine takes relu'(0) = 0 and says so
    sentences = texts(grad("relu(x)", {"x": 0}))
    relu = sentence_with(sentences, "The relu gate * receives")
    assert "Here the gate has no derivative; by convention, relu'(0) = 0 (as in PyTorch and micrograd)." in relu
    tie = sentence_with(texts(grad("max(x, y)", {"x": 1, "y": 1})), "The max gate * receives")
    assert "upstream × local = 1 × (1/2) = 0.5" in tie and "splits the gradient equally" in tie


def test_an_input_that_is_the_output():
    assert texts(grad("x", {"x": 3}))[-1] == "Result: f = 3. Gradients: df/dx = 1."
