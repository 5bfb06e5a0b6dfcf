"""Garbage in, one clear line out: generated junk, injection attempts and huge inputs.

Every outcome must be a result or a BackpropError (exit code 2 with an "error:" line from the
CLI): never another exception, never a traceback, never a hang (hypothesis' deadline bounds
each example). Injection attempts must never run anything: each payload tries to create a
marker file, which must not appear. The examples are few and small so that the file stays
fast on two cores; the 1 MB inputs run a handful of times.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, backprop_executable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from backprop_cli import BackpropError, grad
from backprop_cli.cli import app
from backprop_cli.parse import MAX_NESTING, parse

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

# pieces of input a user might paste, valid or not
PIECES = [
    "x", "y", "z", "w0", "1", "2.5", ".5", "1e3", "1e999", "0", "+", "-", "*", "/", "**", "^", "(", ")", ",",
    ";", "\n", "=", " ", "relu(", "max(", "exp(", "log(", "sqrt(", "sigmoid(", "tanh(", "abs(", "min(",
    "＋", "−", "×", "１", "\0", "é", "λ", "#", ".", "'", '"', "[", "]", "{", "}", ":", "@", "!", "\t",
    "__import__", "lambda", "exec", "eval", "open", "Symbol", "S", "sympify", "__class__", "for", "in",
]
soup = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
junk = st.one_of(soup, st.text(max_size=60), st.binary(max_size=60).map(lambda b: b.decode("latin-1")))


def names_in(text: str) -> list[str]:
    return sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)))


def one_line_error(stderr: str) -> bool:
    """Exactly one "error: ..." line (stderr is not a terminal here, so no caret lines)."""
    return stderr.startswith("error: ") and stderr.endswith("\n") and stderr.count("\n") == 1


@FUZZ
@given(junk)
def test_parser_gives_a_program_or_a_parse_error(text):
    try:
        program = parse(text)
    except BackpropError as error:
        assert error.message and "\n" not in error.message
        return
    assert program.statements


@FUZZ
@given(junk, st.sampled_from([-2.0, 0.0, 0.5, 3.0]), st.booleans())
def test_api_gives_a_result_or_a_backprop_error(text, value, exact):
    values = {name: value for name in names_in(text)}
    try:
        result = grad(text, values, exact=exact)
    except BackpropError as error:
        assert error.message and "\n" not in error.message
        return
    assert set(result.gradients) <= set(values)


@FUZZ
@given(st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.booleans(), st.text(max_size=8), st.lists(st.integers()), st.floats(), st.integers()), max_size=4))
def test_api_rejects_bad_values_with_a_backprop_error(values):
    try:
        grad("x * y + 1", {"x": 1, "y": 2, **values})
    except BackpropError:
        pass


@settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(soup, st.lists(st.one_of(soup, st.just("x=1"), st.just("y=-2")), max_size=3))
def test_cli_exits_0_or_2_with_one_line(expression, assignments):
    runner = CliRunner()
    result = runner.invoke(app, ["grad", expression, *assignments, "--no-check"], env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert one_line_error(result.stderr), result.stderr


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(json_values, st.dictionaries(st.sampled_from(["x", "y", "z", "__import__", ""]), json_values, max_size=3)))
def test_values_file_garbage_exits_0_or_2_with_one_line(tmp_path, document):
    values = tmp_path / "values.json"
    values.write_text(json.dumps(document))
    runner = CliRunner()
    result = runner.invoke(app, ["grad", "x * y", "--values", str(values), "--no-check"], env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert one_line_error(result.stderr), result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "x ＋ y",  # full-width plus
        "x − y",  # minus sign
        "２*x",  # full-width digit
        "x\0y",
        "x" + "\u200b" + "+y",  # zero-width space
        "(" * 50 + "x",
        "x" + ")" * 50,
        "max(" * 30 + "x",
        "tanh(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1),
        "-" * (MAX_NESTING + 1) + "x",
        "x**" * (MAX_NESTING + 1) + "2",
    ],
)
def test_hostile_shapes_are_one_clear_error(text, cli):
    result = cli("grad", text, "x=1", "y=2", "--no-check")
    assert result.exit_code == 2
    assert one_line_error(result.stderr), result.stderr


def test_expression_may_start_with_a_minus(cli):
    result = cli("grad", "-x*y", "x=3", "y=2", "--json", "--summary", "--no-check")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gradients"] == {"x": -2.0, "y": -3.0}  # d(-xy)/dx = -y
    result = cli("grad", "--jsn", "x", "x=1")
    assert result.exit_code == 2 and result.stderr.startswith("error: No such option: --jsn")


@pytest.mark.parametrize(
    "expression",
    ["a" * 100_000 + "(x)", "a" * 100_000 + " + x", "q = " + "b" * 100_000 + "; f = q", "n" * 100_000 + " = x; " + "n" * 100_000 + " = 2"],
    ids=["unknown function", "missing value", "missing value (staged)", "assigned twice"],
)
def test_a_huge_name_gives_a_short_message(expression, cli):
    result = cli("grad", "-", "x=1", "--no-check", input=expression)
    assert result.exit_code == 2 and one_line_error(result.stderr)
    assert "(100,000 characters)" in result.stderr and len(result.stderr) < 600


def test_a_huge_argument_or_value_gives_a_short_message(tmp_path, cli):
    huge = "a" * 100_000
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"x": [1] * 50_000}))
    for args in (["x", huge], ["x", f"x={huge}"], ["x", "--values", str(values)]):
        result = cli("grad", *args, "--no-check")
        assert result.exit_code == 2 and one_line_error(result.stderr) and len(result.stderr) < 300, result.stderr[:300]


def test_lookalike_names_the_character_and_the_fix(cli):
    result = cli("grad", "x ＋ y", "x=1", "y=2")
    assert "FULLWIDTH PLUS SIGN" in result.stderr and "did you mean '+'" in result.stderr


# ------------------------------------------------------------------ injection


def payloads(marker: Path) -> list[str]:
    path = str(marker)
    return [
        f"__import__('os').system('touch {path}')",
        f"exec(\"open('{path}', 'w')\")",
        f"eval(\"open('{path}', 'w')\")",
        f"open('{path}', 'w')",
        f"(lambda: __import__('os').system('touch {path}'))()",
        f"[__import__('os').system('touch {path}') for _ in (1,)]",
        "x.__class__.__base__.__subclasses__()",
        "().__class__.__bases__[0].__subclasses__()",
        f"Symbol('x') + S(\"__import__('os').system('touch {path}')\")",
        f"sympify(\"__import__('os').system('touch {path}')\")",
        f"x; __import__('os').system('touch {path}')",
        f"x # \n __import__('os').system('touch {path}')",
    ]


def test_injection_in_the_expression_runs_nothing(tmp_path, cli):
    marker = tmp_path / "marker"
    for payload in payloads(marker):
        for run in (lambda p: parse(p), lambda p: grad(p, {"x": 1}, check=True)):
            with pytest.raises(BackpropError):
                run(payload)
        result = cli("grad", payload, "x=1")
        assert result.exit_code == 2 and one_line_error(result.stderr), result.stderr
        assert not marker.exists(), payload


def test_injection_as_names_and_values_runs_nothing(tmp_path, cli):
    marker = tmp_path / "marker"
    for payload in payloads(marker):
        # as a variable name or a value through the API
        with pytest.raises(BackpropError):
            grad("x + 1", {"x": payload})
        assert grad("x + 1", {"x": 1, payload: 2}).warnings  # an unused name, nothing more
        # as NAME=VALUE on the command line, both sides
        for assignment in (f"{payload}=1", f"x={payload}"):
            result = cli("grad", "x + 1", assignment, "x=1" if assignment.startswith(payload) else "y=1")
            assert result.exit_code == 2 and one_line_error(result.stderr), result.stderr
        # in a --values file, as a name and as a value
        values = tmp_path / "values.json"
        for document in ({payload: 1, "x": 1}, {"x": payload}):
            values.write_text(json.dumps(document))
            result = cli("grad", "x + 1", "--values", str(values))
            assert result.exit_code in (0, 2), result.stderr
            if result.exit_code == 2:
                assert one_line_error(result.stderr), result.stderr
        assert not marker.exists(), payload


def test_names_that_mean_something_to_python_or_sympy_are_plain_variables():
    names = ["__import__", "eval", "exec", "open", "Symbol", "S", "sympify", "lambda_", "math", "Heaviside", "os", "_v0"]
    expression = " + ".join(f"{name}*{name}" for name in names)  # d/dname = 2 name
    values = {name: index + 1 for index, name in enumerate(names)}
    result = grad(expression, values, check=True)
    assert result.gradients == {name: 2.0 * value for name, value in values.items()}
    assert result.check.method == "sympy" and result.check.ok


def test_injection_through_the_real_entry_point(tmp_path, run_backprop):
    marker = tmp_path / "marker"
    done = run_backprop("grad", f"__import__('os').system('touch {marker}')", "x=1")
    assert done.returncode == 2 and one_line_error(done.stderr) and not marker.exists()


# ---------------------------------------------------------------- big inputs

MEGABYTE = 1_000_000
#: Peak memory allowed for a 1 MB input (measured ~150-260 MB on the 2-core machine; docs/performance.md).
MAX_PEAK_MB = 600


def peak_of_run(text: str, *args: str) -> tuple[int, float, str]:
    """Run the real entry point on text as standard input; (exit code, peak MB, stderr).

    os.wait4 reaps the child and returns its own resource usage (ru_maxrss is in KB).
    """
    env = {**os.environ, "NO_COLOR": "1"}
    child = subprocess.Popen(
        [*backprop_executable(), "grad", "-", *args],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT,
    )
    child.stdin.write(text.encode())
    child.stdin.close()
    stderr = child.stderr.read().decode()
    child.stderr.close()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, usage.ru_maxrss / 1024, stderr


@pytest.mark.parametrize(
    "text, args, code",
    [
        ("x+" * (MEGABYTE // 2) + "x", ["x=1", "--json", "--summary", "--no-check"], 0),  # 500,000 nodes, one variable
        ("1+" * (MEGABYTE // 2) + "x", ["x=1", "--json", "--summary", "--no-check"], 0),  # 1,000,000 nodes
        ("(" * MEGABYTE, ["x=1", "--no-check"], 2),  # nested past the limit
        ("x*" * (MEGABYTE // 2) + "é", ["x=1", "--no-check"], 2),  # a bad character at the very end
    ],
    ids=["sum of x", "sum of constants", "open parentheses", "bad character at the end"],
)
def test_one_megabyte_input_stays_within_memory(text, args, code):
    returncode, peak, stderr = peak_of_run(text, *args)
    assert returncode == code, stderr[-500:]
    if code == 2:
        assert one_line_error(stderr), stderr[-500:]
    assert peak < MAX_PEAK_MB, f"peak {peak:.0f} MB"


def test_random_megabyte_of_soup_is_one_clear_error_or_a_result(cli):
    pieces = ["x", "+", "*", "(", ")", "1", " ", "relu(", "-", ",", "y", "/", "\n"]
    text = "".join(pieces[(i * 7 + i // 3) % len(pieces)] for i in range(MEGABYTE))
    result = cli("grad", "-", "x=1", "y=2", "--no-check", "--summary", input=text)
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert one_line_error(result.stderr), result.stderr[-300:]


def test_benchmark_page_commands_run():
    """The commands of docs/performance.md run (at the benchmarks' small size)."""
    page = (ROOT / "docs" / "performance.md").read_text()
    commands = [
        line.split("  #")[0].strip()
        for block in re.findall(r"```sh\n(.*?)```", page, re.DOTALL)
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert any("bench/run_all.py" in command for command in commands)
    for command in commands:
        words = command.split()
        assert words[0] == "python", command
        env = {**os.environ, "BACKPROP_BENCH_QUICK": "1"}
        done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        assert done.stdout.strip(), command


# ------------------------------------------------------------ streamed JSON


@pytest.mark.parametrize(
    "expression, values, exact",
    [
        ("(x+y)*z", {"x": -2, "y": 5, "z": -4}, False),
        ("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4}, False),
        ("x*0*y + x", {"x": -1, "y": 2}, False),  # a -0.0 contribution
        ("relu(-x)*y + max(x, x)", {"x": 1, "y": -2}, False),  # 0 gradients, a tie
        ("x*x + x", {"x": 3}, False),  # fan-out: running sums
        ("-(relu(x) + y)*0 + y*w", {"x": 1, "y": 2, "w": -3}, False),  # -0.0 upstream through + and relu
        ("apple*apple_num*tax", {"apple": 100, "apple_num": 2, "tax": "1.1"}, True),
        ("x * exp(y)", {"x": "1/3", "y": 0}, True),
    ],
)
def test_streamed_json_is_the_documented_document(expression, values, exact):
    """The fast writer prints exactly json.dumps(result.to_dict()), rows on their own lines."""
    import io

    from backprop_cli.render.json import write_json

    result = grad(expression, values, exact=exact)
    for steps in (True, False):
        stream = io.StringIO()
        write_json(result, stream, steps=steps)
        expected = json.dumps(result.to_dict(steps), ensure_ascii=False, allow_nan=False) + "\n"
        assert stream.getvalue().replace(",\n {", ", {") == expected


def _serial_document(result) -> str:
    import io

    from backprop_cli.render.json import write_json

    stream = io.StringIO()
    write_json(result, stream)
    return stream.getvalue()


def _document_formatted_aside(result, monkeypatch) -> str:
    """write_json's document with the backward steps given to a second process, as for a big graph."""
    import io

    from backprop_cli.render import json as json_render

    monkeypatch.setattr(json_render, "_parallel", lambda result: True)
    stream = io.StringIO()
    json_render.write_json(result, stream)
    return stream.getvalue()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="formatting aside needs fork")
def test_backward_steps_formatted_by_a_second_process_are_the_same_document(tmp_path, monkeypatch):
    """Large graphs format their steps in a forked child: the document must not change,
    whether the stream is a UTF-8 text file or another text stream (copied in blocks)."""
    from backprop_cli.render import json as json_render

    result = grad("relu(x*0.5 + y*-2) + max(x, y)*x + x*x*y", {"x": 1.5, "y": -0.25})
    expected = _serial_document(result)
    assert _document_formatted_aside(result, monkeypatch) == expected  # a text stream: copied in blocks
    path = tmp_path / "out.json"
    with open(path, "w", encoding="utf-8") as stream:
        json_render.write_json(result, stream)
    assert path.read_text(encoding="utf-8") == expected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="formatting aside needs fork")
def test_a_failing_second_process_leaves_the_document_whole(monkeypatch):
    """If the child cannot format the steps, this process formats them itself."""
    from backprop_cli.render import json as json_render

    result = grad("x*y + x", {"x": 2, "y": 3})
    expected = _serial_document(result)
    calls = []
    real_lines = json_render._step_lines

    def lines_failing_in_the_child(result, grad_texts):
        calls.append(os.getpid())
        lines = real_lines(result, grad_texts)
        if len(calls) == 1:  # the copy handed to the child breaks after one line
            yield next(lines)
            if os.getpid() != parent:
                raise RuntimeError("the child fails")
        yield from lines

    parent = os.getpid()
    monkeypatch.setattr(json_render, "_step_lines", lines_failing_in_the_child)
    assert _document_formatted_aside(result, monkeypatch) == expected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="formatting aside needs fork")
def test_no_process_to_spare_means_formatting_here(monkeypatch):
    result = grad("x*y + x", {"x": 2, "y": 3})
    expected = _serial_document(result)

    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert _document_formatted_aside(result, monkeypatch) == expected


def test_exact_values_beyond_float_range_are_a_clear_json_error(cli):
    result = cli("grad", "x*x", "x=1e200", "--exact", "--json", "--no-check")
    assert result.exit_code == 2 and result.stdout == ""
    assert one_line_error(result.stderr) and "beyond the range of a float" in result.stderr
    assert cli("grad", "x*x", "x=1e200", "--exact", "--no-check").exit_code == 0  # the tables show it exactly


def test_a_failure_inside_sympy_falls_back_without_a_traceback():
    """SymPy writes d|u|/du with re() and im() when it cannot prove u real (z**y): the check
    evaluates them for real numbers; any other failure inside SymPy hands over to finite
    differences instead of printing a thread's traceback."""
    import threading

    escaped = []
    previous, threading.excepthook = threading.excepthook, escaped.append
    try:
        result = grad("abs(z ** y - 1 / z)", {"y": -1.5, "z": 2}, check=True)
        # d/dy |2^y - 1/2| at y = -1.5: 2^y - 1/2 < 0, so -(2^y ln 2)
        assert result.check.ok and result.gradients["y"] == pytest.approx(-(2**-1.5) * math.log(2))
        other = grad("abs((-(2 - z) ^ max(abs(-1), relu(y))) + (-(y + x) + relu(-3)))", {"x": 0.5, "y": -1.5, "z": 2}, check=True)
        assert other.check.ok
    finally:
        threading.excepthook = previous
    assert not escaped
