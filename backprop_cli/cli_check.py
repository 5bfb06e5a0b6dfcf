"""`backprop check`: grade a student's values and gradients, for one answer or a whole class."""

from __future__ import annotations

from enum import Enum

import typer

from .cli import COLOR_HELP, LANG_HELP, Color, ExpressionCommand, app, fail, read_expression, read_values


class BatchFormat(str, Enum):
    auto = "auto"
    jsonl = "jsonl"
    csv = "csv"


# an expression may start with '-' ("-x**2"): unknown options are read as arguments, as for grad
@app.command(cls=ExpressionCommand)
def check(
    expression: str | None = typer.Argument(None, metavar="EXPR", help="Expression or staged program ('q = x + y; f = q * z'); '-' reads standard input. Not with --batch."),
    assignments: list[str] | None = typer.Argument(None, metavar="[NAME=VALUE]...", help="Values of the variables, e.g. x=-2 y=5 z=-4 (fractions like 11/5 too)."),
    values_file: str | None = typer.Option(None, "--values", metavar="FILE", help="JSON object of name -> number; '-' reads standard input."),
    value: list[str] | None = typer.Option(None, "--value", metavar="V", help="Claimed value of the output."),
    grads: list[str] | None = typer.Option(None, "--grad", metavar="NAME=V", help="Claimed gradient d output / d NAME of an input (repeat for several)."),
    nodes: list[str] | None = typer.Option(None, "--node", metavar="NAME=V", help="Claimed forward value of an intermediate: a staged name (q), or a sub-expression (x+y)."),
    node_grads: list[str] | None = typer.Option(None, "--node-grad", metavar="NAME=V", help="Claimed gradient d output / d NAME of an intermediate."),
    batch: str | None = typer.Option(None, "--batch", metavar="FILE", help="Grade a whole class: JSON Lines (one answer per line) or CSV; '-' reads standard input."),
    batch_format: BatchFormat = typer.Option(BatchFormat.auto, "--batch-format", help="auto: CSV for a file ending in .csv, else JSON Lines (standard input too)."),
    rtol: float = typer.Option(1e-3, "--rtol", metavar="R", help="Relative tolerance: any correct rounding to 4 significant digits passes."),
    atol: float = typer.Option(1e-6, "--atol", metavar="A", help="Absolute tolerance, for answers that are (nearly) zero."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON report (docs/check.md) instead of tables."),
    junit: str | None = typer.Option(None, "--junit", metavar="FILE", help="Also write a JUnit XML report (one test case per claim) for CI autograders."),
    verify: bool = typer.Option(False, "--verify", help="Cross-check each entry's gradients with SymPy (slower; grading itself needs no SymPy)."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits shown (JSON always has full precision)."),
    color: Color = typer.Option(Color.auto, "--color", help=COLOR_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Grade claimed values and gradients; name the likely mistake and the step to look at.

    \b
    Examples:
      backprop check "(x+y)*z" x=-2 y=5 z=-4 --value -12 --grad x=4 --grad z=3
      backprop check "q = x + y; f = q * z" x=-2 y=5 z=-4 --node q=3 --node-grad q=-4
      backprop check "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --grad w0=-0.7311
      backprop check --batch answers.jsonl --junit report.xml
      backprop check --batch answers.csv --json

    \b
    Diagnoses (docs/check.md): sign, local-only, missed-accumulation, missing-local,
    mul-not-swapped, output-as-local-grad, max-routing, rounding, precedence, unknown.
    Exit codes: 0 every claim right, 1 some claim wrong, 2 bad input (in a batch: some entry
    could not be graded; the other entries are graded all the same).
    """
    import sys

    from .check import Grader, Report, grade_batch, make_claim, parse_assignment, read_batch
    from .errors import BackpropError, InputError
    from .i18n import _, set_language
    from .render.console import make_console

    stdin_used: list[bool] = []
    try:
        set_language(lang)  # an unknown --lang is bad input like any other
        grader = Grader(rtol, atol, verify)
        if batch is not None:
            given = [flag for flag, used in (("EXPR", expression), ("--value", value), ("--grad", grads), ("--node", nodes),
                                             ("--node-grad", node_grads), ("--values", values_file)) if used]
            if given:
                raise InputError(_("--batch takes the answers from the file: drop {given}").format(given=", ".join(given)))
            report = grade_batch(read_batch(_batch_lines(batch), batch, batch_format.value), grader)
        else:
            if expression is None:
                raise InputError(_("give EXPR and the claims (--value, --grad, --node, --node-grad), or --batch FILE"))
            text = read_expression(expression, stdin_used)
            values = read_values(assignments or [], values_file, stdin_used)
            claims = [make_claim("value", "", number) for number in value or []]
            for kind, option, given_claims in (("grad", "--grad", grads), ("node", "--node", nodes), ("node-grad", "--node-grad", node_grads)):
                for item in given_claims or []:
                    name, number = parse_assignment(item, option)
                    claims.append(make_claim(kind, name, number))
            report = Report([grader.grade(text, values, claims)])
    except (BackpropError, OSError, UnicodeDecodeError) as problem:
        if isinstance(problem, BackpropError):
            error = problem
        elif isinstance(problem, OSError):
            error = InputError(_("--batch: cannot read {file!r}: {reason}").format(file=batch, reason=problem.strerror))
        else:
            error = InputError(_("--batch: {file!r} is not UTF-8 text").format(file=batch))
        if junit is not None:  # a report of the error, so that CI never shows an earlier run's
            from .check import Graded

            try:
                _write_junit(junit, Report([Graded(batch or "answer", False, error=error.message)]))
            except BackpropError:
                pass  # the input error is the one to report
        fail(error)

    for entry in report.entries:
        who = f"{entry.where}: " if batch is not None else ""
        if entry.error:
            typer.echo(_("error: {who}{error}").format(who=who, error=entry.error), err=True)
        for warning in entry.warnings:
            typer.echo(_("warning: {who}{warning}").format(who=who, warning=warning), err=True)
    if junit is not None:
        try:
            _write_junit(junit, report)
        except BackpropError as error:
            fail(error)
    if json_out:
        from .render.check import write_report_json

        write_report_json(report, sys.stdout)
    else:
        from .render.check import render_answer, render_report

        console = make_console(color.value)
        if batch is not None:
            render_report(report, console, digits=digits)
        else:
            render_answer(report.entries[0], console, digits=digits)
    raise typer.Exit(report.exit_code)


def _write_junit(path: str, report) -> None:
    from .errors import InputError
    from .i18n import _
    from .render.check import junit_xml

    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(junit_xml(report))
    except OSError as error:
        raise InputError(_("--junit: cannot write {file!r}: {reason}").format(file=path, reason=error.strerror)) from None


def _batch_lines(name: str):
    """The lines of the batch file (standard input for '-'), read as they are graded."""
    import sys

    if name == "-":
        yield from sys.stdin
        return
    with open(name, encoding="utf-8", newline="") as handle:
        yield from handle
