"""Run every benchmark of docs/performance.md, one after the other, and print their figures.

    python bench/run_all.py            # full size (several minutes on 2 cores)
    python bench/run_all.py --quick    # small sizes, a smoke test (what the test suite runs)

Each benchmark is its own script in bench/ (run one alone the same way); this one starts each
in a fresh process and exits non-zero if any of them reports a wrong result or a missed target.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_startup.py",
    "bench_engine.py",
    "bench_wide.py",
    "bench_deep.py",
    "bench_many.py",
    "bench_crosscheck.py",
    "bench_exact.py",
]


def main() -> int:
    env = dict(os.environ)
    if "--quick" in sys.argv[1:]:
        env["BACKPROP_BENCH_QUICK"] = "1"
    failed = []
    for script in SCRIPTS:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(BENCH / script)], env=env, cwd=BENCH)
        print(f"  ({script}: {time.perf_counter() - start:.0f} s, exit {done.returncode})\n", flush=True)
        if done.returncode != 0:
            failed.append(script)
    print("all targets met" if not failed else f"not met or failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
