"""`backprop grad --format markdown`: the tables of `backprop grad` as GitHub-flavoured Markdown.

The same sections and columns as the terminal tables (render/terminal.py): forward pass,
backward pass, gradients with SymPy's derivatives. The sections are first built as a small
document of typed cells (code, number, math, text), which this module writes as Markdown and
render/latex.py writes as LaTeX, so the two formats cannot drift apart. No arithmetic here:
every number comes from the Result, the symbolic derivatives from SymPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..gates import CONST
from ..i18n import _
from ..numeric import approx, fmt
from ..result import Result

#: Longest LaTeX of one derivative written into a table cell.
MAX_LATEX_CHARS = 2_000


@dataclass(frozen=True)
class Code:
    """An expression, label or rule: monospace."""

    text: str


@dataclass(frozen=True)
class Num:
    """A formatted number."""

    text: str


@dataclass(frozen=True)
class Math:
    """Mathematics: LaTeX source, and the plain text Markdown shows instead when given."""

    latex: str
    plain: str | None = None


@dataclass(frozen=True)
class Strong:
    text: str


#: A cell or a paragraph: pieces written one after the other.
Part = str | Code | Num | Math | Strong
Cell = tuple[Part, ...]


@dataclass
class Table:
    title: str
    columns: list[str | Math]
    #: one letter per column: l (left) or r (right)
    align: str
    rows: list[list[Cell]] = field(default_factory=list)
    #: paragraphs between the title and the table
    before: list[Cell] = field(default_factory=list)


Block = Table | tuple  # a Table or a paragraph (a Cell)


def partial(output: str, name: str) -> Math:
    """d output / d name, as LaTeX and as the text the terminal shows."""
    return Math(rf"\partial {_math_name(output)}/\partial {_math_name(name)}", f"d{output}/d{name}")


def _math_name(name: str) -> str:
    return name if len(name) == 1 else rf"\mathit{{{name.replace('_', chr(92) + '_')}}}"


def symbolic_derivatives(result: Result, names: list[str]) -> tuple[str | None, dict[str, str], str]:
    """LaTeX of the function and of its derivative by each input in ``names``, via SymPy.

    Only when the cross-check used SymPy (so SymPy is known to cope with this graph);
    otherwise (None, {}, a note saying why they are missing).
    """
    from ..verify import SYMPY_MAX_DEPTH, SYMPY_MAX_NODES

    graph = result.graph
    check = result.check
    if check is None:
        return None, {}, _("symbolic derivatives not shown: the SymPy cross-check was skipped (--no-check)")
    if check.method != "sympy" or len(graph) > SYMPY_MAX_NODES or graph.depth() > SYMPY_MAX_DEPTH:
        reason = check.note or _("the graph is too large for SymPy")
        return None, {}, _("symbolic derivatives not shown: SymPy was not used ({reason})").format(reason=reason)
    import sympy as sp

    from ..verify import sympy_expressions

    symbols, expressions = sympy_expressions(graph)
    output = expressions[graph.output]
    derivatives = {name: sp.latex(sp.diff(output, symbols[name])) for name in names if name in symbols}
    return sp.latex(output), derivatives, ""


def grad_document(result: Result, *, digits: int = 6, wrt: list[str] | None = None) -> list[Block]:
    """The sections of `backprop grad` as paragraphs and tables of typed cells."""
    num = lambda value: Num(fmt(value, digits))  # noqa: E731 - a local shorthand keeps the rows readable
    graph = result.graph
    labels = graph.labels
    out = result.output
    blocks: list[Block] = [(Strong(_("Parsed:")), " ", Code(result.parsed))]

    forward = Table(_("Forward pass"), ["#", _("node"), _("gate"), _("inputs"), _("value")], "rlllr")
    for node in result.nodes():
        if graph.gates[node.id] is CONST:
            continue
        operands = ", ".join(labels[j] for j in node.inputs)
        forward.rows.append(
            [(str(node.id),), (Code(node.label),), (node.gate,), (Code(operands),) if operands else (), (num(node.value),)]
        )
    blocks.append(forward)

    fans_out = any(paths > 1 for paths, needed in zip(graph.fanout, graph.needs_grad) if needed)
    columns = [_("gate"), _("input"), _("upstream"), _("local gradient"), _("chained (up x local)"), _("accumulated")]
    backward = Table(
        _("Backward pass"),
        columns + ([_("fan-out")] if fans_out else []),
        "llrlrr" + ("l" if fans_out else ""),
        before=[(_("seed:") + " ", partial(out, out), " = 1 " + _("at the output node") + " ", Code(labels[graph.output]))],
    )
    for step in result.steps():
        local: Cell = (Code(result.rule(step)),)
        if not result.rule(step).endswith(f": {fmt(step.local, digits)}"):  # "add: 1" needs no "= 1"
            local += (" = ", num(step.local))
        row = [
            (Code(labels[step.gate]),),
            (Code(labels[step.input]),),
            (num(step.upstream),),
            local,
            (num(step.contribution),),
            (num(step.accumulated),),
        ]
        if fans_out:
            row.append((_("+= path {path} of {paths}").format(path=step.path, paths=step.paths),) if step.paths > 1 else ())
        backward.rows.append(row)
    blocks.append(backward)

    names = wrt or list(graph.inputs)
    function, derivatives, skipped = symbolic_derivatives(result, names)
    if function is not None:
        blocks.append((_("Function:") + " ", Math(f"{_math_name(out)} = {function}")))
    blocks.append(_gradient_table(result, names, derivatives, digits))
    if result.check is not None:
        check = result.check
        line = _("check: {method}").format(method=check.method)
        if check.note:
            line += f" ({check.note})"
        status = _("agrees") if check.ok else _("DISAGREES: this is a bug in the engine")
        blocks.append((f"{line}: {status}",))
        for item in check.items:
            if item.note:
                blocks.append((partial(out, item.name), f": {item.note}"))
    if skipped:
        blocks.append((_("note:") + " " + skipped,))
    for note in result.notes:
        blocks.append((_("note:") + " " + note,))
    return blocks


def _gradient_table(result: Result, names: list[str], derivatives: dict[str, str], digits: int) -> Table:
    graph = result.graph
    out = result.output
    columns: list[str | Math] = [_("input"), _("gradient")]
    align = "lr"
    if result.exact:
        columns.append(Math(r"\approx", "≈"))
        align += "r"
    check = {item.name: item for item in result.check.items} if result.check else {}
    if check:
        columns += [_("SymPy derivative"), _("SymPy value"), _("check")]
        align += "lrl"
    table = Table(_("Gradients of {output} = {value}").format(output=out, value=fmt(result.value, digits)), columns, align)
    for name in names:
        node = graph.inputs.get(name, graph.names.get(name))
        gradient = result.grads[node]
        row: list[Cell] = [(partial(out, name),), (Num(fmt(gradient, digits)),)]
        if result.exact:
            row.append((Num(approx(gradient, digits)),))
        item = check.get(name)
        if item is not None:
            latex = derivatives.get(name)
            if latex is None:
                symbolic: Cell = (Code(item.symbolic),) if item.symbolic else ()
            elif len(latex) > MAX_LATEX_CHARS:
                symbolic = (_("({count:,} characters of LaTeX: too long for a table)").format(count=len(latex)),)
            else:
                symbolic = (Math(latex),)
            mark = (_("ok") if not item.note else _("ok*")) if item.ok else _("MISMATCH")
            row += [symbolic, (Num(fmt(item.reference, digits)),), (mark,)]
        elif check:
            row += [(), (), ()]
        table.rows.append(row)
    return table


# ---------------------------------------------------------------------- Markdown

_MARKDOWN_SPECIAL = "\\`*_[]<>|$"


def escape_markdown(text: str) -> str:
    """Backslash-escape the characters Markdown (or a table) would read as syntax."""
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in text)


def markdown_part(part: Part, in_table: bool = False) -> str:
    """One piece as Markdown; in a table cell a '|' is escaped even inside code and math."""
    if isinstance(part, Code):
        text = f"`{part.text}`"
    elif isinstance(part, Num):
        text = part.text
    elif isinstance(part, Math):
        text = escape_markdown(part.plain) if part.plain is not None else f"${part.latex}$"
    elif isinstance(part, Strong):
        text = f"**{escape_markdown(part.text)}**"
    else:
        text = escape_markdown(part)
    raw = isinstance(part, Code) or (isinstance(part, Math) and part.plain is None)  # not backslash-escaped
    return text.replace("|", "\\|") if in_table and raw else text


def markdown_cell(cell: Cell, in_table: bool = False) -> str:
    return "".join(markdown_part(part, in_table) for part in cell)


def grad_markdown(result: Result, *, digits: int = 6, wrt: list[str] | None = None) -> str:
    """The forward, backward and gradient tables as GitHub-flavoured Markdown."""
    lines: list[str] = []
    for block in grad_document(result, digits=digits, wrt=wrt):
        if isinstance(block, Table):
            lines += [f"### {escape_markdown(block.title)}", ""]
            for paragraph in block.before:
                lines += [markdown_cell(paragraph), ""]
            lines.append("| " + " | ".join(markdown_part(column, True) for column in block.columns) + " |")
            lines.append("|" + "|".join("---:" if a == "r" else "---" for a in block.align) + "|")
            lines += ["| " + " | ".join(markdown_cell(cell, True) for cell in row) + " |" for row in block.rows]
        else:
            lines.append(markdown_cell(block))
        lines.append("")
    return "\n".join(lines)
