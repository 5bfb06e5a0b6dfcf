"""Wide: a 100,000-term sum of relu(x*c_i + y*d_i) read from standard input.

`backprop grad - --json --no-check x=.. y=..` (the full document: every node and every
backward step) and the same with --summary, against micrograd 0.1.0 building the same graph
and running backward() (bench/micrograd_wide.py, in its own process). Both sides are timed as
whole processes, wall clock, and micrograd's in-process build + backward time is shown too.
Every gradient is checked against the sum worked out by hand (each active term adds c_i, d_i).

Target: backprop under a quarter of micrograd's time (whole process against whole process;
the exit code says whether it holds); goal: a tenth of its time and a fifth of its memory.

Run: python bench/bench_wide.py [--terms 100000]
"""

from __future__ import annotations

import argparse
import json
import sys

from common import (
    BENCH,
    CACHE,
    PYTHON,
    QUICK,
    backprop_command,
    cached,
    close,
    json_header,
    line,
    timed,
    verdict,
    wide_constants,
    wide_expression,
    wide_gradient,
)

X, Y = 0.5, -0.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=2_000 if QUICK else 100_000)
    terms = parser.parse_args().terms
    constants = wide_constants(terms)
    source = cached(f"wide_{terms}.txt", wide_expression(constants))
    expected = wide_gradient(constants, X, Y)
    print(f"wide: sum of {terms:,} relu(x*c_i + y*d_i) terms ({source.stat().st_size / 1e6:.1f} MB of text)")

    micrograd = timed([PYTHON, str(BENCH / "micrograd_wide.py"), str(terms), str(X), str(Y)])
    assert micrograd.returncode == 0, micrograd.stderr.decode()[-2000:]
    inside = json.loads(micrograd.stdout)
    assert close(inside["dx"], expected[0], 1e-6) and close(inside["dy"], expected[1], 1e-6), (inside, expected)
    line("micrograd (build + backward, in process)", f"{inside['seconds']:.2f} s")
    line("micrograd (whole process)", f"{micrograd.seconds:.2f} s, peak {micrograd.peak_mb:.0f} MB")

    ok = True
    command = [*backprop_command(), "grad", "-", "--json", "--no-check", f"x={X}", f"y={Y}"]
    for label, extra in (("--json (every node and step)", []), ("--json --summary", ["--summary"])):
        output = CACHE / "wide_output.json"
        mine = timed(command + extra, stdin=source, stdout_to=output)
        assert mine.returncode == 0, mine.stderr.decode()[-2000:]
        header = json_header(output)
        got = header["gradients"]["x"], header["gradients"]["y"]
        correct = close(got[0], expected[0], 1e-6) and close(got[1], expected[1], 1e-6)
        ok &= correct and (QUICK or mine.seconds / micrograd.seconds < 0.25)
        size = output.stat().st_size / 1e6
        ratio = mine.seconds / micrograd.seconds
        strict = mine.seconds / inside["seconds"]
        memory = mine.peak_mb / micrograd.peak_mb
        line(f"backprop {label}", f"{mine.seconds:.2f} s, peak {mine.peak_mb:.0f} MB, {size:.0f} MB written")
        line("  gradient", f"{got[0]:.10g}, {got[1]:.10g} ({'correct' if correct else 'WRONG'})")
        line("  time / micrograd's process", f"{ratio:.3f} ({verdict(ratio, 0.25, 0.1)})")
        line("  time / micrograd's build + backward", f"{strict:.3f} ({verdict(strict, 0.25, 0.1)})")
        line("  peak memory / micrograd's", f"{memory:.2f} (goal < 0.2: {'met' if memory < 0.2 else 'not yet'})")
        output.unlink()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
