"""`backprop grad` as Rich tables: parsed echo, forward pass, backward pass, gradients."""

from __future__ import annotations

from itertools import islice

from ..gates import CONST
from ..i18n import _
from ..numeric import approx, fmt
from ..result import Result
from .console import print_title, table_box

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
    parsed = Text.assemble((_("Parsed:"), "bold"), " ", result.parsed)
    console.print(parsed, soft_wrap=len(result.parsed) > LONG_ECHO_CHARS)
    if not summary:
        labels = graph.labels  # composed on first use: --summary never pays for them
        print_title(console, _("Forward pass"))
        forward = Table(box=box)
        columns = [("#", "right"), (_("node"), "left"), (_("gate"), "left"), (_("inputs"), "left"), (_("value"), "right")]
        for column, justify in columns:
            forward.add_column(column, justify=justify)
        rows = (n for n in result.nodes() if graph.gates[n.id] is not CONST)
        shown = 0
        for node in islice(rows, max_rows or None):
            shown += 1
            operands = ", ".join(labels[j] for j in node.inputs)
            forward.add_row(str(node.id), _escape(node.label), node.gate, _escape(operands), f"[green]{num(node.value)}[/]")
        console.print(forward)
        _hidden(console, sum(1 for g in graph.gates if g is not CONST) - shown, max_rows)

        print_title(console, _("Backward pass"))
        console.print(
            _("seed: d{output}/d{output} = 1 at the output node {node}").format(
                output=result.output, node=_escape(labels[graph.output])
            )
        )
        backward = Table(box=box)
        fans_out = any(paths > 1 for paths, needed in zip(graph.fanout, graph.needs_grad) if needed)
        columns = [
            (_("gate"), "left"),
            (_("input"), "left"),
            (_("upstream"), "right"),
            (_("local gradient"), "left"),
            (_("chained (up x local)"), "right"),
            (_("accumulated"), "right"),
        ]
        for column, justify in columns + ([(_("fan-out"), "left")] if fans_out else []):
            backward.add_column(column, justify=justify)
        shown = 0
        total = graph.step_count()
        for step in islice(result.steps(), max_rows or None):
            shown += 1
            gate = graph.gates[step.gate]
            rule = f"{gate.name}: {_(gate.rule(step.position))}"
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
                row.append(_("+= path {path} of {paths}").format(path=step.path, paths=step.paths) if step.paths > 1 else "")
            backward.add_row(*row)
        console.print(backward)
        _hidden(console, total - shown, max_rows)

    render_gradients(result, console, digits=digits, wrt=wrt, max_rows=max_rows)
    for note in result.notes:
        console.print(_("note: {note}").format(note=_escape(note)))


def render_gradients(
    result: Result, console, *, digits: int = 6, wrt: list[str] | None = None, max_rows: int = 0
) -> None:
    """The gradients table (at most max_rows rows; 0 shows all) and the check's verdict."""
    from rich.table import Table

    num = lambda v: fmt(v, digits)  # noqa: E731
    out = result.output
    graph = result.graph
    print_title(console, _("Gradients of {output} = {value}").format(output=out, value=fmt(result.value, digits)))
    table = Table(box=table_box(console))
    table.add_column(_("input"))
    table.add_column(_("gradient"), justify="right")
    if result.exact:
        table.add_column("≈", justify="right")
    check = {item.name: item for item in result.check.items} if result.check else {}
    if check:
        table.add_column(_("SymPy derivative"))
        table.add_column(_("SymPy value"), justify="right")
        table.add_column(_("check"), justify="right")
    names = wrt or list(graph.inputs)
    for name in islice(names, max_rows or None):
        node = graph.inputs.get(name, graph.names.get(name))
        gradient = result.grads[node]
        row = [f"d{out}/d{name}", f"[red]{num(gradient)}[/]"]
        if result.exact:
            row.append(approx(gradient, digits))
        item = check.get(name)
        if item is not None:
            symbolic = item.symbolic or ""
            if len(symbolic) > MAX_SYMBOLIC_CHARS:
                symbolic = symbolic[: MAX_SYMBOLIC_CHARS - 3] + "..."
            if not item.ok:
                mark = f"[bold red]{_('MISMATCH')}[/]"
            else:
                mark = f"[green]{_('ok')}[/]" if not item.note else f"[yellow]{_('ok')}*[/]"
            row += [_escape(symbolic), fmt(item.reference, digits), mark]
        elif check:
            row += [_("(intermediate: not checked)") if name not in graph.inputs else "", "", ""]
        table.add_row(*row)
    console.print(table)
    _hidden(console, len(names) - min(len(names), max_rows or len(names)), max_rows)
    if result.check is not None:
        render_check_verdict(result, console)


def render_check_verdict(result: Result, console) -> None:
    check = result.check
    line = _("check: {method}").format(method=check.method)
    if check.note:
        line += f" ({_escape(check.note)})"
    if check.skipped:
        status = f"[yellow]{_('skipped')}[/]"
    elif check.ok:
        status = f"[green]{_('agrees')}[/]"
    else:
        status = f"[bold red]{_('DISAGREES: this is a bug in the engine')}[/]"
    console.print(f"{line}: {status}")
    for item in check.items:
        if item.note:
            console.print(f"  d{result.output}/d{item.name}: {_escape(item.note)}")


def _hidden(console, count: int, max_rows: int) -> None:
    if count > 0:
        message = _("... {count} more row not shown") if count == 1 else _("... {count} more rows not shown")
        console.print(
            message.format(count=f"{count:,}") + " " + _("(--max-rows {rows}; --max-rows 0 shows all)").format(rows=max_rows)
        )


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
