"""Many variables: a 10,000-variable expression with its values from `--values FILE`.

The expression is sum_i v_{2i} * v_{2i+1} (5,000 products of distinct variables). The whole
CLI path runs twice (tables with the automatic check, and --json --summary), and the library
path is timed step by step: reading the values, building the graph, the missing-value check,
forward and backward, the gradients table, the finite-difference check. Every gradient is
compared with the one worked out by hand (d/dv_{2i} = v_{2i+1}).

Run: python bench/bench_many.py [--variables 10000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time

from common import BENCH, QUICK, backprop_command, cached, line, timed

sys.path.insert(0, str(BENCH.parent))

from backprop_cli import build  # noqa: E402
from backprop_cli.api import read_value  # noqa: E402
from backprop_cli.render.console import make_console  # noqa: E402
from backprop_cli.render.terminal import render_gradients  # noqa: E402
from backprop_cli.result import Result  # noqa: E402
from backprop_cli.verify import finite_difference_check  # noqa: E402


def lap(label: str, start: float) -> float:
    now = time.perf_counter()
    line(f"  {label}", f"{(now - start) * 1000:.0f} ms")
    return now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variables", type=int, default=1_000 if QUICK else 10_000)
    count = parser.parse_args().variables
    rng = random.Random(4)
    names = [f"v{i}" for i in range(count)]
    values = {name: str(round(rng.uniform(-2, 2), 3)) for name in names}
    expression = " + ".join(f"{a}*{b}" for a, b in zip(names[::2], names[1::2]))
    source = cached(f"many_{count}.txt", expression)
    values_file = cached(f"many_{count}.json", json.dumps(values))
    expected = {a: float(values[b]) for a, b in zip(names[::2], names[1::2])}
    expected.update({b: float(values[a]) for a, b in zip(names[::2], names[1::2])})
    print(f"many variables: {count:,} variables, values from --values FILE")

    ok = True
    for label, extra in (("tables + check", []), ("--json --summary + check", ["--json", "--summary"])):
        result = timed([*backprop_command(), "grad", "-", "--values", str(values_file), *extra], stdin=source)
        ok &= result.returncode == 0
        if extra:
            document = json.loads(result.stdout)
            correct = all(abs(document["gradients"][n] - expected[n]) < 1e-12 for n in names)
            ok &= correct and document["check"]["ok"]
            label += f" ({'correct' if correct else 'WRONG'})"
        line(f"backprop {label}", f"{result.seconds:.2f} s, peak {result.peak_mb:.0f} MB, exit {result.returncode}")

    print("  the library path, step by step:")
    start = time.perf_counter()
    loaded = json.loads(values_file.read_text(), parse_float=str, parse_int=str)
    start = lap("read the values file", start)
    graph = build(expression)
    start = lap("parse and build the graph", start)
    inputs = {name: read_value(name, loaded[name], False) for name in graph.inputs}
    values_list = graph.leaf_values(inputs)
    start = lap("read values, missing-value check", start)
    node_values = graph.forward(inputs)
    locals_ = graph.local_gradients(node_values)
    grads = graph.backward(locals_)
    start = lap("forward and backward", start)
    result = Result(expression, graph, inputs, node_values, locals_, grads)
    console = make_console("never")
    console.file = io.StringIO()
    render_gradients(result, console, max_rows=500)
    start = lap("gradients table (500 rows shown)", start)
    check = finite_difference_check(graph, inputs, grads, False)
    lap(f"finite-difference check ({'agrees' if check.ok else 'DISAGREES'})", start)
    ok &= check.ok and values_list is not None
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
