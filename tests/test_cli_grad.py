"""`backprop grad` driven as a user would: CliRunner for the many cases, a subprocess for a few."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import jsonschema
import pytest
from conftest import ROOT, backprop_executable

SCHEMA = json.loads((ROOT / "docs" / "schema" / "grad.schema.json").read_text())
CIRCUIT = ["(x+y)*z", "x=-2", "y=5", "z=-4"]
NEURON = ["w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"]


def cells(stdout: str, first: str) -> list[str]:
    """The cells of the ASCII table row whose first cell is `first`."""
    for line in stdout.splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if parts and parts[0] == first:
            return parts
    raise AssertionError(f"no row {first!r} in:\n{stdout}")


def test_circuit_sections_in_order(cli):
    result = cli("grad", *CIRCUIT)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    positions = [out.index(s) for s in ("Parsed: ((x + y) * z)", "Forward pass", "Backward pass", "Gradients of f = -12")]
    assert positions == sorted(positions)
    assert cells(out, "2")[1:] == ["(x + y)", "add", "x, y", "3"]
    assert cells(out, "df/dx") == ["df/dx", "-4", "z", "-4", "ok"]
    assert cells(out, "df/dz") == ["df/dz", "3", "x + y", "3", "ok"]
    # the backward row for z: upstream 1, mul's local gradient is the other input q = 3
    row = next(line for line in out.splitlines() if "| z " in line and "mul: other input" in line)
    assert "mul: other input = 3" in row
    assert "check: sympy: agrees" in out
    assert "\x1b[" not in out  # not a terminal: no colour codes
    assert "╭" not in out and "+---" in out  # and plain ASCII tables


def test_fan_out_is_marked(cli):
    out = cli("grad", "x*x + x", "x=3").stdout
    assert "+= path 1 of 3" in out and "+= path 3 of 3" in out
    assert cells(out, "df/dx")[:2] == ["df/dx", "7"]


def test_staged_program(cli):
    out = cli("grad", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4").stdout
    assert "Parsed: q = (x + y); f = (q * z)" in out
    assert cells(out, "2")[1:3] == ["q", "add"]
    assert cells(out, "4")[1:4] == ["f", "mul", "q, z"]


def test_sigmoid_neuron_digits(cli):
    out = cli("grad", "sigmoid(w0*x0 + w1*x1 + w2)", *NEURON).stdout
    assert "Gradients of f = 0.731059" in out
    assert cells(out, "df/dw0")[1] == "-0.196612"
    assert cells(out, "df/dx1")[1] == "-0.589836"
    out = cli("grad", "sigmoid(w0*x0 + w1*x1 + w2)", *NEURON, "--digits", "4", "--no-check").stdout
    assert cells(out, "df/dw0") == ["df/dw0", "-0.1966"]


def test_apple_exact(cli):
    out = cli("grad", "apple*apple_num*tax", "apple=100", "apple_num=2", "tax=1.1", "--exact").stdout
    assert cells(out, "df/dapple")[:3] == ["df/dapple", "11/5", "2.2"]
    doc = json.loads(cli("grad", "apple*apple_num*tax", "apple=100", "apple_num=2", "tax=1.1", "--exact", "--json").stdout)
    assert doc["gradients_exact"] == {"apple": "11/5", "apple_num": "110", "tax": "200"}
    assert doc["gradients"]["apple"] == 2.2
    jsonschema.validate(doc, SCHEMA)


def test_json_document(cli):
    result = cli("grad", *CIRCUIT, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["expression"] == "(x+y)*z" and doc["parsed"] == "((x + y) * z)"
    assert doc["inputs"] == {"x": -2, "y": 5, "z": -4} and doc["output"] == "f"
    assert doc["value"] == -12 and doc["gradients"] == {"x": -4, "y": -4, "z": 3}
    assert doc["check"]["method"] == "sympy" and doc["check"]["ok"]
    assert doc["check"]["derivatives"]["z"]["symbolic"] == "x + y"
    assert len(doc["nodes"]) == 5 and len(doc["backward"]) == 4
    by_id = {n["id"]: n for n in doc["nodes"]}
    for step in doc["backward"]:
        assert step["contribution"] == step["upstream"] * step["local"]
        assert by_id[step["gate"]]["grad"] == step["upstream"]


def test_json_summary_and_wrt(cli):
    doc = json.loads(cli("grad", *CIRCUIT, "--json", "--summary", "--no-check", "--wrt", "x,z").stdout)
    jsonschema.validate(doc, SCHEMA)
    assert "nodes" not in doc and "backward" not in doc and doc["check"] is None
    assert doc["gradients"] == {"x": -4, "z": 3}


def test_wrt_intermediate(cli):
    out = cli("grad", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--wrt", "q", "--summary").stdout
    assert cells(out, "df/dq")[:2] == ["df/dq", "-4"]
    result = cli("grad", *CIRCUIT, "--wrt", "w")
    assert result.exit_code == 2 and "'w' is not a variable" in result.stderr


def test_values_file_and_stdin(cli, tmp_path):
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"x": -2, "y": 5, "z": "-4", "shared": 1}))
    result = cli("grad", "(x+y)*z", "--values", str(values), "--json")
    assert json.loads(result.stdout)["gradients"] == {"x": -4, "y": -4, "z": 3}
    assert "warning: value given for 'shared'" in result.stderr and result.exit_code == 0
    result = cli("grad", "-", "x=-2", "y=5", "z=-4", "--json", input="(x+y)*z\n")
    assert json.loads(result.stdout)["value"] == -12
    result = cli("grad", "(x+y)*z", "--values", "-", "--json", input='{"x": -2, "y": 5, "z": -4}')
    assert json.loads(result.stdout)["value"] == -12
    result = cli("grad", "(x+y)*z", "z=2", "--values", str(values), "--json")  # arguments win over the file
    assert json.loads(result.stdout)["value"] == 6


@pytest.mark.parametrize(
    "args, message",
    [
        (["(x+y", "x=1", "y=2"], "error: '(' is never closed at column 1"),
        (["foo(x)", "x=1"], "error: unknown function 'foo'"),
        (["(x+y)*z", "x=1", "y=2"], "error: missing value for z"),
        (["x*2", "x=abc"], "error: value of 'x' 'abc' is not a number"),
        (["x*2", "x"], "error: expected NAME=VALUE, got 'x'"),
        (["log(x)", "x=-1"], "error: log at node 'log(x)': log needs a positive input"),
        (["x/y", "x=1", "y=0"], "error: div at node '(x / y)': division by zero"),
        (["sqrt(x)", "x=-1"], "error: sqrt at node 'sqrt(x)': sqrt of a negative number"),
        (["exp(x)", "x=1000"], "error: exp at node 'exp(x)': overflow"),
        (["9**9**9**9", "--exact"], "error: pow at node"),
        (["x", "--values", "/nonexistent.json"], "error: --values: cannot read"),
        (["__import__('os').system('true')"], "error: unknown function '__import__'"),
        (["-", "-", "--values", "-"], "error: standard input can be read only once"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, message):
    result = cli("grad", *args, input="")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith(message)
    assert "Traceback" not in result.stderr


def test_syntax_error_is_one_line_for_scripts_and_shows_a_caret_at_a_terminal(cli, monkeypatch):
    lines = cli("grad", "(x+y))*z", "x=1", "y=1", "z=1").stderr.splitlines()
    assert lines == ["error: unmatched ')' at column 6"]
    monkeypatch.setattr("backprop_cli.cli.stderr_is_terminal", lambda: True)
    lines = cli("grad", "(x+y))*z", "x=1", "y=1", "z=1").stderr.splitlines()
    assert lines == ["error: unmatched ')' at column 6", "  (x+y))*z", "       ^"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_caret_reaches_a_real_terminal():
    import pty

    controller, terminal = pty.openpty()
    done = subprocess.run(
        [*backprop_executable(), "grad", "x+", "--no-check"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, timeout=60,
    )
    os.close(terminal)
    shown = _read_terminal(controller)
    os.close(controller)
    assert done.returncode == 2 and done.stdout == b""
    assert shown.decode().splitlines() == [
        "error: expected a number, a name or '(' but found end of input after '+' at column 3", "  x+", "    ^"
    ]


def test_values_file_errors(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "is not valid JSON" in cli("grad", "x", "--values", str(bad)).stderr
    bad.write_text("[1, 2]")
    assert "must hold a JSON object" in cli("grad", "x", "--values", str(bad)).stderr
    bad.write_text('{"x": [1]}')
    result = cli("grad", "x", "--values", str(bad))
    assert result.exit_code == 2 and "value of 'x' must be a number" in result.stderr


def test_kink_note(cli):
    out = cli("grad", "relu(x) * y", "x=0", "y=2").stdout
    assert "note: relu(x): relu'(0) = 0" in out
    assert "ok*" in out  # SymPy's Heaviside(0) = 1/2 differs: flagged as a convention, not a bug


def test_caret_power_note(cli):
    assert "note: '^' is read as power" in cli("grad", "x^2", "x=3").stdout


def test_max_rows(cli):
    out = cli("grad", "+".join(f"x*{i}" for i in range(1, 30)), "x=1", "--max-rows", "5", "--no-check").stdout
    assert "more rows not shown (--max-rows 5; --max-rows 0 shows all)" in out


def test_color_always_and_no_color(cli):
    coloured = cli("grad", *CIRCUIT, "--no-check", "--color", "always").stdout
    assert "\x1b[" in coloured and "╭" in coloured
    plain = cli("grad", *CIRCUIT, "--no-check", "--color", "always", env={"NO_COLOR": "1"}).stdout
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", plain)  # NO_COLOR: no colour codes at all


def test_version_and_help(cli):
    from backprop_cli import __version__

    assert cli("--version").stdout.strip() == f"backprop {__version__}"
    help_text = cli("grad", "--help").stdout
    assert "backprop grad \"(x+y)*z\" x=-2 y=5 z=-4" in help_text and "--exact" in help_text


def test_entry_point_end_to_end(run_backprop):
    done = run_backprop("grad", *CIRCUIT)
    assert done.returncode == 0 and "Gradients of f = -12" in done.stdout and done.stderr == ""
    done = run_backprop("grad", "x*x + x", "x=3", "--json", "--no-check")
    assert json.loads(done.stdout)["gradients"] == {"x": 7}
    done = run_backprop("grad", "log(x)", "x=0")
    assert done.returncode == 2 and done.stdout == "" and done.stderr.startswith("error: log at node")
    assert "Traceback" not in done.stderr


def test_python_dash_m(run_backprop):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "backprop_cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("backprop ")


def test_no_sympy_import_without_check(run_backprop):
    import subprocess
    import sys

    code = (
        "import sys; from typer.testing import CliRunner; from backprop_cli.cli import app;"
        "r = CliRunner().invoke(app, ['grad', 'x*y', 'x=1', 'y=2', '--no-check']);"
        "assert r.exit_code == 0; print('sympy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["x*y", "x=1", "x=2", "y=1"], None, "error: x is given twice (1 and 2)"),
        (["x", "x=1", "--lang", "fr"], None, "error: --lang: unknown language 'fr' (available: en, pt, zh)"),
        (["-", "x=1"], b"x\xff", "error: standard input is not valid UTF-8 (byte 2)"),
        (["x", "x=1", "--json", "--explain"], None, "error: --explain narrates the text tables"),
        (["x**0.5", "x=0"], None, "error: pow at node '(x ** 0.5)': a**b has an infinite slope at a = 0"),
    ],
)
def test_more_bad_input(args, stdin, message, run_backprop):
    import subprocess

    from conftest import backprop_executable

    done = subprocess.run([*backprop_executable(), "grad", *args], input=stdin, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [done.stderr.decode().splitlines()[0]]  # one line
    assert done.stderr.decode().startswith(message)


@pytest.mark.parametrize(
    "args, message",
    [
        (["grad", "x", "--digits", "0"], "error: Invalid value for '--digits'"),
        (["nosuch"], "error: No such command 'nosuch'"),
    ],
)
def test_usage_errors_are_one_line(args, message, run_backprop):
    done = run_backprop(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()] and done.stderr.startswith(message)


def test_exact_check_compares_at_the_exact_point(cli):
    # 1/3 > 0.3333333333333333333 exactly, although both round to the same float: max routes to x
    result = cli("grad", "max(x,y)", "x=1/3", "y=0.3333333333333333333", "--exact", "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["gradients_exact"] == {"x": "1", "y": "0"} and doc["check"]["ok"]


def test_exact_local_gradients_are_integers(cli):
    doc = json.loads(cli("grad", "x + relu(y)", "x=1", "y=2", "--exact", "--json", "--no-check").stdout)
    assert {step["local_exact"] for step in doc["backward"]} == {"1"}


def test_labels_match_the_echo():
    from backprop_cli import grad

    r = grad("sigmoid(a*b) + -x*y", {"a": 1, "b": 2, "x": 1, "y": 2})
    assert r.parsed == "(sigmoid(a * b) + ((-x) * y))"
    assert "sigmoid(a * b)" in r.graph.labels and "((-x) * y)" in r.graph.labels


def test_exact_roots():
    from fractions import Fraction

    from backprop_cli import grad

    r = grad("x**0.5 + y**(2/3)", {"x": "9/4", "y": 8}, exact=True)
    assert r.value == Fraction(11, 2)  # 3/2 + 4
    assert r.gradients["x"] == Fraction(1, 3)  # 1 / (2 sqrt(9/4))
    assert r.gradients["y"] == Fraction(1, 3)  # (2/3) 8^(-1/3)


def test_values_file_with_a_repeated_name(cli, tmp_path):
    values = tmp_path / "values.json"
    values.write_text('{"x": 1, "x": 2}')
    result = cli("grad", "x", "--values", str(values))
    assert result.exit_code == 2 and result.stderr.startswith("error: --values: 'x' is given twice")


def test_wrt_a_named_constant_gets_its_gradient(cli):
    """A staged name is a node like any other, even when no input flows into it:
    f = q*2 with q = 3 has df/dq = 2; f = c*x has df/dc = x (by hand)."""
    doc = json.loads(cli("grad", "q = 3; f = q*2", "--json", "--summary", "--no-check", "--wrt", "q").stdout)
    assert doc["gradients"] == {"q": 2.0}
    doc = json.loads(cli("grad", "c = 2 + 1; f = c*x", "x=4", "--json", "--no-check", "--wrt", "c,x").stdout)
    assert doc["gradients"] == {"c": 4.0, "x": 3.0}
    into_c = [step for step in doc["backward"] if doc["nodes"][step["input"]]["label"] == "c"]
    assert [(step["upstream"], step["local"], step["contribution"]) for step in into_c] == [(1.0, 4.0, 4.0)]
    # the constants inside c's statement still pass no gradient on
    assert all(doc["nodes"][step["input"]]["gate"] != "const" for step in doc["backward"])


def test_repeated_wrt_options_add_up_like_a_comma_list(cli):
    repeated = cli("grad", *CIRCUIT, "--json", "--summary", "--no-check", "--wrt", "z", "--wrt", "x")
    assert repeated.exit_code == 0 and repeated.stderr == ""
    doc = json.loads(repeated.stdout)
    assert doc["gradients"] == {"z": 3, "x": -4} and list(doc["gradients"]) == ["z", "x"]  # in the order given
    mixed = cli("grad", *CIRCUIT, "--summary", "--no-check", "--wrt", "y,z", "--wrt", "x")
    assert [cells(mixed.stdout, f"df/d{name}")[1] for name in "yzx"] == ["-4", "3", "-4"]


def test_a_name_given_twice_to_wrt_is_an_error(cli):
    result = cli("grad", *CIRCUIT, "--wrt", "x", "--wrt", "z,x")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "error: --wrt names 'x' twice: give each variable once\n"


@pytest.mark.parametrize("output_format", ["latex", "markdown", "text"])
def test_json_and_another_format_is_an_error(cli, output_format):
    result = cli("grad", *CIRCUIT, "--format", output_format, "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"error: --json and --format {output_format} ask for two different outputs: keep one\n"


def test_json_and_format_json_agree(cli):
    result = cli("grad", *CIRCUIT, "--format", "json", "--json", "--no-check")
    assert result.exit_code == 0 and json.loads(result.stdout)["value"] == -12


@pytest.mark.parametrize("output_format", ["markdown", "latex"])
def test_summary_with_markdown_or_latex_is_an_error(cli, output_format):
    result = cli("grad", *CIRCUIT, "--format", output_format, "--summary")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: --summary shortens the text tables and JSON; --format {output_format} always prints every table\n"
    )


def test_a_value_for_a_computed_name_is_ignored_and_says_so(cli):
    # x = y + 1 = 2 whatever x=5 says: f = 2x = 4, df/dy = 2
    result = cli("grad", "x = y + 1; f = x * 2", "x=5", "y=1", "--json", "--no-check")
    assert result.exit_code == 0
    assert result.stderr == "warning: 'x' is computed by the program, so the value given for it is ignored\n"
    doc = json.loads(result.stdout)
    assert doc["value"] == 4 and doc["gradients"] == {"y": 2}


def test_a_missing_value_mentions_the_unused_one(cli):
    result = cli("grad", "x*y", "x=1", "z=2")
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: missing value for y")
    assert "z" in lines[0].split("pass y=VALUE", 1)[1] and "typo?" in lines[0]


def test_an_expression_without_variables_says_why_there_are_no_gradients(cli):
    note = "the expression has no variables, so there are no gradients"
    result = cli("grad", "3", "--no-check")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.count(f"note: {note}") == 1
    doc = json.loads(cli("grad", "3", "--json", "--no-check").stdout)
    assert doc["gradients"] == {} and doc["notes"] == [note]
    # a named intermediate asked for with --wrt gives the gradients table a row: no note
    named = cli("grad", "q = 3; f = q * 2", "--wrt", "q", "--summary", "--no-check")
    assert cells(named.stdout, "df/dq")[0] == "df/dq" and note not in named.stdout


def test_a_computed_name_is_not_taken_for_a_typo_of_a_missing_value(cli):
    """q is assigned by the program: a value for it is no misspelt y; w is unused: it may be."""
    result = cli("grad", "q = x + 1; f = q * y", "x=1", "q=5")
    assert result.exit_code == 2
    assert result.stderr == "error: missing value for y (first used at column 20); pass y=VALUE\n"
    result = cli("grad", "q = x + 1; f = q * y", "x=1", "q=5", "w=2")
    assert result.exit_code == 2 and "a value was given for w, which the expression does not use: a typo?" in result.stderr
    assert "given for q" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["descend", "q = x - 3; f = q*q", "x=0", "q=1", "--wrt", "x", "--steps", "1"],
        ["check", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "q=7", "--grad", "x=-4"],
    ],
)
def test_descend_and_check_say_a_computed_name_is_ignored(cli, command):
    result = cli(*command)
    assert result.exit_code == 0
    assert "warning: 'q' is computed by the program, so the value given for it is ignored" in result.stderr.splitlines()


def test_values_run_together_are_one_malformed_value(cli):
    result = cli("grad", "x*y", "x=1,y=2")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: value of 'x' '1,y=2' is not a number: give each value as a word of its own (x=1 y=2)\n"
    )


def _read_terminal(controller: int) -> bytes:
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end is closed: everything is read
            return shown
        if not chunk:
            return shown
        shown += chunk


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("color, styled", [("auto", True), ("never", False)])
def test_color_never_is_plain_text_even_at_a_terminal(color, styled):
    import pty

    controller, terminal = pty.openpty()
    done = subprocess.run(
        [*backprop_executable(), "grad", *CIRCUIT, "--no-check", "--color", color],
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=subprocess.PIPE, timeout=60,
        env={**os.environ, "COLUMNS": "120", "NO_COLOR": "", "TERM": "xterm"},
    )
    os.close(terminal)
    shown = _read_terminal(controller).decode()
    os.close(controller)
    assert done.returncode == 0
    assert ("\x1b[" in shown) is styled  # escape codes: colour, bold
    assert ("╭" in shown) is styled and ("+---" in shown) is not styled  # box drawing or ASCII
    assert "df/dx" in shown


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGPIPE")
def test_a_closed_pipe_ends_the_program_quietly():
    expression = " + ".join(f"x*{i}" for i in range(3000))  # about 1 MB of JSON: more than a pipe holds
    reader = subprocess.Popen(
        [*backprop_executable(), "grad", expression, "x=1", "--no-check", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    reader.stdout.read(1)
    reader.stdout.close()  # like `| head -c 1`
    stderr = reader.stderr.read()
    reader.wait(timeout=60)
    assert stderr == b""  # no BrokenPipeError, no "Exception ignored"
    assert reader.returncode == -13  # ended by SIGPIPE, as cat or grep would be


@pytest.mark.parametrize("expression, values", [("0**y", ["y=2"]), ("(x*0)**y", ["x=1", "y=2"]), ("0**x*x", ["x=2"])])
def test_a_derivative_sympy_cannot_evaluate_falls_back_to_finite_differences(cli, expression, values):
    """0**y is 0 for y > 0, so df/dy = 0; SymPy's 0**y*log(0) is nan, which is no disagreement."""
    result = cli("grad", expression, *values)
    assert result.exit_code == 0 and "DISAGREES" not in result.stdout
    doc = json.loads(cli("grad", expression, *values, "--json").stdout)
    assert doc["check"]["method"] == "finite-difference" and doc["check"]["ok"]
    assert doc["check"]["note"].startswith("SymPy's derivative for")
    if expression == "0**x*x":  # f = 0 for x > 0: every gradient 0
        assert doc["gradients"] == {"x": 0.0}
    else:
        assert doc["gradients"]["y"] == 0.0


def test_a_values_file_that_is_not_utf8_is_one_error(cli, tmp_path):
    values = tmp_path / "values.json"
    values.write_bytes(b'{"x": 1, "y": 2\xff}')
    result = cli("grad", "x*y", "--values", str(values))
    assert result.exit_code == 2
    assert result.stderr == f"error: --values: {str(values)!r} is not valid UTF-8 (byte 16)\n"
    values.write_bytes(b'\xef\xbb\xbf{"x": 2, "y": 3}')  # a byte-order mark is skipped
    doc = json.loads(cli("grad", "x*y", "--values", str(values), "--json", "--summary", "--no-check").stdout)
    assert doc["gradients"] == {"x": 3.0, "y": 2.0}


def test_an_input_called_f_renames_the_output(cli):
    """df/df would be ambiguous: with an input f the output is called out (d(2f)/df = 2)."""
    doc = json.loads(cli("grad", "f*2", "f=3", "--json", "--no-check").stdout)
    assert doc["output"] == "out" and doc["gradients"] == {"f": 2.0}
    doc = json.loads(cli("grad", "f = x*2; g = f + 1", "x=1", "--json", "--summary", "--no-check").stdout)
    assert doc["output"] == "g"  # a named output keeps its name
    doc = json.loads(cli("grad", "f*out", "f=3", "out=2", "--json", "--summary", "--no-check").stdout)
    assert doc["output"] == "output"


def test_a_name_with_a_nul_is_shown_with_a_question_mark(cli, tmp_path):
    values = tmp_path / "values.json"
    values.write_text('{"x": 1, "y\\u0000": 2}')
    result = cli("grad", "x*y", "--values", str(values))
    assert result.exit_code == 2 and "\x00" not in result.stderr
    assert result.stderr.startswith("error: --values: 'y?' is not a name backprop reads")


@pytest.mark.parametrize(
    "words, kept",
    [
        (["grad", "x*y", "x=1", "y=2"], ["grad"]),
        (["--lang", "pt"], None),  # no command named: every command stays (for --help)
        (["grda", "x"], None),  # unknown: Click lists them all in its error
        (["worksheet", "--count", "2"], ["worksheet"]),
    ],
)
def test_the_entry_point_builds_only_the_command_it_runs(monkeypatch, words, kept):
    from typer.main import get_command_name

    from backprop_cli import cli as cli_module

    every = list(cli_module.app.registered_commands)
    monkeypatch.setattr(cli_module.app, "registered_commands", list(every))
    cli_module.keep_only_the_command_asked_for(words)
    names = [get_command_name(command.callback.__name__) for command in cli_module.app.registered_commands]
    assert names == (kept or [get_command_name(command.callback.__name__) for command in every])


@pytest.mark.parametrize("command", [["gates"], ["graph", "x*y", "x=1", "y=2"], ["descend", "x*x", "--wrt", "x", "x=1"],
                                     ["net", "--shape", "2,1"], ["quiz"], ["worksheet"]])
def test_an_unknown_language_is_one_error_line_in_every_command(cli, command):
    result = cli(*command, "--lang", "fr")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "error: --lang: unknown language 'fr' (available: en, pt, zh)\n"


def test_a_short_id_never_looks_like_a_name_of_the_expression(cli):
    # with a variable n8, the long sum (node 8) is #8, so the two are told apart
    doc = json.loads(cli("grad", "sigmoid(w0*x0 + w1*x1 + n8) * n8", "w0=2", "x0=-1", "w1=-3", "x1=-2", "n8=-3",
                         "--json", "--no-check").stdout)
    labels = [node["label"] for node in doc["nodes"]]
    assert len(labels) == len(set(labels)) and "#8" in labels and "n8" in labels
    plain = json.loads(cli("grad", "sigmoid(w0*x0 + w1*x1 + w2)", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3",
                           "--json", "--no-check").stdout)
    assert "n8" in [node["label"] for node in plain["nodes"]]  # the usual spelling otherwise


def test_exact_wrt_keeps_the_exact_gradient(cli):
    # apple*apple_num*tax: d/d apple = apple_num * tax = 2 * 11/10 = 11/5 (by hand)
    doc = json.loads(cli("grad", "apple*apple_num*tax", "apple=100", "apple_num=2", "tax=1.1", "--exact", "--json",
                         "--summary", "--no-check", "--wrt", "apple").stdout)
    assert doc["gradients"] == {"apple": 2.2} and doc["gradients_exact"] == {"apple": "11/5"}


def test_every_usual_output_name_taken_gives_a_numbered_one(cli):
    doc = json.loads(cli("grad", "f*out*output", "f=3", "out=2", "output=1", "--json", "--summary", "--no-check").stdout)
    assert doc["output"] == "f1" and doc["gradients"] == {"f": 2.0, "out": 3.0, "output": 6.0}


@pytest.mark.parametrize("wrt", ["", ","])
def test_an_empty_wrt_is_an_error(cli, wrt):
    result = cli("grad", "x*y", "x=1", "y=2", "--wrt", wrt)
    assert result.exit_code == 2
    assert result.stderr == "error: --wrt needs at least one variable (for example --wrt x or --wrt w,b)\n"


def test_only_values_run_together_get_that_hint(cli):
    result = cli("grad", "x*y", "x==3", "y=2")
    assert result.exit_code == 2 and "give each value as a word" not in result.stderr
    assert "is not a number (use forms like" in result.stderr


def test_graph_and_descend_read_an_expression_that_starts_with_a_minus(cli):
    # d/dx of -x*y is -y = -2 at y = 2; descend on -x**2 + x**4 from x = 3 moves x down (gradient -6 + 108 = 102)
    result = cli("graph", "-x*y", "x=1", "y=2")
    assert result.exit_code == 0 and "f = ((-x) * y)" in result.stdout
    run = json.loads(cli("descend", "-x**2 + x**4", "--wrt", "x", "x=3", "--steps", "1", "--lr", "0.01", "--json").stdout)
    assert run["steps"][0]["gradients"]["x"] == pytest.approx(-2 * 3 + 4 * 27)


def test_output_that_cannot_be_written_is_one_error_line(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    with open("/dev/full", "w") as full:
        done = subprocess.run([*backprop_executable(), "grad", "x*y", "x=1", "y=2", "--json"], stdout=full,
                              stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode() == "error: cannot write the output: No space left on device\n"


def test_claims_split_at_the_first_equals_sign(cli):
    result = cli("check", "(x+y)*z", "x=-2", "y=5", "z=-4", "--grad", "x=1,y=2")
    assert result.exit_code == 2
    assert "give each value as a word of its own" in result.stderr and "'x=1,y'" not in result.stderr


def test_the_caret_names_the_power_gate(cli):
    assert cli("gates", "^").stdout == cli("gates", "**").stdout != ""


def test_a_huge_gradient_has_a_finite_length():
    from backprop_cli.descend import DescentStep

    # |(1.8459e154, 1.8459e153)| = 1.8459e154 * sqrt(1.01) = 1.85515e154 (by hand); the squares overflow
    step = DescentStep(66, {"w": 0.0, "b": 0.0}, 1.0, {"w": 1.8459e154, "b": 1.8459e153})
    assert step.gradient_norm == pytest.approx(1.8459e154 * 1.01 ** 0.5)


def test_a_non_ascii_name_in_a_value_is_named_as_such(cli):
    result = cli("grad", "α*x", "α=2", "x=3")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: 'α' is not a name backprop reads: names are ASCII letters, digits and _ (for example alpha)\n"
    )


def test_a_values_file_name_no_expression_can_use_is_an_error(cli, tmp_path):
    values = tmp_path / "values.json"
    values.write_text('{"x y": 1, "x": 2}')
    result = cli("grad", "x", "--values", str(values))
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --values: 'x y' is not a name backprop reads (letters, digits and _, not starting with a digit)\n"
    )
    values.write_text('{"x": "11/5"}')  # a number as text, like NAME=VALUE: 2 * 11/5 = 22/5
    doc = json.loads(cli("grad", "x*2", "--values", str(values), "--exact", "--json", "--summary", "--no-check").stdout)
    assert doc["value_exact"] == "22/5"
