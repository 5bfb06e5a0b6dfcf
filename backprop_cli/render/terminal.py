"""`backprop grad` as Rich tables: parsed echo, forward pass, backward pass, gradients."""

from __future__ import annotations

from itertools import islice

from ..gates import CONST
from ..numeric import fmt, to_float
from ..result import Result
from .console import table_box

#: Longest symbolic derivative shown in the terminal (JSON carries it whole).
MAX_SYMBOLIC_CHARS = 60
#: Longer echoes are printed as one line, not wrapped to the width of the console.
LONG_ECHO_CHARS = 10_000


def render_grad(
    result: Result,
    console,
    *,
    digits: int = 6,
    wrt: list[str] | None = None,
    max_rows: int = 500,
    summary: bool = False,
) -> None:
    """Print every section of `backprop grad` to a Rich console."""
    from rich.table import Table
    from rich.text import Text

    num = lambda v: fmt(v, digits)  # noqa: E731 - a local shorthand keeps the rows readable
    graph = result.graph
    box = table_box(console)

    # a generated expression can echo to megabytes: past LONG_ECHO_CHARS the line is left to
    # the terminal to wrap (Rich would spend seconds cutting it into lines)
    parsed = Text.assemble(("Parsed:", "bold"), " ", result.parsed)
    console.print(parsed, soft_wrap=len(result.parsed) > LONG_ECHO_CHARS)
    if not summary:
        labels = graph.labels  # composed on first use: --summary never pays for them
        forward = Table(title="Forward pass", box=box, title_justify="left")
        for column in ("#", "node", "gate", "inputs", "value"):
            forward.add_column(column, justify="right" if column in ("#", "value") else "left")
        rows = (n for n in result.nodes() if graph.gates[n.id] is not CONST)
        shown = 0
        for node in islice(rows, max_rows or None):
            shown += 1
            operands = ", ".join(labels[j] for j in node.inputs)
            forward.add_row(str(node.id), _escape(node.label), node.gate, _escape(operands), f"[green]{num(node.value)}[/]")
        console.print(forward)
        _hidden(console, sum(1 for g in graph.gates if g is not CONST) - shown, max_rows)

        backward = Table(title="Backward pass", box=box, title_justify="left")
        fans_out = any(paths > 1 for paths, needed in zip(graph.fanout, graph.needs_grad) if needed)
        columns = ["gate", "input", "upstream", "local gradient", "chained (up x local)", "accumulated"]
        for column in columns + (["fan-out"] if fans_out else []):
            left = column in ("gate", "input", "local gradient", "fan-out")
            backward.add_column(column, justify="left" if left else "right")
        console.print(
            f"seed: d{result.output}/d{result.output} = 1 at the output node {_escape(labels[graph.output])!s}"
        )
        shown = 0
        total = graph.step_count()
        for step in islice(result.steps(), max_rows or None):
            shown += 1
            rule = result.rule(step)
            if not rule.endswith(f": {num(step.local)}"):  # "add: 1" needs no "= 1"
                rule += f" = {num(step.local)}"
            row = [
                _escape(labels[step.gate]),
                _escape(labels[step.input]),
                num(step.upstream),
                _escape(rule),
                num(step.contribution),
                f"[red]{num(step.accumulated)}[/]",
            ]
            if fans_out:
                row.append(f"+= path {step.path} of {step.paths}" if step.paths > 1 else "")
            backward.add_row(*row)
        console.print(backward)
        _hidden(console, total - shown, max_rows)

    render_gradients(result, console, digits=digits, wrt=wrt, max_rows=max_rows)
    for note in result.notes:
        console.print(f"note: {_escape(note)}")


def render_gradients(
    result: Result, console, *, digits: int = 6, wrt: list[str] | None = None, max_rows: int = 0
) -> None:
    """The gradients table (at most max_rows rows; 0 shows all) and the check's verdict."""
    from rich.table import Table

    num = lambda v: fmt(v, digits)  # noqa: E731
    out = result.output
    graph = result.graph
    table = Table(title=f"Gradients of {out} = {fmt(result.value, digits)}", box=table_box(console), title_justify="left")
    table.add_column("input")
    table.add_column("gradient", justify="right")
    if result.exact:
        table.add_column("≈", justify="right")
    check = {item.name: item for item in result.check.items} if result.check else {}
    if check:
        for column in ("SymPy derivative", "SymPy value", "check"):
            table.add_column(column, justify="right" if column != "SymPy derivative" else "left")
    names = wrt or list(graph.inputs)
    for name in islice(names, max_rows or None):
        node = graph.inputs.get(name, graph.names.get(name))
        gradient = result.grads[node]
        row = [f"d{out}/d{name}", f"[red]{num(gradient)}[/]"]
        if result.exact:
            row.append(fmt(to_float(gradient), digits))
        item = check.get(name)
        if item is not None:
            symbolic = item.symbolic or ""
            if len(symbolic) > MAX_SYMBOLIC_CHARS:
                symbolic = symbolic[: MAX_SYMBOLIC_CHARS - 3] + "..."
            mark = ("[green]ok[/]" if not item.note else "[yellow]ok*[/]") if item.ok else "[bold red]MISMATCH[/]"
            row += [_escape(symbolic), fmt(item.reference, digits), mark]
        elif check:
            row += ["", "", ""]
        table.add_row(*row)
    console.print(table)
    _hidden(console, len(names) - min(len(names), max_rows or len(names)), max_rows)
    if result.check is not None:
        check_line = f"check: {result.check.method}"
        if result.check.note:
            check_line += f" ({result.check.note})"
        status = "[green]agrees[/]" if result.check.ok else "[bold red]DISAGREES: this is a bug in the engine[/]"
        console.print(f"{_escape(check_line)}: {status}")
        for item in result.check.items:
            if item.note:
                console.print(f"  d{out}/d{item.name}: {_escape(item.note)}")


def _hidden(console, count: int, max_rows: int) -> None:
    if count > 0:
        console.print(f"... {count:,} more rows not shown (--max-rows {max_rows}; --max-rows 0 shows all)")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
