"""`backprop descend` and `backprop net`: gradient descent on an expression, and small networks.

Only Typer is imported at the top: the library and the renderers load inside the commands.
"""

from __future__ import annotations

import typer

from .cli import (
    COLOR_HELP,
    LANG_HELP,
    Color,
    ExpressionCommand,
    app,
    fail,
    given,
    read_expression,
    read_values,
    split_wrt,
    use_language,
)
from .errors import BackpropError


@app.command(cls=ExpressionCommand)
def descend(
    expression: str = typer.Argument(..., metavar="EXPR", help="The loss: an expression or staged program; '-' reads standard input."),
    assignments: list[str] | None = typer.Argument(None, metavar="[NAME=VALUE]...", help="Every variable's value; for the --wrt ones it is the starting point."),
    wrt: list[str] = typer.Option(..., "--wrt", metavar="W,B", help="The parameters to descend on (inputs of EXPR): a comma list, or repeat --wrt."),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate eta in theta <- theta - eta * grad."),
    steps: int = typer.Option(50, "--steps", min=0, help="Number of updates."),
    values_file: str | None = typer.Option(None, "--values", metavar="FILE", help="JSON object of name -> number; '-' reads standard input."),
    json_out: bool = typer.Option(False, "--json", help='Print {"steps": [...], "final": {...}} instead of tables.'),
    every: int = typer.Option(0, "--every", min=0, help="Show every Nth step in the table (0: about 50 rows; step 0 and the last always show)."),
    plot: str | None = typer.Option(None, "--plot", metavar="FILE", help="Also write the loss curve to FILE.svg (or FILE.png, with matplotlib)."),
    no_plot: bool = typer.Option(False, "--no-plot", help="No loss curve in the terminal."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits shown (JSON always has full precision)."),
    color: Color = typer.Option(Color.auto, "--color", help=COLOR_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Gradient descent on EXPR: a table of steps, the final parameters and the loss curve.

    \b
    Examples:
      backprop descend "(w*x + b - y)**2" --wrt w,b --lr 0.05 --steps 20 x=2 y=5 w=0 b=0
      backprop descend "(w*x + b - y)**2" --wrt w,b x=2 y=5 w=0 b=0 --json
      backprop descend "(w - 3)**2" --wrt w w=0 --lr 0.1 --plot loss.svg

    Step k shows the parameters before update k (step 0 is the starting point).
    Exit codes: 0 done, 1 the loss diverged (stopped at that step), 2 bad input.
    """
    from .descend import descend as run_descent

    use_language(lang)
    stdin_used: list[bool] = []
    try:
        text = read_expression(expression, stdin_used)
        values = read_values(assignments or [], values_file, stdin_used)
        names = split_wrt(wrt) or []
        run = run_descent(text, names, values, lr, steps)
    except BackpropError as error:
        fail(error)
    _finish(run, json_out=json_out, every=every, plot=plot, no_plot=no_plot, digits=digits, color=color, params=True)


def _finish(run, *, json_out: bool, every: int, plot: str | None, no_plot: bool, digits: int, color: Color, params: bool, after=None) -> None:
    """Print a run's warnings (stderr), the run (JSON or tables and plot), write the plot file, exit 1 if it diverged."""
    import json
    import sys

    from .i18n import _
    from .render.console import make_console
    from .render.net import descent_message, render_descent, render_loss_plot, write_loss_plot

    for warning in run.warnings:
        typer.echo(_("warning: {message}").format(message=warning), err=True)
    title = _("loss {name} by step").format(name=run.loss_name)
    if plot is not None:
        try:
            write_loss_plot(run.losses, plot, title=title)
        except BackpropError as error:
            fail(error)
    if json_out:
        sys.stdout.write(json.dumps(run.to_dict(), allow_nan=False) + "\n")
    else:
        console = make_console(color.value)
        render_descent(run, console, digits=digits, every=every, params=params)
        if not no_plot:
            render_loss_plot(run.losses, console, title=title)
        if after is not None:
            after(console)
    if run.diverged_step is not None:
        typer.echo(_("error: {message}").format(message=descent_message(run)), err=True)
        raise typer.Exit(1)


#: Options of `net` that only training uses; without --train they are an error, not silently ignored.
TRAINING_OPTIONS = (("--lr", "lr"), ("--steps", "steps"), ("--every", "every"), ("--plot", "plot"), ("--no-plot", "no_plot"))


@app.command()
def net(
    ctx: typer.Context,
    spec_file: str | None = typer.Argument(None, metavar="[SPEC]", help="Network spec: JSON, or TOML (.toml, Python 3.11+). Omit it with --shape."),
    shape: str | None = typer.Option(None, "--shape", metavar="2,3,1", help="Build a random network instead: inputs, then neurons per layer."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed for --shape (default 0)."),
    activation: str | None = typer.Option(None, "--activation", help="Activation of every layer of a --shape network: sigmoid (default), tanh, relu or identity."),
    examples: int | None = typer.Option(None, "--examples", min=1, help="Number of random examples of a --shape network (default 4)."),
    loss: str | None = typer.Option(None, "--loss", help="sse, mse, half-sse, bce or cross-entropy (overrides the spec; default sse)."),
    reduction: str | None = typer.Option(None, "--reduction", help="sum (L = sum of C^n) or mean over the examples (overrides the spec)."),
    explain: bool = typer.Option(False, "--explain", help="Narrate the three situations: output node, inner node, a node's own parameters."),
    program: bool = typer.Option(False, "--program", help="Also print the staged program the network is built from."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document (docs/networks.md) instead of tables."),
    train: bool = typer.Option(False, "--train", help="Train with gradient descent instead: step table, loss curve, outputs before and after."),
    lr: float = typer.Option(0.5, "--lr", help="Learning rate for --train."),
    steps: int = typer.Option(100, "--steps", min=0, help="Number of updates for --train."),
    every: int = typer.Option(0, "--every", min=0, help="With --train: show every Nth step (0: about 50 rows)."),
    plot: str | None = typer.Option(None, "--plot", metavar="FILE", help="With --train: write the loss curve to FILE.svg (or FILE.png, with matplotlib)."),
    no_plot: bool = typer.Option(False, "--no-plot", help="With --train: no loss curve in the terminal."),
    save: str | None = typer.Option(None, "--save", metavar="FILE", help="Write the spec (after training, with --train) as JSON, or TOML for .toml."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits shown (JSON always has full precision)."),
    max_rows: int = typer.Option(500, "--max-rows", min=0, help="Rows shown per table; 0 shows all."),
    color: Color = typer.Option(Color.auto, "--color", help=COLOR_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Forward and backward pass of a small fully connected network, neuron by neuron.

    \b
    Examples:
      backprop net examples/two_layer.json
      backprop net examples/node7.json --explain
      backprop net examples/two_layer.json --json
      backprop net examples/xor.json --train --lr 2 --steps 500 --save trained.json
      backprop net --shape 2,3,1 --seed 1 --save random.json

    Prints per layer and neuron z, a, dC/da, the gain da/dz, the delta dC/dz, dC/db (and dC/dc),
    and dC/dw = a_prev x delta for each weight.
    Exit codes: 0 done, 1 training diverged, 2 bad input.
    """
    import json
    import sys

    from .errors import InputError
    from .i18n import _
    from .net import Network, load_spec, parse_shape, random_spec, with_loss, write_spec
    from .render.console import make_console

    use_language(lang)
    run = after = None
    try:
        training_only = [option for option, name in TRAINING_OPTIONS if given(ctx, name)]
        if training_only and not train:
            raise InputError(
                _("{options} only take effect with --train: add --train to train the network, or leave them out").format(
                    options=", ".join(training_only)
                )
            )
        if explain and (train or json_out):
            raise InputError(
                _("--explain narrates one forward and backward pass in the tables; it does not go with {option}").format(
                    option="--train" if train else "--json"
                )
            )
        if (spec_file is None) == (shape is None):
            raise InputError(_("give a SPEC file or --shape (for a random network), not both and not neither"))
        if shape is not None:
            spec = random_spec(
                parse_shape(shape), seed or 0, activation or "sigmoid", loss or "sse", reduction or "sum", examples or 4
            )
        else:
            if seed is not None or activation is not None or examples is not None:
                raise InputError(_("--seed, --activation and --examples build a random network: use them with --shape"))
            spec = with_loss(load_spec(spec_file), loss, reduction)
        network = Network(spec)
        if train:
            before = network.outputs()
            run = network.train(lr, steps)
            if run.diverged_step is None:
                trained = spec.with_parameters(run.final_params)
                after = network.outputs(run.final_params)
        else:
            result = network.evaluate()
            trained = spec
        if save is not None and (run is None or run.diverged_step is None):
            write_spec(trained, save)
    except BackpropError as error:
        fail(error)

    if program and not json_out:
        typer.echo(network.program)
    if train:
        from .render.net import render_training_outputs

        def outputs_table(console) -> None:
            if after is not None:
                render_training_outputs(spec, before, after, console, digits=digits, max_rows=max_rows)
            if save is not None:
                saved = _("trained spec written to {path}") if after is not None else _("nothing written to {path}: training diverged")
                console.print(saved.format(path=save))

        _finish(run, json_out=json_out, every=every, plot=plot, no_plot=no_plot, digits=digits, color=color, params=False, after=outputs_table)
        return
    if json_out:
        sys.stdout.write(json.dumps(result.to_dict(), allow_nan=False) + "\n")
        return
    from .render.net import render_net, render_net_explanation

    console = make_console(color.value)
    render_net(result, console, digits=digits, max_rows=max_rows)
    if explain:
        render_net_explanation(result, console, digits=digits)
    if save is not None:
        console.print(_("spec written to {path}").format(path=save))
