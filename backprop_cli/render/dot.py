"""`backprop graph --format dot`: the graph as a circuit diagram in Graphviz DOT.

Drawn the way the CS231n notes draw circuits: left to right, inputs on the left, one circle
per gate, and on every wire the forward value (green, above) and the gradient flowing back
along it (red, below). A value that fans out has one wire per use, each with its own share of
the gradient; the shares add up at the node.

The DOT text is built with the `graphviz` package (which does the quoting); rendering to
SVG, PNG or PDF runs Graphviz's `dot` program. This module also holds what the Mermaid and
tree views share: which nodes to draw when the graph is large, and the gradient per wire.
"""

from __future__ import annotations

from collections import deque
from html import escape

from ..errors import BackpropError
from ..gates import CONST, INPUT
from ..graph import Graph
from ..i18n import _
from ..numeric import Number, fmt
from ..parse import echo
from ..result import Result

#: Nodes drawn by default; the ones nearest the output are kept (`--all` draws every node).
MAX_NODES = 200
#: Above this many drawn nodes wires are straight lines: routing curved wires around long
#: edges took Graphviz over 10 s on 200-node drawings, straight ones take under 1 s.
CURVED_MAX_NODES = 60
#: Longest echo of the expression shown in a title.
MAX_TITLE_CHARS = 100

VALUE_COLOR = "#1b7f3b"
GRAD_COLOR = "#c0392b"
FONT = "Helvetica,Arial,sans-serif"

#: What `dot` needs to be installed, in the message shown when it is missing.
INSTALL_HINT = (
    "Debian/Ubuntu: sudo apt-get install graphviz; Fedora: sudo dnf install graphviz; "
    "macOS: brew install graphviz; Windows: winget install graphviz; or https://graphviz.org/download/"
)


class GraphvizError(BackpropError):
    """Graphviz's `dot` program is missing or failed."""


def nearest_nodes(graph: Graph, limit: int | None) -> tuple[list[int], bool]:
    """Nodes that feed the output, breadth first from it (nearest first), at most ``limit``.

    Returns the nodes and whether they are all of them. A flat queue, no recursion.
    """
    seen = [False] * len(graph)
    seen[graph.output] = True
    order = [graph.output]
    queue = deque(order)
    while queue:
        for j in graph.args[queue.popleft()]:
            if not seen[j]:
                if limit is not None and len(order) >= limit:
                    return order, False
                seen[j] = True
                order.append(j)
                queue.append(j)
    return order, True


def edge_gradients(result: Result | None) -> dict[tuple[int, int], Number]:
    """(gate, input position) -> the gradient flowing back along that wire (upstream x local).

    Wires into constants carry none: nothing needs their gradient.
    """
    if result is None:
        return {}
    return {(step.gate, step.position): step.contribution for step in result.steps()}


def gate_symbol(graph: Graph, node: int) -> str:
    """What a gate's circle shows: its operator (+, *) or its name (exp, sigmoid)."""
    gate = graph.gates[node]
    return gate.symbol or gate.name


def staged_name(graph: Graph, node: int) -> str | None:
    """The name a staged program gave this intermediate (``q`` in ``q = x + y``), if any."""
    label = graph.labels[node]
    return label if graph.names.get(label) == node and graph.gates[node] not in (INPUT, CONST) else None


def title(graph: Graph, result: Result | None, digits: int) -> str:
    """One line saying what is drawn: ``f = ((x + y) * z) at x = -2, y = 5, z = -4``."""
    text = echo(graph.program)
    if len(text) > MAX_TITLE_CHARS:
        text = text[: MAX_TITLE_CHARS - 3] + "..."
    if graph.program.statements[-1][0] is None:
        text = f"{graph.output_name} = {text}"
    if result is not None and result.inputs:
        shown = ", ".join(f"{name} = {fmt(value, digits)}" for name, value in list(result.inputs.items())[:8])
        if len(result.inputs) > 8:
            shown += ", ..."
        text = _("{expression} at {values}").format(expression=text, values=shown)
    return text


def cap_note(shown: int, total: int) -> str:
    return _("showing the {shown:,} nodes nearest the output of {total:,}; --all draws every node").format(
        shown=shown, total=total
    )


def graph_dot(graph: Graph, result: Result | None = None, *, digits: int = 6, max_nodes: int | None = MAX_NODES):
    """The circuit as a ``graphviz.Digraph`` (``.source`` is the DOT text).

    ``result`` None draws the structure only (no values). Past ``max_nodes`` nodes only the
    ones nearest the output are drawn; the wires into the rest start at dashed boxes.
    """
    import graphviz

    shown, complete = nearest_nodes(graph, max_nodes)
    is_shown = set(shown)
    edges = edge_gradients(result)
    values = result.values if result is not None else None

    def wire(value: Number | None, gradient: Number | None) -> str:
        lines = []
        if value is not None:
            lines.append(f'<font color="{VALUE_COLOR}">{escape(fmt(value, digits))}</font>')
        if gradient is not None:
            lines.append(f'<font color="{GRAD_COLOR}">{escape(fmt(gradient, digits))}</font>')
        return f"<{'<br/>'.join(lines)}>" if lines else ""

    caption = [escape(title(graph, result, digits))]
    if result is not None:
        legend_value = escape(_("green: forward value"))
        legend_grad = escape(_("red: gradient d{output}/d(wire)").format(output=graph.output_name))
        caption.append(
            f'<font color="{VALUE_COLOR}">{legend_value}</font>, <font color="{GRAD_COLOR}">{legend_grad}</font>'
        )
    if not complete:
        caption.append(escape(cap_note(len(shown), len(graph))))
    dot = graphviz.Digraph(
        "backprop",
        graph_attr={
            "rankdir": "LR",
            "label": f"<{'<br/>'.join(caption)}>",
            "labelloc": "t",
            "fontname": FONT,
            "fontsize": "13",
            "nodesep": "0.5",
            "ranksep": "0.9",
            # bounds the x-placement search: a value feeding 100 gates of a long chain took 30 s without it
            "nslimit": "1",
        },
        node_attr={"fontname": FONT, "fontsize": "14"},
        edge_attr={"fontname": FONT, "fontsize": "12", "arrowsize": "0.7"},
    )
    if len(shown) > CURVED_MAX_NODES:
        dot.graph_attr["splines"] = "line"
    with dot.subgraph(name="inputs") as column:  # every input on the left edge, as the course draws them
        column.attr(rank="source")
        for node in shown:
            if graph.gates[node] is INPUT:
                _draw_node(column, graph, node)
    frontier: dict[int, None] = {}  # nodes read by drawn ones but not drawn (a dict keeps their order)
    for node in shown:
        if graph.gates[node] is not INPUT:
            _draw_node(dot, graph, node)
        for position, operand in enumerate(graph.args[node]):
            if operand not in is_shown:
                frontier[operand] = None
            value = values[operand] if values is not None else None
            dot.edge(f"n{operand}", f"n{node}", label=wire(value, edges.get((node, position))))
    for node in frontier:
        dot.node(
            f"n{node}",
            label=_("{label} ... (not drawn)").format(label=graph.labels[node]),
            shape="box",
            style="dashed",
            color="gray50",
            fontcolor="gray40",
        )
    dot.node("output", label=graph.output_name, shape="plaintext", fontsize="16")
    output_value = values[graph.output] if values is not None else None
    output_grad = result.grads[graph.output] if result is not None else None
    dot.edge(f"n{graph.output}", "output", label=wire(output_value, output_grad))
    return dot


def _draw_node(dot, graph: Graph, node: int) -> None:
    gate = graph.gates[node]
    name = f"n{node}"
    if gate is INPUT:
        dot.node(name, label=graph.labels[node], shape="plaintext", fontsize="16")
        return
    if gate is CONST:
        dot.node(name, label=graph.labels[node], shape="plaintext", fontcolor="gray30")
        return
    label = escape(gate_symbol(graph, node))
    named = staged_name(graph, node)
    if named is not None:
        label += f'<br/><font point-size="10">{escape(named)}</font>'
    dot.node(name, label=f"<{label}>", shape="circle", tooltip=graph.labels[node])


def render(dot, file_format: str) -> bytes:
    """Run Graphviz's `dot` on the DOT text: SVG, PNG or PDF bytes."""
    import graphviz

    if file_format == "png":
        dot = dot.copy()
        dot.graph_attr["dpi"] = "150"  # sharp enough for slides; SVG and PDF are vector anyway
        dot.graph_attr["size"] = "40,40"  # large drawings are scaled down to at most 6000 pixels
    try:
        return dot.pipe(format=file_format, quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizError(
            _("Graphviz's 'dot' program is not installed (needed for --format {format}); install Graphviz "
              "({hint}), or use --format dot to get the DOT text").format(format=file_format, hint=INSTALL_HINT)
        ) from None
    except graphviz.CalledProcessError as error:
        detail = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise GraphvizError(
            _("Graphviz's 'dot' program failed: {reason}").format(reason=detail[-1] if detail else error.returncode)
        ) from None
