"""Benchmark: grade a generated class of 10,000 answers, against micrograd computing the same gradients.

Every entry is one student's answer to one of a set of homework questions (expressions over
+ * ** relu, the operations micrograd supports), at values of its own, claiming the output value
and every input gradient. About a quarter of the answers carry a classic mistake (a flipped
sign, a rounded value, a missed accumulation, a number from nowhere), so the diagnoses run too.
The correct answers are computed with micrograd, not with our engine.

The reference is micrograd in the same process, building each answer's expression out of
`Value` objects and running `backward()` -- the gradients only, no grading. Timed separately:

* reading: JSON Lines text -> read_batch (JSON decoding and the claims), shown apart;
* grading: grade_batch (parse each distinct expression, forward, backward, compare, diagnose
  the wrong claims), the library path of `backprop check --batch`;
* micrograd: for each entry, Values for its inputs, the expression, backward().

Times are the CPU time of this process (best of --repeats), so that other work on a shared
machine disturbs the ratio less. Run: .venv/bin/python bench/bench_check.py [--entries 10000] [--questions 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import best_of  # noqa: E402
from micrograd.engine import Value  # noqa: E402

from backprop_cli.check import Grader, grade_batch, read_batch  # noqa: E402
from backprop_cli.parse import parse  # noqa: E402

NAMES = ("a", "b", "c", "d", "w", "x")


def random_expression(rng: random.Random, size: int) -> str:
    """A random expression of about ``size`` operations over + * ** relu."""
    if size <= 0:
        return rng.choice(NAMES) if rng.random() < 0.85 else str(rng.randint(1, 3))
    kind = rng.random()
    if kind < 0.1:
        return f"relu({random_expression(rng, size - 1)})"
    if kind < 0.2:
        return f"({random_expression(rng, size - 1)})**{rng.choice((2, 3))}"
    left = rng.randint(0, size - 1)
    operator = "+" if rng.random() < 0.5 else "*"
    return f"({random_expression(rng, left)} {operator} {random_expression(rng, size - 1 - left)})"


def micrograd_program(expression: str):
    """The expression as a post-order list of (operation, operand indices, text) for micrograd."""
    program = parse(expression)
    operations = [gate.name for gate in program.gates]
    return list(zip(operations, program.args, program.texts)), program.statements[-1][1]


def micrograd_gradients(compiled, values: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Build the expression out of micrograd Values and run backward(): the reference computation."""
    nodes, root = compiled
    inputs = {name: Value(number) for name, number in values.items()}
    built: list = []
    for operation, operands, text in nodes:
        if operation == "input":
            built.append(inputs[text])
        elif operation == "const":
            built.append(float(text))
        elif operation == "add":
            built.append(built[operands[0]] + built[operands[1]])
        elif operation == "mul":
            built.append(built[operands[0]] * built[operands[1]])
        elif operation == "pow":
            built.append(built[operands[0]] ** built[operands[1]])
        else:  # relu
            operand = built[operands[0]]
            built.append(operand.relu() if isinstance(operand, Value) else max(0.0, operand))
    out = built[root]
    if not isinstance(out, Value):
        out = Value(out)
    out.backward()
    return out.data, {name: value.grad for name, value in inputs.items()}


def mistaken(rng: random.Random, correct: float) -> float | str:
    """A wrong claim a student might write for ``correct``."""
    kind = rng.random()
    if kind < 0.3 and correct:
        return -correct
    if kind < 0.6:
        return f"{correct:.1f}" if abs(correct) >= 0.5 else f"{correct + 1:.2f}"
    if kind < 0.8:
        return correct / 2 if correct else 1.0
    return correct + rng.choice((-3, 2, 7))


def generate(entries: int, questions: int, seed: int, distinct: bool = False):
    """(JSON Lines of the class, per entry: (compiled expression, values)) for the benchmark."""
    rng = random.Random(seed)
    pool = [random_expression(rng, rng.randint(4, 9)) for _ in range(questions)]
    compiled = {expression: micrograd_program(expression) for expression in pool}
    lines, work = [], []
    for number in range(entries):
        if distinct:
            expression = random_expression(rng, rng.randint(4, 9))
            compiled.setdefault(expression, micrograd_program(expression))
        else:
            expression = pool[number % questions]
        names = sorted({text for operation, _args, text in compiled[expression][0] if operation == "input"})
        values = {name: rng.choice((-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)) for name in names}
        value, gradients = micrograd_gradients(compiled[expression], values)
        claims: dict = {"value": value, "gradients": dict(gradients)}
        if rng.random() < 0.25 and names:
            name = rng.choice(names)
            claims["gradients"][name] = mistaken(rng, gradients[name])
        entry = {"id": f"student{number}", "expression": expression, "values": values, "claims": claims}
        lines.append(json.dumps(entry) + "\n")
        work.append((compiled[expression], values))
    return lines, work


def measure(entries: int, questions: int, seed: int, distinct: bool, repeats: int) -> None:
    lines, work = generate(entries, questions, seed, distinct)
    read = best_of(repeats, lambda: list(read_batch(lines, "class.jsonl")))
    answers = list(read_batch(lines, "class.jsonl"))
    # a fresh Grader each time: every distinct expression is parsed inside the timing
    grading = best_of(repeats, lambda: grade_batch(answers, Grader()))
    reference = best_of(repeats, lambda: [micrograd_gradients(compiled, values) for compiled, values in work])
    summary = grade_batch(answers, Grader()).summary()
    title = "every entry a different expression" if distinct else f"{questions} questions, each answered at its own values"
    print(f"{title}:")
    print(
        f"  {summary['entries']:,} entries, {summary['claims']:,} claims, {summary['claims_wrong']:,} wrong "
        f"({summary['errors']} not graded); diagnoses: "
        + ", ".join(f"{code} {count}" for code, count in summary["diagnoses"].items() if count)
    )
    print(f"  reading the JSON lines: {read:.3f} s")
    print(f"  grading, diagnoses included: {grading:.3f} s = {entries / grading:,.0f} entries/s")
    print(f"  micrograd, gradients only:   {reference:.3f} s = {entries / reference:,.0f} entries/s")
    print(
        f"  ratio to micrograd: grading {grading / reference:.2f}x, reading and grading {(read + grading) / reference:.2f}x"
        " (goal: grading within 2x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    measure(arguments.entries, arguments.questions, arguments.seed, False, arguments.repeats)
    measure(arguments.entries, arguments.questions, arguments.seed, True, arguments.repeats)


if __name__ == "__main__":
    main()
