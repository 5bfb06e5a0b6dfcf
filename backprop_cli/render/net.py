"""`backprop net` and `backprop descend` as text: neuron tables, the three situations in
words, step tables and the loss curve (plotext in the terminal; SVG or PNG in a file).

Every number printed here was computed by the library (backprop_cli.net / descend): this
module only chooses rows and formats them.
"""

from __future__ import annotations

import math
from itertools import islice
from xml.sax.saxutils import escape as xml_escape

from ..descend import Descent
from ..errors import InputError
from ..i18n import _
from ..net import LOSS_SLOPES, NetResult
from ..numeric import fmt
from .console import print_titled, table_box

#: Rows of a step table when --every is left to choose (step 0 and the last step always show).
AUTO_ROWS = 50
#: Size of the terminal plot, in characters.
PLOT_WIDTH = 72
PLOT_HEIGHT = 16
#: Most points drawn in a plot (long runs are sampled evenly).
MAX_PLOT_POINTS = 2_000
#: Entries of an input or output vector shown in a line or a cell.
MAX_VECTOR = 8
#: Terms of a sum written out in --explain before "..." takes over.
MAX_TERMS = 6


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _vector(values: list[float], digits: int) -> str:
    """[a, b, c], or the first MAX_VECTOR entries and how many there are in all."""
    shown = ", ".join(fmt(v, digits) for v in values[:MAX_VECTOR])
    if len(values) > MAX_VECTOR:
        shown += _(", ... ({count} in all)").format(count=len(values))
    return f"[{shown}]"


# --------------------------------------------------------------------------- descent


def shown_steps(count: int, every: int) -> list[int]:
    """Indices of the steps a table shows: every ``every``-th (0: about AUTO_ROWS), and the last."""
    if count == 0:
        return []
    if every <= 0:
        every = max(1, -(-count // AUTO_ROWS))
    indices = list(range(0, count, every))
    if indices[-1] != count - 1:
        indices.append(count - 1)
    return indices


def render_descent(run: Descent, console, *, digits: int = 6, every: int = 0, params: bool = True) -> None:
    """The step table (parameters, loss, gradients; or loss and |gradient| for a network) and the final point."""
    from rich.table import Table

    num = lambda v: fmt(v, digits)  # noqa: E731
    loss = run.loss_name
    names = list(run.final_params) if params else []
    table = Table(box=table_box(console))
    table.add_column(_("step"), justify="right")
    for name in names:
        table.add_column(_escape(name), justify="right")
    table.add_column(_escape(loss), justify="right")
    if params:
        for name in names:
            table.add_column(_escape(f"d{loss}/d{name}"), justify="right")
    else:
        table.add_column(_("|gradient|"), justify="right")
    indices = shown_steps(len(run.steps), every)
    for index in indices:
        step = run.steps[index]
        row = [str(step.step)] + [num(step.params[name]) for name in names] + [f"[green]{num(step.loss)}[/]"]
        if params:
            row += [f"[red]{num(step.gradients[name])}[/]" for name in names]
        else:
            row.append(f"[red]{num(step.gradient_norm)}[/]")
        table.add_row(*row)
    print_titled(console, _("Gradient descent, learning rate {lr}").format(lr=num(run.learning_rate)), table)
    if len(indices) < len(run.steps):
        console.print(
            _("showing {shown} of {total} steps (--every 1 shows all)").format(shown=len(indices), total=len(run.steps))
        )
    if run.diverged_step is None:
        done = _("after {count} steps").format(count=run.completed_steps)
        if params:
            values = ", ".join(f"{name} = {num(value)}" for name, value in run.final_params.items())
            console.print(
                _("Final ({done}): {values}, {loss} = {value}").format(
                    done=done, values=_escape(values), loss=_escape(loss), value=num(run.final_loss)
                )
            )
        else:
            console.print(
                _("Final ({done}): {loss} = {value}").format(done=done, loss=_escape(loss), value=num(run.final_loss))
            )


def descent_message(run: Descent) -> str:
    """The one line printed on stderr when a run diverged."""
    return _(
        "stopped at step {step}: {reason}; the loss diverged or left its domain. "
        "The last finite loss was {loss} at step {last}: try a smaller --lr (now {lr})"
    ).format(
        step=run.diverged_step,
        reason=run.diverged_reason,
        loss=fmt(run.final_loss),
        last=run.steps[-1].step,
        lr=fmt(run.learning_rate),
    )


def loss_plot_text(losses: list[float], *, title: str, colorless: bool = True, width: int = PLOT_WIDTH) -> str:
    """The loss curve drawn with plotext for a terminal (box drawing and block characters)."""
    import plotext

    figure = plotext.figure
    figure.clear()
    steps = _plotted(len(losses))
    signal = figure.signal(steps, [losses[k] for k in steps])
    signal.lines()
    figure.draw(signal)
    figure.plot_size(max(30, width), PLOT_HEIGHT)
    figure.title(title)
    figure.label(_("step"))
    ticks = _step_ticks(len(losses) - 1)
    figure.ruler("x").ticks(ticks, [str(t) for t in ticks])
    text = figure.build().string(colorless=colorless)
    figure.clear()
    return text


def _plotted(count: int) -> list[int]:
    """The steps drawn: all of them up to MAX_PLOT_POINTS, else evenly spaced ones and the last."""
    every = max(1, -(-count // MAX_PLOT_POINTS))
    steps = list(range(0, count, every))
    if steps and steps[-1] != count - 1:
        steps.append(count - 1)
    return steps


def _step_ticks(last: int) -> list[int]:
    """Whole-number ticks 0, d, 2d, ... up to the last step, d in 1, 2, 5, 10, 20, 50, ..."""
    spacing = 1
    while last > 7 * spacing:
        spacing = spacing * 5 // 2 if str(spacing)[0] == "2" else spacing * 2
    return list(range(0, last + 1, spacing))


def loss_plot_ascii(losses: list[float], *, title: str, width: int = PLOT_WIDTH, height: int = PLOT_HEIGHT) -> str:
    """The loss curve in plain ASCII, for pipes and files: ``*`` marks the curve, in a ``+-|`` frame.

    Each column stands for an equal stretch of steps and marks every row that the curve (the
    losses joined by straight lines) passes through in that stretch: the line stays connected
    where it falls steeply, and a spike between two columns still shows. The loss axis is
    labelled at the top, the middle and the bottom; the step axis at the same whole-number
    ticks as the terminal plot.
    """
    last = len(losses) - 1
    rows = max(3, height - 5)  # the rest: title, top and bottom of the frame, tick labels, axis name
    low, high = min(losses), max(losses)
    middle = (rows - 1) // 2
    if high > low:
        labels = {row: fmt(high * (1 - row / (rows - 1)) + low * (row / (rows - 1)), 3) for row in (0, middle, rows - 1)}
    else:
        labels = {middle: fmt(low, 3)}  # a flat line, drawn across the middle
    margin = max(len(text) for text in labels.values())
    columns = max(10, width - margin - 2)

    def row_of(value: float) -> int:
        return round((1 - _height(value, low, high)) * (rows - 1)) if high > low else middle

    def loss_at(step: float) -> float:
        k = min(int(step), last - 1)
        return losses[k] * (1 - (step - k)) + losses[k + 1] * (step - k)

    grid = [[" "] * columns for _row in range(rows)]
    for column in range(columns):
        start, end = last * column / columns, last * (column + 1) / columns
        inside = losses[math.ceil(start) : math.floor(end) + 1]
        ends = (loss_at(start), loss_at(end))
        top, bottom = max(*ends, *inside), min(*ends, *inside)
        for row in range(row_of(top), row_of(bottom) + 1):
            grid[row][column] = "*"

    ticks = {min(columns - 1, tick * columns // last): str(tick) for tick in _step_ticks(last)}
    axis = "".join("+" if column in ticks else "-" for column in range(columns))
    tick_line = ""
    for column, text in ticks.items():
        at = min(margin + 1 + column - len(text) // 2, margin + columns + 2 - len(text))
        if at > len(tick_line):  # a label that would touch the one before it is left out
            tick_line = tick_line.ljust(at) + text
    total = margin + columns + 2
    lines = [_centred(title, total), " " * margin + "+" + "-" * columns + "+"]
    lines += [labels.get(row, "").rjust(margin) + "|" + "".join(grid[row]) + "|" for row in range(rows)]
    lines += [" " * margin + "+" + axis + "+", tick_line, _centred(_("step"), total)]
    return "\n".join(lines) + "\n"


def _centred(text: str, width: int) -> str:
    """text centred in width terminal cells (a Chinese character takes two)."""
    from rich.cells import cell_len

    return " " * max(0, (width - cell_len(text)) // 2) + text


def _height(value: float, low: float, high: float) -> float:
    """Where value lies between low (0) and high (1), without overflow when high - low is huge."""
    return (value / 2 - low / 2) / (high / 2 - low / 2) if high > low else 0.5


def render_loss_plot(losses: list[float], console, *, title: str) -> None:
    """Print the loss curve: plotext on a terminal (colour only where allowed), plain ASCII otherwise.

    Output that is not a terminal (a pipe, a file) gets ASCII, as the tables do
    (render/console.py), so that it reads the same in any editor and encoding.
    """
    if len(losses) < 2:
        return
    if not console.is_terminal:
        console.file.write(loss_plot_ascii(losses, title=title))
        return
    width = min(PLOT_WIDTH, console.width)
    colorless = console.no_color or console.color_system is None
    text = loss_plot_text(losses, title=title, colorless=colorless, width=width)
    console.file.write(text.rstrip() + "\n")


def loss_svg(losses: list[float], *, title: str, width: int = 640, height: int = 360) -> str:
    """The loss curve as a standalone SVG document: axes, a polyline, the range on each axis."""
    left, right, top, bottom = 70, 20, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = min(losses), max(losses)
    last = max(1, len(losses) - 1)
    points = " ".join(
        f"{left + plot_w * k / last:.2f},{top + plot_h * (1 - _height(losses[k], low, high)):.2f}"
        for k in _plotted(len(losses))
    )
    font = 'font-family="sans-serif" font-size="13"'
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
            f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<text x="{width / 2}" y="24" text-anchor="middle" {font}>{xml_escape(title)}</text>',
            f'<path d="M{left},{top} V{top + plot_h} H{left + plot_w}" fill="none" stroke="black"/>',
            f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="2"/>',
            f'<text x="{left - 6}" y="{top + 5}" text-anchor="end" {font}>{fmt(high)}</text>',
            f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" {font}>{fmt(low)}</text>',
            f'<text x="{left}" y="{top + plot_h + 18}" text-anchor="middle" {font}>0</text>',
            f'<text x="{left + plot_w}" y="{top + plot_h + 18}" text-anchor="middle" {font}>{len(losses) - 1}</text>',
            f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle" {font}>{xml_escape(_("step"))}</text>',
            "</svg>",
            "",
        ]
    )


def write_loss_plot(losses: list[float], path: str, *, title: str) -> None:
    """Write the loss curve to FILE.svg (no extra package) or FILE.png (needs matplotlib)."""
    lower = path.lower()
    if lower.endswith(".svg"):
        text = loss_svg(losses, title=title)
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise InputError(_("--plot: cannot write {path!r}: {reason}").format(path=path, reason=error.strerror)) from None
        return
    if not lower.endswith(".png"):
        raise InputError(_("--plot: {path!r} must end in .svg or .png").format(path=path))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as pyplot
    except ImportError:
        raise InputError(
            _("--plot {path}: PNG needs matplotlib (pip install matplotlib); SVG needs nothing: --plot loss.svg").format(
                path=path
            )
        ) from None
    figure, axes = pyplot.subplots(figsize=(6.4, 3.6))
    axes.plot(range(len(losses)), losses)
    axes.set_title(title)
    axes.set_xlabel(_("step"))
    try:
        figure.savefig(path, dpi=100)
    except OSError as error:
        raise InputError(_("--plot: cannot write {path!r}: {reason}").format(path=path, reason=error.strerror)) from None
    finally:
        pyplot.close(figure)


# --------------------------------------------------------------------------- network


def render_net(result: NetResult, console, *, digits: int = 6, max_rows: int = 500) -> None:
    """Per example, layer and neuron: z, a, dC/da, the gain, the delta and the gradients."""
    from rich.table import Table

    num = lambda v: fmt(v, digits)  # noqa: E731
    spec = result.spec
    box = table_box(console)
    count = len(result.examples)
    several = count > 1
    activations = ", ".join(layer.activation for layer in spec.layers)
    over = _("over 1 example") if count == 1 else _("over {count} examples").format(count=count)
    console.print(
        _("Network {shape} ({activations}), loss {loss}, L = {reduction} of C {over}").format(
            shape="-".join(map(str, spec.shape)),
            activations=activations,
            loss=spec.loss,
            reduction=spec.reduction,
            over=over,
        )
    )
    for n, example in enumerate(result.examples):
        line = _("Example {n}: input {input}, target {target} -> output {output}, C = {loss}").format(
            n=n + 1,
            input=_vector(example.input, digits),
            target=_vector(example.target, digits),
            output=_vector(example.outputs, digits),
            loss=num(example.loss),
        )
        console.print(f"\n[bold]{_escape(line)}[/]")
        if example.probabilities is not None:
            console.print(_("softmax of the outputs: p = {p}").format(p=_vector(example.probabilities, digits)))
        for number, (layer, record) in enumerate(zip(spec.layers, example.layers), 1):
            scaled = layer.scale is not None
            title = _("Layer {number} ({activation}{scale})").format(
                number=number, activation=layer.activation, scale=_(", scaled by c") if scaled else ""
            )
            table = Table(box=box)
            columns = [_("neuron"), "z = w.a_prev + b", "a", "dC/da", _("gain da/dz"), _("dC/dz (delta)"), "dC/db"]
            if scaled:
                columns.append("dC/dc")
            for column in columns:
                table.add_column(column, justify="left" if column == columns[0] else "right")
            for j in islice(range(layer.outputs), max_rows or None):
                row = [
                    f"{number}_{j}",
                    num(record.z[j]),
                    f"[green]{num(record.a[j])}[/]",
                    num(record.upstream[j]),
                    num(record.gain[j]),
                    f"[red]{num(record.delta[j])}[/]",
                    num(record.bias_grad[j]),
                ]
                if scaled:
                    row.append(num(record.scale_grad[j]))
                table.add_row(*row)
            print_titled(console, title, table)
            _hidden(console, layer.outputs, max_rows)
            if not several:
                _weights_table(console, number, layer, record, num, max_rows)
    if several:
        console.print(
            "\n"
            + _("Gradients of L ({reduction} over {count} examples of the per-example gradients)").format(
                reduction=spec.reduction, count=count
            )
        )
        for number in range(1, len(spec.layers) + 1):
            table = Table(box=box)
            table.add_column(_("parameter"))
            table.add_column(_("value"), justify="right")
            table.add_column("dL/dparameter", justify="right")
            rows = list(_parameter_rows(result, number - 1))
            for name, value, gradient in islice(rows, max_rows or None):
                table.add_row(name, num(value), f"[red]{num(gradient)}[/]")
            print_titled(console, _("Layer {number}").format(number=number), table)
            _hidden(console, len(rows), max_rows)
    console.print("\n[bold]" + _("Loss L = {loss}").format(loss=num(result.loss)) + "[/]")
    for note in result.notes:
        console.print(_("note: {note}").format(note=_escape(note)))


def _weights_table(console, number: int, layer, record, num, max_rows: int) -> None:
    from rich.table import Table

    table = Table(box=table_box(console))
    for column in (_("weight"), _("value"), "a_prev", "delta", "dC/dw"):
        table.add_column(column, justify="left" if column == _("weight") else "right")
    cells = [(j, i) for j in range(layer.outputs) for i in range(layer.inputs)]
    for j, i in islice(cells, max_rows or None):
        table.add_row(
            f"w{number}_{j}_{i}",
            num(layer.weights[j][i]),
            num(record.a_prev[i]),
            num(record.delta[j]),
            f"[red]{num(record.weights_grad[j][i])}[/]",
        )
    print_titled(console, _("Layer {number} weights: dC/dw = a_prev x delta").format(number=number), table)
    _hidden(console, len(cells), max_rows)


def _parameter_rows(result: NetResult, index: int):
    layer = result.spec.layers[index]
    number = index + 1
    for j in range(layer.outputs):
        for i in range(layer.inputs):
            yield f"w{number}_{j}_{i}", layer.weights[j][i], result.weights_grad[index][j][i]
        yield f"b{number}_{j}", layer.bias[j], result.bias_grad[index][j]
        if layer.scale is not None:
            yield f"c{number}_{j}", layer.scale[j], result.scale_grad[index][j]


def _hidden(console, total: int, max_rows: int) -> None:
    if max_rows and total > max_rows:
        console.print(
            _("... {count:,} more rows not shown (--max-rows {limit}; --max-rows 0 shows all)").format(
                count=total - max_rows, limit=max_rows
            )
        )


# --------------------------------------------------------------------------- --explain


def render_net_explanation(result: NetResult, console, *, digits: int = 6) -> None:
    """Narrate MISSION.md's three situations with the numbers of the first example."""
    num = lambda v: fmt(v, digits)  # noqa: E731
    spec = result.spec
    example = result.examples[0]
    last = len(spec.layers)
    out_layer, out = spec.layers[-1], example.layers[-1]
    say = lambda text: console.print(_escape(text))  # noqa: E731
    console.print("\n[bold]" + _("How the gradients flow (example 1)") + "[/]")

    # situation 1: the output node
    a, t = out.a[0], example.target[0]
    slope_values = {
        "sse": f"2 × ({num(a)} - {num(t)})",
        "half-sse": f"{num(a)} - {num(t)}",
        "mse": f"2 × ({num(a)} - {num(t)}) / {out_layer.outputs}",
        "bce": f"({num(a)} - {num(t)}) / ({num(a)} × (1 - {num(a)}))",
        "cross-entropy": f"{num(example.probabilities[0])} × {num(example.target_sum)} - {num(t)}"
        if example.probabilities
        else "",
    }[spec.loss]
    say(
        "1. "
        + _("The output node (layer {layer}, neuron 0) computes z = {z} and a = {form} = {a}.").format(
            layer=last, z=num(out.z[0]), form=_node_form(out_layer, 0), a=num(a)
        )
    )
    say(
        "   "
        + _("The loss {loss} gives dC/da = {formula} = {values} = {upstream}.").format(
            loss=spec.loss, formula=LOSS_SLOPES[spec.loss], values=slope_values, upstream=num(out.upstream[0])
        )
    )
    say(
        "   "
        + _("Running the network in reverse, the node is an amplifier with gain da/dz = {gain_form} = {gain}:").format(
            gain_form=_gain_form(out_layer, 0, out, num), gain=num(out.gain[0])
        )
    )
    say(
        "   "
        + _("delta = dC/dz = dC/da × gain = {upstream} × {gain} = {delta}.").format(
            gain=num(out.gain[0]), upstream=num(out.upstream[0]), delta=num(out.delta[0])
        )
    )

    # situation 2: an inner node
    if last == 1:
        say("2. " + _("This network has one layer, so every node is an output node: there is no inner node to show."))
    else:
        inner_layer, inner = spec.layers[-2], example.layers[-2]
        feeds = result.feeds(0, last - 2, 0)
        shown = feeds[:MAX_TERMS]
        more = _(" + ... ({count} terms in all)").format(count=len(feeds)) if len(feeds) > MAX_TERMS else ""
        terms = " + ".join(f"w{last}_{k}_0 × delta{last}_{k}" for k, *_rest in shown) + more
        products = " + ".join(f"{num(w)} × {_factor(d, num)}" for _k, w, d, _p in shown) + more
        say(
            "2. "
            + _("An inner node (layer {layer}, neuron 0) feeds {count} node(s) of layer {next}.").format(
                layer=last - 1, count=len(feeds), next=last
            )
        )
        say("   " + _("Its gradient is the sum over every node it feeds (paths add):"))
        say("   " + f"dC/da = {terms}")
        say("         " + f"= {products} = {num(inner.upstream[0])}.")
        say(
            "   "
            + _("Through its own gain {gain_form} = {gain}: delta = {upstream} × {factor} = {delta}.").format(
                gain_form=_gain_form(inner_layer, 0, inner, num),
                gain=num(inner.gain[0]),
                upstream=num(inner.upstream[0]),
                factor=_factor(inner.gain[0], num),
                delta=num(inner.delta[0]),
            )
        )

    # situation 3: the node's own parameters
    say("3. " + _("The output node's own parameters, once its delta is known: dC/dw = a_prev × delta,"))
    say("   " + _("a_prev from the forward pass (the input feeding w), delta from the backward pass:"))
    for i, a_prev in enumerate(out.a_prev[:MAX_TERMS]):
        say(f"   dC/dw{last}_0_{i} = {num(a_prev)} × {_factor(out.delta[0], num)} = {num(out.weights_grad[0][i])}")
    if len(out.a_prev) > MAX_TERMS:
        say("   " + _("... and so on for all {count} weights of the node.").format(count=len(out.a_prev)))
    say(
        "   "
        + _("dC/db{layer}_0 = delta = {delta} (b enters through an add gate: local gradient 1).").format(
            layer=last, delta=num(out.bias_grad[0])
        )
    )
    if out.scale_grad is not None:
        say(
            "   "
            + _("dC/dc{layer}_0 = {activation}(z) × dC/da = {act} × {upstream} = {grad}.").format(
                layer=last,
                activation=out_layer.activation,
                act=num(out.act[0]),
                upstream=_factor(out.upstream[0], num),
                grad=num(out.scale_grad[0]),
            )
        )
    say("   " + _("Each node's gain c × act'(z) is computed once and reused for every weight of the node"))
    say("   " + _("and for every node below it: cache it."))
    if len(result.examples) > 1:
        say(
            _(
                "L = {reduction} of C^n over {count} examples: each gradient of L is the {reduction} of their gradients."
            ).format(reduction=spec.reduction, count=len(result.examples))
        )


def _factor(value: float, num) -> str:
    """A number as the right-hand factor of a product: negatives in parentheses."""
    return f"({num(value)})" if value < 0 else num(value)


def _node_form(layer, j: int) -> str:
    act = "z" if layer.activation == "identity" else f"{layer.activation}(z)"
    return act if layer.scale is None else f"c × {act}"


def _gain_form(layer, j: int, record, num) -> str:
    slope = "1" if layer.activation == "identity" else f"{layer.activation}'(z)"
    if layer.scale is None:
        return slope
    return f"c × {slope} = {num(layer.scale[j])} × {num(record.slope[j])}"


# --------------------------------------------------------------------------- training


def render_training_outputs(
    spec, before: list[list[float]], after: list[list[float]], console, *, digits: int = 6, max_rows: int = 500
) -> None:
    """Each example's target next to the network's output before and after training."""
    from rich.table import Table

    table = Table(box=table_box(console))
    for column in (_("example"), _("input"), _("target"), _("before"), _("after")):
        table.add_column(column, justify="right" if column == _("example") else "left")
    for n, example in islice(enumerate(spec.examples), max_rows or None):
        table.add_row(
            str(n + 1),
            _vector(example.input, digits),
            _vector(example.target, digits),
            _vector(before[n], digits),
            f"[green]{_vector(after[n], digits)}[/]",
        )
    print_titled(console, _("Outputs before and after training"), table)
    _hidden(console, len(spec.examples), max_rows)
