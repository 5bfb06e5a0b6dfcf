"""micrograd 0.1.0 on the wide sum, run as its own process by bench_wide.py.

Builds sum_i relu(x*c_i + y*d_i) out of `Value` objects and runs backward(). micrograd's
topological sort is recursive, so the recursion limit is raised and the work runs in a thread
with a 1 GB stack: without that it dies with RecursionError (or a crash) at ~1,000 levels.
Prints one JSON line: the seconds spent building and in backward(), and the two gradients.

Run: python bench/micrograd_wide.py TERMS X Y
"""

from __future__ import annotations

import json
import sys
import threading
import time

from common import wide_constants
from micrograd.engine import Value


def build_and_backward(constants: list[tuple[float, float]], x0: float, y0: float, out: dict) -> None:
    start = time.perf_counter()
    x, y = Value(x0), Value(y0)
    total = None
    for c, d in constants:
        term = (x * c + y * d).relu()
        total = term if total is None else total + term
    total.backward()
    out.update(seconds=time.perf_counter() - start, dx=x.grad, dy=y.grad)


def main() -> None:
    terms, x0, y0 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    constants = wide_constants(terms)
    sys.setrecursionlimit(10 * terms + 10_000)
    threading.stack_size(1024 * 1024 * 1024)
    out: dict = {}
    worker = threading.Thread(target=build_and_backward, args=(constants, x0, y0, out))
    worker.start()
    worker.join()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
