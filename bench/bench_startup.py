"""Start-up: `backprop --help`, `--version` and `grad` against a minimal Typer app.

The floor is bench/minimal_app.py on the same Typer version: one command with a string
argument, a list argument and two flags, printing a small Rich table; with --check it also
imports SymPy, the floor of `backprop grad` with its SymPy cross-check. Each command runs
several times after a warm-up (which also writes the .pyc files a user would have), the
commands taking turns; the median CPU time (user + system) counts, as wall time on a shared
2-core machine mostly measures the neighbours.

Target: every ratio within 1.3.

Run: python bench/bench_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version

from common import BENCH, PYTHON, QUICK, backprop_command, line, median_cpu_seconds

CIRCUIT = ["(x+y)*z", "x=-2", "y=5", "z=-4"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1 if QUICK else 21)
    repeat = parser.parse_args().repeat
    print(f"start-up: median CPU time of {repeat} runs; Typer {version('typer')}, Rich {version('rich')}")
    floor_app = [PYTHON, str(BENCH / "minimal_app.py")]
    backprop = backprop_command()
    commands = {
        "minimal Typer app": [*floor_app, "x*y", "x=1", "y=2"],
        "minimal Typer app --help": [*floor_app, "--help"],
        "minimal Typer app importing SymPy": [*floor_app, "x*y", "x=1", "y=2", "--check"],
        "backprop --help": [*backprop, "--help"],
        "backprop --version": [*backprop, "--version"],
        "backprop grad ... --no-check": [*backprop, "grad", *CIRCUIT, "--no-check"],
        "backprop grad ... (SymPy check)": [*backprop, "grad", *CIRCUIT],
    }
    floor_of = {
        "backprop --help": "minimal Typer app --help",
        "backprop --version": "minimal Typer app",
        "backprop grad ... --no-check": "minimal Typer app",
        "backprop grad ... (SymPy check)": "minimal Typer app importing SymPy",
    }
    seconds = median_cpu_seconds(commands, repeat)
    ok = True
    for label, value in seconds.items():
        if label not in floor_of:
            line(label, f"{value * 1000:.0f} ms")
            continue
        ratio = value / seconds[floor_of[label]]
        ok &= ratio < 1.3
        line(label, f"{value * 1000:.0f} ms, {ratio:.2f}x its floor (target < 1.3: {'met' if ratio < 1.3 else 'NOT met'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
