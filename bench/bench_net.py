"""Time per training step of a network with a few thousand weights: ours against micrograd.

    .venv/bin/python bench/bench_net.py [--shape 32,64,32,1] [--examples 8] [--steps 5]

Both sides train the same network (same weights, examples, loss and learning rate) with
plain gradient descent on L = sum over examples of (a - t)^2. micrograd 0.1.0 has no sigmoid
or tanh, so hidden layers are relu and the output layer identity. One training step is,
for every example, a forward and a backward pass, then the update of every parameter.

* ours: `backprop_cli.net.Network` builds the graph once from the staged program; a step
  evaluates it per example (Graph.forward, local_gradients, backward).
* micrograd: the textbook way, a new graph of Value objects per example and step, then
  Value.backward().

The first step's loss and gradients of both are compared before timing, so the ratio is
between two programs that compute the same thing. Needs micrograd (`pip install -e ".[bench]"`).
"""

from __future__ import annotations

import argparse
import sys
import time

from backprop_cli.net import Network, random_spec


def micrograd_step(spec, weights, biases, learning_rate: float) -> tuple[float, dict[str, float]]:
    """One training step in micrograd; returns the loss and the gradients (before the update)."""
    from micrograd.engine import Value

    total = Value(0.0)
    last = len(spec.layers) - 1
    for example in spec.examples:
        a = [Value(x) for x in example.input]
        for index in range(len(spec.layers)):
            z = [sum((w * x for w, x in zip(row, a)), bias) for row, bias in zip(weights[index], biases[index])]
            a = z if index == last else [v.relu() for v in z]
        for output, target in zip(a, example.target):
            total = total + (output - target) ** 2
    parameters = [
        (f"w{n + 1}_{j}_{i}", w) for n, rows in enumerate(weights) for j, row in enumerate(rows) for i, w in enumerate(row)
    ]
    parameters += [(f"b{n + 1}_{j}", b) for n, row in enumerate(biases) for j, b in enumerate(row)]
    for _name, p in parameters:
        p.grad = 0.0
    total.backward()
    gradients = {name: p.grad for name, p in parameters}
    for _name, p in parameters:
        p.data -= learning_rate * p.grad
    return total.data, gradients


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="32,64,32,1")
    parser.add_argument("--examples", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.001)
    options = parser.parse_args()
    try:
        from micrograd.engine import Value
    except ImportError:
        print("micrograd is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    shape = [int(n) for n in options.shape.split(",")]
    spec = random_spec(shape, seed=0, activation="relu", loss="sse", examples=options.examples)
    spec.layers[-1].activation = "identity"
    count = sum(layer.inputs * layer.outputs for layer in spec.layers)
    print(f"network {options.shape}: {count:,} weights, {options.examples} examples, relu hidden layers, sse loss")

    started = time.perf_counter()
    network = Network(spec)
    build = time.perf_counter() - started
    print(f"ours: program parsed and graph built once in {build * 1000:.0f} ms ({len(network.graph):,} nodes)")

    weights = [[[Value(w) for w in row] for row in layer.weights] for layer in spec.layers]
    biases = [[Value(b) for b in layer.bias] for layer in spec.layers]

    # same numbers first
    our_loss, our_gradients = network.loss_and_gradients()
    their_loss, their_gradients = micrograd_step(spec, weights, biases, 0.0)
    worst = max(abs(our_gradients[name] - their_gradients[name]) for name in our_gradients)
    scale = max(abs(g) for g in our_gradients.values())
    print(
        f"step 0: loss {our_loss:.10g} (micrograd {their_loss:.10g}), gradients differ by {worst:.2e} (largest {scale:.2e})"
    )
    if abs(our_loss - their_loss) > 1e-9 * max(1.0, abs(our_loss)) or worst > 1e-9 * max(1.0, scale):
        print("the two programs disagree: not timing them", file=sys.stderr)
        return 1

    params = dict(network.parameters)
    started = time.perf_counter()
    for _ in range(options.steps):
        _loss, gradients = network.loss_and_gradients(params)
        params = {name: value - options.lr * gradients[name] for name, value in params.items()}
    ours = (time.perf_counter() - started) / options.steps

    started = time.perf_counter()
    for _ in range(options.steps):
        micrograd_step(spec, weights, biases, options.lr)
    theirs = (time.perf_counter() - started) / options.steps

    print(f"time per training step: ours {ours * 1000:.1f} ms, micrograd {theirs * 1000:.1f} ms")
    print(f"ratio ours / micrograd: {ours / theirs:.2f} (below 1: ours is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
