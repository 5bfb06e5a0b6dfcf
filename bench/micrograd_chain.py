"""micrograd 0.1.0 on a chain of * / + steps, run as its own process by bench_deep.py.

Prints one JSON line: seconds for build + backward and the gradient, or the error micrograd
dies with. With "default" it keeps Python's recursion limit (micrograd's recursive
topological sort then fails past ~1,000 levels); with "raised" it lifts the limit and runs in a
thread with a 1 GB stack.

Run: python bench/micrograd_chain.py STEPS default|raised
"""

from __future__ import annotations

import json
import sys
import threading
import time

from common import chain_steps
from micrograd.engine import Value


def build_and_backward(steps: list[tuple[str, float]], out: dict) -> None:
    start = time.perf_counter()
    try:
        x = Value(0.5)
        node = x
        for op, constant in steps:
            node = node * constant if op == "*" else node / constant if op == "/" else node + constant
        node.backward()
        out.update(seconds=time.perf_counter() - start, dx=x.grad)
    except RecursionError as error:
        out.update(error=f"RecursionError: {error}")


def main() -> None:
    count, mode = int(sys.argv[1]), sys.argv[2]
    out: dict = {}
    if mode == "raised":
        sys.setrecursionlimit(10 * count + 10_000)
        threading.stack_size(1024 * 1024 * 1024)
    worker = threading.Thread(target=build_and_backward, args=(chain_steps(count), out))
    worker.start()
    worker.join()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
