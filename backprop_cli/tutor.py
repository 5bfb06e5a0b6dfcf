"""Tutor mode as a library: the gate reference, exercises, questions, grading, the quiz session.

* ``gate_reference()`` / ``gate_example(name)``: what `backprop gates` shows, from the registry.
* ``exercises(level, count, seed)``: reproducible exercises at three levels (one gate; a small
  circuit; a sigmoid neuron or a staged program with fan-out).
* ``questions(result)``: what a student computes by hand, in order: every forward value, then
  every gradient from the output down, each one when all of its contributions are in.
* ``grade_answer(...)``: the one place that grades an answer, with `backprop check`'s
  diagnoses (check.py), so the quiz names the same mistakes as the homework checker.
* ``Quiz``: the state of a quiz session (no input or output here: render/tutor.py drives it).
* ``batch_entry(...)``: an exercise in the JSON Lines format of `backprop check --batch`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from .api import grad
from .errors import BackpropError, InputError
from .gates import CONST, GATES, INPUT, Gate
from .i18n import _
from .numeric import Number
from .result import Result

LEVELS = (1, 2, 3)

#: Expressions per level; the values are drawn at random (seeded) for every exercise.
TEMPLATES: dict[int, tuple[str, ...]] = {
    1: ("x + y", "x - y", "x * y", "x / y", "max(x, y)", "min(x, y)", "relu(x)", "x ** 2", "sigmoid(x)", "tanh(x)"),
    2: ("(x + y) * z", "x * y + z", "(x - y) * z", "max(x, y) * z", "x * y * z", "relu(x * y + z)", "(x + y) / z"),
    3: (
        "z = w0*x0 + w1*x1 + w2; f = sigmoid(z)",
        "q = x + y; r = q * z; f = r + q",
        "q = x * y; f = q * x + y",
        "q = x + y; f = max(q, z) * q",
    ),
}

#: Input values are whole numbers in this range, never 0 (0 makes too many gradients vanish).
VALUE_RANGE = (-5, 5)
#: Templates with a range of their own: the neuron's weighted sum stays small (no saturation).
VALUE_RANGES = {"z = w0*x0 + w1*x1 + w2; f = sigmoid(z)": (-3, 3)}
#: Exercises whose values or gradients leave these bounds are drawn again (no saturated sigmoid
#: whose gradient rounds to 0, no huge numbers to multiply by hand).
MAX_MAGNITUDE = 100.0
MIN_GRADIENT = 1e-3
#: sigmoid and tanh get inputs in [-3, 3]: beyond it they saturate and every gradient is tiny.
MAX_SQUASHED_INPUT = 3
#: Significant digits shown in the quiz and the worksheets; `backprop check`'s default
#: tolerance accepts any answer correct to this many digits.
DIGITS = 4
#: Draws of values before a template is given up (a bound, never reached by the templates above).
MAX_DRAWS = 1000
#: Most exercises in one quiz or worksheet.
MAX_COUNT = 200

#: Values used by the worked example of `backprop gates NAME` (a gate not listed uses 3, -2
#: for two inputs and 2 for one).
EXAMPLE_VALUES: dict[str, tuple[int, ...]] = {"pow": (3, 2), "sigmoid": (1,), "abs": (-2,), "sqrt": (4,)}
ARGUMENT_NAMES = ("a", "b")


# --------------------------------------------------------------------------- gate reference


@dataclass(frozen=True)
class GateInfo:
    """One gate of the registry, as the reference shows it."""

    name: str
    symbol: str | None
    #: the gate written as a call or an operator on a and b: ``a * b``, ``sigmoid(a)``
    forward: str
    #: the same function in other gates, when that says more: ``1/(1 + exp(-a))`` for sigmoid,
    #: ``max(0, a)`` for relu; written in the input grammar of `backprop` (so it can be pasted)
    definition: str
    #: input -> its local gradient rule (``b`` for a variadic gate stands for every input)
    local_gradients: dict[str, str]
    intuition: str
    convention: str
    #: SymPy's form of the gate, as SymPy prints it: ``Max(0, a)`` (what the cross-check uses)
    sympy: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "symbol": self.symbol,
            "forward": self.forward,
            "definition": self.definition,
            "sympy": self.sympy,
            "local_gradients": dict(self.local_gradients),
            "intuition": self.intuition,
            "convention": self.convention,
        }


def gate_expression(gate: Gate) -> str:
    """The gate applied to inputs named a and b, as the parser reads it."""
    if gate.name == "neg":
        return "-a"
    if gate.symbol:
        return f"a {gate.symbol} b"
    if gate.arity is None:
        return f"{gate.name}(a, b)"
    return f"{gate.name}(a)"


def find_gate(name: str) -> Gate:
    """A gate by name or operator symbol (``mul`` or ``*``); InputError naming the known ones."""
    key = name.strip().lower()
    key = "**" if key == "^" else key  # ^ is read as power in expressions too
    for gate in GATES.values():
        if key in (gate.name, gate.symbol):
            return gate
    raise InputError(_("unknown gate {name!r} (known: {known})").format(name=name, known=", ".join(GATES)))


def gate_info(gate: Gate) -> GateInfo:
    """The reference entry of one gate (translated prose, its definition, SymPy's form)."""
    import sympy as sp

    forward = gate_expression(gate)
    count = 1 if gate.arity == 1 else 2
    symbols = sp.symbols(ARGUMENT_NAMES[:count])
    sympy_form = str(gate.sympy(sp, *symbols))
    definition = in_grammar(sympy_form)
    if definition.replace(" ", "") == forward.replace(" ", ""):
        definition = ""  # abs(a) says nothing more than abs(a)
    local = {name: _(gate.rule(position)) for position, name in enumerate(ARGUMENT_NAMES[:count])}
    convention = _(gate.convention) if gate.convention else ""
    return GateInfo(gate.name, gate.symbol, forward, definition, local, _(gate.intuition), convention, sympy_form)


def in_grammar(sympy_text: str) -> str:
    """SymPy's text of a function written the way `backprop` reads input: ``Max(0, a)`` -> ``max(0, a)``.

    SymPy capitalises some functions (Max, Min, Abs) that are lower-case gates here; every other
    name is kept. The result is parsed to make sure: "" when it is not valid input (a SymPy
    function the grammar has no gate for), so the reference never shows what cannot be typed.
    """
    from .api import build

    def lower(match: re.Match) -> str:
        name = match.group(1)
        return f"{name.lower()}(" if name.lower() in GATES else match.group(0)

    text = re.sub(r"\b([A-Z][A-Za-z]*)\(", lower, sympy_text)
    try:
        build(text)
    except BackpropError:
        return ""
    return text


def gate_reference() -> list[GateInfo]:
    """Every gate of the registry, in registry order."""
    return [gate_info(gate) for gate in GATES.values()]


def gate_example(gate: Gate) -> Result:
    """A tiny worked example of one gate, computed live by the engine (and checked by SymPy)."""
    count = 1 if gate.arity == 1 else 2
    values = EXAMPLE_VALUES.get(gate.name, (3, -2) if count == 2 else (2,))
    return grad(gate_expression(gate), dict(zip(ARGUMENT_NAMES, values)), check=True)


# --------------------------------------------------------------------------- exercises


@dataclass(frozen=True)
class Exercise:
    """An expression and whole-number values for its inputs."""

    id: str
    level: int
    expression: str
    values: dict[str, int]

    def result(self) -> Result:
        """The engine's forward and backward pass (the answers)."""
        return grad(self.expression, self.values)


def _acceptable(result: Result) -> bool:
    graph = result.graph
    if graph.kinks(result.values):
        return False  # a tie in max or relu at 0: the answer would depend on a convention
    if any(value == 0 or abs(value) > MAX_MAGNITUDE for value in result.values):
        return False  # a node at 0 makes gradients vanish and mistakes indistinguishable
    for node, gate in enumerate(graph.gates):
        if gate.name in ("sigmoid", "tanh") and abs(result.values[graph.args[node][0]]) > MAX_SQUASHED_INPUT:
            return False
    if not any(result.gradients.values()):
        return False  # nothing flows back: a dull exercise
    gradients = [result.grads[node] for node, needed in enumerate(graph.needs_grad) if needed]
    return all(gradient == 0 or MIN_GRADIENT <= abs(gradient) <= MAX_MAGNITUDE for gradient in gradients)


def make_exercise(level: int, rng: random.Random, exercise_id: str = "q1") -> Exercise:
    """One exercise at ``level`` (1, 2 or 3), drawn with ``rng``."""
    if level not in LEVELS:
        raise InputError(_("level must be 1, 2 or 3, got {level}").format(level=level))
    expression = rng.choice(TEMPLATES[level])
    low, high = VALUE_RANGES.get(expression, VALUE_RANGE)
    choices = [value for value in range(low, high + 1) if value != 0]
    names = list(_input_names(expression))
    for _attempt in range(MAX_DRAWS):
        values = {name: rng.choice(choices) for name in names}
        try:
            result = grad(expression, values)
        except BackpropError:
            continue  # a division by zero and the like: draw again
        if _acceptable(result):
            return Exercise(exercise_id, level, expression, values)
    raise RuntimeError(f"no acceptable values for {expression!r} in {MAX_DRAWS} draws: check TEMPLATES")


def _input_names(expression: str) -> dict[str, int]:
    from .api import build

    return build(expression).inputs


def exercises(level: int, count: int = 1, seed: int | None = None) -> list[Exercise]:
    """``count`` different exercises at ``level``; the same seed gives the same exercises."""
    if not 1 <= count <= MAX_COUNT:
        raise InputError(_("count must be between 1 and {most}, got {count}").format(most=MAX_COUNT, count=count))
    rng = random.Random(seed)
    found: list[Exercise] = []
    seen: set[tuple] = set()
    for _attempt in range(count * 50):
        exercise = make_exercise(level, rng, f"q{len(found) + 1}")
        key = (exercise.expression, tuple(exercise.values.items()))
        if key not in seen:
            seen.add(key)
            found.append(exercise)
            if len(found) == count:
                break
    return found


# --------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Question:
    """One number to compute by hand, named the way `backprop check` names claims."""

    #: "forward" or "backward"
    part: str
    #: the claim kind of check.py: "value", "node", "grad" or "node-grad"
    kind: str
    #: the claim's name: "" for the output value, the input's name, the node's label
    name: str
    node: int
    expected: Number


def questions(result: Result) -> list[Question]:
    """Every forward value, then every gradient from the output down.

    A gradient is asked once all of its contributions have arrived (a value used twice is
    asked after its last path), so the questions follow the backward pass step by step.
    """
    graph = result.graph
    asked: list[Question] = []
    for node, gate in enumerate(graph.gates):
        if gate in (INPUT, CONST) or not graph.needs_grad[node]:
            continue
        if node == graph.output:
            asked.append(Question("forward", "value", "", node, result.values[node]))
        else:
            asked.append(Question("forward", "node", graph.labels[node], node, result.values[node]))
    for step in result.steps():
        if step.path < step.paths:
            continue
        node = step.input
        if graph.gates[node] is INPUT:
            asked.append(Question("backward", "grad", graph.labels[node], node, result.grads[node]))
        else:
            asked.append(Question("backward", "node-grad", graph.labels[node], node, result.grads[node]))
    return asked


# --------------------------------------------------------------------------- grading


@dataclass(frozen=True)
class Grade:
    """The verdict on one answer."""

    ok: bool
    expected: Number
    #: check.py's diagnosis of a wrong answer: code (``sign``, ``local-only``...) and message
    code: str | None = None
    message: str = ""


def grade_answer(exercise: Exercise, question: Question, answer: str, grader=None) -> Grade:
    """Grade one typed answer with `backprop check` (its tolerance and its diagnoses).

    This is the single place where tutor mode calls the homework checker. Raises InputError
    when the answer is not a number (see ``read_answer``).
    """
    from .check import Grader, make_claim

    read_answer(answer)
    claim = make_claim(question.kind, question.name, plain_answer(answer))
    verdict = (grader or Grader()).grade(exercise.expression, exercise.values, [claim]).verdicts[0]
    if verdict.ok or verdict.diagnosis is None:
        return Grade(verdict.ok, verdict.expected)
    return Grade(False, verdict.expected, verdict.diagnosis.code, verdict.diagnosis.message)


#: Longest answer repeated in full in the message saying it is not a number.
MAX_SHOWN_ANSWER = 40

#: Look-alikes of the characters of a number, made ASCII: the signs that stand for a minus in
#: text pasted from slides and word processors (the minus sign U+2212, the en dash, the figure
#: dash, the hyphens U+2010/U+2011, the small hyphen-minus), and the full-width forms a Chinese
#: or Japanese input method types (０-９ － ＋ ． ／ ｅ Ｅ).
_ASCII_LOOKALIKES = {
    **dict.fromkeys(map(ord, "\u2212\u2013\u2012\u2010\u2011\ufe63"), "-"),
    **{ord(full): chr(ord(full) - 0xFEE0) for full in "０１２３４５６７８９－＋．／ｅＥ"},
}


def plain_answer(text: str) -> str:
    """An answer with pasted or typed look-alikes made ASCII: "−20" (U+2212) is "-20", "－２０" too.

    Only characters that can only mean a sign, a digit, a point, a slash or an exponent are
    replaced; anything else is left for ``read_answer`` to refuse.
    """
    return text.strip().translate(_ASCII_LOOKALIKES)


def read_answer(text: str) -> float:
    """The number a student typed: 3, -2.5, 1e-3 or a fraction such as 11/5 (see ``plain_answer``).

    Anything else raises InputError with a message in the student's terms (``'abc' is not a
    number``), without the internal names `backprop check` uses for its claims.
    """
    from .errors import LimitError
    from .numeric import parse_number

    typed = text.strip()
    shown = typed if len(typed) <= MAX_SHOWN_ANSWER else typed[: MAX_SHOWN_ANSWER - 3] + "..."
    try:
        return float(parse_number(plain_answer(typed), False))
    except LimitError:
        raise InputError(_("{answer!r} is too large or too long a number").format(answer=shown)) from None
    except BackpropError:
        raise InputError(_("{answer!r} is not a number").format(answer=shown)) from None


@dataclass
class Attempt:
    """An answered question."""

    exercise: int
    question: Question
    answer: str
    grade: Grade
    hinted: bool


@dataclass
class Quiz:
    """A quiz session: the exercises, where the student is, and every answer so far."""

    exercises: list[Exercise]
    #: the seed the exercises were drawn with (shown, so that the quiz can be repeated)
    seed: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    hints: int = 0
    #: index of the current exercise and of the current question in it
    position: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        from .check import Grader

        self._grader = Grader()
        self.results = [exercise.result() for exercise in self.exercises]
        self.questions = [questions(result) for result in self.results]
        self._hinted = False

    @property
    def total(self) -> int:
        """Questions in the whole quiz."""
        return sum(len(asked) for asked in self.questions)

    @property
    def score(self) -> int:
        """Right answers so far."""
        return sum(1 for attempt in self.attempts if attempt.grade.ok)

    @property
    def done(self) -> bool:
        return self.position[0] >= len(self.exercises)

    @property
    def current(self) -> Question | None:
        if self.done:
            return None
        exercise, question = self.position
        return self.questions[exercise][question]

    @property
    def number(self) -> int:
        """1-based number of the current question in the whole quiz."""
        exercise, question = self.position
        return sum(len(asked) for asked in self.questions[:exercise]) + question + 1

    def hint(self) -> str:
        """A hint for the current question (the rule and the inputs, not the answer)."""
        from .explain import backward_hint, forward_hint

        question = self.current
        if question is None:
            return ""
        if not self._hinted:
            self._hinted = True
            self.hints += 1
        result = self.results[self.position[0]]
        if question.part == "forward":
            return forward_hint(result, question.node, DIGITS)
        return backward_hint(result, question.node, DIGITS)

    def answer(self, text: str) -> Attempt:
        """Grade an answer to the current question and move on. InputError if not a number."""
        question = self.current
        if question is None:
            raise InputError(_("the quiz is over"))
        index = self.position[0]
        grade = grade_answer(self.exercises[index], question, text, self._grader)
        attempt = Attempt(index, question, text.strip(), grade, self._hinted)
        self.attempts.append(attempt)
        self._hinted = False
        exercise, number = self.position
        number += 1
        if number >= len(self.questions[exercise]):
            exercise, number = exercise + 1, 0
        self.position = (exercise, number)
        return attempt

    def mistakes(self) -> dict[str, int]:
        """Wrong answers per diagnosis code."""
        counts: dict[str, int] = {}
        for attempt in self.attempts:
            if not attempt.grade.ok:
                code = attempt.grade.code or "unknown"
                counts[code] = counts.get(code, 0) + 1
        return counts

    def part_scores(self) -> dict[str, tuple[int, int]]:
        """(right, answered) per part: forward and backward."""
        scores = {"forward": [0, 0], "backward": [0, 0]}
        for attempt in self.attempts:
            score = scores[attempt.question.part]
            score[0] += attempt.grade.ok
            score[1] += 1
        return {part: (right, answered) for part, (right, answered) in scores.items()}


# --------------------------------------------------------------------------- worksheets


def batch_entry(exercise: Exercise, result: Result | None = None, answers: bool = True) -> dict[str, Any]:
    """An exercise in the JSON Lines format of `backprop check --batch`.

    With ``answers`` the claims are the correct values (the answer key: every claim passes);
    without, every claim is ``"?"`` for the student to replace with a number.
    """
    result = result or exercise.result()
    claims: dict[str, Any] = {}
    gradients: dict[str, Any] = {}
    intermediates: dict[str, dict[str, Any]] = {}
    for question in questions(result):
        number: Any = float(question.expected) + 0.0 if answers else "?"  # + 0.0: no -0.0 in the key
        if question.kind == "value":
            claims["value"] = number
        elif question.kind == "grad":
            gradients[question.name] = number
        elif question.kind == "node":
            intermediates.setdefault(question.name, {})["value"] = number
        else:
            intermediates.setdefault(question.name, {})["grad"] = number
    claims["gradients"] = {name: gradients[name] for name in result.graph.inputs}
    if intermediates:
        claims["intermediates"] = intermediates
    return {"id": exercise.id, "expression": exercise.expression, "values": dict(exercise.values), "claims": claims}
