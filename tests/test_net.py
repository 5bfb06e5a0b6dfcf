"""`backprop net`: every number checked against something the program did not compute.

References used here, none of them the network code:
* MISSION.md's worked examples, by hand (node 7: x = 7, t = 10 -> dloss/dx = -6);
* the textbook backprop equations written out in plain Python for the two-layer net;
* SymPy: the network written as one symbolic formula from the spec, differentiated;
* the scalar engine (`backprop_cli.grad`) on the whole loss written out as ONE expression,
  inputs and targets inlined as numbers (no staging, no per-example loop);
* central finite differences of a plain-Python forward pass.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_cli import grad
from backprop_cli.errors import InputError
from backprop_cli.net import Network, load_spec, random_spec, spec_from_dict, spec_toml, write_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

ISSUE_SPEC = {
    "layers": [
        {"weights": [[0.1, -0.2], [0.3, 0.4]], "bias": [0.0, 0.1], "activation": "sigmoid"},
        {"weights": [[0.5, -0.6]], "bias": [0.2], "activation": "sigmoid", "scale": [1.0]},
    ],
    "examples": [{"input": [1.0, 0.5], "target": [1.0]}],
    "loss": "sse",
    "reduction": "sum",
}


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --------------------------------------------------------------------------- independent references


ACT = {
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "identity": lambda z: z,
}


def plain_loss(spec: dict, params: dict[str, float]) -> float:
    """L written with plain Python floats, straight from the spec's definition."""
    total = 0.0
    layers = spec["layers"]
    for example in spec["examples"]:
        a = list(example["input"])
        for number, layer in enumerate(layers, 1):
            nxt = []
            for j, row in enumerate(layer["weights"]):
                z = sum(params[f"w{number}_{j}_{i}"] * a[i] for i in range(len(row))) + params[f"b{number}_{j}"]
                out = ACT[layer.get("activation", "sigmoid")](z)
                if "scale" in layer:
                    out *= params[f"c{number}_{j}"]
                nxt.append(out)
            a = nxt
        t = example["target"]
        loss = spec.get("loss", "sse")
        if loss == "sse":
            c = sum((ak - tk) ** 2 for ak, tk in zip(a, t))
        elif loss == "half-sse":
            c = 0.5 * sum((ak - tk) ** 2 for ak, tk in zip(a, t))
        elif loss == "mse":
            c = sum((ak - tk) ** 2 for ak, tk in zip(a, t)) / len(a)
        elif loss == "bce":
            c = -sum(tk * math.log(ak) + (1 - tk) * math.log(1 - ak) for ak, tk in zip(a, t))
        else:
            log_total = math.log(sum(math.exp(v) for v in a))
            c = -sum(tk * (ak - log_total) for ak, tk in zip(a, t))
        total += c
    return total / len(spec["examples"]) if spec.get("reduction") == "mean" else total


def spec_params(spec: dict) -> dict[str, float]:
    params = {}
    for number, layer in enumerate(spec["layers"], 1):
        for j, row in enumerate(layer["weights"]):
            for i, w in enumerate(row):
                params[f"w{number}_{j}_{i}"] = w
            params[f"b{number}_{j}"] = layer.get("bias", [0.0] * len(layer["weights"]))[j]
            if "scale" in layer:
                params[f"c{number}_{j}"] = layer["scale"][j]
    return params


def sympy_gradients(spec: dict, only: tuple[str, ...] = ()) -> tuple[float, dict[str, float]]:
    """L and dL/dparameter by SymPy: the network as one symbolic formula, differentiated.

    For speed, each derivative is taken with only its own parameter left symbolic (the
    others are numbers already), which gives the same value as the full symbolic derivative.
    """
    import sympy as sp

    values = spec_params(spec)
    gradients = {}
    loss = 0.0
    for name, value in values.items():
        if only and name not in only:
            continue
        symbol = sp.Symbol(name, real=True)
        total = sympy_loss(spec, {other: symbol if other == name else sp.Float(v) for other, v in values.items()})
        gradients[name] = float(sp.diff(total, symbol).evalf(subs={symbol: value}))
        loss = float(total.evalf(subs={symbol: value}))
    return loss, gradients


def sympy_loss(spec: dict, params: dict):
    import sympy as sp

    act = {
        "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
        "tanh": sp.tanh,
        "relu": lambda z: sp.Max(0, z),
        "identity": lambda z: z,
    }
    total = 0
    for example in spec["examples"]:
        a = [sp.Float(v) for v in example["input"]]
        for number, layer in enumerate(spec["layers"], 1):
            nxt = []
            for j, row in enumerate(layer["weights"]):
                z = sum(params[f"w{number}_{j}_{i}"] * a[i] for i in range(len(row))) + params[f"b{number}_{j}"]
                out = act[layer.get("activation", "sigmoid")](z)
                if "scale" in layer:
                    out = params[f"c{number}_{j}"] * out
                nxt.append(out)
            a = nxt
        t = [sp.Float(v) for v in example["target"]]
        loss = spec.get("loss", "sse")
        if loss in ("sse", "half-sse", "mse"):
            c = sum((ak - tk) ** 2 for ak, tk in zip(a, t))
            c = c / 2 if loss == "half-sse" else c / len(a) if loss == "mse" else c
        elif loss == "bce":
            c = -sum(tk * sp.log(ak) + (1 - tk) * sp.log(1 - ak) for ak, tk in zip(a, t))
        else:  # softmax cross-entropy, the textbook way: -sum t log p
            norm = sum(sp.exp(v) for v in a)
            c = -sum(tk * sp.log(sp.exp(ak) / norm) for ak, tk in zip(a, t))
        total += c
    if spec.get("reduction") == "mean":
        total = total / len(spec["examples"])
    return total


def expanded_expression(spec: dict) -> str:
    """The whole loss as ONE expression (no statements): examples inlined, written out by hand."""

    def act(name: str, z: str) -> str:
        return z if name == "identity" else f"{name}({z})"

    costs = []
    for example in spec["examples"]:
        a = [repr(v) for v in example["input"]]
        for number, layer in enumerate(spec["layers"], 1):
            nxt = []
            for j, row in enumerate(layer["weights"]):
                z = " + ".join(f"w{number}_{j}_{i}*({a[i]})" for i in range(len(row))) + f" + b{number}_{j}"
                out = act(layer.get("activation", "sigmoid"), f"({z})")
                nxt.append(f"c{number}_{j}*{out}" if "scale" in layer else out)
            a = nxt
        t = [repr(v) for v in example["target"]]
        loss = spec.get("loss", "sse")
        squares = " + ".join(f"(({ak}) - {tk})^2" for ak, tk in zip(a, t))
        if loss == "sse":
            costs.append(f"({squares})")
        elif loss == "half-sse":
            costs.append(f"({squares})/2")
        elif loss == "mse":
            costs.append(f"({squares})/{len(a)}")
        elif loss == "bce":
            costs.append("-(" + " + ".join(f"{tk}*log({ak}) + (1 - {tk})*log(1 - ({ak}))" for ak, tk in zip(a, t)) + ")")
        else:
            norm = " + ".join(f"exp({ak})" for ak in a)
            costs.append("-(" + " + ".join(f"{tk}*log(exp({ak})/({norm}))" for ak, tk in zip(a, t)) + ")")
    total = " + ".join(costs)
    return f"({total})/{len(spec['examples'])}" if spec.get("reduction") == "mean" else total


def small_spec(shape, activation="sigmoid", loss="sse", reduction="sum", examples=2, seed=1, scale=False) -> dict:
    """A random spec written here (not by random_spec), biases and scales included."""
    rng = random.Random(seed)
    layers = []
    for n_in, n_out in zip(shape, shape[1:]):
        layer = {
            "weights": [[rng.uniform(-1, 1) for _ in range(n_in)] for _ in range(n_out)],
            "bias": [rng.uniform(-1, 1) for _ in range(n_out)],
            "activation": activation,
        }
        if scale:
            layer["scale"] = [rng.uniform(0.5, 1.5) for _ in range(n_out)]
        layers.append(layer)
    if loss == "bce":
        layers[-1]["activation"] = "sigmoid"
        layers[-1].pop("scale", None)
    if loss == "cross-entropy":
        layers[-1]["activation"] = "identity"
    cases = []
    for _ in range(examples):
        target = [float(rng.randint(0, 1)) for _ in range(shape[-1])]
        if loss == "cross-entropy":
            target = [0.0] * shape[-1]
            target[rng.randrange(shape[-1])] = 1.0
        cases.append({"input": [rng.uniform(-1, 1) for _ in range(shape[0])], "target": target})
    return {"layers": layers, "examples": cases, "loss": loss, "reduction": reduction}


# --------------------------------------------------------------------------- MISSION.md's examples


def test_node_seven_output_gradient_is_minus_six():
    # x = c * sigmoid(w*1 + b) with c = 14, w = b = 0: x = 14 * 0.5 = 7; (x - t)^2 with t = 10
    result = Network(load_spec(str(EXAMPLES / "node7.json"))).evaluate()
    out = result.examples[0].layers[0]
    assert out.a == [7.0]
    assert result.loss == 9.0  # (7 - 10)^2
    assert out.upstream == [-6.0]  # dloss/dx = 2 (7 - 10)
    # back through the node: gain c * s(1 - s) = 14 * 0.25 = 3.5
    assert out.gain == [3.5]
    assert out.delta == [-21.0]
    assert result.bias_grad == [[-21.0]]
    assert result.weights_grad == [[[-21.0]]]  # input 1 feeding w, times delta
    assert result.scale_grad == [[-3.0]]  # sigmoid(0) * dloss/dx = 0.5 * -6


def test_two_layer_sigmoid_network_by_the_textbook_equations():
    # a2 = c * sigmoid(W1 sigmoid(W x + b) + b1), loss (a2 - t)^2, written out by hand
    x, t = [1.0, 0.5], 1.0
    w, b = [[0.1, -0.2], [0.3, 0.4]], [0.0, 0.1]
    w1, b1 = [0.5, -0.6], 0.2
    z = [w[j][0] * x[0] + w[j][1] * x[1] + b[j] for j in range(2)]
    a = [sigmoid(v) for v in z]
    z1 = w1[0] * a[0] + w1[1] * a[1] + b1
    a1 = sigmoid(z1)
    delta1 = 2 * (a1 - t) * a1 * (1 - a1)
    delta = [w1[j] * delta1 * a[j] * (1 - a[j]) for j in range(2)]

    result = Network(spec_from_dict(ISSUE_SPEC)).evaluate()
    first, second = result.examples[0].layers
    assert close(result.loss, (a1 - t) ** 2)
    assert all(close(p, q) for p, q in zip(first.z, z))
    assert all(close(p, q) for p, q in zip(first.a, a))
    assert close(second.z[0], z1) and close(second.a[0], a1)
    assert close(second.delta[0], delta1)
    assert all(close(p, q) for p, q in zip(first.delta, delta))
    for j in range(2):
        for i in range(2):
            assert close(result.weights_grad[0][j][i], x[i] * delta[j])
        assert close(result.weights_grad[1][0][j], a[j] * delta1)
        assert close(result.bias_grad[0][j], delta[j])
    assert close(result.bias_grad[1][0], delta1)
    assert close(result.scale_grad[1][0], a1 * 2 * (a1 - t))  # dC/dc = sigmoid(z1) * dC/da, c = 1


def test_sigmoid_neuron_of_the_course_notes():
    # f = sigmoid(w0 x0 + w1 x1 + w2), w = [2, -3, -3], x = [-1, -2]: f ~ 0.7311, local gradient ~ 0.1966.
    # With half-sse and target 0, dC/df = f, so dC/dw = f * [-0.1966, -0.3932] and dC/db = f * 0.1966.
    spec = {
        "layers": [{"weights": [[2, -3]], "bias": [-3]}],
        "examples": [{"input": [-1, -2], "target": [0]}],
        "loss": "half-sse",
    }
    result = Network(spec_from_dict(spec)).evaluate()
    out = result.examples[0].layers[0]
    f = out.a[0]
    assert abs(f - 0.7311) < 1e-4
    assert abs(out.gain[0] - 0.1966) < 1e-4
    assert abs(result.weights_grad[0][0][0] / f - (-0.1966)) < 1e-4
    assert abs(result.weights_grad[0][0][1] / f - (-0.3932)) < 1e-4
    assert abs(result.bias_grad[0][0] / f - 0.1966) < 1e-4


# --------------------------------------------------------------------------- against SymPy, the engine and finite differences


def all_gradients(result) -> dict[str, float]:
    grads = {}
    for number, layer in enumerate(result.spec.layers, 1):
        for j in range(layer.outputs):
            for i in range(layer.inputs):
                grads[f"w{number}_{j}_{i}"] = result.weights_grad[number - 1][j][i]
            grads[f"b{number}_{j}"] = result.bias_grad[number - 1][j]
            if layer.scale is not None:
                grads[f"c{number}_{j}"] = result.scale_grad[number - 1][j]
    return grads


CASES = [
    {"loss": "sse"},
    {"loss": "half-sse", "reduction": "mean"},
    {"loss": "mse", "scale": True},
    {"loss": "bce"},
    {"loss": "cross-entropy", "reduction": "mean"},
    {"activation": "tanh", "scale": True},
    {"activation": "relu", "loss": "mse"},
    {"activation": "identity", "loss": "half-sse", "scale": True},
]


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(str(v) for v in o.values()))
def test_matches_sympy(options):
    spec = small_spec([2, 2, 2], examples=1, **options)
    result = Network(spec_from_dict(spec)).evaluate()
    loss, reference = sympy_gradients(spec)
    assert close(result.loss, loss)
    mine = all_gradients(result)
    assert set(mine) == set(reference)
    for name, value in reference.items():
        assert close(mine[name], value), name


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(str(v) for v in o.values()))
def test_matches_the_engine_on_the_expanded_expression(options):
    spec = small_spec([3, 2, 2], examples=3, seed=7, **options)
    result = Network(spec_from_dict(spec)).evaluate()
    whole = grad(expanded_expression(spec), spec_params(spec))
    assert close(result.loss, whole.value)
    for name, value in all_gradients(result).items():
        assert close(value, whole.gradients[name]), name


def test_matches_central_finite_differences():
    spec = small_spec([3, 4, 2], activation="tanh", loss="half-sse", examples=3, seed=3, scale=True)
    params = spec_params(spec)
    result = Network(spec_from_dict(spec)).evaluate()
    h = 1e-6
    for name, value in all_gradients(result).items():
        up = plain_loss(spec, {**params, name: params[name] + h})
        down = plain_loss(spec, {**params, name: params[name] - h})
        assert abs(value - (up - down) / (2 * h)) < 1e-6, name
    assert close(result.loss, plain_loss(spec, params))


def test_the_three_situations_hold_neuron_by_neuron():
    spec = spec_from_dict(small_spec([3, 4, 3, 2], activation="sigmoid", examples=2, seed=5, scale=True))
    result = Network(spec).evaluate()
    for n, example in enumerate(result.examples):
        for index, (layer, record) in enumerate(zip(spec.layers, example.layers)):
            for j in range(layer.outputs):
                # the delta is the upstream gradient through the node's gain
                assert close(record.delta[j], record.upstream[j] * record.gain[j])
                # c * s(1 - s) from the node's own output
                s = record.act[j]
                assert close(record.gain[j], layer.scale[j] * s * (1 - s))
                # the node's own parameters
                assert record.bias_grad[j] == record.delta[j]
                assert close(record.scale_grad[j], s * record.upstream[j])
                for i in range(layer.inputs):
                    assert close(record.weights_grad[j][i], record.a_prev[i] * record.delta[j])
                # an inner node: the paths to the nodes it feeds add up
                if index + 1 < len(spec.layers):
                    feeds = result.feeds(n, index, j)
                    nxt = spec.layers[index + 1]
                    assert len(feeds) == nxt.outputs
                    assert close(
                        record.upstream[j],
                        sum(nxt.weights[k][j] * example.layers[index + 1].delta[k] for k in range(nxt.outputs)),
                    )


def test_cross_entropy_is_stable_for_large_logits():
    # softmax([1000, 0]) = [1, e^-1000]; target class 1: C = -log p_1 = 1000; dC/da = p - t = [1, -1]
    spec = {
        "layers": [{"weights": [[1000.0], [0.0]], "bias": [0.0, 0.0], "activation": "identity"}],
        "examples": [{"input": [1.0], "target": [0.0, 1.0]}],
        "loss": "cross-entropy",
    }
    result = Network(spec_from_dict(spec)).evaluate()
    assert close(result.loss, 1000.0)
    assert result.examples[0].layers[0].upstream == [1.0, -1.0]
    assert result.examples[0].probabilities[1] == pytest.approx(math.exp(-1000), abs=1e-300)


def test_relu_at_zero_uses_the_documented_convention():
    spec = {
        "layers": [{"weights": [[1.0]], "bias": [0.0], "activation": "relu"}],
        "examples": [{"input": [0.0], "target": [1.0]}],
    }
    result = Network(spec_from_dict(spec)).evaluate()
    assert result.bias_grad == [[0.0]]
    assert any("relu'(0) = 0" in note for note in result.notes)


def test_mean_reduction_divides_the_sum():
    summed = small_spec([2, 3, 1], examples=4, seed=11)
    mean = {**summed, "reduction": "mean"}
    a = Network(spec_from_dict(summed)).evaluate()
    b = Network(spec_from_dict(mean)).evaluate()
    assert close(b.loss, a.loss / 4)
    assert close(b.weights_grad[0][1][0], a.weights_grad[0][1][0] / 4)


# --------------------------------------------------------------------------- training


def test_training_steps_follow_the_update_rule(cli):
    result = cli("net", str(EXAMPLES / "xor.json"), "--train", "--lr", "2", "--steps", "5", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    spec = json.loads((EXAMPLES / "xor.json").read_text())
    steps = doc["steps"]
    assert [s["step"] for s in steps] == [0, 1, 2, 3, 4]
    assert steps[0]["params"] == spec_params(spec)
    for before, after in zip(steps, steps[1:] + [doc["final"]]):
        for name, value in before["params"].items():
            assert close(after["params"][name], value - 2 * before["gradients"][name])
    for step in steps + [doc["final"]]:
        assert close(step["loss"], plain_loss(spec, step["params"]))
    assert close(steps[0]["gradients"]["w1_0_0"], sympy_gradients(spec, only=("w1_0_0",))[1]["w1_0_0"])


def test_training_with_a_negative_learning_rate_warns_and_zero_is_refused(cli, tmp_path):
    # node 7 with lr -0.1: one step moves every parameter *up* its gradient, so L grows from 9
    spec_path = str(EXAMPLES / "node7.json")
    ascent = cli("net", spec_path, "--train", "--lr", "-0.1", "--steps", "1", "--json")
    assert ascent.exit_code == 0
    assert ascent.stderr.startswith("warning: --lr -0.1 is negative") and ascent.stderr.count("\n") == 1
    doc = json.loads(ascent.stdout)
    assert doc["steps"][0]["loss"] == 9.0 and doc["final"]["loss"] > 9.0
    saved = tmp_path / "never.json"
    zero = cli("net", spec_path, "--train", "--lr", "0", "--save", str(saved))
    assert zero.exit_code == 2 and zero.stderr.startswith("error: --lr must not be 0")
    assert zero.stdout == "" and not saved.exists()


def test_table_titles_are_whole_lines_above_narrow_tables(cli):
    # a 1-1 network has narrow tables: a Rich table title would wrap at the table's width
    result = cli("net", "--shape", "1,1", "--examples", "2", "--train", "--steps", "2", "--no-plot")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Gradient descent, learning rate 0.5" in lines
    assert "Outputs before and after training" in lines
    node = cli("net", str(EXAMPLES / "node7.json"), "--digits", "1").stdout.splitlines()
    assert "Layer 1 (sigmoid, scaled by c)" in node
    assert "Layer 1 weights: dC/dw = a_prev x delta" in node


def test_training_learns_xor_and_saves_the_trained_spec(cli, tmp_path):
    saved = tmp_path / "trained.json"
    result = cli(
        "net", str(EXAMPLES / "xor.json"), "--train", "--lr", "2", "--steps", "800", "--save", str(saved), "--no-plot"
    )
    assert result.exit_code == 0, result.stderr
    assert "Outputs before and after training" in result.stdout
    trained = json.loads(saved.read_text())
    params = spec_params(trained)
    assert plain_loss(trained, params) < 0.02  # started at 0.5: the four XOR cases are learned
    assert trained["examples"] == json.loads((EXAMPLES / "xor.json").read_text())["examples"]
    again = cli("net", str(saved), "--json")
    assert close(json.loads(again.stdout)["loss"], plain_loss(trained, params))


def test_training_prints_the_loss_curve(cli):
    result = cli("net", str(EXAMPLES / "two_layer.json"), "--train", "--steps", "30")
    assert result.exit_code == 0
    assert "loss L by step" in result.stdout
    assert result.stdout.isascii()  # piped: the plot is ASCII like the tables
    assert "|gradient|" in result.stdout
    assert "Final (after 30 steps): L = " in result.stdout


def test_training_that_diverges_stops_with_a_message(cli, tmp_path):
    spec = {
        "layers": [{"weights": [[1.0]], "bias": [0.0], "activation": "identity"}],
        "examples": [{"input": [10.0], "target": [1.0]}],
    }
    path = tmp_path / "steep.json"
    path.write_text(json.dumps(spec))
    saved = tmp_path / "never.json"
    result = cli("net", str(path), "--train", "--lr", "1", "--steps", "1000", "--json", "--save", str(saved))
    assert result.exit_code == 1
    assert "stopped at step" in result.stderr and "--lr" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["diverged"]["step"] == len(doc["steps"])
    assert doc["final"]["loss"] == doc["steps"][-1]["loss"]
    assert not saved.exists()


# --------------------------------------------------------------------------- the CLI


def test_cli_tables_show_the_node_seven_numbers(cli):
    result = cli("net", str(EXAMPLES / "node7.json"), "--explain")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Loss L = 9" in out
    assert "dC/da = 2 (a - t) = 2 × (7 - 10) = -6" in out
    assert "-6 × 3.5 = -21" in out
    assert "dC/dc1_0 = sigmoid(z) × dC/da = 0.5 × (-6) = -3" in out
    assert "no inner node" in out


def test_cli_explain_sums_the_paths_of_an_inner_node(cli):
    result = cli("net", str(EXAMPLES / "two_layer.json"), "--explain")
    assert result.exit_code == 0
    # dC/da1_0 = w2_0_0 * delta2_0 with delta2_0 = 2 (a2 - 1) a2 (1 - a2)
    a = [sigmoid(0.0), sigmoid(0.6)]
    a2 = sigmoid(0.5 * a[0] - 0.6 * a[1] + 0.2)
    delta2 = 2 * (a2 - 1) * a2 * (1 - a2)
    assert "dC/da = w2_0_0 × delta2_0" in result.stdout
    assert f"= 0.5 × ({delta2:.5g}) = {0.5 * delta2:.5g}." in result.stdout


def test_cli_json_single_example(cli):
    result = cli("net", str(EXAMPLES / "two_layer.json"), "--json")
    doc = json.loads(result.stdout)
    assert set(doc) == {"loss", "outputs", "layers"}
    assert [set(layer) for layer in doc["layers"]] == [{"z", "a", "delta", "weights_grad", "bias_grad", "scale_grad"}] * 2
    assert doc["layers"][0]["scale_grad"] is None
    assert len(doc["layers"][1]["scale_grad"]) == 1
    loss, reference = sympy_gradients(ISSUE_SPEC, only=("w1_1_0",))
    assert close(doc["loss"], loss)
    assert close(doc["layers"][0]["weights_grad"][1][0], reference["w1_1_0"])
    assert doc["outputs"] == doc["layers"][1]["a"]


def test_cli_json_several_examples(cli):
    result = cli("net", str(EXAMPLES / "softmax.json"), "--json")
    doc = json.loads(result.stdout)
    assert set(doc) == {"loss", "outputs", "layers", "examples"}
    assert set(doc["layers"][0]) == {"weights_grad", "bias_grad", "scale_grad"}
    assert len(doc["examples"]) == 3
    assert set(doc["examples"][0]["layers"][0]) == {"z", "a", "delta"}
    spec = json.loads((EXAMPLES / "softmax.json").read_text())
    loss, reference = sympy_gradients(spec, only=("b2_2", "w1_1_0"))
    assert close(doc["loss"], loss)
    assert close(doc["layers"][1]["bias_grad"][2], reference["b2_2"])
    assert close(doc["layers"][0]["weights_grad"][1][0], reference["w1_1_0"])
    assert doc["outputs"][1] == doc["examples"][1]["outputs"]


def test_toml_and_json_specs_give_the_same_network():
    assert load_spec(str(EXAMPLES / "xor.toml")) == load_spec(str(EXAMPLES / "xor.json"))


def test_written_specs_read_back(tmp_path):
    spec = spec_from_dict(small_spec([2, 3, 2], scale=True, loss="mse"))
    for name in ("spec.json", "spec.toml"):
        write_spec(spec, str(tmp_path / name))
        assert load_spec(str(tmp_path / name)) == spec
    assert spec_toml(spec).startswith('loss = "mse"')


def test_random_spec_is_reproducible_and_has_the_shape(cli, tmp_path):
    first = random_spec([2, 3, 1], seed=4)
    assert first == random_spec([2, 3, 1], seed=4)
    assert first != random_spec([2, 3, 1], seed=5)
    assert first.shape == [2, 3, 1] and len(first.examples) == 4
    path = tmp_path / "random.json"
    result = cli("net", "--shape", "2,3,1", "--seed", "4", "--save", str(path))
    assert result.exit_code == 0, result.stderr
    assert load_spec(str(path)) == first
    assert "Network 2-3-1" in result.stdout


def test_random_spec_for_cross_entropy_uses_logits_and_one_hot_targets():
    spec = random_spec([3, 4, 3], seed=2, loss="cross-entropy", examples=5)
    assert spec.layers[-1].activation == "identity"
    assert all(sorted(e.target) == [0.0, 0.0, 1.0] for e in spec.examples)


def test_loss_override(cli):
    result = cli("net", str(EXAMPLES / "two_layer.json"), "--loss", "half-sse", "--json")
    spec = {**ISSUE_SPEC, "loss": "half-sse"}
    assert close(json.loads(result.stdout)["loss"], sympy_gradients(spec, only=("b1_0",))[0])


def test_program_option_prints_the_staged_program(cli):
    result = cli("net", str(EXAMPLES / "two_layer.json"), "--program")
    assert "z1_0 = w1_0_0*x_0 + w1_0_1*x_1 + b1_0" in result.stdout
    assert "a2_0 = c2_0*g2_0" in result.stdout
    assert "C = (a2_0 - t_0)**2" in result.stdout


def test_the_graph_is_built_once_for_training(monkeypatch, cli):
    import backprop_cli.api as api

    calls = []
    original = api.build
    monkeypatch.setattr(api, "build", lambda text: calls.append(text) or original(text))
    Network(spec_from_dict(small_spec([2, 2, 1], examples=3))).train(0.1, 20)
    assert len(calls) == 1
    result = cli("net", str(EXAMPLES / "xor.json"), "--train", "--steps", "20", "--no-plot")
    assert result.exit_code == 0
    assert len(calls) == 2  # one more for the whole command, not one per step


BAD_SPECS = [
    ({"layers": [], "examples": []}, "'layers' must be a non-empty list"),
    ({**ISSUE_SPEC, "lyers": 1}, "unknown key 'lyers'"),
    (
        {**ISSUE_SPEC, "layers": [ISSUE_SPEC["layers"][0], {**ISSUE_SPEC["layers"][1], "weights": [[0.5, -0.6, 1.0]]}]},
        "layers[1].weights[0] has 3 weights, expected 2 (the previous layer has 2 outputs)",
    ),
    ({**ISSUE_SPEC, "examples": [{"input": [1.0], "target": [1.0]}]}, "examples[0].input has 1 numbers, expected 2"),
    ({**ISSUE_SPEC, "examples": [{"input": [1.0, True], "target": [1.0]}]}, "examples[0].input[1] must be a number"),
    ({**ISSUE_SPEC, "loss": "hinge"}, "loss must be one of sse, mse, half-sse, bce, cross-entropy"),
    ({**ISSUE_SPEC, "layers": [{**ISSUE_SPEC["layers"][0], "activation": "softplus"}]}, "activation must be one of"),
    ({**ISSUE_SPEC, "layers": [{"weights": [0.1, 0.2]}]}, "weights must be a list of rows"),
    ({**ISSUE_SPEC, "loss": "cross-entropy"}, "cross-entropy (softmax) needs at least 2 outputs"),
    (
        {**ISSUE_SPEC, "loss": "bce", "layers": [{"weights": [[1.0, 1.0]], "activation": "relu"}]},
        "loss bce needs outputs between 0 and 1",
    ),
]


@pytest.mark.parametrize("spec, message", BAD_SPECS)
def test_bad_specs_are_reported_with_their_place(cli, tmp_path, spec, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    result = cli("net", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unreadable_and_malformed_files(cli, tmp_path):
    missing = cli("net", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "cannot read spec" in missing.stderr
    (tmp_path / "nan.json").write_text('{"layers": [{"weights": [[NaN]]}], "examples": []}')
    nan = cli("net", str(tmp_path / "nan.json"))
    assert nan.exit_code == 2 and "not valid JSON" in nan.stderr and "NaN" in nan.stderr
    (tmp_path / "bad.toml").write_text("layers = [")
    toml = cli("net", str(tmp_path / "bad.toml"))
    assert toml.exit_code == 2 and "not valid TOML" in toml.stderr


def test_option_conflicts(cli):
    neither = cli("net")
    assert neither.exit_code == 2 and "give a SPEC file or --shape" in neither.stderr
    both = cli("net", str(EXAMPLES / "xor.json"), "--shape", "2,1")
    assert both.exit_code == 2
    seed = cli("net", str(EXAMPLES / "xor.json"), "--seed", "3")
    assert seed.exit_code == 2 and "use them with --shape" in seed.stderr
    shape = cli("net", "--shape", "2")
    assert shape.exit_code == 2 and "--shape '2'" in shape.stderr


@pytest.mark.parametrize(
    "options, named",
    [
        (["--lr", "2", "--steps", "5"], "--lr, --steps"),
        (["--every", "10"], "--every"),
        (["--plot", "loss.svg", "--no-plot"], "--plot, --no-plot"),
    ],
)
def test_training_options_without_train_are_an_error(cli, options, named):
    result = cli("net", str(EXAMPLES / "xor.json"), *options)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: {named} only take effect with --train: add --train to train the network, or leave them out\n"
    )


@pytest.mark.parametrize("option", ["--train", "--json"])
def test_explain_with_train_or_json_is_an_error(cli, option):
    result = cli("net", str(EXAMPLES / "xor.json"), "--explain", option)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: --explain narrates one forward and backward pass in the tables; it does not go with {option}\n"
    )


def test_saturated_bce_names_the_example(cli, tmp_path):
    spec = {
        "layers": [{"weights": [[100.0]], "bias": [0.0], "activation": "sigmoid"}],
        "examples": [{"input": [0.0], "target": [1.0]}, {"input": [1.0], "target": [0.0]}],
        "loss": "bce",
    }
    path = tmp_path / "saturated.json"
    path.write_text(json.dumps(spec))
    result = cli("net", str(path))
    assert result.exit_code == 2
    assert "example 2" in result.stderr and "rounds to exactly 0 or 1" in result.stderr


def test_library_errors_are_input_errors():
    with pytest.raises(InputError, match="unknown key"):
        spec_from_dict({**ISSUE_SPEC, "extra": 1})


def test_docs_sh_examples_run(tmp_path):
    """Every ```sh block of docs/networks.md, run in a scratch copy of examples/."""
    text = (ROOT / "docs" / "networks.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 4
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    env = {**os.environ, "NO_COLOR": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for block in blocks:
        for line in block.strip().splitlines():
            assert line.startswith("backprop "), line
            done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{line}\n{done.stderr}"
            assert done.stdout
    for written in ("loss.svg", "trained.json", "xor.svg", "random.json"):
        assert (tmp_path / written).exists(), written


def test_real_entry_point(run_backprop, tmp_path):
    shutil.copy(EXAMPLES / "node7.json", tmp_path / "node7.json")
    done = run_backprop("net", str(tmp_path / "node7.json"), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["loss"] == 9.0 and doc["layers"][0]["delta"] == [-21.0]
    bad = run_backprop("net", str(tmp_path / "missing.json"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: cannot read spec")


@pytest.mark.parametrize("command", ["descend", "net"])
def test_help_examples_run(cli, tmp_path, monkeypatch, command):
    from backprop_cli import cli_net

    doc = getattr(cli_net, command).__doc__
    lines = doc.split("Examples:")[1].strip().split("\n\n")[0].splitlines()
    assert len(lines) >= 3
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for line in lines:
        words = shlex.split(line.strip())
        assert words[:2] == ["backprop", command]
        result = cli(*words[1:], "--no-plot") if "--train" in words or command == "descend" else cli(*words[1:])
        assert result.exit_code == 0, f"{line}\n{result.stderr}"


def test_bce_refuses_a_scaled_output_and_targets_outside_0_1(cli, tmp_path):
    # node7 has c = 14: its output a = 14 * sigmoid(z) = 7 is no probability
    result = cli("net", str(EXAMPLES / "node7.json"), "--loss", "bce")
    assert result.exit_code == 2 and result.stderr == (
        "error: --loss: loss bce needs outputs between 0 and 1, but the last layer's scale c = 14.0 takes "
        "c * sigmoid outside them: drop the scale or use sse\n"
    )
    spec = tmp_path / "target2.json"
    spec.write_text(json.dumps({
        "layers": [{"weights": [[1.0]], "bias": [0.0], "activation": "sigmoid"}],
        "examples": [{"input": [1.0], "target": [2.0]}], "loss": "bce",
    }))
    result = cli("net", str(spec))
    assert result.exit_code == 2
    assert result.stderr == f"error: {spec}: example 1: loss bce needs targets between 0 and 1 (probabilities), got 2.0\n"
