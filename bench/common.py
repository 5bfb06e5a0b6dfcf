"""Shared pieces of the benchmarks: generated inputs, timed subprocesses, peak memory, verdicts.

Every benchmark measures its reference (micrograd, SymPy, the minimal Typer app) in the same
run as `backprop`, so a busy machine slows both sides and the printed ratio stays meaningful.
Peak memory is the child's own maximum resident set size, read with os.wait4.

Set BACKPROP_BENCH_QUICK=1 (or pass --quick to run_all.py) to run everything at a small size:
the test suite does that to keep the commands of docs/performance.md honest.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
PYTHON = sys.executable
QUICK = os.environ.get("BACKPROP_BENCH_QUICK") == "1"


def best_of(repeats: int, work) -> float:
    """The least CPU time of `repeats` runs of work(), each started on a clean heap.

    Python's cyclic garbage collector is part of what an engine costs (micrograd's closures
    and parent sets make cycles that only it can free), but how much it costs depends on
    what else is alive: with one graph kept from an earlier run, micrograd's build +
    backward takes about twice as long. So nothing is kept between runs (the result is
    dropped at once) and gc.collect() runs before each one, outside the timing: neither
    side pays for the other's garbage.
    """
    timings = []
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        work()
        timings.append(time.process_time() - start)
    return min(timings)


def backprop_command() -> list[str]:
    """The installed console script beside this Python (else `python -m backprop_cli`)."""
    script = Path(PYTHON).parent / "backprop"
    return [str(script)] if script.exists() else [PYTHON, "-m", "backprop_cli"]


def child_env() -> dict[str, str]:
    """The environment of every timed child: no colour, a fixed width, bytecode caching on."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users have .pyc files; so should the benchmark
    return env


@dataclass
class Run:
    seconds: float
    peak_mb: float
    #: user + system CPU time of the child: less disturbed by other work on the machine
    cpu_seconds: float
    returncode: int
    stdout: bytes
    stderr: bytes


def timed(command: list[str], stdin: Path | None = None, stdout_to: Path | None = None) -> Run:
    """Run a command once: wall time from start to exit, and the child's own peak memory
    (os.wait4 reaps it and returns its resource usage). Standard output goes to stdout_to
    (else a scratch file) and comes back in Run.stdout when it is small."""
    CACHE.mkdir(exist_ok=True)
    out_path = stdout_to or CACHE / "stdout.txt"
    err_path = CACHE / "stderr.txt"
    with open(out_path, "wb") as out_file, open(err_path, "wb") as err_file:
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as in_file:
            start = time.perf_counter()
            child = subprocess.Popen(command, stdin=in_file, stdout=out_file, stderr=err_file, env=child_env())
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    output = out_path.read_bytes() if out_path.stat().st_size < 10_000_000 else b""
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, usage.ru_maxrss / 1024, cpu, child.returncode, output, err_path.read_bytes())


def median_cpu_seconds(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median CPU time (user + system) of each command over `repeat` rounds.

    The commands take turns within each round, after one warm-up round (which also writes
    the .pyc files a user would have), so a burst of load elsewhere hits them all alike.
    """
    for command in commands.values():
        timed(command)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            samples[name].append(timed(command).cpu_seconds)
    return {name: statistics.median(times) for name, times in samples.items()}


def cached(name: str, text: str) -> Path:
    """Write a generated input under bench/.cache (ignored by git) and return its path."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / name
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


# ----------------------------------------------------------------------------- inputs


def wide_constants(terms: int, seed: int = 1) -> list[tuple[float, float]]:
    """(c_i, d_i) for the wide sum: positive, four decimals, the same in every run."""
    rng = random.Random(seed)
    return [(rng.randint(1, 9999) / 10_000, rng.randint(1, 9999) / 10_000) for _ in range(terms)]


def wide_expression(constants: list[tuple[float, float]]) -> str:
    """sum of relu(x*c_i + y*d_i), written as one line."""
    return " + ".join(f"relu(x*{c} + y*{d})" for c, d in constants)


def wide_gradient(constants: list[tuple[float, float]], x: float, y: float) -> tuple[float, float]:
    """The gradient worked out by hand: each active term (x*c + y*d > 0) adds (c, d)."""
    dx = dy = 0.0
    for c, d in constants:
        if x * c + y * d > 0:
            dx += c
            dy += d
    return dx, dy


def json_header(path: Path) -> dict:
    """The header of a streamed `--json` document (everything before "nodes"), parsed."""
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    cut = first.find(', "nodes": [')
    return json.loads(first[:cut] + "}" if cut >= 0 else first)


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def verdict(ratio: float, target: float, goal: float | None = None) -> str:
    """'met' / 'NOT met' for a ratio that must stay below target (and the goal, if any)."""
    text = f"target < {target:g}: {'met' if ratio < target else 'NOT met'}"
    if goal is not None:
        text += f"; goal < {goal:g}: {'met' if ratio < goal else 'not yet'}"
    return text


def line(label: str, text: str) -> None:
    print(f"  {label:<44} {text}", flush=True)


def chain_steps(count: int, seed: int = 2) -> list[tuple[str, float]]:
    """A chain of `count` steps, each * c, / c or + c with c near 1 (values stay moderate)."""
    rng = random.Random(seed)
    steps = []
    for _ in range(count):
        op = rng.choice("*/+")
        steps.append((op, rng.randint(900, 1100) / 1000 if op != "+" else rng.randint(1, 100) / 1000))
    return steps


def chain_expression(steps: list[tuple[str, float]]) -> str:
    """((((x * c1) / c2) + c3) ...): every step nests one level deeper."""
    return "(" * len(steps) + "x" + "".join(f" {op} {constant})" for op, constant in steps)


def chain_gradient(steps: list[tuple[str, float]]) -> float:
    """d/dx of the chain worked out by hand: the product of the * factors over the / divisors."""
    gradient = 1.0
    for op, constant in steps:
        if op == "*":
            gradient *= constant
        elif op == "/":
            gradient /= constant
    return gradient
