"""Write docs/cli.md from the `--help` text of every command, so the reference never goes stale.

    python scripts/make_cli_docs.py           # rewrite docs/cli.md
    python scripts/make_cli_docs.py --check   # exit 1 if docs/cli.md is out of date (the tests do this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from backprop_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"

INTRO = """# Command-line reference

Generated from `backprop --help` and `backprop COMMAND --help` by `python scripts/make_cli_docs.py`;
a test fails when this page and the program disagree. Examples and explanations are in the
[tutorial](tutorial.md); the JSON documents are described in [json.md](json.md).

Conventions shared by every command:

- Exit codes: 0 success, 1 see below, 2 bad input (or output that cannot be written, such
  as a full disk): one line on standard error, never a traceback (at a terminal, an error
  with a position adds the expression and a caret under the column). A closed pipe
  (`| head`) ends the program quietly, as it ends `cat`.
- Values: `NAME=VALUE` arguments (integers, decimals, exponents, fractions such as `11/5`) and
  `--values FILE`, a JSON object of name -> number (a string holding a number, such as
  `"11/5"`, is read like NAME=VALUE); `-` reads standard input.
- `grad` and `check` read an expression that starts with `-` (`backprop grad "-x**2" x=3`) as
  the expression, not as options.
- Exit code 1 means "a check failed": a wrong claim (`check`), an engine/SymPy disagreement
  (`grad`), or a diverging loss (`descend`, `net --train`).
- Colour and box drawing only on a terminal; `NO_COLOR` is honoured; `--color always` forces them.
- Shell completion: `backprop --install-completion`.
"""


def help_text(*words: str) -> str:
    result = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
    return "\n".join(line.rstrip() for line in result.stdout.splitlines()).strip("\n")


def render() -> str:
    group = typer.main.get_command(app)
    parts = [INTRO, "## backprop\n", "```text", help_text(), "```\n"]
    for name in sorted(group.commands):
        parts += [f"## backprop {name}\n", "```text", help_text(name), "```\n"]
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if TARGET.read_text() != text:
            print("docs/cli.md is out of date: run python scripts/make_cli_docs.py")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
