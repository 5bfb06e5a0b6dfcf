"""Small fully connected networks, computed by the engine: a network is a graph.

A spec (JSON or TOML) lists the layers, the training examples and the loss. It is turned
once into a staged program whose statements read like the course notes::

    z1_0 = w1_0_0*x_0 + w1_0_1*x_1 + b1_0
    a1_0 = sigmoid(z1_0)
    ...
    z2_0 = w2_0_0*a1_0 + w2_0_1*a1_1 + b2_0
    g2_0 = sigmoid(z2_0)
    a2_0 = c2_0*g2_0                       # only when the layer has a per-neuron scale c
    C = (a2_0 - t_0)**2

Layers count from 1, neurons and inputs from 0: ``w2_0_1`` is the weight from input 1 of
layer 2 into its neuron 0. The program is parsed and built into a Graph once; the cost C of
one example is then a forward and a backward pass of that graph with the example's inputs
``x_i`` and targets ``t_k`` filled in, and the loss over all examples is
L = sum of C^n (or their mean), exactly as the lecture notes write it. So every number
shown (z, a, dC/da, the delta dC/dz, dC/dw, dC/db, dC/dc) is read off the engine's own
forward values and gradients.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .descend import Descent, gradient_descent
from .errors import BackpropError, DomainError, InputError, LimitError
from .graph import Graph
from .i18n import _

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
LOSSES = ("sse", "mse", "half-sse", "bce", "cross-entropy")
REDUCTIONS = ("sum", "mean")

#: Largest network accepted, in weights (the graph has about three nodes per weight).
MAX_WEIGHTS = 100_000
#: Most examples in one spec.
MAX_EXAMPLES = 10_000

#: dC/da of one output a with target t, per loss (K outputs, p = softmax, S = sum of targets).
LOSS_SLOPES = {
    "sse": "2 (a - t)",
    "half-sse": "a - t",
    "mse": "2 (a - t) / K",
    "bce": "(a - t) / (a (1 - a))",
    "cross-entropy": "p S - t",
}


@dataclass
class Layer:
    """One fully connected layer: weights are [outputs][inputs]."""

    weights: list[list[float]]
    bias: list[float]
    activation: str = "sigmoid"
    #: per-neuron factor c (the node computes c * act(w.x + b)), or None
    scale: list[float] | None = None

    @property
    def outputs(self) -> int:
        return len(self.weights)

    @property
    def inputs(self) -> int:
        return len(self.weights[0])

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"weights": self.weights, "bias": self.bias, "activation": self.activation}
        if self.scale is not None:
            record["scale"] = self.scale
        return record


@dataclass
class Example:
    input: list[float]
    target: list[float]


@dataclass
class NetSpec:
    """A network with its examples and loss: what a spec file holds."""

    layers: list[Layer]
    examples: list[Example]
    loss: str = "sse"
    reduction: str = "sum"

    @property
    def shape(self) -> list[int]:
        return [self.layers[0].inputs] + [layer.outputs for layer in self.layers]

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [layer.to_dict() for layer in self.layers],
            "examples": [{"input": e.input, "target": e.target} for e in self.examples],
            "loss": self.loss,
            "reduction": self.reduction,
        }

    def parameters(self) -> dict[str, float]:
        """Every weight, bias and scale by its name in the program (w1_0_0, b1_0, c1_0)."""
        params: dict[str, float] = {}
        for number, layer in enumerate(self.layers, 1):
            for j, row in enumerate(layer.weights):
                for i, weight in enumerate(row):
                    params[f"w{number}_{j}_{i}"] = weight
            for j, bias in enumerate(layer.bias):
                params[f"b{number}_{j}"] = bias
            if layer.scale is not None:
                for j, scale in enumerate(layer.scale):
                    params[f"c{number}_{j}"] = scale
        return params

    def with_parameters(self, params: dict[str, float]) -> NetSpec:
        """The same network and examples with new parameter values (after training)."""
        layers = []
        for number, layer in enumerate(self.layers, 1):
            weights = [[params[f"w{number}_{j}_{i}"] for i in range(layer.inputs)] for j in range(layer.outputs)]
            bias = [params[f"b{number}_{j}"] for j in range(layer.outputs)]
            scale = None if layer.scale is None else [params[f"c{number}_{j}"] for j in range(layer.outputs)]
            layers.append(Layer(weights, bias, layer.activation, scale))
        return NetSpec(layers, self.examples, self.loss, self.reduction)


# --------------------------------------------------------------------------- reading specs


def load_spec(path: str) -> NetSpec:
    """Read a spec from a JSON file, or a TOML file (``.toml``, Python 3.11+)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise InputError(_("cannot read spec {path!r}: {reason}").format(path=path, reason=error.strerror)) from None
    if path.endswith(".toml"):
        try:
            import tomllib
        except ImportError:  # pragma: no cover - Python 3.10
            raise InputError(_("TOML specs need Python 3.11 or newer (tomllib); write the spec as JSON")) from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise InputError(_("{path!r} is not valid TOML ({reason})").format(path=path, reason=error)) from None
    else:
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as error:
            raise InputError(_("{path!r} is not valid JSON ({reason})").format(path=path, reason=error)) from None
    return spec_from_dict(data, path)


def _reject_constant(name: str) -> float:
    raise ValueError(_("{name} is not a number a network can use").format(name=name))


def spec_from_dict(data: Any, where: str = "spec") -> NetSpec:
    """Check a spec (as loaded from JSON or TOML) and build the NetSpec; errors name the place."""
    if not isinstance(data, dict):
        raise InputError(_("{where}: expected an object with layers, examples, loss and reduction").format(where=where))
    _known_keys(data, ("layers", "examples", "loss", "reduction"), where)
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise InputError(_("{where}: 'layers' must be a non-empty list of layers").format(where=where))
    layers: list[Layer] = []
    inputs = None
    for index, raw in enumerate(raw_layers):
        layer = _layer(raw, f"{where}: layers[{index}]", inputs)
        inputs = layer.outputs
        layers.append(layer)
    total = sum(layer.outputs * layer.inputs for layer in layers)
    if total > MAX_WEIGHTS:
        raise LimitError(
            _("{where}: the network has {count:,} weights (limit {limit:,})").format(
                where=where, count=total, limit=MAX_WEIGHTS
            )
        )
    loss = _choice(data.get("loss", "sse"), LOSSES, f"{where}: loss")
    reduction = _choice(data.get("reduction", "sum"), REDUCTIONS, f"{where}: reduction")
    raw_examples = data.get("examples")
    if not isinstance(raw_examples, list) or not raw_examples:
        raise InputError(
            _('{where}: \'examples\' must be a non-empty list of {{"input": [...], "target": [...]}}').format(where=where)
        )
    if len(raw_examples) > MAX_EXAMPLES:
        raise LimitError(
            _("{where}: {count:,} examples (limit {limit:,})").format(
                where=where, count=len(raw_examples), limit=MAX_EXAMPLES
            )
        )
    examples = []
    for index, raw in enumerate(raw_examples):
        place = f"{where}: examples[{index}]"
        if not isinstance(raw, dict):
            raise InputError(_("{place}: expected an object with 'input' and 'target'").format(place=place))
        _known_keys(raw, ("input", "target"), place)
        examples.append(
            Example(
                _numbers(raw.get("input"), f"{place}.input", layers[0].inputs),
                _numbers(raw.get("target"), f"{place}.target", layers[-1].outputs),
            )
        )
    spec = NetSpec(layers, examples, loss, reduction)
    check_loss_fits(spec, where)
    return spec


def with_loss(spec: NetSpec, loss: str | None = None, reduction: str | None = None) -> NetSpec:
    """The spec with its loss and/or reduction replaced (None keeps the spec's own)."""
    if loss is None and reduction is None:
        return spec
    changed = NetSpec(
        spec.layers,
        spec.examples,
        _choice(loss or spec.loss, LOSSES, "--loss"),
        _choice(reduction or spec.reduction, REDUCTIONS, "--reduction"),
    )
    check_loss_fits(changed, "--loss")
    return changed


def check_loss_fits(spec: NetSpec, where: str = "spec") -> None:
    """Refuse losses that cannot work with the output layer (bce without a sigmoid, ...)."""
    last = spec.layers[-1]
    if spec.loss == "bce" and last.activation != "sigmoid":
        raise InputError(
            _("{where}: loss bce needs outputs between 0 and 1: make the last layer sigmoid (it is {activation})").format(
                where=where, activation=last.activation
            )
        )
    if spec.loss == "bce" and last.scale is not None and any(not 0 < c <= 1 for c in last.scale):
        largest = max(last.scale, key=abs)
        raise InputError(
            _("{where}: loss bce needs outputs between 0 and 1, but the last layer's scale c = {scale} takes "
              "c * sigmoid outside them: drop the scale or use sse").format(where=where, scale=largest)
        )
    if spec.loss == "cross-entropy" and last.outputs < 2:
        raise InputError(
            _("{where}: loss cross-entropy (softmax) needs at least 2 outputs; for one output use bce").format(where=where)
        )
    if spec.loss in ("bce", "cross-entropy"):  # targets are probabilities: a cost below 0 means nothing
        for number, example in enumerate(spec.examples, 1):
            outside = [t for t in example.target if not 0 <= t <= 1]
            if outside:
                raise InputError(
                    _("{where}: example {number}: loss {loss} needs targets between 0 and 1 (probabilities), "
                      "got {target}").format(where=where, number=number, loss=spec.loss, target=outside[0])
                )


def _known_keys(data: dict, known: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in known:
            raise InputError(
                _("{where}: unknown key {key!r} (known: {known})").format(where=where, key=key, known=", ".join(known))
            )


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise InputError(
            _("{where} must be one of {allowed}, got {value}").format(
                where=where, allowed=", ".join(allowed), value=json.dumps(value)
            )
        )
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(
            _("{where} must be a number, got {value}").format(where=where, value=json.dumps(value, default=str))
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InputError(_("{where} must be a finite number, got {value}").format(where=where, value=value))
    return number


def _numbers(value: Any, where: str, length: int | None) -> list[float]:
    if not isinstance(value, list) or not value:
        raise InputError(_("{where} must be a non-empty list of numbers").format(where=where))
    if length is not None and len(value) != length:
        raise InputError(
            _("{where} has {count} numbers, expected {length}").format(where=where, count=len(value), length=length)
        )
    return [_number(v, f"{where}[{k}]") for k, v in enumerate(value)]


def _layer(raw: Any, where: str, inputs: int | None) -> Layer:
    if not isinstance(raw, dict):
        raise InputError(_("{where}: expected an object with weights, bias, activation (and scale)").format(where=where))
    _known_keys(raw, ("weights", "bias", "activation", "scale"), where)
    rows = raw.get("weights")
    if not isinstance(rows, list) or not rows or not all(isinstance(row, list) for row in rows):
        raise InputError(
            _(
                "{where}.weights must be a list of rows, one per neuron, each with one weight per input: [[0.1, -0.2]]"
            ).format(where=where)
        )
    width = inputs if inputs is not None else len(rows[0])
    weights = []
    for j, row in enumerate(rows):
        if len(row) != width:
            expected = (
                _("the previous layer has {count} outputs").format(count=width)
                if inputs is not None
                else _("row 0 has {count}").format(count=width)
            )
            raise InputError(
                _("{where}.weights[{row}] has {count} weights, expected {width} ({why})").format(
                    where=where, row=j, count=len(row), width=width, why=expected
                )
            )
        weights.append(_numbers(row, f"{where}.weights[{j}]", width))
    outputs = len(weights)
    bias = _numbers(raw["bias"], f"{where}.bias", outputs) if "bias" in raw else [0.0] * outputs
    activation = _choice(raw.get("activation", "sigmoid"), ACTIVATIONS, f"{where}.activation")
    scale = raw.get("scale")
    if scale is not None:
        scale = _numbers(scale, f"{where}.scale", outputs)
    return Layer(weights, bias, activation, scale)


# --------------------------------------------------------------------------- writing specs


def write_spec(spec: NetSpec, path: str) -> None:
    """Write a spec as JSON, or as TOML when the name ends in ``.toml``."""
    text = spec_toml(spec) if path.endswith(".toml") else json.dumps(spec.to_dict(), indent=2) + "\n"
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(_("cannot write {path!r}: {reason}").format(path=path, reason=error.strerror)) from None


def spec_toml(spec: NetSpec) -> str:
    """The spec as TOML (written by hand: the standard library only reads TOML)."""

    def array(values: list) -> str:
        return "[" + ", ".join(array(v) if isinstance(v, list) else repr(float(v)) for v in values) + "]"

    lines = [f'loss = "{spec.loss}"', f'reduction = "{spec.reduction}"']
    for layer in spec.layers:
        lines += ["", "[[layers]]", f"weights = {array(layer.weights)}", f"bias = {array(layer.bias)}"]
        lines.append(f'activation = "{layer.activation}"')
        if layer.scale is not None:
            lines.append(f"scale = {array(layer.scale)}")
    for example in spec.examples:
        lines += ["", "[[examples]]", f"input = {array(example.input)}", f"target = {array(example.target)}"]
    return "\n".join(lines) + "\n"


def parse_shape(text: str) -> list[int]:
    """``"2,3,1"`` -> [2, 3, 1]: inputs, then the neurons of every layer."""
    try:
        shape = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(
            _("--shape {text!r}: expected whole numbers separated by commas, like 2,3,1").format(text=text)
        ) from None
    if len(shape) < 2 or min(shape) < 1:
        raise InputError(
            _("--shape {text!r}: give the number of inputs and of neurons per layer (at least 1 each), like 2,3,1").format(
                text=text
            )
        )
    return shape


def random_spec(
    shape: list[int],
    seed: int = 0,
    activation: str = "sigmoid",
    loss: str = "sse",
    reduction: str = "sum",
    examples: int = 4,
) -> NetSpec:
    """A network of the given shape with weights, biases and examples drawn from ``seed``.

    Weights and biases are uniform in [-1, 1] and inputs in [-1, 1], rounded to 3 decimals so
    the written spec stays readable. Targets suit the loss: 0 or 1 for bce, one-hot for
    cross-entropy (whose last layer is then identity: its outputs are the logits), uniform in
    [0, 1] otherwise.
    """
    activation = _choice(activation, ACTIVATIONS, "--activation")
    _choice(loss, LOSSES, "--loss")
    _choice(reduction, REDUCTIONS, "--reduction")
    if len(shape) < 2 or min(shape) < 1:
        raise InputError(_("--shape needs the number of inputs and of neurons per layer, at least 1 each"))
    total = sum(a * b for a, b in zip(shape, shape[1:]))
    if total > MAX_WEIGHTS:
        raise LimitError(
            _("--shape: the network would have {count:,} weights (limit {limit:,})").format(count=total, limit=MAX_WEIGHTS)
        )
    if not 1 <= examples <= MAX_EXAMPLES:
        raise InputError(_("--examples must be between 1 and {limit:,}").format(limit=MAX_EXAMPLES))
    rng = random.Random(seed)
    draw = lambda: round(rng.uniform(-1.0, 1.0), 3)  # noqa: E731
    layers = [
        Layer([[draw() for _i in range(n_in)] for _j in range(n_out)], [draw() for _j in range(n_out)], activation)
        for n_in, n_out in zip(shape, shape[1:])
    ]
    outputs = shape[-1]
    if loss == "cross-entropy":
        layers[-1].activation = "identity"
    if loss == "bce":
        layers[-1].activation = "sigmoid"
    cases = []
    for _n in range(examples):
        point = [draw() for _i in range(shape[0])]
        if loss == "bce":
            target = [float(rng.randint(0, 1)) for _k in range(outputs)]
        elif loss == "cross-entropy":
            target = [0.0] * outputs
            target[rng.randrange(outputs)] = 1.0
        else:
            target = [round(rng.uniform(0.0, 1.0), 3) for _k in range(outputs)]
        cases.append(Example(point, target))
    spec = NetSpec(layers, cases, loss, reduction)
    check_loss_fits(spec, "--shape")
    return spec


# --------------------------------------------------------------------------- the program


def network_program(spec: NetSpec) -> str:
    """The staged program of one example's cost C, one statement per line."""
    lines = []
    previous = [f"x_{i}" for i in range(spec.layers[0].inputs)]
    for number, layer in enumerate(spec.layers, 1):
        current = []
        for j in range(layer.outputs):
            terms = [f"w{number}_{j}_{i}*{name}" for i, name in enumerate(previous)]
            lines.append(f"z{number}_{j} = {' + '.join(terms)} + b{number}_{j}")
            act = f"z{number}_{j}" if layer.activation == "identity" else f"{layer.activation}(z{number}_{j})"
            if layer.scale is None:
                lines.append(f"a{number}_{j} = {act}")
            elif layer.activation == "identity":
                lines.append(f"a{number}_{j} = c{number}_{j}*z{number}_{j}")
            else:
                lines.append(f"g{number}_{j} = {act}")
                lines.append(f"a{number}_{j} = c{number}_{j}*g{number}_{j}")
            current.append(f"a{number}_{j}")
        previous = current
    lines += _loss_lines(spec.loss, previous)
    return "\n".join(lines)


def _loss_lines(loss: str, outputs: list[str]) -> list[str]:
    pairs = [(a, f"t_{k}") for k, a in enumerate(outputs)]
    squares = " + ".join(f"({a} - {t})**2" for a, t in pairs)
    if loss == "sse":
        return [f"C = {squares}"]
    if loss == "half-sse":
        return [f"C = 0.5*({squares})"]
    if loss == "mse":
        return [f"C = ({squares})/{len(outputs)}" if len(outputs) > 1 else f"C = {squares}"]
    if loss == "bce":
        terms = " + ".join(f"{t}*log({a}) + (1 - {t})*log(1 - {a})" for a, t in pairs)
        return [f"C = -({terms})"]
    # cross-entropy of softmax(a): log p_k = a_k - lse with lse = log(sum exp(a_k)), computed as
    # m + log(sum exp(a_k - m)) with m = max(a): the same function (for any m), but exp never
    # overflows; the gradient through m is 1 - sum softmax = 0, so it changes nothing.
    shifted = " + ".join(f"exp({a} - m)" for a in outputs)
    terms = " + ".join(f"{t}*({a} - lse)" for a, t in pairs)
    return [f"m = max({', '.join(outputs)})", f"lse = m + log({shifted})", f"C = -({terms})"]


# --------------------------------------------------------------------------- results


@dataclass
class ExampleLayer:
    """One layer for one example: per neuron, forward values and backward gradients."""

    #: z = w . a_prev + b
    z: list[float]
    #: act(z): the activation before the scale c (equal to a when there is no scale)
    act: list[float]
    #: a = c * act(z), what the next layer sees
    a: list[float]
    #: dC/da, from the layers above (or the loss, for the output layer)
    upstream: list[float]
    #: act'(z), the activation's local gradient (1 for identity)
    slope: list[float]
    #: da/dz = c * act'(z): the amplifier gain of the reversed network
    gain: list[float]
    #: dC/dz = dC/da * da/dz, the delta
    delta: list[float]
    #: the layer's inputs a_prev (the x for layer 1)
    a_prev: list[float]
    #: dC/dw[j][i] = a_prev[i] * delta[j]
    weights_grad: list[list[float]]
    bias_grad: list[float]
    scale_grad: list[float] | None


@dataclass
class ExampleResult:
    input: list[float]
    target: list[float]
    #: this example's cost C^n
    loss: float
    outputs: list[float]
    #: softmax of the outputs (cross-entropy only)
    probabilities: list[float] | None
    layers: list[ExampleLayer]

    @property
    def target_sum(self) -> float:
        """S, the sum of the targets (1 for one-hot targets): cross-entropy's dC/da is p S - t."""
        return sum(self.target)


@dataclass
class NetResult:
    """The network at one point: every example's pass and the gradients of L."""

    spec: NetSpec
    program: str
    loss: float
    examples: list[ExampleResult]
    weights_grad: list[list[list[float]]]
    bias_grad: list[list[float]]
    scale_grad: list[list[float] | None]
    #: conventions used at non-differentiable points (relu at 0)
    notes: list[str] = field(default_factory=list)

    def feeds(self, example: int, layer: int, neuron: int) -> list[tuple[int, float, float, float]]:
        """Situation 2 of the course: an inner node's dC/da is the sum over the nodes it feeds.

        Returns (k, w[k][neuron], delta[k], w * delta) for every neuron k of the next layer
        (0-based ``layer``); the products add up to ``upstream[neuron]``.
        """
        weights = self.spec.layers[layer + 1].weights
        deltas = self.examples[example].layers[layer + 1].delta
        return [(k, weights[k][neuron], deltas[k], weights[k][neuron] * deltas[k]) for k in range(len(weights))]

    def to_dict(self) -> dict[str, Any]:
        """The `--json` document: loss, outputs, layers (and examples when there are several)."""
        several = len(self.examples) > 1
        layers = []
        for index in range(len(self.spec.layers)):
            record: dict[str, Any] = {}
            if not several:
                only = self.examples[0].layers[index]
                record.update(z=only.z, a=only.a, delta=only.delta)
            record.update(
                weights_grad=self.weights_grad[index], bias_grad=self.bias_grad[index], scale_grad=self.scale_grad[index]
            )
            layers.append(record)
        doc: dict[str, Any] = {
            "loss": self.loss,
            "outputs": [e.outputs for e in self.examples] if several else self.examples[0].outputs,
            "layers": layers,
        }
        if several:
            doc["examples"] = [
                {
                    "input": e.input,
                    "target": e.target,
                    "loss": e.loss,
                    "outputs": e.outputs,
                    "layers": [{"z": layer.z, "a": layer.a, "delta": layer.delta} for layer in e.layers],
                }
                for e in self.examples
            ]
        return doc


class Network:
    """A spec compiled once into a graph; evaluate it at any parameters, as often as needed."""

    def __init__(self, spec: NetSpec) -> None:
        from .api import build

        self.spec = spec
        self.program = network_program(spec)
        self.graph: Graph = build(self.program)
        self.parameters = spec.parameters()
        inputs = self.graph.inputs
        self._param_nodes = [(name, inputs[name]) for name in self.parameters]
        self._scale = 1.0 if spec.reduction == "sum" else 1.0 / len(spec.examples)
        self._cases = [
            {
                **{f"x_{i}": value for i, value in enumerate(example.input)},
                **{f"t_{k}": value for k, value in enumerate(example.target)},
            }
            for example in spec.examples
        ]

    def _pass(self, params: dict[str, float], n: int) -> tuple[list, list, list]:
        """Forward values, local gradients and gradients of C^n for example n."""
        graph = self.graph
        try:
            values = graph.forward({**params, **self._cases[n]})
            locals_ = graph.local_gradients(values)
            grads = graph.backward(locals_, 1.0)
        except BackpropError as error:
            hint = ""
            if self.spec.loss == "bce" and "log" in error.message:
                hint = _(" (bce takes the log of a and 1 - a: a sigmoid output that rounds to exactly 0 or 1 has no log)")
            raise DomainError(_("example {n}: {message}{hint}").format(n=n + 1, message=error.message, hint=hint)) from None
        return values, locals_, grads

    def loss_and_gradients(self, params: dict[str, float] | None = None) -> tuple[float, dict[str, float]]:
        """L and dL/dparameter at ``params`` (default: the spec's own): the training objective."""
        params = self.parameters if params is None else params
        loss = 0.0
        totals = dict.fromkeys(params, 0.0)
        for n in range(len(self._cases)):
            values, _locals, grads = self._pass(params, n)
            loss += values[self.graph.output]
            for name, node in self._param_nodes:
                totals[name] += grads[node]
        scale = self._scale
        return loss * scale, {name: total * scale for name, total in totals.items()}

    def outputs(self, params: dict[str, float] | None = None) -> list[list[float]]:
        """The network's outputs for every example (a forward pass only)."""
        params = self.parameters if params is None else params
        names = self.graph.names
        last = len(self.spec.layers)
        result = []
        for n in range(len(self._cases)):
            try:
                values = self.graph.forward({**params, **self._cases[n]})
            except BackpropError as error:
                raise DomainError(_("example {n}: {message}").format(n=n + 1, message=error.message)) from None
            result.append([values[names[f"a{last}_{k}"]] for k in range(self.spec.layers[-1].outputs)])
        return result

    def evaluate(self) -> NetResult:
        """Every example's forward and backward pass, neuron by neuron, and the gradients of L."""
        spec = self.spec
        graph = self.graph
        names, inputs = graph.names, graph.inputs
        examples = []
        notes: list[str] = []
        for n, example in enumerate(spec.examples):
            values, locals_, grads = self._pass(self.parameters, n)
            for note in graph.kinks(values):
                if note not in notes:
                    notes.append(note)
            layers = []
            a_prev = list(example.input)
            for number, layer in enumerate(spec.layers, 1):
                record = ExampleLayer(
                    z=[], act=[], a=[], upstream=[], slope=[], gain=[], delta=[], a_prev=a_prev,
                    weights_grad=[], bias_grad=[], scale_grad=None if layer.scale is None else [],
                )  # fmt: skip
                for j in range(layer.outputs):
                    z_node = names[f"z{number}_{j}"]
                    a_node = names[f"a{number}_{j}"]
                    act_node = names.get(f"g{number}_{j}", a_node)
                    if layer.activation == "identity":
                        act_node, slope = z_node, 1.0
                    else:
                        slope = locals_[act_node][0]
                    scale = 1.0 if layer.scale is None else layer.scale[j]
                    record.z.append(values[z_node])
                    record.act.append(values[act_node])
                    record.a.append(values[a_node])
                    record.upstream.append(grads[a_node])
                    record.slope.append(slope)
                    record.gain.append(scale * slope)
                    record.delta.append(grads[z_node])
                    record.weights_grad.append([grads[inputs[f"w{number}_{j}_{i}"]] for i in range(layer.inputs)])
                    record.bias_grad.append(grads[inputs[f"b{number}_{j}"]])
                    if record.scale_grad is not None:
                        record.scale_grad.append(grads[inputs[f"c{number}_{j}"]])
                layers.append(record)
                a_prev = record.a
            outputs = layers[-1].a
            probabilities = None
            if spec.loss == "cross-entropy":
                probabilities = _softmax(outputs)
            examples.append(
                ExampleResult(example.input, example.target, values[graph.output], outputs, probabilities, layers)
            )
        scale = self._scale
        weights_grad, bias_grad, scale_grad = [], [], []
        for index, layer in enumerate(spec.layers):
            weights_grad.append(
                [
                    [scale * sum(e.layers[index].weights_grad[j][i] for e in examples) for i in range(layer.inputs)]
                    for j in range(layer.outputs)
                ]
            )
            bias_grad.append([scale * sum(e.layers[index].bias_grad[j] for e in examples) for j in range(layer.outputs)])
            scale_grad.append(
                None
                if layer.scale is None
                else [scale * sum(e.layers[index].scale_grad[j] for e in examples) for j in range(layer.outputs)]
            )
        loss = scale * sum(e.loss for e in examples)
        return NetResult(spec, self.program, loss, examples, weights_grad, bias_grad, scale_grad, notes)

    def train(self, learning_rate: float = 0.5, steps: int = 100) -> Descent:
        """Gradient descent on every weight, bias and scale, from the spec's values."""
        return gradient_descent(self.loss_and_gradients, self.parameters, learning_rate, steps, "L")


def _softmax(values: list[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]
