"""`backprop check` driven as a user would: CliRunner for most cases, the real entry point for a few.

Expected numbers are the worked examples of MISSION.md (the circuit (x+y)*z at -2, 5, -4 and
the sigmoid neuron) and hand computations, never the program's own output.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT

from backprop_cli.check import CODES

ISSUE_EXAMPLE = [
    "check", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4",
    "--value", "-12", "--grad", "x=4", "--grad", "z=3", "--node", "q=3", "--node-grad", "q=-4",
]
NEURON = ["sigmoid(w0*x0 + w1*x1 + w2)", "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"]


def line(entry_id: str, expression: str, values: dict, claims: dict) -> str:
    return json.dumps({"id": entry_id, "expression": expression, "values": values, "claims": claims}) + "\n"


CLASS = "".join(
    [
        line("alice", "q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4},
             {"value": -12, "gradients": {"x": -4, "y": -4, "z": 3}, "intermediates": {"q": {"value": 3, "grad": -4}}}),
        line("bob", "q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4}, {"gradients": {"x": 4, "y": 1}}),
        "{this line is broken\n",
        line("carol", NEURON[0], {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
             {"value": 0.7311, "gradients": {"w0": -0.7311, "w2": 0.2}}),
        line("dan", "(x+y)*z", {"x": -2, "y": 5}, {"value": -12}),
        line("erin", "x*x + x", {"x": 3}, {"gradients": {"x": 6}}),
    ]
)


def claim_rows(stdout: str) -> dict[str, list[str]]:
    """Cells of the claims table, by the claim shown in the first column."""
    rows = {}
    for text in stdout.splitlines():
        parts = [p.strip() for p in text.strip().strip("|").split("|")]
        if len(parts) >= 4 and parts[0] and parts[3] in ("ok", "wrong"):
            rows[parts[0]] = parts
    return rows


# ------------------------------------------------------------------ one answer


def test_issue_example(cli):
    result = cli(*ISSUE_EXAMPLE)
    assert result.exit_code == 1, result.stderr
    out = result.stdout
    assert "Parsed: q = (x + y); f = (q * z)" in out
    rows = claim_rows(out)
    assert rows["f"][1:4] == ["-12", "-12", "ok"]
    assert rows["df/dx"][1:4] == ["4", "-4", "wrong"]
    assert rows["df/dx"][4].startswith("sign at f:")
    assert "see backward pass row 3: gate q -> x" in out
    assert rows["df/dz"][1:4] == ["3", "3", "ok"]
    assert rows["q"][1:4] == ["3", "3", "ok"]
    assert rows["df/dq"][1:4] == ["-4", "-4", "ok"]
    assert "claims right: 4 of 5" in out
    assert result.stderr == ""


def test_all_right_exits_0(cli):
    result = cli("check", *NEURON, "--value", "0.7311", "--grad", "w0=-0.1966", "--grad", "x1=-0.5898")
    assert result.exit_code == 0, result.stderr
    assert "claims right: 3 of 3" in result.stdout


def test_sigmoid_neuron_mistakes(cli):
    # s used as sigmoid's local gradient: dw0 = x0 * s = -0.7311; the bias gradient written as 1
    result = cli("check", *NEURON, "--grad", "w0=-0.7311", "--grad", "w2=1", "--grad", "w1=-0.39")
    assert result.exit_code == 1
    rows = claim_rows(result.stdout)
    assert rows["df/dw0"][4].startswith("output-as-local-grad at sigmoid(")
    assert rows["df/dw2"][4].startswith("local-only at ")
    assert rows["df/dw1"][4].startswith("rounding at w1")


def test_fraction_and_values_file(cli, tmp_path):
    values = tmp_path / "values.json"
    values.write_text('{"apple": 100, "apple_num": 2, "tax": 1.1}')
    result = cli("check", "apple*apple_num*tax", "--values", str(values), "--grad", "apple=11/5", "--grad", "tax=200")
    assert result.exit_code == 0, result.stderr


def test_precedence_shows_the_reading(cli):
    result = cli("check", "1 / 1 + exp(-z)", "z=1", "--value", "0.7311")
    assert result.exit_code == 1
    assert "precedence" in result.stdout and "1 / (1 + exp(-z))" in result.stdout


def test_tolerance_options(cli):
    assert cli("check", *NEURON, "--grad", "w2=0.2").exit_code == 1
    assert cli("check", *NEURON, "--grad", "w2=0.2", "--rtol", "0.02").exit_code == 0
    assert cli("check", *NEURON, "--grad", "w2=0.1966", "--rtol", "0").exit_code == 1
    assert cli("check", *NEURON, "--grad", "w2=0.1966", "--rtol", "0", "--atol", "0.001").exit_code == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["check"], "give EXPR"),
        (["check", "(x+y)*z", "x=1", "y=2"], "no claims"),
        (["check", "(x+y)*z", "x=1", "y=2", "--value", "3"], "missing value for z"),
        (["check", "(x+y*z", "x=1", "--value", "3"], "'(' is never closed"),
        (["check", "x*y", "x=1", "y=2", "--grad", "x"], "--grad expects NAME=VALUE"),
        (["check", "x*y", "x=1", "y=2", "--grad", "w=1"], "not an input"),
        (["check", "x*y", "x=1", "y=2", "--value", "two"], "is not a number"),
        (["check", "x*y", "x=1", "y=2", "--value", "2", "--rtol", "-1"], "--rtol and --atol"),
        (["check", "x", "--batch", "answers.jsonl"], "drop EXPR"),
        (["check", "--batch", "no-such-file.jsonl"], "cannot read 'no-such-file.jsonl'"),
        (["check", "x*y", "x=1", "y=2", "--value", "2", "--value", "3"], "f is claimed twice with different values, 2 and 3"),
        (["check", "-x**2", "x=3", "--jsn"], "No such option: --jsn"),
        (["check", "--jsn", "--batch", "answers.jsonl"], "No such option: --jsn"),
        (["check", "x", "x=1", "--value", "1", "--lang", "fr"], "--lang: unknown language 'fr'"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr.splitlines()[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_json_single_answer_shape(cli):
    result = cli(*ISSUE_EXAMPLE, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert set(report) == {"entries", "summary"}
    (entry,) = report["entries"]
    assert set(entry) == {"id", "ok", "error", "claims"}
    assert entry["ok"] is False and entry["error"] is None
    kinds = [(claim["kind"], claim["name"]) for claim in entry["claims"]]
    assert kinds == [("value", "f"), ("grad", "x"), ("grad", "z"), ("node", "q"), ("node-grad", "q")]
    for claim in entry["claims"]:
        assert set(claim) == {"kind", "name", "claimed", "expected", "ok", "diagnosis"}
    wrong = entry["claims"][1]
    assert (wrong["claimed"], wrong["expected"], wrong["ok"]) == (4.0, -4.0, False)
    assert {"code", "message", "node"} <= set(wrong["diagnosis"])
    assert wrong["diagnosis"]["code"] == "sign" and wrong["diagnosis"]["node"] == "f"
    assert entry["claims"][0]["diagnosis"] is None
    assert report["summary"]["claims"] == 5 and report["summary"]["claims_wrong"] == 1
    assert report["summary"]["exit_code"] == 1


# ------------------------------------------------------------------ a whole class


def test_batch_with_a_broken_line_and_a_missing_value(cli, tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(CLASS)
    result = cli("check", "--batch", str(answers))
    assert result.exit_code == 2  # some entries could not be graded; the others are graded all the same
    errors = result.stderr.splitlines()
    assert errors[0].startswith("error: line 3: not valid JSON")
    assert errors[1] == "error: line 5 (dan): missing value for z (first used at column 7); pass z=VALUE"
    out = result.stdout
    for entry_id, status in (("alice", "correct"), ("bob", "wrong"), ("carol", "wrong"), ("dan", "error"), ("erin", "wrong")):
        assert any(row.startswith(f"| {entry_id} ") and f" {status} " in row for row in out.splitlines()), entry_id
    assert "entries: 6 (1 correct, 3 wrong, 2 not graded); claims right: 7 of 12" in out
    for code in ("sign", "local-only", "output-as-local-grad", "rounding", "missed-accumulation"):
        assert any(row.startswith(f"| {code} ") for row in out.splitlines()), code


def test_batch_json_report(cli, tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(CLASS)
    result = cli("check", "--batch", str(answers), "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    entries = {entry["id"]: entry for entry in report["entries"]}
    assert list(entries) == ["alice", "bob", "line 3", "carol", "dan", "erin"]
    assert entries["alice"]["ok"] is True and len(entries["alice"]["claims"]) == 6
    assert entries["line 3"]["error"].startswith("not valid JSON") and entries["line 3"]["claims"] == []
    assert [claim["diagnosis"]["code"] for claim in entries["bob"]["claims"]] == ["sign", "local-only"]
    assert entries["erin"]["claims"][0]["expected"] == 7.0  # 2x + 1 at x = 3
    summary = report["summary"]
    assert (summary["entries"], summary["correct"], summary["wrong"], summary["errors"]) == (6, 1, 3, 2)
    assert summary["diagnoses"]["sign"] == 1 and summary["diagnoses"]["missed-accumulation"] == 1
    assert summary["diagnoses"]["unknown"] == 0


def test_junit_report_parses(cli, tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(CLASS)
    junit = tmp_path / "report.xml"
    result = cli("check", "--batch", str(answers), "--junit", str(junit))
    assert result.exit_code == 2
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    # 12 claims graded plus one case per entry that could not be graded
    assert len(cases) == 14 == int(suite.get("tests"))
    assert (suite.get("failures"), suite.get("errors")) == ("5", "2")
    failures = {(case.get("classname"), case.get("name")): case.find("failure") for case in cases if case.find("failure") is not None}
    assert failures[("bob", "grad x")].get("type") == "sign"
    assert failures[("carol", "grad w0")].get("type") == "output-as-local-grad"
    # a value claim is named after the output, as in the JSON report: "value f", not "value "
    names = [case.get("name") for case in cases if case.get("classname") == "alice"]
    assert names == ["value f", "grad x", "grad y", "grad z", "node q", "node-grad q"]
    assert "expected -0.196612" in failures[("carol", "grad w0")].get("message")
    errors = [case for case in cases if case.find("error") is not None]
    assert [case.get("classname") for case in errors] == ["line 3", "dan"]
    assert all(case.find("failure") is None for case in cases if case.get("classname") == "alice")


def test_batch_exit_codes_0_and_1(cli, tmp_path):
    right = tmp_path / "right.jsonl"
    right.write_text(line("a", "(x+y)*z", {"x": -2, "y": 5, "z": -4}, {"value": -12, "gradients": {"z": 3}}))
    assert cli("check", "--batch", str(right)).exit_code == 0
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(right.read_text() + line("b", "x*y", {"x": 2, "y": 3}, {"gradients": {"x": 2}}))
    result = cli("check", "--batch", str(wrong))
    assert result.exit_code == 1 and result.stderr == ""
    assert "mul-not-swapped" in result.stdout


def test_batch_from_standard_input_and_csv(cli, tmp_path):
    result = cli("check", "--batch", "-", "--json", input=CLASS)
    assert result.exit_code == 2
    assert len(json.loads(result.stdout)["entries"]) == 6
    csv_text = 'id,expression,values,claims\nann,x*y,"{""x"": 2, ""y"": 3}","{""gradients"": {""x"": 3, ""y"": 2}}"\n'
    answers = tmp_path / "answers.csv"
    answers.write_text(csv_text)
    assert cli("check", "--batch", str(answers)).exit_code == 0
    assert cli("check", "--batch", "-", "--batch-format", "csv", input=csv_text).exit_code == 0


def test_verify_reports_the_sympy_check(cli):
    result = cli("check", *NEURON, "--grad", "w0=-0.1966", "--verify", "--json")
    assert result.exit_code == 0
    (entry,) = json.loads(result.stdout)["entries"]
    assert entry["check"]["method"] == "sympy" and entry["check"]["ok"] is True
    text = cli("check", *NEURON, "--grad", "w0=-0.1966", "--verify").stdout
    assert "check: sympy: agrees" in text


def test_lang_option_and_unused_value_warning(cli):
    result = cli("check", "x*2", "x=1", "y=5", "--value", "2", "--lang", "en")
    assert result.exit_code == 0
    assert result.stderr == "warning: value given for 'y', which the expression does not use\n"


def test_real_entry_point(run_backprop):
    done = run_backprop(*ISSUE_EXAMPLE)
    assert done.returncode == 1 and "sign at f" in done.stdout and done.stderr == ""
    done = run_backprop("check", "--batch", "-", "--json", input=CLASS)
    assert done.returncode == 2
    assert json.loads(done.stdout)["summary"]["errors"] == 2
    done = run_backprop("check", "(x+y)*z", "x=1", "--value", "1")
    assert done.returncode == 2 and done.stderr.startswith("error: missing value") and "y, z" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------ docs/check.md


DOCS = ROOT / "docs" / "check.md"


def console_examples() -> list[tuple[str, int]]:
    """(command, exit code noted above its block) for every console block of docs/check.md."""
    text = DOCS.read_text()
    found = []
    for match in re.finditer(r"(?:<!-- exit: (\d) -->\n)?```console\n(.*?)```", text, re.DOTALL):
        assert match.group(1) is not None, f"no <!-- exit: N --> above:\n{match.group(2)[:200]}"
        for command in re.findall(r"^\$ (.*)$", match.group(2), re.MULTILINE):
            found.append((command, int(match.group(1))))
    return found


@pytest.mark.parametrize("command, code", console_examples(), ids=lambda value: str(value)[:70])
def test_docs_console_examples_exit_codes(cli, monkeypatch, command, code):
    # (the outputs themselves are compared with the page by tests/test_docs.py)
    monkeypatch.chdir(ROOT)
    words = shlex.split(command)
    assert words[0] == "backprop"
    result = cli(*words[1:])
    assert result.exit_code == code, result.stdout + result.stderr


def test_docs_sh_examples_run(tmp_path):
    blocks = re.findall(r"```sh\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert blocks
    shutil.copytree(ROOT / "examples" / "check", tmp_path / "examples" / "check")
    env = {**os.environ, "NO_COLOR": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for block in blocks:
        for command in block.strip().splitlines():
            code = int(re.search(r"# exit (\d)$", command).group(1))
            done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == code, f"{command}\n{done.stderr}"
            root = ET.parse(tmp_path / "report.xml").getroot()
            assert root.tag == "testsuites" and int(root.get("tests")) > 0
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["errors"] == 2


def test_docs_show_the_example_file_and_every_code():
    text = DOCS.read_text()
    listing = re.search(r"```json\n(.*?)```", text, re.DOTALL).group(1)
    assert listing == (ROOT / "examples" / "check" / "answers.jsonl").read_text()
    for code in CODES:
        assert f"| `{code}` |" in text, code
    for option in ("--rtol", "--atol", "--batch", "--batch-format", "--json", "--junit", "--verify"):
        assert option in text


# ------------------------------------------------------------------ what a new user ran into


def test_forgotten_inner_derivatives(cli):
    # d/dx sin(x^2) = 2x cos(x^2) = 2 cos(1) = 1.0806 at x = 1 (claimed: cos(1));
    # d/dx log(x^2 + 1) = 2x / (x^2 + 1) = 0.8 at x = 2 (claimed: 1 / (x^2 + 1) = 0.2);
    # d/dx exp(xy) = y exp(xy) = 2 e^3 = 40.1711 at x = 1.5, y = 2 (claimed: e^3)
    for args, expected, gate in (
        (["sin(x**2)", "x=1", "--grad", "x=0.5403"], "1.0806", "(x ** 2)"),
        (["log(x*x+1)", "x=2", "--grad", "x=0.2"], "0.8", "(x * x)"),
        (["exp(x*y)", "x=1.5", "y=2", "--grad", "x=20.0855"], "40.1711", "(x * y)"),
        (["exp(x*y)", "x=1", "y=2", "--grad", "x=7.389"], "14.7781", "(x * y)"),  # 2 e^2
    ):
        result = cli("check", *args)
        assert result.exit_code == 1, result.stderr
        row = claim_rows(result.stdout)["df/dx"]
        assert row[2] == expected
        assert row[4].startswith(f"missing-local at {gate}:"), row


def test_a_one_digit_claim_is_not_a_rounding(cli):
    # sigmoid(1) = 0.7311; 1 is not a plausible rounding of it (37 % off)
    result = cli("check", "1/(1+exp(-z))", "z=1", "--value", "1")
    assert result.exit_code == 1
    assert claim_rows(result.stdout)["f"][4].startswith("unknown at ")


def test_claims_given_twice(cli):
    result = cli("check", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--node-grad", "q=13", "--node-grad", "q=7")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "error: df/dq is claimed twice with different values, 13 and 7: give it once\n"
    # the same number twice is graded once, with a warning; q and x+y are one node
    result = cli("check", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--node-grad", "q=-4", "--node-grad", "x+y=-4")
    assert result.exit_code == 0
    assert "claims right: 1 of 1" in result.stdout
    assert result.stderr == "warning: df/dq (also written df/d(x+y)) is claimed twice (-4); it is graded once\n"


def test_an_expression_starting_with_a_minus(cli, run_backprop):
    # -x**2 is -(x^2) = -9 at x = 3, and its gradient -2x = -6
    result = cli("check", "-x**2", "x=3", "--value", "-9", "--grad", "x=-6")
    assert result.exit_code == 0, result.stderr
    assert "Parsed: -(x ** 2)" in result.stdout and "claims right: 2 of 2" in result.stdout
    # 9 is (-x)**2: the classic misreading of -x**2, named as precedence rather than a bare sign flip
    result = cli("check", "-x**2", "x=3", "--value", "9")
    assert result.exit_code == 1 and claim_rows(result.stdout)["f"][4].startswith("precedence at (-x): that is what (-x)**2 gives")
    result = cli("check", "x*y", "x=3", "y=2", "--value", "-6")  # no other reading gives -6: the sign is flipped
    assert result.exit_code == 1 and claim_rows(result.stdout)["f"][4].startswith("sign at (x * y): the sign is flipped")
    done = run_backprop("check", "-x**2", "x=3", "--value", "-9")
    assert done.returncode == 0 and done.stderr == ""


def test_empty_batches_are_bad_input(cli, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("check", "--batch", str(empty))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"error: no entries in {str(empty)!r}: there is nothing to grade\n"
    result = cli("check", "--batch", "-", input="\n\n")
    assert (result.exit_code, result.stderr) == (2, "error: no entries in standard input: there is nothing to grade\n")
    header = tmp_path / "header.csv"
    header.write_text("id,expression,values,claims\n")
    assert cli("check", "--batch", str(header)).exit_code == 2


def test_standard_input_is_json_lines(cli, tmp_path):
    result = cli("check", "--batch", "-", input="not json\n")
    assert result.exit_code == 2
    assert result.stderr == "error: line 1: not valid JSON: Expecting value at column 1\n"
    # a CSV file on standard input needs --batch-format csv, and the first error says so
    csv_text = 'id,expression,values,claims\nann,x*y,"{""x"": 2, ""y"": 3}","{""gradients"": {""x"": 3}}"\n'
    result = cli("check", "--batch", "-", input=csv_text)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].endswith("(this looks like a CSV header: for a CSV file pass --batch-format csv)")
    assert cli("check", "--batch", "-", "--batch-format", "csv", input=csv_text).exit_code == 0
    # any name but *.csv is JSON Lines
    answers = tmp_path / "answers.txt"
    answers.write_text(line("a", "x*y", {"x": 2, "y": 3}, {"gradients": {"x": 3}}))
    assert cli("check", "--batch", str(answers)).exit_code == 0


def test_repeated_keys_in_a_batch_line(cli):
    text = (
        '{"id": "a", "expression": "x*y", "values": {"x": 2, "y": 3}, "claims": {"gradients": {"x": 3, "x": 4}}}\n'
        + line("b", "x*y", {"x": 2, "y": 3}, {"gradients": {"x": 3}})
    )
    result = cli("check", "--batch", "-", "--json", input=text)
    assert result.exit_code == 2
    first, second = json.loads(result.stdout)["entries"]
    assert first["error"] == "key 'x' appears twice in one JSON object: give it once"
    assert second["ok"] is True
    assert result.stderr == "error: line 1: key 'x' appears twice in one JSON object: give it once\n"


def test_ids_no_output_can_carry_are_shown_with_question_marks(cli, tmp_path):
    """A lone surrogate or control characters in an id (valid JSON) must not break the
    table, the JSON report or the JUnit XML."""
    answers = tmp_path / "odd.jsonl"
    answers.write_text(
        '{"id": "ok", "expression": "x*y", "values": {"x": 1, "y": 2}, "claims": {"value": 2}}\n'
        '{"id": "\\ud800bad", "expression": "x*y", "values": {"x": 1, "y": 2}, "claims": {"value": 2}}\n'
        '{"id": "a<&>\\"b\\u0001\\u001b[31m", "expression": "x*y", "values": {"x": 1, "y": 2}, "claims": {"value": 3}}\n',
        encoding="utf-8",
    )
    junit = tmp_path / "report.xml"
    result = cli("check", "--batch", str(answers), "--junit", str(junit))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "?bad" in result.stdout
    cases = ET.parse(junit).getroot().find("testsuite").findall("testcase")
    assert [case.get("classname") for case in cases] == ["ok", "?bad", 'a<&>"b??[31m']
    report = json.loads(cli("check", "--batch", str(answers), "--json").stdout)
    assert [entry["id"] for entry in report["entries"]] == ["ok", "?bad", 'a<&>"b??[31m']


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_byte_order_mark_is_not_part_of_the_first_line(cli, tmp_path, suffix):
    if suffix == "csv":
        text = 'id,expression,values,claims\nb1,x*y,"{""x"": 1, ""y"": 2}","{""value"": 2}"\n'
    else:
        text = '{"id": "b1", "expression": "x*y", "values": {"x": 1, "y": 2}, "claims": {"value": 2}}\n'
    answers = tmp_path / f"answers.{suffix}"
    answers.write_bytes(b"\xef\xbb\xbf" + text.encode())
    report = json.loads(cli("check", "--batch", str(answers), "--json").stdout)
    assert [(entry["id"], entry["ok"]) for entry in report["entries"]] == [("b1", True)]


@pytest.mark.parametrize(
    "expression, values, claimed, expected, said",
    [
        # relu(x)*y: df/dx = y where x > 0 (3 at x = 2), 0 where x < 0
        ("relu(x)*y", ["x=2", "y=3"], "0", "3", "gate relu(x) stopped the gradient; relu passes it on while its input is positive (x = 2)"),
        ("relu(x)*y", ["x=-2", "y=3"], "3", "0", "gate relu(x) passed the gradient on; relu stops it while its input is not positive (x = -2)"),
        # a tie at max(x, y): z = 4 split equally, 2 each
        ("max(x, y)*z", ["x=3", "y=3", "z=4"], "4", "2", "gate max(x, y) sent all of the gradient to x; at a tie max splits it equally among x, y"),
    ],
)
def test_routing_mistakes_say_what_the_gate_does_here(cli, expression, values, claimed, expected, said):
    report = json.loads(cli("check", expression, *values, "--grad", f"x={claimed}", "--json").stdout)
    (verdict,) = report["entries"][0]["claims"]
    assert verdict["expected"] == float(expected) and not verdict["ok"]
    assert verdict["diagnosis"]["code"] == "max-routing" and said in verdict["diagnosis"]["message"]


def test_bad_input_replaces_an_earlier_junit_report(cli, tmp_path):
    """A CI job that publishes the report must not show a previous run's pass."""
    junit = tmp_path / "report.xml"
    assert cli("check", "x*y", "x=1", "y=2", "--grad", "x=2", "--junit", str(junit)).exit_code == 0
    assert ET.parse(junit).getroot().get("errors") == "0"
    result = cli("check", "x*y", "x=1", "y=2", "--grad", "w=3", "--junit", str(junit))
    assert result.exit_code == 2
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("errors")) == ("1", "1")
    (error,) = root.iter("error")
    assert "'w', which is not an input" in error.get("message")


def test_a_half_filled_worksheet_grades_what_is_answered(cli, tmp_path):
    """'?' is a blank: the answered claims are graded, the entry counts as wrong (not done),
    and an entry with every claim blank is incomplete rather than bad input."""
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        # x*y at x=1, y=5: f = 5, df/dx = y = 5, df/dy = x = 1 (by hand)
        '{"id": "half", "expression": "x * y", "values": {"x": 1, "y": 5}, "claims": {"value": 5, "gradients": {"x": "?", "y": " ? "}}}\n'
        '{"id": "done", "expression": "x * y", "values": {"x": 1, "y": 5}, "claims": {"value": 5, "gradients": {"x": 5, "y": 1}}}\n'
        '{"id": "blank", "expression": "x * y", "values": {"x": 1, "y": 5}, "claims": {"value": "?", "gradients": {"x": "?"}}}\n'
        '{"id": "wrong", "expression": "x * y", "values": {"x": 1, "y": 5}, "claims": {"value": 5, "gradients": {"x": 1, "y": "?"}}}\n'
    )
    result = cli("check", "--batch", str(answers))
    assert result.exit_code == 1 and result.stderr == ""
    entries_table = result.stdout.split("Wrong claims")[0]
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:4]]
            for line in entries_table.splitlines() if line.startswith("| ")}
    assert rows["half"] == ["incomplete", "1/1 (2 unanswered)"]
    assert rows["done"] == ["correct", "3/3"]
    assert rows["blank"] == ["incomplete", "0/0 (2 unanswered)"]
    assert rows["wrong"] == ["wrong", "1/2 (1 unanswered)"]
    report = json.loads(cli("check", "--batch", str(answers), "--json").stdout)
    assert [entry.get("unanswered", 0) for entry in report["entries"]] == [2, 0, 2, 1]
    assert [entry["ok"] for entry in report["entries"]] == [False, True, False, False]
    summary = report["summary"]
    assert (summary["correct"], summary["wrong"], summary["errors"], summary["claims_unanswered"]) == (1, 3, 0, 5)
    junit = tmp_path / "report.xml"
    cli("check", "--batch", str(answers), "--junit", str(junit))
    unanswered = [case for case in ET.parse(junit).getroot().iter("testcase") if case.get("name") == "unanswered"]
    assert [case.get("classname") for case in unanswered] == ["half", "blank", "wrong"]


def test_csv_mistakes_a_spreadsheet_makes_get_a_hint(cli, tmp_path):
    unquoted = tmp_path / "unquoted.csv"
    unquoted.write_text(
        'id,expression,values,claims\n'
        'c1,max(x, y)*z,"{""x"": 1, ""y"": 2, ""z"": 3}","{""value"": 6}"\n'
        'c2,x*y,"{""x"": 1, ""y"": 2}","{""value"": 2}"\n'
    )
    result = cli("check", "--batch", str(unquoted))
    assert result.exit_code == 2
    assert ('error: line 2 (c1): the row has 5 cells for 4 columns: put the expression and the JSON cells '
            'in double quotes ("max(x, y)*z")') in result.stderr.splitlines()
    assert "entries: 2 (1 correct, 0 wrong, 1 not graded)" in result.stdout  # the other row is graded
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("id;expression;values;claims\nc1;x;{};{}\n")
    result = cli("check", "--batch", str(semicolons))
    assert result.exit_code == 2 and "the header has no commas but semicolons" in result.stderr


def test_a_repeated_id_is_graded_and_warned_about(cli, tmp_path):
    answers = tmp_path / "answers.jsonl"
    line = '{"id": "c01", "expression": "x*y", "values": {"x": 1, "y": 2}, "claims": {"value": 2}}\n'
    answers.write_text(line + line)
    result = cli("check", "--batch", str(answers))
    assert result.exit_code == 0
    assert result.stderr == "warning: line 2 (c01): the id 'c01' is used again (first on line 1): reports will show both\n"


def test_gradients_alone_that_one_misreading_gives_are_precedence(cli):
    # x + y*z at (-2, 5, -4): dx = 1, dz = y = 5 (by hand); read as (x+y)*z: dx = z = -4, dz = x + y = 3
    result = cli("check", "x + y*z", "x=-2", "y=5", "z=-4", "--grad", "x=-4", "--grad", "z=3", "--json")
    claims = json.loads(result.stdout)["entries"][0]["claims"]
    assert [(c["expected"], c["diagnosis"]["code"]) for c in claims] == [(1.0, "precedence"), (5.0, "precedence")]
    assert "(x + y)*z" in claims[0]["diagnosis"]["message"]
    # one gradient alone is not evidence enough for a misreading
    alone = json.loads(cli("check", "x + y*z", "x=-2", "y=5", "z=-4", "--grad", "x=-4", "--json").stdout)
    assert alone["entries"][0]["claims"][0]["diagnosis"]["code"] == "unknown"
