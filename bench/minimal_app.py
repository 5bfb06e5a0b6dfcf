"""The start-up floor: the smallest Typer app shaped like `backprop grad`.

One command with a string argument, a list argument and two flags, printing a small Rich
table. ``--check`` imports SymPy, as `backprop grad` does for its cross-check, so the same
app is also the floor for the checked path. Run as ``python bench/minimal_app.py EXPR x=1``.
"""

from __future__ import annotations

import typer

app = typer.Typer()


@app.command()
def grad(
    expression: str = typer.Argument(..., help="An expression."),
    assignments: list[str] | None = typer.Argument(None, help="NAME=VALUE pairs."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    check: bool = typer.Option(False, "--check", help="Import SymPy first."),
) -> None:
    """Print the assignments as a small table."""
    if check:
        import sympy  # noqa: F401

    from rich.console import Console
    from rich.table import Table

    table = Table(title=expression)
    table.add_column("name")
    table.add_column("value", justify="right")
    for assignment in assignments or []:
        name, _, value = assignment.partition("=")
        table.add_row(name, value)
    Console().print(table)


if __name__ == "__main__":
    app()
