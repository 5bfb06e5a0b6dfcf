"""Cross-check: SymPy checks a 200-variable expression in under a second beyond its import.

The expression is the sum over 100 terms of max(0, x_i*y_i). SymPy is imported first (its
import time is shown apart); then the timed part is the library's cross-check: SymPy
expressions for every node, one derivative per input, one lambdify (with common
subexpressions) for all of them. Then a graph larger than SYMPY_MAX_NODES must switch to the
finite-difference check by itself and say why.

Run: python bench/bench_crosscheck.py
"""

from __future__ import annotations

import random
import sys
import time

from common import BENCH, line

sys.path.insert(0, str(BENCH.parent))

from backprop_cli import grad  # noqa: E402
from backprop_cli.verify import SYMPY_MAX_DEPTH, SYMPY_MAX_NODES, cross_check  # noqa: E402


def main() -> int:
    rng = random.Random(5)
    terms = 100
    expression = " + ".join(f"max(0, x{i}*y{i})" for i in range(terms))
    values = {f"{v}{i}": round(rng.uniform(-2, 2), 3) for i in range(terms) for v in "xy"}
    result = grad(expression, values)
    print(f"cross-check: sum of {terms} max(0, x_i*y_i), {len(values)} variables, {len(result.graph)} nodes")
    start = time.perf_counter()
    import sympy  # noqa: F401

    line("import sympy", f"{time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    check = cross_check(result.graph, result.inputs, result.grads, bool(result.graph.kinks(result.values)))
    seconds = time.perf_counter() - start
    # by hand: d/dx_i max(0, x_i y_i) = y_i where x_i y_i > 0, else 0
    by_hand = all(
        item.reference == (values[f"y{item.name[1:]}"] if item.name[0] == "x" else values[f"x{item.name[1:]}"])
        * (values[f"x{item.name[1:]}"] * values[f"y{item.name[1:]}"] > 0)
        for item in check.items
    )
    ok = check.method == "sympy" and check.ok and by_hand and seconds < 1
    line("SymPy cross-check beyond the import", f"{seconds:.2f} s (target < 1 s: {'met' if seconds < 1 else 'NOT met'})")
    line("  method, verdict, SymPy = by hand", f"{check.method}, {'agrees' if check.ok else 'DISAGREES'}, {by_hand}")

    big = " + ".join(f"relu(x*{rng.randint(1, 99) / 100} + y*{rng.randint(1, 99) / 100})" for _ in range(300))
    result = grad(big, {"x": 0.5, "y": -0.3})
    start = time.perf_counter()
    check = cross_check(result.graph, result.inputs, result.grads, bool(result.graph.kinks(result.values)))
    switched = check.method == "finite-difference" and "nodes" in check.note and check.ok
    ok &= switched
    seconds = time.perf_counter() - start
    label = f"{len(result.graph):,} nodes (limit {SYMPY_MAX_NODES:,}, nesting {SYMPY_MAX_DEPTH})"
    line(label, f"{check.method} in {seconds:.2f} s")
    line("  says why", check.note[:70])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
