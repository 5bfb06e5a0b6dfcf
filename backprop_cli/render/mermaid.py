"""`backprop graph --format mermaid`: the circuit as a Mermaid flowchart for Markdown and wikis.

The same drawing as the DOT output (left to right, gates as circles, every wire labelled
with its value and its gradient), in the text that GitHub, GitLab and many wikis render
inside a ```mermaid block. Mermaid cannot colour single labels, so the words say which
number is which.
"""

from __future__ import annotations

from ..gates import CONST, INPUT
from ..graph import Graph
from ..i18n import _
from ..numeric import fmt
from ..result import Result
from .dot import MAX_NODES, cap_note, edge_gradients, gate_symbol, nearest_nodes, staged_name, title


def entities(text: str) -> str:
    """Mermaid's entity codes for the characters that end or confuse a quoted label."""
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text


def quote(text: str) -> str:
    return f'"{entities(text)}"'


def graph_mermaid(graph: Graph, result: Result | None = None, *, digits: int = 6, max_nodes: int | None = MAX_NODES) -> str:
    """Mermaid ``flowchart LR`` text of the circuit (``result`` None: the structure only)."""
    shown, complete = nearest_nodes(graph, max_nodes)
    is_shown = set(shown)
    edges = edge_gradients(result)
    values = result.values if result is not None else None

    def wire(value, gradient) -> str:
        parts = []
        if value is not None:
            parts.append(_("value {value}").format(value=fmt(value, digits)))
        if gradient is not None:
            parts.append(_("grad {grad}").format(grad=fmt(gradient, digits)))
        return f'|"{"<br/>".join(entities(part) for part in parts)}"|' if parts else ""

    lines = ["flowchart LR", f"    %% {title(graph, result, digits)}"]
    if not complete:
        lines.append(f"    %% {cap_note(len(shown), len(graph))}")
    edge_lines = []
    frontier: dict[int, None] = {}  # nodes read by drawn ones but not drawn (a dict keeps their order)
    for node in shown:
        lines.append(f"    n{node}{_shape(graph, node)}")
        for position, operand in enumerate(graph.args[node]):
            if operand not in is_shown:
                frontier[operand] = None
            value = values[operand] if values is not None else None
            edge_lines.append(f"    n{operand} -->{wire(value, edges.get((node, position)))} n{node}")
    for node in frontier:
        lines.append(f"    n{node}[{quote(_('{label} ... (not drawn)').format(label=graph.labels[node]))}]:::hidden")
    lines.append(f"    output[{quote(graph.output_name)}]")
    output_value = values[graph.output] if values is not None else None
    output_grad = result.grads[graph.output] if result is not None else None
    edge_lines.append(f"    n{graph.output} -->{wire(output_value, output_grad)} output")
    lines += edge_lines
    lines.append("    classDef leaf fill:none,stroke:none")
    if frontier:
        lines.append("    classDef hidden stroke-dasharray:4 3,color:#666")
    return "\n".join(lines) + "\n"


def _shape(graph: Graph, node: int) -> str:
    gate = graph.gates[node]
    if gate in (INPUT, CONST):
        return f"[{quote(graph.labels[node])}]:::leaf"
    named = staged_name(graph, node)
    text = gate_symbol(graph, node) + (f" {named}" if named else "")
    return f"(({quote(text)}))"
