"""Deep: tanh nested 10,000 deep and a 10,000-step chain of * / + (no recursion anywhere).

`backprop grad - x=0.5 --json --summary` with the automatic check (the finite-difference
check, as the graphs are deeper than SymPy handles), each gradient compared with one worked
out independently here. micrograd, for reference, on the same chain: with Python's default
recursion limit it dies; with the limit raised it finishes. Then inputs beyond the documented
limits of backprop_cli/parse.py must fail fast with one clear line and exit code 2.

Run: python bench/bench_deep.py [--depth 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from common import (
    BENCH,
    PYTHON,
    QUICK,
    backprop_command,
    cached,
    chain_expression,
    chain_gradient,
    chain_steps,
    close,
    line,
    timed,
)

sys.path.insert(0, str(BENCH.parent))

from backprop_cli.parse import MAX_NESTING, MAX_NODES, MAX_SOURCE_CHARS  # noqa: E402


def tanh_gradient(depth: int, x: float) -> float:
    """d/dx tanh(tanh(...tanh(x))) = product of (1 - t_k^2) along the chain."""
    t, gradient = x, 1.0
    for _ in range(depth):
        t = math.tanh(t)
        gradient *= 1 - t * t
    return gradient


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=1_000 if QUICK else 10_000)
    depth = parser.parse_args().depth
    ok = True
    print(f"deep: {depth:,} levels")
    steps = chain_steps(depth)
    cases = [
        ("tanh nested", "tanh(" * depth + "x" + ")" * depth, tanh_gradient(depth, 0.5)),
        ("chain of * / +", chain_expression(steps), chain_gradient(steps)),
    ]
    for label, text, expected in cases:
        source = cached(f"deep_{label.split()[0]}_{depth}.txt", text)
        result = timed([*backprop_command(), "grad", "-", "x=0.5", "--json", "--summary"], stdin=source)
        if result.returncode != 0:
            line(f"backprop {label}", f"FAILED: {result.stderr.decode()[-300:]}")
            ok = False
            continue
        header = json.loads(result.stdout)
        got = header["gradients"]["x"]
        correct = close(got, expected, 1e-9) and header["check"]["ok"]
        ok &= correct
        line(f"backprop {label}", f"{result.seconds:.2f} s, peak {result.peak_mb:.0f} MB")
        line("  gradient", f"{got:.12g} (by hand {expected:.12g}: {'correct' if correct else 'WRONG'})")
        line("  check", f"{header['check']['method']}: {'agrees' if header['check']['ok'] else 'DISAGREES'}")

    for mode in ("default", "raised"):
        micrograd = timed([PYTHON, str(BENCH / "micrograd_chain.py"), str(depth), mode])
        out = json.loads(micrograd.stdout or b"{}") if micrograd.returncode == 0 else {}
        if "seconds" in out:
            correct = close(out["dx"], chain_gradient(steps), 1e-9)
            shown = f"{out['seconds']:.2f} s build + backward, peak {micrograd.peak_mb:.0f} MB"
            shown += "" if correct else " (WRONG gradient)"
        else:
            shown = out.get("error", f"crashed (exit code {micrograd.returncode})")[:70]
        line(f"micrograd chain, {mode} recursion limit", shown)

    print("beyond the limits (each must exit 2 with one line on stderr, quickly):")
    over = MAX_NESTING + 1
    for label, text in (
        (f"nesting {over:,} > MAX_NESTING", "(" * over + "x" + ")" * over),
        (f"tanh nesting {over:,}", "tanh(" * over + "x" + ")" * over),
        # numbers, not a variable: a variable used many times is one node
        (f"{MAX_NODES + 1:,}+ nodes > MAX_NODES", "x+" + "+".join(["1"] * (MAX_NODES // 2 + 1))),
        (f"{MAX_SOURCE_CHARS + 1:,} characters", " " * MAX_SOURCE_CHARS + "xy"),
    ):
        if QUICK and "nesting" not in label:
            continue  # 2 MB and 10 MB inputs: not worth it in the quick run
        source = cached("over_limit.txt", text)
        result = timed([*backprop_command(), "grad", "-", "x=1", "--no-check"], stdin=source)
        message = result.stderr.decode().strip()
        good = result.returncode == 2 and message.count("\n") <= 2 and "Traceback" not in message
        ok &= good
        first = message.splitlines()[0][:60] if message else "(nothing on stderr)"
        line(label, f"exit {result.returncode} in {result.seconds:.2f} s: {first}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
