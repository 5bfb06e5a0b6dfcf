"""Engine per node: forward + backward through the Python API against micrograd's build + backward.

The graph is a small multilayer perceptron, the network micrograd was written for: inputs
(numbers) -> relu layer -> relu layer -> one output, squared error against a target. Every
weight and bias is a variable. micrograd builds it the way its own nn.Neuron does
(b + w0*x0 + w1*x1 + ...), so both engines hold the same nodes.

* excluding parsing: `build(text)` once, then graph.forward + local_gradients + backward;
* including parsing: the same after `build(text)` (parse and graph) each time, and
  `grad(text, values)`, the whole library path (also the echo, the values, the notes);
* micrograd: create the weight Values, build the expression, backward().

Times are the best of a few runs in this process; memory per node is the peak of the memory
Python allocates (tracemalloc) while one engine builds and differentiates the net in a fresh
process (--child), divided by the node count; the graph text is made before tracing starts.

Run: python bench/bench_engine.py [--inputs 30] [--hidden 100]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import subprocess
import sys
import tracemalloc

from common import BENCH, PYTHON, QUICK, best_of, child_env, close, line

sys.path.insert(0, str(BENCH.parent))

from micrograd.engine import Value  # noqa: E402

from backprop_cli import build, grad  # noqa: E402


def network(inputs: int, hidden: int, seed: int = 3) -> tuple[list[float], dict[str, float], list[list[list[str]]]]:
    """Input numbers, weight values by name, and per layer per neuron [bias, weights...] names."""
    rng = random.Random(seed)
    data = [round(rng.uniform(-1, 1), 3) for _ in range(inputs)]
    values: dict[str, float] = {}
    layers = []
    sizes = [inputs, hidden, hidden, 1]
    for layer, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), 1):
        neurons = []
        for j in range(fan_out):
            names = [f"b{layer}_{j}"] + [f"w{layer}_{j}_{i}" for i in range(fan_in)]
            for name in names:
                values[name] = round(rng.uniform(-1, 1) / fan_in**0.5, 4)
            neurons.append(names)
        layers.append(neurons)
    return data, values, layers


def program(data: list[float], layers: list[list[list[str]]]) -> str:
    """The network as a staged program: h1_0 = relu(b1_0 + w1_0_0*x0 + ...); ...; loss = ..."""
    lines = []
    previous = [str(x) for x in data]
    for number, neurons in enumerate(layers, 1):
        current = []
        for j, (bias, *weights) in enumerate(neurons):
            total = " + ".join([bias] + [f"{w}*{x}" for w, x in zip(weights, previous)])
            name = f"h{number}_{j}"
            last = number == len(layers)
            lines.append(f"{name} = {total}" if last else f"{name} = relu({total})")
            current.append(name)
        previous = current
    lines.append(f"loss = ({previous[0]} - 0.5)**2")
    return "\n".join(lines)


def micrograd_run(data, values, layers) -> tuple[dict[str, Value], Value]:
    weights = {name: Value(value) for name, value in values.items()}
    previous: list = list(data)
    for number, neurons in enumerate(layers, 1):
        current = []
        for bias, *names in neurons:
            act = sum((weights[w] * x for w, x in zip(names, previous)), weights[bias])
            current.append(act if number == len(layers) else act.relu())
        previous = current
    loss = (previous[0] - 0.5) ** 2
    loss.backward()
    return weights, loss


def child(kind: str, inputs: int, hidden: int) -> None:
    """Print the growth of peak memory (MB) for one engine building and differentiating the net."""
    data, values, layers = network(inputs, hidden)
    text = program(data, layers)
    sys.setrecursionlimit(100_000)
    tracemalloc.start()
    if kind == "micrograd":
        kept = micrograd_run(data, values, layers)
    else:
        kept = grad(text, values)
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"mb": peak / 2**20, "kept": kept is not None}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10 if QUICK else 30)
    parser.add_argument("--hidden", type=int, default=20 if QUICK else 100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=("micrograd", "backprop"))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.inputs, args.hidden)
        return 0

    data, values, layers = network(args.inputs, args.hidden)
    text = program(data, layers)
    graph = build(text)
    nodes = len(graph)
    print(f"engine: MLP {args.inputs}-{args.hidden}-{args.hidden}-1, {len(values):,} weights, {nodes:,} nodes")

    sys.setrecursionlimit(100_000)  # micrograd's topological sort recurses once per level
    weights, loss = micrograd_run(data, values, layers)
    node_values = graph.forward(values)
    grads = graph.backward(graph.local_gradients(node_values))
    agree = close(node_values[graph.output], loss.data) and all(
        close(grads[graph.inputs[name]], weights[name].grad) for name in values
    )
    line("same loss and gradients as micrograd", "yes" if agree else "NO")
    del weights, loss, node_values, grads  # nothing of either engine stays alive (see best_of)

    def engine() -> None:
        values_now = graph.forward(values)
        graph.backward(graph.local_gradients(values_now))

    def parsed_engine() -> None:
        fresh = build(text)
        values_now = fresh.forward(values)
        fresh.backward(fresh.local_gradients(values_now))

    reference = best_of(args.repeat, lambda: micrograd_run(data, values, layers))
    timings = [
        ("forward + backward (parsed once)", best_of(args.repeat, engine)),
        ("build(text) + forward + backward", best_of(args.repeat, parsed_engine)),
        ("grad(text, values), the whole API", best_of(args.repeat, lambda: grad(text, values))),
    ]
    per = lambda seconds: f"{seconds / nodes * 1e6:.2f} us/node"  # noqa: E731
    line("micrograd build + backward", f"{reference:.3f} s, {per(reference)}")
    for label, seconds in timings:
        speedup = reference / seconds
        line(f"backprop {label}", f"{seconds:.3f} s, {per(seconds)}")
        line("  speed-up over micrograd", f"{speedup:.1f}x")
    engine_speedup = reference / timings[0][1]
    line(
        "engine target (forward + backward > 5x)",
        f"{'met' if engine_speedup > 5 else 'NOT met'}; goal > 10x: {'met' if engine_speedup > 10 else 'not yet'}",
    )

    # for the record: the same without the garbage collector, which micrograd's cycles keep busy
    gc.disable()
    try:
        without = best_of(args.repeat, lambda: micrograd_run(data, values, layers))
        line("without gc: micrograd build + backward", f"{per(without)}")
        for label, work in (("forward + backward", engine), ("build(text) + forward + backward", parsed_engine)):
            seconds = best_of(args.repeat, work)
            line(f"without gc: backprop {label}", f"{per(seconds)} ({without / seconds:.1f}x)")
    finally:
        gc.enable()

    memory = {}
    for kind in ("micrograd", "backprop"):
        done = subprocess.run(
            [PYTHON, __file__, "--child", kind, "--inputs", str(args.inputs), "--hidden", str(args.hidden)],
            capture_output=True, text=True, env=child_env(), check=True,
        )
        memory[kind] = json.loads(done.stdout)["mb"]
    for kind in ("micrograd", "backprop"):
        line(f"peak memory per node, {kind}", f"{memory[kind] * 1024 * 1024 / nodes:.0f} bytes")
    line("  backprop / micrograd", f"{memory['backprop'] / memory['micrograd']:.2f}")
    return 0 if agree and (engine_speedup > 5 or QUICK) else 1


if __name__ == "__main__":
    sys.exit(main())
