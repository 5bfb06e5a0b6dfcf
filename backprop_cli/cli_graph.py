"""`backprop graph`: the computational graph as a tree, a circuit diagram (DOT, SVG, PNG, PDF) or Mermaid."""

from __future__ import annotations

from enum import Enum

import typer

from .cli import LANG_HELP, Color, ExpressionCommand, app, fail, read_expression, read_values, use_language


class GraphFormat(str, Enum):
    tree = "tree"
    dot = "dot"
    svg = "svg"
    png = "png"
    pdf = "pdf"
    mermaid = "mermaid"


#: The format a suffix of -o FILE stands for: --format is taken from it when not given, and a
#: --format that disagrees with it is an error (SVG text in a .png file opens nowhere).
SUFFIXES = {
    ".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf", ".mmd": "mermaid", ".mermaid": "mermaid",
}


@app.command(cls=ExpressionCommand)
def graph(
    expression: str = typer.Argument(..., metavar="EXPR", help="Expression or staged program ('q = x + y; f = q * z'); '-' reads standard input."),
    assignments: list[str] | None = typer.Argument(None, metavar="[NAME=VALUE]...", help="Values of the variables, e.g. x=-2 y=5 z=-4; without any, the structure only is drawn."),
    values_file: str | None = typer.Option(None, "--values", metavar="FILE", help="JSON object of name -> number; '-' reads standard input."),
    output_format: GraphFormat | None = typer.Option(None, "--format", help="tree (terminal, the default), dot (Graphviz text), svg/png/pdf (rendered by Graphviz's dot), mermaid. Guessed from -o FILE's suffix when not given."),
    output: str | None = typer.Option(None, "-o", "--output", metavar="FILE", help="Write to FILE instead of standard output (needed for png and pdf)."),
    max_nodes: int = typer.Option(200, "--max-nodes", min=1, help="Nodes drawn (dot, svg, png, pdf, mermaid: the ones nearest the output) or tree lines shown."),
    show_all: bool = typer.Option(False, "--all", help="Draw every node, however large the graph (the tree stays cut at --max-depth)."),
    max_depth: int = typer.Option(25, "--max-depth", min=1, max=200, help="Tree levels shown; deeper levels are cut with a note."),
    exact: bool = typer.Option(False, "--exact", help="Exact fractions where the gates allow it (2.2 is 11/5)."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits shown."),
    color: Color = typer.Option(Color.auto, "--color", help="Tree colours: auto (on a terminal only; NO_COLOR is honoured), always, never (plain text)."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Draw the computational graph of EXPR with every forward value and gradient.

    \b
    Examples:
      backprop graph "(x+y)*z" x=-2 y=5 z=-4
      backprop graph "(x+y)*z" x=-2 y=5 z=-4 --format dot
      backprop graph "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 -o neuron.svg
      backprop graph "(x+y)*z" x=-2 y=5 z=-4 --format mermaid

    Values are green, gradients red (CS231n style). Exit codes: 0 done, 2 bad input or Graphviz missing.
    """
    import sys
    from pathlib import Path

    from .api import build
    from .api import grad as compute
    from .errors import BackpropError, InputError
    from .i18n import _

    use_language(lang)
    limit = None if show_all else max_nodes
    stdin_used: list[bool] = []
    try:
        suffix = Path(output).suffix.lower() if output else ""
        if output_format is None:
            output_format = GraphFormat(SUFFIXES.get(suffix, "tree"))
        if output is not None and output_format is GraphFormat.tree:
            raise InputError(_("-o FILE is for dot, svg, png, pdf and mermaid; redirect the tree with > FILE"))
        if suffix in SUFFIXES and SUFFIXES[suffix] != output_format.value:
            expected = next(known for known, name in SUFFIXES.items() if name == output_format.value)
            raise InputError(
                _("--format {format} does not match -o {file!r} (a {suffix} file): leave out --format to write "
                  "{implied}, or name the file {name!r}").format(
                    format=output_format.value,
                    file=output,
                    suffix=suffix,
                    implied=SUFFIXES[suffix],
                    name=str(Path(output).with_suffix(expected)),
                )
            )
        if output is None and output_format in (GraphFormat.png, GraphFormat.pdf):
            raise InputError(_("--format {format} writes a binary file: pass -o FILE").format(format=output_format.value))
        text = read_expression(expression, stdin_used)
        values = read_values(assignments or [], values_file, stdin_used)
        result, circuit = None, None
        if not values:
            circuit = build(text)
        if values or not circuit.inputs:  # a graph of constants only has values without any given
            result = compute(text, values, exact=exact)
            circuit = result.graph
    except BackpropError as error:
        fail(error)
    for warning in result.warnings if result is not None else []:
        typer.echo(_("warning: {warning}").format(warning=warning), err=True)

    if output_format is GraphFormat.tree:
        from .render.console import make_console
        from .render.tree import render_graph_tree

        render_graph_tree(circuit, make_console(color.value), result, digits=digits, max_nodes=limit, max_depth=max_depth)
        return
    from .render.dot import cap_note, graph_dot, nearest_nodes, render

    if output_format is GraphFormat.mermaid:
        from .render.mermaid import graph_mermaid

        data: str | bytes = graph_mermaid(circuit, result, digits=digits, max_nodes=limit)
    else:
        dot = graph_dot(circuit, result, digits=digits, max_nodes=limit)
        try:
            data = dot.source if output_format is GraphFormat.dot else render(dot, output_format.value)
        except BackpropError as error:
            fail(error)
    shown, complete = nearest_nodes(circuit, limit)
    notes = ([] if complete else [cap_note(len(shown), len(circuit))]) + (result.notes if result is not None else [])
    for note in notes:  # standard output carries the drawing only
        typer.echo(_("note: {note}").format(note=note), err=True)
    if output is None:  # png and pdf were refused above: what is left is text
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        return
    try:
        Path(output).write_bytes(data if isinstance(data, bytes) else data.encode())
    except OSError as error:
        fail(InputError(_("cannot write {file!r}: {reason}").format(file=output, reason=error.strerror)))
    typer.echo(_("wrote {file} ({format})").format(file=output, format=output_format.value), err=True)
