"""The Typer app: arguments in, one API call, a renderer out -- nothing else.

Imports beyond Typer happen inside the commands, so `backprop --help` stays fast and only
the SymPy cross-check pays for SymPy.
"""

from __future__ import annotations

import os
import re
import sys
from enum import Enum

import typer

from . import __version__
from .errors import BackpropError, InputError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: a word shaped like a long option ("--json", "--jsn=1"); "---x" or "--x*y" are expressions
_LONG_OPTION = re.compile(r"--[A-Za-z][A-Za-z0-9]+(-[A-Za-z0-9]+)*(=.*)?", re.DOTALL)


class OneLineErrors(typer.core.TyperGroup):
    """Every usage error (unknown option, value out of range ...) as one line on stderr, exit 2.

    Typer would draw a panel; scripts and students both read one line better.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from .i18n import _

        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # plain `backprop`: the help is already shown
                sys.exit(0)
            context = getattr(error, "ctx", None)
            where = f" (see {context.command_path} --help)" if context is not None else ""
            message = error.format_message()
            message = message if len(message) <= 300 else message[:150] + "..."
            typer.echo(_("error: {message}").format(message=message) + where, err=True)
            sys.exit(error.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            typer.echo(_("interrupted"), err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


class ExpressionCommand(typer.core.TyperCommand):
    """A command whose expression may start with '-' ("-x**2", "-tanh(x)").

    Click would read such a word as a bundle of short options (and "-tanh" holds "-h", the
    help). A word that starts with '-', is not shaped like an option and is not the value of
    one gets a leading space, which the parser skips; mistyped long options ("--jsn") still
    get "No such option".
    """

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        options = [param for param in self.params if param.param_type_name == "option"]
        declared = {name for param in options for name in param.opts + param.secondary_opts}
        declared.update(ctx.help_option_names)
        takes_value = {name for param in options if not param.is_flag for name in param.opts}
        words: list[str] = []
        for word in args:
            after_value_option = bool(words) and words[-1] in takes_value
            if word == "--":
                words.extend(args[len(words):])
                break
            option_like = word in declared or _LONG_OPTION.fullmatch(word)
            if word.startswith("-") and len(word) > 1 and not option_like and not after_value_option:
                word = " " + word
            words.append(word)
        return super().parse_args(ctx, words)


app = typer.Typer(
    name="backprop",
    cls=OneLineErrors,
    help="A backprop tutor and calculator: forward values, local gradients and the chain rule, step by step.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class GradFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    latex = "latex"


class CheckMethod(str, Enum):
    auto = "auto"
    sympy = "sympy"
    finite_difference = "finite-difference"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"backprop {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """A backprop tutor and calculator."""


COLOR_HELP = "auto: colour and box drawing on a terminal only (NO_COLOR is honoured); always; never: plain text, as in a pipe."
LANG_HELP = "Language of the prose: en, pt or zh (default: from LANG, else English)."


def fail(error: BackpropError) -> None:
    """Report a user error as one line on stderr and exit 2. At a terminal, an error with a
    position also shows the source line and a caret under the column; scripts reading
    stderr always get the one line."""
    from .i18n import _

    typer.echo(_("error: {message}").format(message=error.message), err=True)
    if error.detail and stderr_is_terminal():
        typer.echo(error.detail, err=True)
    raise typer.Exit(2)


def use_language(lang: str | None) -> None:
    """set_language for a command: an unknown --lang is one error line and exit 2."""
    from .i18n import set_language

    try:
        set_language(lang)
    except BackpropError as error:
        fail(error)


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


def read_stdin_once(used: list[bool]) -> str:
    from .i18n import _

    if used:
        raise InputError(_("standard input can be read only once (EXPR - and --values - together)"))
    used.append(True)
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:
        return sys.stdin.read()
    data = raw.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            _("standard input is not valid UTF-8 (byte {offset})").format(offset=error.start + 1)
        ) from None


def read_expression(expression: str, stdin_used: list[bool]) -> str:
    return read_stdin_once(stdin_used) if expression == "-" else expression


def read_values(assignments: list[str], values_file: str | None, stdin_used: list[bool]) -> dict[str, str]:
    """Collect NAME=VALUE arguments over the values of --values FILE (a JSON object)."""
    import json

    from .i18n import _
    from .parse import short_name

    values: dict[str, str] = {}
    if values_file is not None:
        if values_file == "-":
            text = read_stdin_once(stdin_used)
        else:
            try:
                with open(values_file, encoding="utf-8-sig") as handle:  # (a byte-order mark is skipped)
                    text = handle.read()
            except OSError as error:
                raise InputError(
                    _("--values: cannot read {file!r}: {reason}").format(file=values_file, reason=error.strerror)
                ) from None
            except UnicodeDecodeError as error:
                raise InputError(
                    _("--values: {file!r} is not valid UTF-8 (byte {offset})").format(file=values_file, offset=error.start + 1)
                ) from None
        try:
            loaded = json.loads(
                text, parse_float=str, parse_int=str, parse_constant=str, object_pairs_hook=_unique_keys
            )
        except InputError:
            raise
        except ValueError as error:
            raise InputError(
                _("--values: {file!r} is not valid JSON ({reason})").format(file=values_file, reason=error)
            ) from None
        if not isinstance(loaded, dict):
            raise InputError(_("--values: {file!r} must hold a JSON object of name -> number").format(file=values_file))
        for name, value in loaded.items():
            if not _NAME.fullmatch(name):  # as for NAME=VALUE: no expression can use it
                raise InputError(_("--values: {name!r} is not a name backprop reads (letters, digits and _, "
                                   "not starting with a digit)").format(name=short_name(name)))
            if not isinstance(value, str) or value in ("NaN", "Infinity", "-Infinity"):
                shown = json.dumps(value)
                shown = shown if len(shown) <= 40 else f"{shown[:20]}... ({len(shown):,} characters)"
                raise InputError(
                    _("--values: value of {name!r} must be a number, got {value}").format(name=short_name(name), value=shown)
                )
            values[name] = value
    given: dict[str, str] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        name = name.strip()
        if sep and name and not name.isascii():  # α=2: the expression cannot have such a name either
            raise InputError(
                _("{name!r} is not a name backprop reads: names are ASCII letters, digits and _ (for example alpha)").format(
                    name=short_name(name)
                )
            )
        if not sep or not _NAME.fullmatch(name):
            raise InputError(_("expected NAME=VALUE, got {text!r} (for example x=-2)").format(text=short_name(assignment)))
        if name in given and given[name].strip() != value.strip():
            raise InputError(
                _("{name} is given twice ({first} and {second}): which one did you mean?").format(
                    name=name, first=given[name], second=value
                )
            )
        given[name] = value
    values.update(given)  # arguments win over the values file
    return values


def _unique_keys(pairs: list) -> dict:
    """A JSON object that names a key twice is ambiguous: say so instead of keeping the last."""
    from .i18n import _

    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise InputError(_("--values: {name!r} is given twice").format(name=key))
        result[key] = value
    return result


def given(ctx: typer.Context, name: str) -> bool:
    """Whether the user set the option ``name`` (by its parameter name), rather than leaving its default."""
    source = ctx.get_parameter_source(name)  # by name: its enum lives in Typer's private copy of Click
    return source is not None and source.name != "DEFAULT"


def split_wrt(options: list[str] | None) -> list[str] | None:
    """The names of --wrt, given once or more, each a name or a comma list ("--wrt w,b" is
    "--wrt w --wrt b"), in order; None when --wrt is not given. A name given twice is an error
    rather than merged: `--wrt w,w` is more often a typo for `w,b` than a wish."""
    if not options:
        return None
    from .i18n import _

    names: list[str] = []
    for option in options:
        for name in (part.strip() for part in option.split(",")):
            if not name:
                continue
            if name in names:
                raise InputError(_("--wrt names {name!r} twice: give each variable once").format(name=name))
            names.append(name)
    if not names:
        raise InputError(_("--wrt needs at least one variable (for example --wrt x or --wrt w,b)"))
    return names


def wrt_names(wrt: list[str] | None, graph) -> list[str] | None:
    names = split_wrt(wrt)
    if names is None:
        return None
    from .i18n import _

    known = list(graph.inputs) + list(graph.names)
    for name in names:
        if name not in known:
            shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            raise InputError(
                _("--wrt: {name!r} is not a variable of the expression (known: {known})").format(name=name, known=shown)
            )
    return names


@app.command(cls=ExpressionCommand)
def grad(
    ctx: typer.Context,
    expression: str = typer.Argument(..., metavar="EXPR", help="Expression or staged program ('q = x + y; f = q * z'); '-' reads standard input."),
    assignments: list[str] | None = typer.Argument(None, metavar="[NAME=VALUE]...", help="Values of the variables, e.g. x=-2 y=5 z=-4 (fractions like 11/5 too)."),
    values_file: str | None = typer.Option(None, "--values", metavar="FILE", help="JSON object of name -> number; '-' reads standard input."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document (docs/json.md) instead of tables (the same as --format json)."),
    output_format: GradFormat = typer.Option(GradFormat.text, "--format", help="text (Rich tables), json, markdown (GitHub tables) or latex (tabular); not with --json."),
    explain: bool = typer.Option(False, "--explain", help="After the tables, narrate the forward and backward pass in words."),
    no_check: bool = typer.Option(False, "--no-check", help="Skip the SymPy cross-check (faster; SymPy is not even imported)."),
    check_method: CheckMethod = typer.Option(CheckMethod.auto, "--check-method", help="auto: SymPy for small graphs, finite differences for large ones."),
    exact: bool = typer.Option(False, "--exact", help="Exact fractions where the gates allow it (2.2 is 11/5)."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits shown (JSON always has full precision)."),
    wrt: list[str] | None = typer.Option(None, "--wrt", metavar="A,B", help="Only these gradients in the summary (inputs or named intermediates); a comma list, or repeat --wrt."),
    summary: bool = typer.Option(False, "--summary", help="Only the value and gradients: no forward/backward tables (JSON: no nodes/backward lists); text and JSON only."),
    max_rows: int = typer.Option(500, "--max-rows", min=0, help="Rows shown per table; 0 shows all."),
    color: Color = typer.Option(Color.auto, "--color", help=COLOR_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Forward and backward pass of EXPR, step by step, cross-checked with SymPy.

    \b
    Examples:
      backprop grad "(x+y)*z" x=-2 y=5 z=-4
      backprop grad "q = x + y; f = q * z" x=-2 y=5 z=-4
      backprop grad "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3
      backprop grad "apple*apple_num*tax" apple=100 apple_num=2 tax=1.1 --exact
      backprop grad "x*x + x" x=3 --json --no-check

    Exit codes: 0 done, 1 the cross-check disagrees (a bug in the engine), 2 bad input.
    """
    from .api import grad as compute
    from .i18n import _, set_language
    from .render.console import make_console

    stdin_used: list[bool] = []
    try:
        set_language(lang)
        if json_out and given(ctx, "output_format") and output_format is not GradFormat.json:
            raise InputError(_("--json and --format {format} ask for two different outputs: keep one").format(
                format=output_format.value))
        if json_out:
            output_format = GradFormat.json
        if summary and output_format in (GradFormat.markdown, GradFormat.latex):
            raise InputError(_("--summary shortens the text tables and JSON; --format {format} always prints every table").format(
                format=output_format.value))
        if explain and output_format is not GradFormat.text:
            raise InputError(_("--explain narrates the text tables; it cannot be mixed into --format {format}").format(
                format=output_format.value))
        text = read_expression(expression, stdin_used)
        values = read_values(assignments or [], values_file, stdin_used)
        result = compute(text, values, exact=exact, check=not no_check, check_method=check_method.value)
        names = wrt_names(wrt, result.graph)
    except BackpropError as error:
        fail(error)
    if not result.graph.inputs and not names:  # the gradient tables would be empty: say why
        result.notes.append(_("the expression has no variables, so there are no gradients"))
    for warning in result.warnings:
        typer.echo(_("warning: {message}").format(message=warning), err=True)
    console = make_console(color.value)
    if output_format is GradFormat.json:
        from .render.json import write_json

        try:
            write_json(result, sys.stdout, steps=not summary, wrt=names)
        except BackpropError as error:  # an exact value beyond the range of a JSON number
            fail(error)
    elif output_format is GradFormat.markdown:
        from .render.markdown import grad_markdown

        sys.stdout.write(grad_markdown(result, digits=digits, wrt=names))
    elif output_format is GradFormat.latex:
        from .render.latex import grad_latex

        sys.stdout.write(grad_latex(result, digits=digits, wrt=names))
    else:
        from .render.terminal import render_grad

        render_grad(result, console, digits=digits, wrt=names, max_rows=max_rows, summary=summary)
    if explain:
        from .explain import render_explanation

        render_explanation(result, console, digits=digits)
    if result.check is not None and not result.check.ok:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point: every error is one line on stderr, never a traceback."""
    import signal

    from .i18n import _

    if hasattr(signal, "SIGPIPE"):  # `backprop ... | head` ends quietly, as cat or grep would
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    keep_only_the_command_asked_for(sys.argv[1:])
    if sys.stdout is None:  # started with standard output closed (>&-): the output goes nowhere
        sys.stdout = open(os.devnull, "w")
    try:
        try:
            app()
        finally:
            sys.stdout.flush()  # a full disk shows here (even after sys.exit), not at exit
    except OSError as error:  # the output cannot be written (a full disk): one line, not a traceback
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        except (OSError, ValueError):
            pass
        typer.echo(_("error: cannot write the output: {reason}").format(reason=error.strerror or error), err=True)
        sys.exit(2)
    except RecursionError:  # pragma: no cover - the engine has no recursion; this is a safety net
        typer.echo(_("error: input nested too deeply"), err=True)
        sys.exit(2)
    except MemoryError:  # pragma: no cover
        typer.echo(_("error: out of memory: the input is too large"), err=True)
        sys.exit(2)


def keep_only_the_command_asked_for(words: list[str]) -> None:
    """Typer turns every registered command into a Click command on each run, about 1 ms
    apiece; `backprop grad ...` needs only grad. Without a command name (`backprop --help`)
    or with an unknown one (which gets Click's list of commands), every command stays."""
    from typer.main import get_command_name

    named = next((word for word in words if not word.startswith("-")), None)
    chosen = [
        command for command in app.registered_commands
        if (command.name or get_command_name(command.callback.__name__)) == named
    ]
    if chosen:
        app.registered_commands = chosen


# Commands of the later issues live in modules of their own and register on `app` when imported.
from . import cli_check, cli_graph, cli_net, cli_tutor  # noqa: E402,F401
