"""`backprop descend`: gradient descent on an expression, checked against closed forms.

The running example is f = (w*x + b - y)^2 at x = 2, y = 5 from w = b = 0. With the residual
r = w*x + b - y, one step with learning rate eta multiplies r by 1 - 2 eta (x^2 + 1):
for eta = 0.05 that is 1/2, so after k steps r = -5 / 2^k, f = 25 / 4^k,
w = 2 (1 - 1/2^k) and b = 1 - 1/2^k; for eta = 1 it is -9, and the loss overflows.
"""

from __future__ import annotations

import doctest
import io
import json
import math
import re
import xml.etree.ElementTree as ElementTree

import pytest

import backprop_cli.descend
from backprop_cli import grad
from backprop_cli.descend import descend, gradient_descent
from backprop_cli.errors import DomainError, InputError
from backprop_cli.render.net import loss_plot_ascii, render_loss_plot

LINE = "(w*x + b - y)**2"
START = ["x=2", "y=5", "w=0", "b=0"]


def run_json(cli, *args):
    result = cli("descend", *args, "--json")
    return result, (json.loads(result.stdout) if result.stdout else None)


def test_steps_follow_the_closed_form(cli):
    result, doc = run_json(cli, LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "10", *START)
    assert result.exit_code == 0, result.stderr
    assert set(doc) == {"steps", "final"}
    assert [step["step"] for step in doc["steps"]] == list(range(10))
    for k, step in enumerate(doc["steps"]):
        half = 0.5**k
        assert set(step) == {"step", "params", "loss", "gradients"}
        assert step["params"] == pytest.approx({"w": 2 * (1 - half), "b": 1 - half}, rel=1e-12)
        assert step["loss"] == pytest.approx(25 / 4**k, rel=1e-12)
        r = -5 * half  # df/dw = 2 r x, df/db = 2 r
        assert step["gradients"] == pytest.approx({"w": 4 * r, "b": 2 * r}, rel=1e-12)
    assert doc["final"]["params"] == pytest.approx({"w": 2 * (1 - 0.5**10), "b": 1 - 0.5**10}, rel=1e-12)
    assert doc["final"]["loss"] == pytest.approx(25 / 4**10, rel=1e-12)


def test_step_zero_is_the_starting_point_and_gradients_match_grad():
    run = descend("q = w*x + b; L = (q - y)**2 + w*w", ["w", "b"], {"x": 1.5, "y": -1, "w": 0.3, "b": 2}, 0.1, 3)
    assert run.steps[0].params == {"w": 0.3, "b": 2.0}
    assert run.loss_name == "L"
    for step in run.steps:
        reference = grad("q = w*x + b; L = (q - y)**2 + w*w", {"x": 1.5, "y": -1, **step.params})
        assert step.loss == reference.value
        assert step.gradients == {"w": reference.gradients["w"], "b": reference.gradients["b"]}


def test_divergence_stops_at_the_step_where_the_loss_overflows(cli):
    # r_k = -5 (-9)^k; the loss r^2 overflows a float at the first k where |r| > sqrt(max float)
    limit = math.sqrt(1.7976931348623157e308)
    k = 0
    while 5 * 9.0**k <= limit:
        k += 1
    result, doc = run_json(cli, LINE, "--wrt", "w,b", "--lr", "1", "--steps", "1000", *START)
    assert result.exit_code == 1
    assert f"stopped at step {k}:" in result.stderr
    assert "try a smaller --lr (now 1)" in result.stderr
    assert doc["diverged"]["step"] == k
    assert "overflow" in doc["diverged"]["reason"]
    assert len(doc["steps"]) == k
    assert doc["final"] == {"params": doc["steps"][-1]["params"], "loss": doc["steps"][-1]["loss"]}


def test_divergence_in_text_mode_keeps_the_table(cli):
    result = cli("descend", LINE, "--wrt", "w,b", "--lr", "1", "--steps", "1000", *START, "--no-plot")
    assert result.exit_code == 1
    assert "Gradient descent, learning rate 1" in result.stdout
    assert "Final" not in result.stdout
    assert result.stderr.count("\n") == 1


def test_leaving_the_domain_is_reported_as_a_stop():
    # minimising log(w): d/dw = 1/w, so from w = 1 the step jumps past 0 to 1 - 2 * 1 = -1
    run = descend("log(w)", ["w"], {"w": 1}, 2.0, 5)
    assert run.diverged_step == 1
    assert "log needs a positive input" in run.diverged_reason


def test_parameter_overflow_is_caught():
    run = gradient_descent(lambda p: (0.0, {"w": 1e308}), {"w": 0.0}, -10.0, 3)
    assert run.diverged_step == 1 and "overflowed" in run.diverged_reason


def test_table_plot_and_final_line(cli):
    result = cli("descend", LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "8", *START)
    assert result.exit_code == 0
    out = result.stdout
    assert "df/dw" in out and "df/db" in out
    assert "Final (after 8 steps): w = 1.99219, b = 0.996094, f = 0.00038147" in out  # 2(1 - 2^-8), 1 - 2^-8, 25/4^8
    assert "loss f by step" in out
    assert out.isascii()  # piped: ASCII tables and an ASCII plot, no colour codes
    plain = cli("descend", LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "8", *START, "--no-plot")
    assert "loss f by step" not in plain.stdout


def test_every_thins_the_table(cli):
    auto = cli("descend", LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "200", *START, "--no-plot")
    assert "showing 51 of 200 steps" in auto.stdout  # every 4th: 0, 4, ..., 196, then 199
    every = cli("descend", LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "20", *START, "--no-plot", "--every", "10")
    rows = [line for line in every.stdout.splitlines() if line.startswith("|") and line.split("|")[1].strip().isdigit()]
    assert [row.split("|")[1].strip() for row in rows] == ["0", "10", "19"]


def test_svg_plot_file(cli, tmp_path):
    path = tmp_path / "loss.svg"
    result = cli("descend", LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "6", *START, "--plot", str(path), "--json")
    assert result.exit_code == 0
    root = ElementTree.parse(path).getroot()
    polyline = root.find("{http://www.w3.org/2000/svg}polyline")
    points = [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]
    assert len(points) == 7  # steps 0..5 and the final point
    ys = [y for _, y in points]
    assert ys == sorted(ys)  # the loss falls, so the line goes down the page (y grows)


def test_png_needs_matplotlib_and_other_suffixes_are_refused(cli, tmp_path):
    png = cli("descend", LINE, "--wrt", "w,b", *START, "--plot", str(tmp_path / "loss.png"))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert png.exit_code == 2 and "PNG needs matplotlib" in png.stderr
    else:  # pragma: no cover - only where matplotlib happens to be installed
        assert png.exit_code == 0 and (tmp_path / "loss.png").exists()
    other = cli("descend", LINE, "--wrt", "w,b", *START, "--plot", str(tmp_path / "loss.pdf"))
    assert other.exit_code == 2 and "must end in .svg or .png" in other.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        ([LINE, "--wrt", "w,c", *START], "--wrt: 'c' is not an input of the expression (known: w, x, b, y)"),
        (["q = w*x; f = q*q", "--wrt", "q", "w=1", "x=1"], "it is a named intermediate"),
        ([LINE, "--wrt", "w,b", "x=2", "w=0", "b=0"], "missing value for y"),
        ([LINE, "--wrt", ",", *START], "--wrt needs at least one variable"),
        ([LINE, "--wrt", "w,w", *START], "error: --wrt names 'w' twice: give each variable once"),
        ([LINE, "--wrt", "w", "--wrt", "b,w", *START], "error: --wrt names 'w' twice: give each variable once"),
        (["log(w)", "--wrt", "w", "w=-1"], "log needs a positive input"),
        ([LINE, "--wrt", "w", *START, "--lr", "inf"], "--lr must be a finite number"),
        (["(w", "--wrt", "w", "w=1"], "'(' is never closed"),
    ],
)
def test_bad_input_exits_2(cli, args, message):
    result = cli("descend", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_repeated_wrt_options_add_up_like_a_comma_list(cli):
    # w and b both move: the closed form of the module docstring, after 3 steps w = 1.75, b = 0.875
    result, doc = run_json(cli, LINE, "--wrt", "w", "--wrt", "b", "--lr", "0.05", "--steps", "3", *START)
    assert result.exit_code == 0 and result.stderr == ""
    assert doc["final"]["params"] == {"w": 1.75, "b": 0.875}
    assert doc["final"]["loss"] == 25 / 4**3
    listed = run_json(cli, LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "3", *START)[1]
    assert listed == doc
    # the order of the options is the order of the columns
    table = cli("descend", LINE, "--wrt", "b", "--wrt", "w", "--lr", "0.05", "--steps", "1", *START, "--no-plot")
    assert re.search(r"\| step \| +b \| +w \|", table.stdout)


@pytest.mark.parametrize("lang, warning, error", [("pt", "aviso: ", "erro: "), ("zh", "警告：", "错误：")])
def test_warning_and_error_prefixes_follow_the_language(cli, lang, warning, error):
    # z is unused (a warning); lr = 1 multiplies the residual by -9 per step, so the loss overflows
    result = cli("descend", LINE, "--wrt", "w,b", "--lr", "1", "--steps", "1000", *START, "z=1", "--no-plot", "--lang", lang)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(warning) and lines[1].startswith(error)
    assert "warning:" not in result.stderr and "error:" not in result.stderr


def test_wrt_is_required(cli):
    result = cli("descend", LINE, *START)
    assert result.exit_code == 2


def test_unused_values_warn_and_values_file(cli, tmp_path):
    values = tmp_path / "values.json"
    values.write_text('{"x": 2, "y": 5, "w": 0, "b": 0, "z": 1}')
    result, doc = run_json(cli, LINE, "--wrt", "w,b", "--lr", "0.05", "--steps", "1", "--values", str(values))
    assert result.exit_code == 0
    assert "warning: value given for 'z'" in result.stderr
    assert doc["final"]["loss"] == pytest.approx(6.25)


def test_zero_steps_give_only_the_starting_point():
    run = descend(LINE, ["w", "b"], {"x": 2, "y": 5, "w": 0, "b": 0}, 0.1, 0)
    assert run.steps == [] and run.final_loss == 25.0 and run.final_params == {"w": 0.0, "b": 0.0}


def test_starting_point_errors_are_input_errors():
    with pytest.raises(DomainError):
        descend("log(w)", ["w"], {"w": 0}, 0.1, 3)
    with pytest.raises(InputError):
        gradient_descent(lambda p: (0.0, {}), {}, 0.1, -1)


def test_library_examples():
    assert doctest.testmod(backprop_cli.descend).failed == 0


def test_real_entry_point(run_backprop):
    done = run_backprop("descend", "(w - 3)**2", "--wrt", "w", "w=0", "--lr", "0.25", "--steps", "3", "--json")
    assert done.returncode == 0, done.stderr
    # w <- w - 0.25 * 2 (w - 3) halves the distance to 3: 0, 1.5, 2.25, then 2.625
    assert [s["params"]["w"] for s in json.loads(done.stdout)["steps"]] == [0.0, 1.5, 2.25]
    failed = run_backprop("descend", "(w - 3)**2", "--wrt", "v", "w=0")
    assert failed.returncode == 2 and failed.stderr.startswith("error: --wrt: 'v'")


# --------------------------------------------------------------------------- titles and the plot


@pytest.mark.parametrize("steps", ["0", "1", "3"])
def test_the_title_is_one_line_even_above_a_narrow_table(cli, steps):
    # "(w - 3)**2" has four narrow columns: a Rich table title would wrap at the table's width
    result = cli("descend", "(w - 3)**2", "--wrt", "w", "w=0", "--steps", steps, "--lr", "0.1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Gradient descent, learning rate 0.1"


def plot_rows(text: str) -> list[str]:
    """The inside of the plot frame, one string per row (the loss labels cut off)."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.lstrip().startswith("+-"))
    rows = []
    for line in lines[top + 1 :]:
        if line.lstrip().startswith("+"):
            break
        rows.append(line[line.index("|") + 1 : line.rindex("|")])
    return rows


def test_ascii_plot_of_a_straight_line():
    # losses 10 -> 0 over one step: the curve runs from the top-left corner to the bottom-right,
    # every row is crossed, and the labels are 10 (top), 5 (middle) and 0 (bottom)
    text = loss_plot_ascii([10.0, 0.0], title="a line", width=40, height=16)
    assert text.isascii()
    rows = plot_rows(text)
    assert len(rows) == 11 and {len(row) for row in rows} == {36}  # 40 - "10" - two frame bars
    assert rows[0][0] == "*" and rows[-1][-1] == "*"
    assert rows[0][-1] == " " and rows[-1][0] == " "
    leftmost = [row.index("*") for row in rows]
    assert leftmost == sorted(leftmost)  # the line goes down to the right, no row skipped
    labelled = {line.split("|")[0].strip(): n for n, line in enumerate(text.splitlines()) if "|" in line}
    assert [label for label in labelled if label] == ["10", "5", "0"]
    assert text.splitlines()[0].strip() == "a line" and text.splitlines()[-1].strip() == "step"


def test_ascii_plot_shows_a_spike_between_columns():
    # 100 losses, all 0 but step 50; 20 columns of 99/20 steps each: the spike falls in column
    # floor(50 * 20 / 99) = 10 and reaches the top row, which nothing else does
    losses = [0.0] * 100
    losses[50] = 1.0
    rows = plot_rows(loss_plot_ascii(losses, title="spike", width=25, height=16))
    assert len(rows[0]) == 20
    assert [column for column, mark in enumerate(rows[0]) if mark == "*"] == [10]
    assert rows[-1] == "*" * 20


def test_ascii_plot_of_a_flat_line_and_of_huge_values():
    flat = plot_rows(loss_plot_ascii([9.0, 9.0, 9.0], title="flat", width=30))
    assert flat[5].strip() == "*" * len(flat[5]) and all(not row.strip() for i, row in enumerate(flat) if i != 5)
    # high - low overflows a float here; the plot must still place every point
    text = loss_plot_ascii([-1.7e308, 1.7e308], title="huge", width=40)
    rows = plot_rows(text)
    assert rows[-1].startswith("*") and rows[0].endswith("*")
    assert "1.7e308" in text and "-1.7e308" in text and "inf" not in text and "nan" not in text


def test_step_ticks_are_labelled_under_the_axis():
    # 8 steps: ticks every 2 steps (0, 2, 4, 6, 8), each "+" on the axis above its label
    text = loss_plot_ascii([25 / 4**k for k in range(9)], title="t", width=72)
    lines = text.splitlines()
    axis, labels = lines[-3], lines[-2]
    assert labels.split() == ["0", "2", "4", "6", "8"]
    for label in labels.split():
        at = labels.index(label)
        assert axis[at] == "+", (label, axis)


def test_plot_on_a_terminal_uses_plotext_with_colour_only_when_allowed():
    from rich.console import Console

    losses = [25 / 4**k for k in range(9)]
    colourless = io.StringIO()
    render_loss_plot(losses, Console(file=colourless, force_terminal=True, no_color=True, width=80), title="loss")
    assert "┤" in colourless.getvalue() and "\x1b[" not in colourless.getvalue()
    coloured = io.StringIO()
    render_loss_plot(losses, Console(file=coloured, force_terminal=True, color_system="standard", width=80), title="loss")
    assert "\x1b[" in coloured.getvalue()
    piped = io.StringIO()
    render_loss_plot(losses, Console(file=piped, force_terminal=False, width=80), title="loss")
    assert piped.getvalue().isascii() and "*" in piped.getvalue()


# --------------------------------------------------------------------------- the learning rate


def test_a_negative_learning_rate_warns_and_climbs(cli):
    # w <- w - (-1) * 2 (w - 3) = 3w - 6: from 0 that is -6, then -24, then -78; f grows 9, 81, 729
    result, doc = run_json(cli, "(w - 3)**2", "--wrt", "w", "w=0", "--lr", "-1", "--steps", "3")
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: --lr -1 is negative")
    assert "gradient ascent" in result.stderr and result.stderr.count("\n") == 1
    assert [step["params"]["w"] for step in doc["steps"]] == [0.0, -6.0, -24.0]
    assert doc["final"] == {"params": {"w": -78.0}, "loss": 81.0**2}


@pytest.mark.parametrize("lr, message", [("0", "--lr must not be 0"), ("-0.0", "--lr must not be 0"),
                                         ("nan", "--lr must be a finite number"), ("-inf", "--lr must be a finite number")])  # fmt: skip
def test_a_zero_or_non_finite_learning_rate_is_bad_input(cli, lr, message):
    result = cli("descend", "(w - 3)**2", "--wrt", "w", "w=0", f"--lr={lr}")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_learning_rate_checks_in_the_library():
    with pytest.raises(InputError, match="must not be 0"):
        gradient_descent(lambda p: (0.0, {"w": 0.0}), {"w": 0.0}, 0.0, 3)
    run = gradient_descent(lambda p: (p["w"] ** 2, {"w": 2 * p["w"]}), {"w": 1.0}, -0.5, 1)
    assert run.final_params == {"w": 2.0}  # 1 - (-0.5) * 2
    assert len(run.warnings) == 1 and "negative" in run.warnings[0]
