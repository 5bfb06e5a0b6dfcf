"""Tutor mode commands: `backprop gates`, `backprop quiz`, `backprop worksheet`.

Thin: tutor.py computes (gate reference, exercises, grading), render/tutor.py formats.
"""

from __future__ import annotations

import sys

import typer

from .cli import COLOR_HELP, LANG_HELP, Color, app, fail, use_language

SEED_HELP = "Seed of the exercises: the same seed gives the same exercises (default: a random seed, shown)."
LEVEL_HELP = "1: one gate; 2: a small circuit like (x+y)*z; 3: a sigmoid neuron or a staged program with fan-out."


@app.command()
def gates(
    name: str | None = typer.Argument(
        None, metavar="[NAME]", help="One gate in depth, by name or operator (mul, '*', sigmoid)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the reference (and the worked example) as JSON."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits in the worked example."),
    color: Color = typer.Option(
        Color.auto, "--color", help=COLOR_HELP
    ),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Every gate: forward rule, local gradient(s) and intuition; NAME shows one with a worked example.

    \b
    Examples:
      backprop gates
      backprop gates mul
      backprop gates sigmoid --lang pt
    """
    from .errors import BackpropError
    from .render.console import make_console
    from .tutor import find_gate, gate_example, gate_info, gate_reference

    use_language(lang)
    console = make_console(color.value)
    if name is None:
        infos = gate_reference()
        if json_out:
            import json

            typer.echo(json.dumps([info.to_dict() for info in infos], ensure_ascii=False, indent=2))
            return
        from .render.tutor import render_gate_list

        render_gate_list(console, infos)
        return
    try:
        gate = find_gate(name)
        example = gate_example(gate)
    except BackpropError as error:
        fail(error)
    info = gate_info(gate)
    if json_out:
        import json

        document = info.to_dict()
        document["example"] = example.to_dict(steps=False)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    from .render.tutor import render_gate

    render_gate(console, info, example, digits)


@app.command()
def quiz(
    level: int = typer.Option(1, "--level", min=1, max=3, help=LEVEL_HELP),
    count: int = typer.Option(1, "--count", min=1, max=200, help="Number of exercises."),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
    color: Color = typer.Option(
        Color.auto, "--color", help=COLOR_HELP
    ),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Practise backprop: compute the forward values, then the gradients, one step at a time.

    Each answer is graded with the diagnoses of `backprop check`; '?' gives a hint, 'q' (or
    Ctrl-C, or the end of the input) stops with the score so far. Answers are read line by
    line from standard input when it is not a terminal, so a quiz can be scripted.

    \b
    Examples:
      backprop quiz
      backprop quiz --level 3 --seed 7
      printf '3\\n-12\\n' | backprop quiz --level 2 --seed 1
    """
    import random

    from .errors import BackpropError
    from .render.console import make_console
    from .render.tutor import line_ask, play_quiz, terminal_ask
    from .tutor import Quiz, exercises

    use_language(lang)
    if seed is None:
        seed = random.SystemRandom().randrange(1, 1_000_000)
    try:
        session = Quiz(exercises(level, count, seed), seed=seed)
    except BackpropError as error:
        fail(error)
    console = make_console(color.value)
    ask = terminal_ask(console) if sys.stdin.isatty() else line_ask(console, sys.stdin)
    play_quiz(session, console, ask)


@app.command()
def worksheet(
    count: int = typer.Option(10, "--count", min=1, max=200, help="Number of exercises."),
    level: int = typer.Option(2, "--level", min=1, max=3, help=LEVEL_HELP),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
    key: bool = typer.Option(False, "--key", help="The answer key instead of the exercises."),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="JSON Lines in the format of `backprop check --batch`: an answer file to fill in ('?' for every answer), or with --key the answers.",
    ),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Exercises for a class as Markdown, with a separate answer key; graded with `backprop check --batch`.

    \b
    Examples:
      backprop worksheet --count 10 --level 2 --seed 7 > worksheet.md
      backprop worksheet --count 10 --level 2 --seed 7 --key > answer-key.md
      backprop worksheet --count 10 --level 2 --seed 7 --json > answers.jsonl
      backprop check --batch answers.jsonl
    """
    import random

    from .errors import BackpropError
    from .tutor import batch_entry, exercises

    use_language(lang)
    if seed is None:
        seed = random.SystemRandom().randrange(1, 1_000_000)
    try:
        sheet = exercises(level, count, seed)
    except BackpropError as error:
        fail(error)
    results = [exercise.result() for exercise in sheet]
    if json_out:
        import json

        for exercise, result in zip(sheet, results):
            sys.stdout.write(json.dumps(batch_entry(exercise, result, answers=key), ensure_ascii=False) + "\n")
        return
    from .render.tutor import worksheet_markdown

    sys.stdout.write(worksheet_markdown(sheet, results, level=level, seed=seed, key=key))
