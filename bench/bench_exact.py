"""Exact mode stays bounded: huge powers, huge literals and fractions that grow a little at
every step each end with one clear line (exit 2) within a second, through the real CLI.

The limits are numeric.MAX_EXACT_BITS (size of one fraction), MAX_EXACT_EXPONENT (decimal
exponents) and MAX_EXACT_WORK (the whole pass). A chain that stays under them must still
finish, exactly, within the second.

Run: python bench/bench_exact.py
"""

from __future__ import annotations

import sys

from common import backprop_command, cached, line, timed


def primes(count: int) -> list[int]:
    found: list[int] = []
    candidate = 2
    while len(found) < count:
        if all(candidate % p for p in found if p * p <= candidate):
            found.append(candidate)
        candidate += 1
    return found


CASES = [
    # (label, expression, values, must it fail?)
    ("9**9**9**9", "9**9**9**9", [], True),
    ("huge literal 1e999999", "x*1e999999", ["x=1"], True),
    ("tiny power 10**-99999", "x*10**-99999", ["x=1"], True),
    ("value x=1e999999", "x*2", ["x=1e999999"], True),
    ("huge power of a fraction", "x**100000", ["x=1/3"], True),
    ("30,000-fold product x*x*...*x", "*".join(["x"] * 30_000), ["x=2/3"], True),
    ("x/2 + x/3 + x/5 + ... (8,000 primes)", " + ".join(f"x/{p}" for p in primes(8_000)), ["x=1"], True),
    ("x*1.0001*1.0001*... (10,000 steps)", "x" + "*1.0001" * 10_000, ["x=1"], True),
    ("a1 = x*x; a2 = a1*a1; ... (30 squarings)", "; ".join(f"a{i + 1} = a{i}*a{i}" for i in range(30)), ["a0=3/2"], True),
    ("5,000-fold product (within the limits)", "*".join(["x"] * 5_000), ["x=2/3"], False),
]


def main() -> int:
    print("exact mode: every case within a second, errors as one line with exit code 2")
    ok = True
    for label, expression, values, must_fail in CASES:
        source = cached("exact.txt", expression)
        result = timed([*backprop_command(), "grad", "-", *values, "--exact", "--no-check", "--summary"], stdin=source)
        message = result.stderr.decode().strip()
        expected_code = 2 if must_fail else 0
        good = result.returncode == expected_code and result.seconds < 1 and "Traceback" not in message
        ok &= good
        shown = message.splitlines()[0][7:67] if must_fail and message else "finished exactly"
        line(label, f"{result.seconds:.2f} s, exit {result.returncode}{'' if good else ' (WRONG)'}: {shown}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
