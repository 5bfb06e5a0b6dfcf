"""Tutor mode: the gate reference, exercises, questions, grading, the quiz through piped input,
worksheets and their round trip through `backprop check --batch`.

Expected answers are worked out by hand in the comments (or with the math module).
"""

from __future__ import annotations

import json
import math
import re
import shlex
import subprocess

import pytest
from conftest import ROOT, backprop_executable

from backprop_cli import grad
from backprop_cli.errors import InputError
from backprop_cli.gates import CONST, GATES, INPUT
from backprop_cli.i18n import set_language
from backprop_cli.tutor import (
    TEMPLATES,
    Exercise,
    Quiz,
    batch_entry,
    exercises,
    find_gate,
    gate_reference,
    grade_answer,
    in_grammar,
    questions,
    read_answer,
)


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("en")


def gate_count(result) -> int:
    return sum(1 for gate in result.graph.gates if gate not in (INPUT, CONST))


# --------------------------------------------------------------------------- gate reference


def test_reference_lists_every_gate_with_rules_and_intuition():
    infos = gate_reference()
    assert [info.name for info in infos] == list(GATES)
    mul = next(info for info in infos if info.name == "mul")
    assert mul.forward == "a * b"
    assert mul.local_gradients == {"a": "other input", "b": "other input"}
    assert mul.intuition.startswith("mul swaps")
    sigmoid = next(info for info in infos if info.name == "sigmoid")
    assert sigmoid.definition == "1/(1 + exp(-a))"
    assert sigmoid.local_gradients == {"a": "s*(1-s)"}
    relu = next(info for info in infos if info.name == "relu")
    assert (relu.definition, relu.sympy) == ("max(0, a)", "Max(0, a)")  # our grammar; SymPy's own spelling


def test_every_definition_is_input_the_tool_reads_and_computes_the_gate():
    # a definition is shown as something to type: it must parse, and give the gate's value and
    # gradients (the engine on two different expressions) at points away from any kink
    shown = 0
    for info in gate_reference():
        assert not re.search(r"\b(Max|Min|Abs)\(", info.definition), info
        if not info.definition:
            continue
        shown += 1
        for a in (-1.5, 0.5, 2.0):
            gate, definition = grad(info.forward, {"a": a, "b": 0.75}), grad(info.definition, {"a": a, "b": 0.75})
            assert math.isclose(definition.value, gate.value, rel_tol=1e-12), (info.name, a)
            assert math.isclose(definition.gradients.get("a", 0.0), gate.gradients["a"], rel_tol=1e-12, abs_tol=1e-15)
    assert shown >= 2  # sigmoid and relu at least


def test_in_grammar_lowers_sympy_names_and_refuses_what_cannot_be_typed():
    assert in_grammar("Max(0, a) + Abs(b)") == "max(0, a) + abs(b)"
    assert in_grammar("Min(a, b)") == "min(a, b)"
    assert in_grammar("Heaviside(a)") == ""  # no such gate: not shown rather than shown untypeable


def test_gates_command_lists_every_gate(cli):
    done = cli("gates", "--lang", "en")
    assert done.exit_code == 0, done.stderr
    for name in GATES:
        assert re.search(rf"^\| {name} ", done.stdout, re.M), name
    assert "add distributes" in done.stdout and "max routes" in done.stdout
    assert done.stdout.splitlines()[0] == "Gates"
    assert "relu(a) = max(0, a)" in done.stdout and "Max" not in done.stdout


def test_gates_relu_in_depth_writes_max_as_the_grammar_does(cli):
    out = cli("gates", "relu", "--lang", "en").stdout
    assert re.search(r"^forward rule +relu\(a\) = max\(0, a\)$", out, re.M)
    document = json.loads(cli("gates", "relu", "--json").stdout)
    assert (document["definition"], document["sympy"]) == ("max(0, a)", "Max(0, a)")


def test_gates_mul_in_depth_with_a_worked_example(cli):
    # f = a * b at a = 3, b = -2: f = -6, df/da = b = -2, df/db = a = 3
    done = cli("gates", "mul", "--lang", "en")
    assert done.exit_code == 0, done.stderr
    out = done.stdout
    assert "The mul gate" in out and "other input" in out and "mul swaps" in out
    assert "Worked example: f = a * b at a = 3, b = -2" in out
    assert "(a * b) = 3 × (-2) = -6" in out
    assert "upstream × local = 1 × (-2) = -2. So df/da = -2." in out
    assert "upstream × local = 1 × 3 = 3. So df/db = 3." in out
    assert "SymPy cross-check: agrees" in out


def test_gates_by_operator_symbol_and_as_json(cli):
    done = cli("gates", "*", "--json")
    assert done.exit_code == 0
    document = json.loads(done.stdout)
    assert document["name"] == "mul"
    assert document["example"]["gradients"] == {"a": -2.0, "b": 3.0}
    listing = json.loads(cli("gates", "--json").stdout)
    assert [entry["name"] for entry in listing] == list(GATES)


def test_sigmoid_example_is_the_course_notes_number(cli):
    # sigmoid(1) = 0.731059, local gradient s(1-s) = 0.196612
    s = 1 / (1 + math.exp(-1))
    out = cli("gates", "sigmoid", "--lang", "en").stdout
    assert f"= {s:.6g}" in out and f"= {s * (1 - s):.6g}" in out


def test_unknown_gate_is_one_line_on_stderr(cli):
    done = cli("gates", "softmax")
    assert done.exit_code == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: unknown gate 'softmax' (known: add, sub, mul")
    assert len(done.stderr.strip().splitlines()) == 1
    with pytest.raises(Exception, match="unknown gate"):
        find_gate("softmax")


# --------------------------------------------------------------------------- exercises


def test_the_same_seed_gives_the_same_exercises():
    assert exercises(2, 5, seed=11) == exercises(2, 5, seed=11)
    assert exercises(2, 5, seed=11) != exercises(2, 5, seed=12)


def test_seeds_are_stable_across_releases():
    # pinned: the docs and the tests below rely on these (random.Random is stable for int seeds)
    assert exercises(2, 1, seed=14)[0] == Exercise("q1", 2, "(x + y) * z", {"x": 5, "y": 4, "z": -2})
    assert exercises(1, 1, seed=1)[0] == Exercise("q1", 1, "x * y", {"x": 5, "y": -4})


@pytest.mark.parametrize("level", [1, 2, 3])
def test_levels(level):
    for exercise in exercises(level, 40, seed=level):
        assert exercise.expression in TEMPLATES[level]
        result = exercise.result()
        assert all(value != 0 and -5 <= value <= 5 for value in exercise.values.values())
        assert not result.graph.kinks(result.values), "no ties, no relu at 0"
        assert any(result.gradients.values())
        if level == 1:
            assert gate_count(result) == 1
        elif level == 2:
            assert 2 <= gate_count(result) <= 3
        else:
            has_sigmoid = any(gate.name == "sigmoid" for gate in result.graph.gates)
            fans_out = any(
                count > 1 for count, needed in zip(result.graph.fanout, result.graph.needs_grad) if needed
            )
            assert has_sigmoid or fans_out


def test_neuron_exercises_are_not_saturated():
    neurons = [e for e in exercises(3, 60, seed=5) if "sigmoid" in e.expression]
    assert neurons
    for exercise in neurons:
        v = exercise.values
        z = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]
        assert abs(z) <= 3


def test_exercises_in_a_worksheet_differ():
    sheet = exercises(1, 30, seed=3)
    assert len({(e.expression, tuple(e.values.items())) for e in sheet}) == 30
    assert [e.id for e in sheet] == [f"q{i}" for i in range(1, 31)]


# --------------------------------------------------------------------------- questions and grading


def test_questions_follow_the_forward_then_the_backward_pass():
    # (x+y)*z at x=-2, y=5, z=-4: q = 3, f = -12; df/dq = z = -4, df/dz = q = 3, df/dx = df/dy = -4
    asked = questions(grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}))
    assert [(q.part, q.kind, q.name, q.expected) for q in asked] == [
        ("forward", "node", "(x + y)", 3),
        ("forward", "value", "", -12),
        ("backward", "node-grad", "(x + y)", -4),
        ("backward", "grad", "z", 3),
        ("backward", "grad", "x", -4),
        ("backward", "grad", "y", -4),
    ]


def test_a_value_used_twice_is_asked_once_all_paths_are_in():
    # q = x + y; r = q*z; f = r + q: df/dr = 1, df/dq = z + 1, df/dz = q, df/dx = df/dy = z + 1
    asked = questions(grad("q = x + y; r = q * z; f = r + q", {"x": 1, "y": 2, "z": -3}))
    backward = [(q.name, q.expected) for q in asked if q.part == "backward"]
    assert backward == [("r", 1), ("q", -2), ("z", 3), ("x", -2), ("y", -2)]


CIRCUIT = Exercise("q1", 2, "(x + y) * z", {"x": -2, "y": 5, "z": -4})


def question(exercise: Exercise, name: str, kind: str):
    return next(q for q in questions(exercise.result()) if q.name == name and q.kind == kind)


def test_grading_uses_the_diagnoses_of_check():
    dx = question(CIRCUIT, "x", "grad")
    assert grade_answer(CIRCUIT, dx, "-4").ok
    assert grade_answer(CIRCUIT, dx, "-4.0001").ok  # within check's tolerance
    wrong = grade_answer(CIRCUIT, dx, "4")
    assert (wrong.ok, wrong.code, wrong.expected) == (False, "sign", -4)
    # 1 is the add gate's local gradient: the chain rule was not applied
    assert grade_answer(CIRCUIT, dx, "1").code == "local-only"
    assert grade_answer(CIRCUIT, dx, "11/5").code == "unknown"
    with pytest.raises(InputError, match="^'minus four' is not a number$"):
        grade_answer(CIRCUIT, dx, "minus four")


@pytest.mark.parametrize(
    "typed, number", [("-4", -4.0), (" 0.25 ", 0.25), ("11/5", 2.2), ("1e-3", 0.001), ("+3", 3.0)]
)
def test_read_answer_accepts_the_forms_the_prompt_names(typed, number):
    assert read_answer(typed) == number


@pytest.mark.parametrize(
    "typed, number",
    [
        ("\u221220", -20.0),  # the minus sign of slides and typeset notes
        ("\u20134.5", -4.5),  # an en dash, as word processors turn "-" into
        ("1e\u22123", 0.001),
        ("\uff0d\uff12\uff10", -20.0),  # full-width, from a Chinese or Japanese input method
        ("\uff11\uff11\uff0f\uff15", 2.2),
        ("\uff12\uff0e\uff15", 2.5),
    ],
)
def test_read_answer_accepts_pasted_minus_signs_and_full_width_digits(typed, number):
    assert read_answer(typed) == number


def test_a_pasted_minus_sign_is_graded_like_a_typed_one():
    dx = question(CIRCUIT, "x", "grad")  # df/dx = z = -4
    assert grade_answer(CIRCUIT, dx, "\u22124").ok
    assert grade_answer(CIRCUIT, dx, "\u20134").ok
    assert grade_answer(CIRCUIT, dx, "4").code == "sign"
    with pytest.raises(InputError, match="^'\u2212four' is not a number$"):  # shown as typed
        grade_answer(CIRCUIT, dx, "\u2212four")


@pytest.mark.parametrize(
    "typed, message",
    [
        ("abc", "'abc' is not a number"),
        ("1/0", "'1/0' is not a number"),
        ("4 5", "'4 5' is not a number"),
        ("1e999", "'1e999' is too large or too long a number"),
        ("x" * 100, "'" + "x" * 37 + "...' is not a number"),
    ],
)
def test_read_answer_says_what_is_wrong_in_the_students_terms(typed, message):
    with pytest.raises(InputError) as caught:
        read_answer(typed)
    assert caught.value.message == message
    assert "claim" not in caught.value.message


def test_an_answer_that_is_not_a_number_does_not_use_up_the_question():
    quiz = Quiz([CIRCUIT], seed=None)
    with pytest.raises(InputError):
        quiz.answer("abc")
    assert quiz.position == (0, 0) and quiz.attempts == [] and quiz.number == 1
    assert quiz.answer("3").grade.ok  # q = x + y = -2 + 5, still the first question


def test_grading_names_the_sigmoid_and_fan_out_mistakes():
    neuron = Exercise("q1", 3, "z = w0*x0 + w1*x1 + w2; f = sigmoid(z)", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    # the activation s = 0.7311 written instead of s(1-s) = 0.1966
    assert grade_answer(neuron, question(neuron, "z", "node-grad"), "0.7311").code == "output-as-local-grad"
    # q = x + y feeds r = q*z and f = r + q: df/dx = z + 1 = -2 at z = -3; -3 keeps the mul path only
    staged = Exercise("q1", 3, "q = x + y; r = q * z; f = r + q", {"x": 1, "y": 2, "z": -3})
    assert grade_answer(staged, question(staged, "x", "grad"), "-3").code == "missed-accumulation"


def test_quiz_session_state():
    quiz = Quiz([CIRCUIT], seed=None)
    assert quiz.total == 6 and quiz.number == 1
    assert "x = -2, y = 5" in quiz.hint()
    quiz.answer("3")
    quiz.answer("-11")
    for answer in ("-4", "3", "-4", "4"):
        quiz.answer(answer)
    assert quiz.done and quiz.current is None
    assert quiz.score == 4
    assert quiz.hints == 1 and quiz.attempts[0].hinted
    assert quiz.part_scores() == {"forward": (1, 2), "backward": (3, 4)}
    assert quiz.mistakes() == {"unknown": 1, "sign": 1}


# --------------------------------------------------------------------------- the quiz, piped


# seed 14 at level 2 is (x + y) * z at x = 5, y = 4, z = -2 (pinned above):
# q = 9, f = -18; df/dq = z = -2, df/dz = q = 9, df/dx = df/dy = -2
def quiz(cli, answers: str, *args: str):
    return cli("quiz", "--level", "2", "--seed", "14", "--lang", "en", *args, input=answers)


def test_piped_quiz_all_right(cli):
    done = quiz(cli, "9\n-18\n-2\n9\n-2\n-2\n")
    assert done.exit_code == 0, done.stderr
    out = done.stdout
    assert "Exercise 1 of 1 (level 2): f = (x + y) * z at x = 5, y = 4, z = -2" in out
    assert "[1/6] (x + y) = 9" in out  # the answer is echoed after its prompt
    assert "[6/6] df/dy = -2" in out
    assert out.count("\nright\n") == 6
    assert "Score: 6/6" in out
    assert "Quiz stopped" not in out


def test_piped_quiz_wrong_answer_shows_diagnosis_and_the_row(cli):
    done = quiz(cli, "9\n-18\n-2\n-9\n-2\n-2\n")
    out = done.stdout
    assert "[4/6] df/dz = -9" in out
    assert "wrong: the answer is 9." in out
    assert "Diagnosis (sign):" in out
    # the backward-pass row where df/dz comes from: mul gate, upstream 1, local q = 9
    row = next(line for line in out.splitlines() if "mul: other input = 9" in line)
    assert re.search(r"\| \(\(x \+ y\) \* z\) \| z +\| +1 \| mul: other input = 9 \| +9 \| +9 \|", row)
    assert "Score: 5/6" in out
    assert "mistakes: sign x1" in out


def test_piped_quiz_hint_bad_input_and_quit(cli):
    done = quiz(cli, "?\nnine\n\n9\nq\n")
    assert done.exit_code == 0
    out = done.stdout
    assert "Hint: The add gate (x + y) computes x + y: use x = 5, y = 4." in out
    assert "'nine' is not a number; type a number such as -4, 0.25 or 11/5, ? for a hint, q to quit" in out
    assert "claimed" not in out
    # asked for "?", "nine", the empty line and "9": the same question each time until 9 answers it
    assert out.count("[1/6] (x + y) = ") == 4
    assert "[1/6] (x + y) = 9" in out
    assert "Quiz stopped after 1 of 6 questions." in out
    assert "Score: 1/1" in out and "hints used: 1" in out


def test_piped_quiz_accepts_a_pasted_minus_sign(cli):
    done = quiz(cli, "9\n\u221218\n\uff0d\uff12\n")
    assert done.exit_code == 0 and done.stderr == ""
    assert "[2/6] f = \u221218\nright" in done.stdout  # echoed as typed, graded as -18
    assert "[3/6] df/d(x + y) = \uff0d\uff12\nright" in done.stdout
    assert "Score: 3/3" in done.stdout and "not a number" not in done.stdout


def test_piped_quiz_end_of_input_stops_cleanly(cli):
    done = quiz(cli, "9\n-18\n")
    assert done.exit_code == 0
    assert "Quiz stopped after 2 of 6 questions." in done.stdout
    assert "Score: 2/2" in done.stdout
    assert done.stderr == ""


def test_quiz_through_the_real_entry_point(run_backprop):
    done = run_backprop("quiz", "--level", "1", "--seed", "1", "--lang", "en", input="-20\n-4\n5\n")
    # seed 1 at level 1: x * y at x = 5, y = -4: f = -20, df/dx = y = -4, df/dy = x = 5
    assert done.returncode == 0, done.stderr
    assert "Score: 3/3" in done.stdout
    assert done.stderr == ""


def test_quiz_rejects_a_level_out_of_range(cli):
    done = cli("quiz", "--level", "4")
    assert done.exit_code == 2
    assert "--level" in done.stderr


def test_quiz_without_seed_shows_the_seed_to_repeat_it(cli):
    done = cli("quiz", "--lang", "en", input="q\n")
    seed = re.search(r"Seed (\d+): `backprop quiz --level 1 --count 1 --seed \1` repeats this quiz", done.stdout)
    assert seed
    again = cli("quiz", "--lang", "en", "--seed", seed.group(1), input="q\n")
    assert again.stdout.splitlines()[3:6] == done.stdout.splitlines()[3:6]


# --------------------------------------------------------------------------- worksheets


def test_worksheet_markdown_and_key(cli):
    sheet = cli("worksheet", "--count", "3", "--level", "2", "--seed", "14", "--lang", "en")
    assert sheet.exit_code == 0
    text = sheet.stdout
    assert text.startswith("# Backprop worksheet\n")
    assert text.count("\n## q") == 3
    assert "## q1: `f = (x + y) * z`" in text
    assert "Values: x = 5, y = 4, z = -2." in text
    assert "| 1 | `(x + y)` |  |" in text
    assert "backprop check --batch answers.jsonl" in text
    key = cli("worksheet", "--count", "3", "--level", "2", "--seed", "14", "--key", "--lang", "en").stdout
    assert key.startswith("# Backprop worksheet: answer key\n")
    # q = 9, f = -18, df/dq = -2, df/dz = 9, df/dx = df/dy = -2
    for row in ("| 1 | `(x + y)` | 9 |", "| 2 | `f` | -18 |", "| 3 | `df/d(x + y)` | -2 |", "| 4 | `df/dz` | 9 |"):
        assert row in key


def test_worksheet_json_is_an_answer_file_to_fill_in(cli):
    lines = cli("worksheet", "--count", "4", "--level", "3", "--seed", "2", "--json").stdout.splitlines()
    assert len(lines) == 4
    for line in lines:
        entry = json.loads(line)
        assert set(entry) == {"id", "expression", "values", "claims"}
        claims = entry["claims"]
        assert claims["value"] == "?"
        assert set(claims["gradients"]) == set(entry["values"])
        assert all(v == "?" for v in claims["gradients"].values())


def test_key_for_the_circuit_in_batch_format():
    entry = batch_entry(CIRCUIT)
    assert entry == {
        "id": "q1",
        "expression": "(x + y) * z",
        "values": {"x": -2, "y": 5, "z": -4},
        "claims": {
            "value": -12.0,
            "gradients": {"x": -4.0, "y": -4.0, "z": 3.0},
            "intermediates": {"(x + y)": {"value": 3.0, "grad": -4.0}},
        },
    }


@pytest.mark.parametrize("level", [1, 2, 3])
def test_worksheet_key_round_trip_through_check(cli, level):
    key = cli("worksheet", "--count", "10", "--level", str(level), "--seed", "9", "--key", "--json").stdout
    graded = cli("check", "--batch", "-", "--json", input=key)
    assert graded.exit_code == 0, graded.stdout + graded.stderr
    report = json.loads(graded.stdout)
    assert report["summary"]["entries"] == 10
    assert report["summary"]["correct"] == 10
    assert report["summary"]["claims_wrong"] == 0


def test_a_wrong_answer_in_the_batch_is_diagnosed(cli):
    entries = [json.loads(line) for line in cli("worksheet", "--count", "3", "--level", "2", "--seed", "14", "--key", "--json").stdout.splitlines()]
    # exercise 1 is (x + y) * z at 5, 4, -2: df/dz = q = 9; a student writes -9
    assert entries[0]["claims"]["gradients"]["z"] == 9
    entries[0]["claims"]["gradients"]["z"] = -9
    graded = cli("check", "--batch", "-", "--json", input="".join(json.dumps(e) + "\n" for e in entries))
    assert graded.exit_code == 1
    report = json.loads(graded.stdout)
    wrong = [claim for claim in report["entries"][0]["claims"] if not claim["ok"]]
    assert [(c["name"], c["diagnosis"]["code"]) for c in wrong] == [("z", "sign")]


def test_an_unfilled_answer_file_is_graded_as_incomplete(cli):
    template = cli("worksheet", "--count", "2", "--level", "1", "--seed", "4", "--json").stdout
    blanks = [template_line.count('"?"') for template_line in template.splitlines()]
    graded = cli("check", "--batch", "-", "--json", input=template)
    assert graded.exit_code == 1  # not correct, but not bad input either
    report = json.loads(graded.stdout)
    assert [(entry["ok"], entry["claims"], entry["unanswered"]) for entry in report["entries"]] == [
        (False, [], count) for count in blanks
    ]


def test_worksheet_count_is_bounded(cli):
    assert cli("worksheet", "--count", "0").exit_code == 2
    assert cli("worksheet", "--count", "201").exit_code == 2


# --------------------------------------------------------------------------- docs


def tutor_section() -> str:
    text = (ROOT / "docs" / "tutorial.md").read_text()
    return text[text.index("## 9. Tutor mode") :]


def sh_blocks() -> list[tuple[str, str | None]]:
    """(commands, expected output or None) for each ```sh block, the output from a ```text block right after it."""
    found = []
    for match in re.finditer(r"```sh\n(.*?)```\n(?:\n```text\n(.*?)```)?", tutor_section(), re.DOTALL):
        found.append((match.group(1), match.group(2)))
    return found


@pytest.mark.parametrize("commands, expected", sh_blocks())
def test_tutor_docs_shell_examples(commands, expected, tmp_path):
    bin_dir = str(ROOT / ".venv" / "bin")
    executable = backprop_executable()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "NO_COLOR": "1",
        "COLUMNS": "120",
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
    }
    script = f"set -euo pipefail\nbackprop() {{ {shlex.join(executable)} \"$@\"; }}\n{commands}"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    if expected is not None:
        shown = "\n".join(line.rstrip() for line in done.stdout.splitlines()) + "\n"
        assert shown == expected
