"""`backprop graph` in the terminal: the graph as a Rich tree, output at the root, inputs at the leaves.

Every line is one node: its label, its gate, its forward value (green) and its gradient
(red), with the words ``value=`` and ``grad=`` so the tree reads the same without colour.
A node used more than once (fan-out) is shown in full the first time; later uses are one
line that points back to it and says how much gradient that use sends back.

The tree is built with an explicit stack (no recursion), and cut at a line count and at a
depth, each with a note: a 100,000-node graph must not print 100,000 lines by default.
"""

from __future__ import annotations

from ..graph import Graph
from ..i18n import _
from ..numeric import Number, fmt
from ..parse import echo
from ..result import Result
from .dot import edge_gradients

#: Lines (node uses) shown by default (`--all` shows every node).
MAX_NODES = 200
#: Levels shown by default: deeper levels would be wider than any terminal.
MAX_DEPTH = 25
#: Longest echo of the expression printed above the tree (`--all` prints it whole).
MAX_ECHO_CHARS = 300

VALUE_STYLE = "green"
GRAD_STYLE = "red"


def graph_tree(
    graph: Graph,
    result: Result | None = None,
    *,
    digits: int = 6,
    max_nodes: int | None = MAX_NODES,
    max_depth: int = MAX_DEPTH,
):
    """The graph as a ``rich.tree.Tree`` and the notes to print under it.

    ``result`` None shows the structure only. ``max_nodes`` None shows every node.
    """
    from rich.text import Text
    from rich.tree import Tree

    edges = edge_gradients(result)
    args = graph.args
    expanded = [False] * len(graph)
    notes: list[str] = []

    root = Tree(_node_line(graph, result, graph.output, None, digits, root=True))
    expanded[graph.output] = True
    lines = 1
    depth_cut = False
    # (node, parent branch, depth, gate it feeds, input position), popped in reading order
    stack = [(j, root, 1, graph.output, k) for k, j in reversed(list(enumerate(args[graph.output])))]
    while stack:
        if max_nodes is not None and lines >= max_nodes:
            notes.append(
                _("tree cut after {lines:,} lines ({total:,} nodes in the graph): --max-nodes N shows more, "
                  "--all shows every node").format(lines=lines, total=len(graph))
            )
            # every branch that still had inputs to show ends in a line that says so
            cut = {id(parent): parent for _node, parent, *_rest in reversed(stack)}
            for parent in cut.values():
                parent.add(Text(_("... more not shown (--max-nodes {count})").format(count=max_nodes), style="dim"))
            break
        node, parent, depth, gate, position = stack.pop()
        lines += 1
        edge = edges.get((gate, position))
        if expanded[node]:
            parent.add(_reference_line(graph, node, edge, digits))
            continue
        branch = parent.add(_node_line(graph, result, node, edge, digits))
        # a node cut by the depth limit is not "shown in full": a later, shallower use expands it
        expanded[node] = not args[node] or depth < max_depth
        if not args[node]:
            continue
        if depth >= max_depth:
            depth_cut = True
            branch.add(Text(_("... deeper levels not shown (depth limit {depth})").format(depth=max_depth), style="dim"))
            continue
        stack.extend((j, branch, depth + 1, node, k) for k, j in reversed(list(enumerate(args[node]))))
    if depth_cut:
        notes.append(
            _("levels deeper than {depth} are not shown: --max-depth D shows more, "
              "--format svg draws the graph as a circuit").format(depth=max_depth)
        )
    return root, notes


def _node_line(graph: Graph, result: Result | None, node: int, edge: Number | None, digits: int, root: bool = False):
    from rich.text import Text

    gate = graph.gates[node]
    label = graph.labels[node]
    if root and label != graph.output_name:
        label = f"{graph.output_name} = {label}"
    line = Text()
    line.append(label, style="bold")
    line.append(f"  {gate.name}", style="cyan")
    if result is not None:
        line.append("  value=")
        line.append(fmt(result.values[node], digits), style=VALUE_STYLE)
        if graph.needs_grad[node]:
            line.append("  grad=")
            line.append(fmt(result.grads[node], digits), style=GRAD_STYLE)
    uses = graph.fanout[node]
    if uses > 1:
        line.append("  ")
        line.append(_("(used {uses} times: the gradients of the uses add up)").format(uses=uses), style="yellow")
        if edge is not None:
            line.append("  " + _("this use:") + " ")
            line.append(fmt(edge, digits), style=GRAD_STYLE)
    return line


def _reference_line(graph: Graph, node: int, edge: Number | None, digits: int):
    from rich.text import Text

    line = Text()
    line.append(graph.labels[node], style="bold")
    line.append("  " + _("(shared: shown in full above)"), style="yellow")
    if edge is not None:
        line.append("  " + _("this use:") + " ")
        line.append(fmt(edge, digits), style=GRAD_STYLE)
    return line


def render_graph_tree(
    graph: Graph,
    console,
    result: Result | None = None,
    *,
    digits: int = 6,
    max_nodes: int | None = MAX_NODES,
    max_depth: int = MAX_DEPTH,
) -> None:
    """Print the parsed echo, a legend, the tree and its notes to a Rich console."""
    from rich.text import Text

    parsed = echo(graph.program)
    if max_nodes is not None and len(parsed) > MAX_ECHO_CHARS:
        parsed = _("{start}... ({count:,} characters; --all prints it whole)").format(
            start=parsed[:MAX_ECHO_CHARS], count=len(parsed)
        )
    console.print(Text.assemble((_("Parsed:"), "bold"), " ", parsed), soft_wrap=True)  # one line, never wrapped
    if result is None:
        console.print(_("No values given: the structure only (pass NAME=VALUE to see values and gradients)."))
    else:
        legend = Text(_("Output {output} at the root, inputs at the leaves;").format(output=graph.output_name) + " ")
        legend.append("value", style=VALUE_STYLE)
        legend.append(" = " + _("forward value") + ", ")
        legend.append("grad", style=GRAD_STYLE)
        legend.append(f" = d{graph.output_name}/d(node)")
        console.print(legend)
    tree, notes = graph_tree(graph, result, digits=digits, max_nodes=max_nodes, max_depth=max_depth)
    console.print(_AsciiOffTerminal(tree))
    for note in notes + (result.notes if result is not None else []):
        console.print(Text(_("note:") + " " + note))


class _AsciiOffTerminal:
    """Draw the tree's guides with ASCII (|-- `--) when the output is not a terminal,
    like the tables of `backprop grad`, so files and pipes get plain text."""

    def __init__(self, renderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console, options):
        if not console.is_terminal:
            options = options.copy()
            options.encoding = "ascii"
        yield from console.render(self.renderable, options)
