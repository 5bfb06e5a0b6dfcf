"""Homework checking: grade claimed values and gradients, and name the likely mistake.

A *claim* is one number a student wrote down: the output value, a gradient d out / d input,
or the value or gradient of an intermediate node. Each is graded against the engine (the
forward pass for values, the backward pass for gradients) within a tolerance.

A wrong claim is explained by recomputing with one rule swapped and comparing again. There is
one mechanism: copy the local gradients of ``Graph.local_gradients``, replace one gate's
entries by a classic wrong rule (a minus sign dropped, a local gradient left out (taken as 1),
the gate's output used as its local gradient (a sigmoid or tanh written out in primitive gates
counts as one gate), a mul gate that does not swap, a max gate that routes to the wrong input,
a fan-out node that keeps one path instead of adding them all), rerun ``Graph.backward`` and
see whether the claim comes out (a swap whose linear estimate is far from the claim is not
run). The rows of the backward pass (``Graph.steps``) give the local-only values (the chain
rule not applied), and the same tokens re-read with other parentheses explain wrong values.
The first mistake that reproduces the claim, in the order of ``CODES``, is the diagnosis.

SymPy is not needed to grade: ``verify=True`` adds its cross-check per entry.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .api import read_value
from .errors import BackpropError, InputError, printable
from .gates import CONST, GATES, INPUT
from .graph import Graph
from .i18n import _
from .numeric import Number, fmt, json_number, parse_number
from .parse import echo, parse, tokenize
from .result import Check

#: Diagnosis codes, stable (used in JSON and JUnit). When several mistakes reproduce a claim,
#: the first in this order wins (rounding and precedence are looser and come after the rest).
CODES = (
    "sign",
    "local-only",
    "missed-accumulation",
    "missing-local",
    "mul-not-swapped",
    "output-as-local-grad",
    "max-routing",
    "rounding",
    "precedence",
    "unknown",
)

#: The codes found by a backward pass with one rule swapped.
MUTATED_CODES = (
    "sign",
    "missed-accumulation",
    "missing-local",
    "mul-not-swapped",
    "output-as-local-grad",
    "max-routing",
)

#: Gates that route the gradient (relu is max(0, a)): a local gradient 0 taken as 1 there is a
#: routing mistake, so missing-local leaves them to max-routing.
ROUTING_GATES = ("max", "min", "relu")
#: mistakes a student who holds the wrong rule makes at every gate of the kind (sigmoid' = s
#: everywhere): besides one gate at a time, they are also tried at all of them at once
SYSTEMATIC_CODES = ("output-as-local-grad", "mul-not-swapped")

#: Default relative tolerance: any correct rounding to 4 significant digits passes
#: (0.19661 written as 0.1966), a rounding to 2 does not (0.2 is flagged as rounding).
DEFAULT_RTOL = 1e-3
#: Default absolute tolerance, for answers that are (nearly) zero.
DEFAULT_ATOL = 1e-6
#: A claim counts as a rounding of a value (``rounding``, or a mistake then rounded) when it is
#: within half a unit of its last written digit of that value AND within this fraction of it:
#: 0.2 for 0.1966 (1.7 % off) is a rounding, 1 for 0.7311 (37 % off) is not.
MAX_ROUNDING_ERROR = 0.1

#: Claim kinds: the output value, d output / d input, an intermediate's value and gradient.
KINDS = ("value", "grad", "node", "node-grad")
_GRADIENT_KINDS = ("grad", "node-grad")

#: Work allowed for the swapped-rule passes of one entry, in nodes visited (each pass visits
#: every node): unlimited in practice for homework, about half a second for a huge graph.
MAX_DIAGNOSIS_WORK = 1_000_000
#: Up to this many paths leaving a node, every proper subset of them is tried for missed-accumulation;
#: up to MAX_SINGLE_PATHS, each single path and each "all but one"; beyond, "all but one" only.
MAX_SUBSET_PATHS = 4
MAX_SINGLE_PATHS = 64
#: Programs with more tokens than this are not re-read with other parentheses.
MAX_PRECEDENCE_TOKENS = 80
#: Distinct expressions whose graph is kept while grading a batch.
GRAPH_CACHE_SIZE = 4_096

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DECIMAL_TEXT = re.compile(r"\s*[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*")


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class Claim:
    """One number a student wrote down, with the text it was written as (for its precision).

    ``name`` is an input (grad), a node (node, node-grad), or empty for the output's value.
    """

    kind: str
    name: str
    text: str
    value: float


@dataclass(frozen=True)
class Diagnosis:
    """The most likely mistake behind a wrong claim."""

    code: str
    message: str
    #: the gate or node involved (its label, as in `backprop grad`)
    node: str
    #: the row of `backprop grad` where the correct value comes from
    step: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "node": self.node, "step": self.step}


@dataclass(slots=True)
class Verdict:
    """One graded claim."""

    claim: Claim
    expected: Number
    ok: bool
    diagnosis: Diagnosis | None = None
    #: the name of the expression's output (f)
    output: str = "f"

    @property
    def name(self) -> str:
        """What the claim is about: the output's name for a value claim."""
        return self.output if self.claim.kind == "value" else self.claim.name

    @property
    def what(self) -> str:
        """How the claim is shown: ``f``, ``q``, ``df/dx``, ``df/d(x + y)``."""
        return claim_title(self.claim, self.output)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.claim.kind,
            "name": self.name,
            "claimed": self.claim.value,
            "expected": json_number(self.expected),
            "ok": self.ok,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
        }


@dataclass(slots=True)
class Entry:
    """One answer to grade: an expression, the values of its inputs and the claims.

    ``error`` is set when the entry could not even be read (bad JSON, a missing field).
    """

    id: str
    expression: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    #: line (JSONL) or row (CSV) of the batch file, 0 for a single answer
    line: int = 0
    error: str | None = None
    #: claims still "?" (a worksheet handed in half done): not graded, and the entry is not ok
    unanswered: int = 0


@dataclass(slots=True)
class Graded:
    """The grading of one entry."""

    id: str
    ok: bool
    error: str | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    expression: str = ""
    #: what grading knew about the expression (None when it could not be read)
    question: Question | None = field(default=None, repr=False)
    output: str = "f"
    line: int = 0
    warnings: list[str] = field(default_factory=list)
    #: the SymPy cross-check (only with verify=True)
    check: Check | None = None
    #: claims left as "?" (see Entry.unanswered)
    unanswered: int = 0

    @property
    def parsed(self) -> str:
        """The expression fully parenthesised, as the engine read it."""
        return self.question.parsed if self.question else ""

    @property
    def where(self) -> str:
        """``line 5 (dan-q1)``; just the id when there is no line or the id is the line."""
        if not self.line or self.id == line_label(self.line):
            return self.id
        return _("{line} ({id})").format(line=line_label(self.line), id=self.id)

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "ok": self.ok,
            "error": self.error,
            "claims": [verdict.to_dict() for verdict in self.verdicts],
        }
        if self.unanswered:
            record["unanswered"] = self.unanswered
        if self.check is not None:
            record["check"] = {"method": self.check.method, "ok": self.check.ok, "note": self.check.note}
        return record


@dataclass
class Report:
    """The grading of a batch (or of one answer: a batch of one)."""

    entries: list[Graded] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 every claim right, 1 some claim wrong, 2 some entry could not be graded."""
        if any(entry.error for entry in self.entries):
            return 2
        return 0 if all(entry.ok for entry in self.entries) else 1

    def diagnosis_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CODES, 0)
        for entry in self.entries:
            for verdict in entry.verdicts:
                if verdict.diagnosis:
                    counts[verdict.diagnosis.code] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        verdicts = [verdict for entry in self.entries for verdict in entry.verdicts]
        right = sum(1 for verdict in verdicts if verdict.ok)
        unanswered = sum(entry.unanswered for entry in self.entries)
        counts = {
            "entries": len(self.entries),
            "correct": sum(1 for entry in self.entries if entry.ok),
            "wrong": sum(1 for entry in self.entries if not entry.ok and not entry.error),
            "errors": sum(1 for entry in self.entries if entry.error),
            "claims": len(verdicts),
            "claims_correct": right,
            "claims_wrong": len(verdicts) - right,
            "diagnoses": self.diagnosis_counts(),
            "exit_code": self.exit_code,
        }
        if unanswered:
            counts["claims_unanswered"] = unanswered
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The `--json` report: ``{"entries": [...], "summary": {...}}``."""
        return {"entries": [entry.to_dict() for entry in self.entries], "summary": self.summary()}


def within(claimed: float, expected: Number, rtol: float, atol: float) -> bool:
    """The tolerance rule, |claimed - expected| <= max(atol, rtol |expected|), except that a
    claim of the opposite sign is never right (sigmoid'(15) = 3.06e-7 claimed as -3.06e-7 is
    a sign mistake, though within atol), unless the expected value is rounding noise
    (at most atol / 1000 in size)."""
    if abs(claimed - expected) > max(atol, rtol * abs(expected)):
        return False
    return not (claimed * expected < 0 and abs(expected) > atol * 1e-3)


def claim_title(claim: Claim, output: str = "f") -> str:
    """How a claim is shown: ``f``, ``q``, ``df/dx``, ``df/d(x + y)`` (``output`` is the output's name)."""
    kind, name = claim.kind, claim.name or output
    if kind in ("value", "node"):
        return name
    if kind == "node-grad" and not _IDENTIFIER.fullmatch(name):
        name = f"({name})"
    return f"d{output}/d{name}"


def line_label(line: int) -> str:
    """How a batch entry without an id is called: ``line 3`` (of the JSONL or CSV file)."""
    return _("line {line}").format(line=line)


# --------------------------------------------------------------------------- claims


def make_claim(kind: str, name: str, value: Any) -> Claim:
    """A claim from a user's text (``"-0.2"``, ``"11/5"``) or a JSON number."""
    if kind not in KINDS:
        raise InputError(_("unknown claim kind {kind!r} (known: {known})").format(kind=kind, known=", ".join(KINDS)))
    if type(value) is _JsonNumber:
        number = float(value)
        if math.isfinite(number):
            return Claim(kind, name, value, number)
    what = _("claimed {kind} of {name!r}").format(kind=kind, name=name) if kind != "value" else _("claimed value")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(_("{what} must be a number, got {value}").format(what=what, value=json.dumps(value)))
    text = value if isinstance(value, str) else repr(value)
    return Claim(kind, name, text.strip(), float(parse_number(text, False, what)))


def parse_assignment(text: str, option: str) -> tuple[str, str]:
    """``NAME=V`` from the command line (NAME may be a sub-expression such as ``x+y``)."""
    name, sep, value = text.partition("=")  # (x=1,y=2 is x with a malformed value, as for NAME=VALUE)
    if not sep or not name.strip() or not value.strip():
        raise InputError(_("{option} expects NAME=VALUE, got {text!r} (for example x=-4)").format(option=option, text=text))
    return name.strip(), value.strip()


def written_precision(text: str) -> float:
    """Half a unit in the last digit the student wrote (0.05 for "0.2"); 0 for exact forms (11/5)."""
    match = _DECIMAL_TEXT.fullmatch(text)
    if not match or "/" in text:
        return 0.0
    decimals = len(match.group(1) or "")
    exponent = int(match.group(2) or 0)
    return 0.5 * 10.0 ** (exponent - decimals)


def rounds(claimed: float, precision: float, value: Number) -> bool:
    """True when ``claimed`` is ``value`` rounded by hand to the digits written.

    ``precision`` is the claim's half unit of the last digit (``written_precision``). The claim
    must be within it (the correctly rounded value) and within MAX_ROUNDING_ERROR of the value
    (a plausible rounding: 1 for 0.7311 is neither a rounding nor "a mistake, then rounded").
    """
    return abs(claimed - value) <= min(precision * (1 + 1e-9), MAX_ROUNDING_ERROR * abs(value))


# --------------------------------------------------------------------------- batch input


def read_batch(lines: Iterable[str], name: str = "-", batch_format: str = "auto") -> Iterator[Entry]:
    """Entries of a batch file: JSON Lines, or CSV with columns id, expression, values, claims.

    ``batch_format`` is "jsonl", "csv" or "auto" (CSV when the file name ends in .csv, JSON
    Lines otherwise, standard input included). A malformed line becomes an Entry with its
    ``error`` set, so that it is reported and the rest are still read; a batch without any
    entry raises InputError.
    """
    if batch_format == "auto":
        batch_format = "csv" if name.lower().endswith(".csv") else "jsonl"
    lines = _without_bom(lines)
    if batch_format == "csv":
        entries = _read_csv(lines)
    elif batch_format == "jsonl":
        entries = _read_jsonl(lines)
    else:
        raise InputError(_("unknown batch format {format!r} (use jsonl, csv or auto)").format(format=batch_format))
    empty = True
    for entry in entries:
        empty = False
        yield entry
    if empty:
        where = _("standard input") if name == "-" else repr(name)
        raise InputError(_("no entries in {file}: there is nothing to grade").format(file=where))


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    """The lines with a UTF-8 byte-order mark taken off the first (Excel's "CSV UTF-8" and
    Windows PowerShell write one)."""
    lines = iter(lines)
    first = next(lines, None)
    if first is not None:
        yield first.removeprefix("\ufeff")
        yield from lines


def shown_id(value: object) -> str:
    """An entry's id as reports show it (see errors.printable)."""
    return printable(str(value))


def _read_jsonl(lines: Iterable[str]) -> Iterator[Entry]:
    read = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        read += 1
        fallback = line_label(number)
        try:
            record = _DECODER.decode(line)
        except json.JSONDecodeError as error:
            message = _("not valid JSON: {error} at column {column}").format(error=error.msg, column=error.colno)
            if read == 1 and _looks_like_csv_header(line):
                message += _(" (this looks like a CSV header: for a CSV file pass --batch-format csv)")
            yield Entry(fallback, line=number, error=message)
            continue
        except _RepeatedKey as error:
            yield Entry(fallback, line=number, error=error.message)
            continue
        if not isinstance(record, dict):
            yield Entry(fallback, line=number, error=_("expected a JSON object {...} per line"))
            continue
        yield entry_from_fields(record, number, fallback)


def _looks_like_csv_header(line: str) -> bool:
    """The first line of a CSV batch read as JSON Lines (no .csv name, standard input)."""
    return "," in line and "expression" in line and not line.lstrip().startswith("{")


def _read_csv(lines: Iterable[str]) -> Iterator[Entry]:
    reader = csv.DictReader(lines)
    columns = reader.fieldnames or []
    missing = [column for column in ("expression", "claims") if column not in columns]
    if missing and len(columns) == 1 and ";" in columns[0]:
        raise InputError(_("CSV batch: the header has no commas but semicolons; save the file with commas "
                           "between cells (the columns are id, expression, values, claims)"))
    if missing:
        raise InputError(
            _("CSV batch needs the columns id, expression, values, claims; missing: {missing}").format(
                missing=", ".join(missing)
            )
        )
    for row in reader:
        number = reader.line_num
        fallback = line_label(number)
        record: dict[str, Any] = {"id": row.get("id") or None, "expression": row.get("expression")}
        error = None
        if row.get(None):  # more cells than columns: a comma of the expression or of the JSON
            error = _("the row has {cells} cells for {columns} columns: put the expression and the JSON "
                      "cells in double quotes (\"max(x, y)*z\")").format(
                cells=len(columns) + len(row[None]), columns=len(columns)
            )
            yield Entry(shown_id(record["id"] or fallback), line=number, error=error)
            continue
        for column in ("values", "claims"):
            cell = (row.get(column) or "").strip()
            if not cell:
                continue
            try:
                record[column] = _DECODER.decode(cell)
            except json.JSONDecodeError as problem:
                error = _("column {column} is not valid JSON: {error} at character {position}").format(
                    column=column, error=problem.msg, position=problem.colno
                )
                break
            except _RepeatedKey as problem:
                error = _("column {column}: {error}").format(column=column, error=problem.message)
                break
        if error:
            yield Entry(shown_id(record["id"] or fallback), line=number, error=error)
        else:
            yield entry_from_fields(record, number, fallback)


def entry_from_fields(record: dict[str, Any], line: int = 0, fallback_id: str = "answer") -> Entry:
    """An Entry from a decoded JSON object (``id``, ``expression``, ``values``, ``claims``)."""
    identifier = record.get("id")
    entry = Entry(fallback_id if identifier in (None, "") else shown_id(identifier), line=line)
    try:
        expression = record.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            raise InputError(_("field \"expression\" is missing or not a text"))
        values = record.get("values", {})
        if not isinstance(values, dict):
            raise InputError(_("field \"values\" must be an object of name -> number"))
        entry.expression = expression
        entry.values = values
        entry.claims, entry.unanswered = claims_from_json(record.get("claims"))
    except BackpropError as error:
        entry.error = error.message
    return entry


def claims_from_json(claims: Any) -> tuple[list[Claim], int]:
    """``{"value": V, "gradients": {NAME: V}, "intermediates": {NAME: {"value": V, "grad": V}}}``
    -> (the claims, how many were left as "?", a worksheet's blank)."""
    if not isinstance(claims, dict) or not claims:
        raise InputError(_("field \"claims\" is missing or empty: there is nothing to grade"))
    unknown = [key for key in claims if key not in ("value", "gradients", "intermediates")]
    if unknown:
        raise InputError(
            _("claims has an unknown key {key!r} (known: value, gradients, intermediates)").format(key=unknown[0])
        )
    found: list[Claim] = []
    unanswered = 0

    def add(kind: str, name: str, value: Any) -> None:
        nonlocal unanswered
        if isinstance(value, str) and value.strip() == "?":
            unanswered += 1
        else:
            found.append(make_claim(kind, name, value))

    if "value" in claims:
        add("value", "", claims["value"])
    gradients = claims.get("gradients", {})
    if not isinstance(gradients, dict):
        raise InputError(_("claims.gradients must be an object of name -> number"))
    for name, value in gradients.items():
        add("grad", name, value)
    intermediates = claims.get("intermediates", {})
    if not isinstance(intermediates, dict):
        raise InputError(_("claims.intermediates must be an object of name -> {\"value\": V, \"grad\": V}"))
    for name, pair in intermediates.items():
        if not isinstance(pair, dict) or not pair or any(key not in ("value", "grad") for key in pair):
            raise InputError(
                _("claims.intermediates.{name} must be an object with \"value\" and/or \"grad\"").format(name=name)
            )
        if "value" in pair:
            add("node", name, pair["value"])
        if "grad" in pair:
            add("node-grad", name, pair["grad"])
    if not found and not unanswered:
        raise InputError(_("field \"claims\" holds no claim: there is nothing to grade"))
    return found, unanswered


# --------------------------------------------------------------------------- grading


@dataclass(frozen=True)
class Reading:
    """The same tokens grouped with other parentheses."""

    text: str
    parsed: str
    #: the group whose parentheses were added or removed, shown with them: "(1 + exp(-z))"
    group: str
    graph: Graph


class Question:
    """What grading needs about one expression, whatever the values: its graph, its echo,
    the nodes its claims name, and its other parenthesisations (found on first use)."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.graph = Graph(parse(expression))
        self.targets: dict[tuple[str, str], int] = {}
        self._readings: list[Reading] | None = None
        self._rows: dict[int, list[tuple[int, int, int]]] | None = None
        self._parsed: str | None = None

    def target(self, claim: Claim) -> int:
        key = (claim.kind, claim.name)
        node = self.targets.get(key)
        if node is None:
            node = self.targets[key] = resolve(self.graph, claim)
        return node

    def rows_into(self, locals_: list[tuple], grads: list) -> dict[int, list[tuple[int, int, int]]]:
        """Per node, (row, gate, input position) of the rows of the backward pass that add into it.

        The rows are those of ``Graph.steps`` (and of `backprop grad`'s table); their order
        depends on the graph only, so it is read once per expression.
        """
        if self._rows is None:
            self._rows = {}
            for row, step in enumerate(self.graph.steps(locals_, grads), 1):
                self._rows.setdefault(step.input, []).append((row, step.gate, step.position))
        return self._rows

    @property
    def parsed(self) -> str:
        """The expression fully parenthesised (``((x + y) * z)``), as the engine reads it."""
        if self._parsed is None:
            self._parsed = echo(self.graph.program)
        return self._parsed

    @property
    def readings(self) -> list[Reading]:
        """The same tokens with one pair of parentheses added or removed (see ``regroupings``)."""
        if self._readings is None:
            self._readings = regroupings(self.expression)
        return self._readings


class Grader:
    """Grades answers; keeps what each distinct expression needs (a Question) between entries."""

    def __init__(self, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, verify: bool = False) -> None:
        if not (rtol >= 0 and atol >= 0 and math.isfinite(rtol) and math.isfinite(atol)):
            raise InputError(_("--rtol and --atol must be finite numbers >= 0"))
        self.rtol = rtol
        self.atol = atol
        self.verify = verify
        self._questions: dict[str, Question | BackpropError] = {}

    def close(self, claimed: float, correct: Number) -> bool:
        """True when the claim is within the tolerance of the correct value."""
        return within(claimed, correct, self.rtol, self.atol)

    def question(self, expression: str) -> Question:
        """The parsed expression (once per batch; a bad one raises its error every time)."""
        cached = self._questions.get(expression)
        if cached is None:
            if len(self._questions) >= GRAPH_CACHE_SIZE:
                self._questions.pop(next(iter(self._questions)))
            try:
                cached = Question(expression)
            except BackpropError as error:
                cached = error
            self._questions[expression] = cached
        if isinstance(cached, BackpropError):
            raise cached.with_traceback(None)  # the same error each time, without old tracebacks piling up
        return cached

    def grade_entry(self, entry: Entry) -> Graded:
        """Grade one entry; a bad entry comes back with its ``error`` set, never as an exception."""
        if entry.error is not None:
            return Graded(entry.id, False, entry.error, expression=entry.expression, line=entry.line)
        if not entry.claims:  # every claim still "?": nothing to grade, and not done
            return Graded(entry.id, False, expression=entry.expression, line=entry.line, unanswered=entry.unanswered)
        try:
            graded = self.grade(entry.expression, entry.values, entry.claims, entry_id=entry.id, line=entry.line)
        except BackpropError as error:
            return Graded(entry.id, False, error.message, expression=entry.expression, line=entry.line)
        if entry.unanswered:  # half done is not done
            graded.unanswered = entry.unanswered
            graded.ok = False
        return graded

    def grade(
        self,
        expression: str,
        values: dict[str, Any],
        claims: list[Claim],
        *,
        entry_id: str = "answer",
        line: int = 0,
    ) -> Graded:
        """Grade the claims about ``expression`` at ``values``. Raises BackpropError on bad input."""
        if not claims:
            raise InputError(_("no claims to check: give --value, --grad, --node or --node-grad"))
        question = self.question(expression)
        graph = question.graph
        out = graph.output_name
        known = question.targets
        targets = [known.get((claim.kind, claim.name)) or question.target(claim) for claim in claims]
        repeated = None
        if len(claims) > 1 and len(set(targets)) < len(targets):  # (a value and a gradient of one node are two claims)
            claims, targets, repeated = _without_repeats(claims, targets, out)
        inputs = {name: _input_value(name, values[name]) for name in graph.inputs if name in values}
        node_values = graph.forward(inputs)
        locals_ = graph.local_gradients(node_values)
        grads = graph.backward(locals_, 1.0)
        verdicts: list[Verdict] = []
        wrong: list[int] = []
        rtol, atol = self.rtol, self.atol
        for claim, target in zip(claims, targets):
            expected = node_values[target] if claim.kind in ("value", "node") else grads[target]
            ok = within(claim.value, expected, rtol, atol)
            if not ok:
                wrong.append(len(verdicts))
            verdicts.append(Verdict(claim, expected, ok, None, out))
        if wrong:
            pass_ = _Pass(self, question, inputs, node_values, locals_, grads)
            # values first: a value explained by another reading of the expression explains the gradients too
            if len(wrong) > 1:
                wrong.sort(key=lambda index: claims[index].kind not in ("value", "node"))
                pass_.misread_by_every([claims[index] for index in wrong])
            for index in wrong:
                verdict = verdicts[index]
                verdict.diagnosis = pass_.diagnose(verdict.claim, targets[index], verdict.expected)
        graded = Graded(
            entry_id,
            all(verdict.ok for verdict in verdicts),
            None,
            verdicts,
            expression=expression,
            question=question,
            output=out,
            line=line,
        )
        if repeated:
            graded.warnings = repeated
        if len(values) > len(inputs):
            graded.warnings += graph.ignored_values(values)
        if self.verify:
            from .verify import cross_check

            graded.check = cross_check(graph, inputs, grads, bool(graph.kinks(node_values)))
            if not graded.check.ok:
                graded.ok = False
                graded.error = _(
                    "the SymPy cross-check disagrees with the engine ({note}): the expected values are not trusted"
                ).format(note=graded.check.note or graded.check.method)
        return graded


def _without_repeats(claims: list[Claim], targets: list[int], output: str) -> tuple[list[Claim], list[int], list[str]]:
    """The claims with each quantity once: a value or a gradient of one node claimed again.

    The same number again is dropped with a warning; another number is bad input, whatever
    the names used (``--node-grad q`` and ``--node-grad x+y`` on ``q = x + y`` are one gradient).
    """
    first: dict[tuple[bool, int], Claim] = {}
    kept: list[Claim] = []
    kept_targets: list[int] = []
    warnings: list[str] = []
    for claim, target in zip(claims, targets):
        key = (claim.kind in _GRADIENT_KINDS, target)
        earlier = first.get(key)
        if earlier is None:
            first[key] = claim
            kept.append(claim)
            kept_targets.append(target)
            continue
        what, again = claim_title(earlier, output), claim_title(claim, output)
        if again != what:
            what = _("{what} (also written {again})").format(what=what, again=again)
        if claim.value != earlier.value:
            raise InputError(
                _("{what} is claimed twice with different values, {first} and {second}: give it once").format(
                    what=what, first=earlier.text, second=claim.text
                )
            )
        warnings.append(_("{what} is claimed twice ({value}); it is graded once").format(what=what, value=claim.text))
    return kept, kept_targets, warnings


class _JsonNumber(str):
    """A number as written in a JSON document: its text is kept (for the claim's precision)
    and it is known to be a well-formed decimal, so float() reads it directly."""


class _RepeatedKey(ValueError):
    """A key given twice in one JSON object (json would silently keep the last value)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.message = _("key {key!r} appears twice in one JSON object: give it once").format(key=key)


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return record


#: JSON numbers keep their text (NaN and Infinity come as text too, and are refused as numbers);
#: a key repeated in an object is an error rather than the last value winning silently.
_DECODER = json.JSONDecoder(
    parse_float=_JsonNumber, parse_int=_JsonNumber, parse_constant=str, object_pairs_hook=_object_without_repeats
)


def _input_value(name: str, value: Any) -> Number:
    if type(value) is _JsonNumber:
        number = float(value)
        if math.isfinite(number):
            return number
    return read_value(name, value, False)


def grade_batch(entries: Iterable[Entry], grader: Grader | None = None) -> Report:
    """Grade every entry (bad ones are reported in place, the others graded all the same)."""
    grader = grader or Grader()
    graded = []
    first_line: dict[str, int] = {}  # id -> the line it first appeared on
    for entry in entries:
        result = grader.grade_entry(entry)
        if entry.id in first_line and entry.id != line_label(entry.line):
            result.warnings.append(
                _("the id {id!r} is used again (first on {line}): reports will show both").format(
                    id=entry.id, line=line_label(first_line[entry.id])
                )
            )
        first_line.setdefault(entry.id, entry.line)
        graded.append(result)
    return Report(graded)


def check_answer(
    expression: str,
    values: dict[str, Any],
    claims: list[Claim],
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    verify: bool = False,
) -> Graded:
    """Grade one answer.

    >>> graded = check_answer("(x+y)*z", {"x": -2, "y": 5, "z": -4}, [make_claim("grad", "x", "4")])
    >>> graded.verdicts[0].diagnosis.code
    'sign'
    """
    return Grader(rtol, atol, verify).grade(expression, values, claims)


def resolve(graph: Graph, claim: Claim) -> int:
    """The node a claim is about. Raises InputError naming what is known."""
    name = claim.name
    if claim.kind == "value":
        return graph.output
    if claim.kind == "grad":
        if name in graph.inputs:
            return graph.inputs[name]
        if name in graph.names:
            raise InputError(
                _(
                    "{name!r} is an intermediate, not an input: claim its gradient as a node gradient (--node-grad {name}=V)"
                ).format(name=name)
            )
        raise InputError(
            _("gradient claimed for {name!r}, which is not an input of the expression (inputs: {known})").format(
                name=name, known=_some(graph.inputs)
            )
        )
    for table in (graph.names, graph.inputs):
        if name in table:
            return table[name]
    node = _find_subexpression(graph, name)
    if node is None:
        example = next((label for label, gate in zip(graph.labels, graph.gates) if gate not in (INPUT, CONST)), "x + y")
        raise InputError(
            _(
                "intermediate {name!r} is not a named node, an input or a sub-expression of the expression "
                "(named: {named}); name it in a staged program ('q = x + y; f = q * z') or write the "
                "sub-expression itself (such as '{example}')"
            ).format(name=name, named=_some(graph.names), example=example)
        )
    return node


def _some(names: Iterable[str], shown: int = 8) -> str:
    """``a, b, c and 12 more``: a list of names that stays one line long."""
    names = list(names)
    if not names:
        return _("none")
    text = ", ".join(names[:shown])
    if len(names) > shown:
        text += _(" and {count} more").format(count=len(names) - shown)
    return text


def _sum_text(terms: list[Number], shown: int = 8) -> str:
    """``1 + 3 + 3``, or ``1 + 3 + ... + 3`` (20 terms) when there are many."""
    if len(terms) <= shown:
        return " + ".join(fmt(term) for term in terms)
    return _("{first} + ... + {last} ({count} terms)").format(
        first=" + ".join(fmt(term) for term in terms[: shown - 1]), last=fmt(terms[-1]), count=len(terms)
    )


def _find_subexpression(graph: Graph, text: str) -> int | None:
    """The node computing ``text`` (a label such as ``n12`` or a sub-expression such as ``x+y``)."""
    for node, label in enumerate(graph.labels):
        if label == text and graph.gates[node] not in (INPUT, CONST):
            return node
    try:
        other = Graph(parse(text))
    except BackpropError:
        return None
    if len(other.program.statements) != 1 or other.program.statements[0][0] is not None:
        return None
    table: dict = {}
    first: dict[int, int] = {}
    for node, key in enumerate(_structure(graph, table, grow=True)):
        first.setdefault(key, node)
    wanted = _structure(other, table)[other.output]
    node = first.get(wanted) if wanted is not None else None
    if node is None or graph.gates[node] in (INPUT, CONST):
        return None
    return node


def _structure(graph: Graph, table: dict, grow: bool = False) -> list:
    """Per node a small integer that is equal for nodes computing the same sub-expression.

    ``grow`` adds new shapes to ``table``; without it (the table of another graph), a shape
    the table does not know comes out as None.
    """
    ids: list = []
    for node, gate in enumerate(graph.gates):
        if gate is INPUT:
            key: tuple = ("input", graph.labels[node])
        elif gate is CONST:
            key = ("const", float(graph.literals[node]))
        else:
            key = (gate.name, *(ids[j] for j in graph.args[node]))
        if grow:
            ids.append(table.setdefault(key, len(table)))
        else:
            ids.append(table.get(key))
    return ids


# --------------------------------------------------------------------------- diagnosis


@dataclass(slots=True, eq=False)
class Mutation:
    """A backward pass with one rule swapped: these nodes get these local gradients instead."""

    code: str
    #: the gate whose rule was swapped (for missed-accumulation: the fan-out node)
    node: int
    replaced: tuple[tuple[int, tuple], ...]
    #: the nodes whose incoming gradient changes: only they and the nodes below them are affected
    reaches: tuple[int, ...]
    #: code-specific facts for the message: an input position (sign, max-routing; -1 split, -2 passed
    #: to all), the paths left out (missed-accumulation), the input and its positions (missing-local)
    detail: tuple = ()


def mutations(
    code: str, graph: Graph, values: list, locals_: list[tuple], near: list[bool] | None = None
) -> list[Mutation]:
    """The one-rule mistakes of one diagnosis code, at the values of one forward pass.

    Each swaps the local gradients of one gate (one fan-out node's edges for missed-accumulation)
    for a wrong rule; a swap that changes nothing is left out (exp's output *is* its local gradient).
    With ``near``, only the gates and fan-out nodes it marks are tried (those at or above a claim's node).
    """
    found: list[Mutation] = []
    args, gates, needs_grad = graph.args, graph.gates, graph.needs_grad

    def swap(node: int, local: tuple, detail: tuple = ()) -> None:
        reaches = tuple(j for j, new, old in zip(args[node], local, locals_[node]) if new != old and needs_grad[j])
        if reaches:
            found.append(Mutation(code, node, ((node, local),), reaches, detail))

    if code == "missed-accumulation":
        return _missed_accumulation(graph, locals_, near)
    for i, local in enumerate(locals_):
        if not local or (near is not None and not near[i]):
            continue
        name = gates[i].name
        if code == "sign":  # a minus sign dropped
            for k, value in enumerate(local):
                if value < 0:
                    swap(i, _replaced(local, k, -value), (k,))
        elif code == "missing-local" and name not in ROUTING_GATES:
            for j, positions in _positions(args[i]).items():
                if sum(local[k] for k in positions) != 1:  # (x*x: the local gradient for x is x + x)
                    ones = _replaced(local, positions[0], 1)
                    for k in positions[1:]:
                        ones = _replaced(ones, k, 0)
                    swap(i, ones, (j, positions))
        elif code == "mul-not-swapped" and name == "mul":
            swap(i, (values[args[i][0]], values[args[i][1]]))
        elif code == "output-as-local-grad" and len(local) == 1:
            swap(i, (values[i],))
        elif code == "output-as-local-grad" and name in ("div", "pow"):
            written = _written_out(graph, values, i)
            if written is not None:
                found.extend(_output_as_local_grad_written_out(graph, values, locals_, i, *written))
        elif code == "max-routing" and name in ("max", "min"):
            count = len(local)
            for k in range(count):
                swap(i, tuple(1.0 if p == k else 0.0 for p in range(count)), (k,))
            swap(i, (1.0 / count,) * count, (-1,))
            swap(i, (1.0,) * count, (-2,))
        elif code == "max-routing" and name == "relu":  # relu is max(0, a): to a, or to the constant 0
            swap(i, (1.0 - local[0],), (0,))
    singles = [mutation for mutation in found if len(mutation.replaced) == 1 and not mutation.detail]
    if code in SYSTEMATIC_CODES and len(singles) > 1:
        everywhere = tuple(mutation.node for mutation in singles)
        reaches = tuple(sorted({j for mutation in singles for j in mutation.reaches}))
        replaced = tuple(pair for mutation in singles for pair in mutation.replaced)
        found.append(Mutation(code, singles[-1].node, replaced, reaches, ("every", everywhere)))
    return found


def _terms(terms: Iterable[tuple[int, float | None]]) -> tuple:
    """Terms of a sum in one order, whatever order they were written in."""
    return tuple(sorted(terms, key=repr))


#: A sigmoid or tanh written out in primitive gates, as its numerator and denominator: each a sum of
#: terms, a term (sign, c) being sign * exp(c*z), or sign * 1 for c = None (a power -1 has numerator 1).
#: (exp(z) / (1 + exp(z)) is left out: there s is also the numerator's path alone, which
#: missed-accumulation, coming first, reports.)
WRITTEN_OUT = {
    (_terms(numerator), _terms(denominator)): gate
    for numerator, denominator, gate in (
        ([(1, None)], [(1, None), (1, -1.0)], "sigmoid"),  # 1 / (1 + exp(-z))
        ([(1, 1.0), (-1, -1.0)], [(1, 1.0), (1, -1.0)], "tanh"),  # (exp(z) - exp(-z)) / (exp(z) + exp(-z))
        ([(1, None), (-1, -2.0)], [(1, None), (1, -2.0)], "tanh"),  # (1 - exp(-2z)) / (1 + exp(-2z))
        ([(1, 2.0), (-1, None)], [(1, 2.0), (1, None)], "tanh"),  # (exp(2z) - 1) / (exp(2z) + 1)
    )
}


def _written_out(graph: Graph, values: list, top: int) -> tuple[str, list[tuple[int, int, int]]] | None:
    """The gate (sigmoid, tanh) that the primitive gates ending at div or pow node ``top`` compute, and
    the edges (gate, position, z) by which its argument z enters them; None when they compute something else.

    Every node between z and ``top`` must feed that sub-graph only, so that the gradient reaching z
    through those edges is the gradient through the written-out gate and nothing else.
    """
    args, needs_grad = graph.args, graph.needs_grad
    first, second = args[top]
    if graph.gates[top].name == "pow":  # (1 + exp(-z)) ** -1
        if needs_grad[second] or values[second] != -1:
            return None
        numerator: tuple | None = (_terms([(1, None)]), [])
        denominator = _exp_sum(graph, values, first)
    else:
        numerator = _exp_sum(graph, values, first)
        denominator = _exp_sum(graph, values, second)
    if numerator is None or denominator is None:
        return None
    kind = WRITTEN_OUT.get((numerator[0], denominator[0]))
    edges = numerator[1] + denominator[1]
    if kind is None or not edges:
        return None
    z = edges[0][2]
    if not needs_grad[z] or any(not _same(graph, values, z, other) for _gate, _position, other in edges[1:]):
        return None
    return kind, edges


def _exp_sum(graph: Graph, values: list, node: int) -> tuple[tuple, list[tuple[int, int, int]]] | None:
    """``node`` as a sum of at most two terms 1 or exp(c*z): its terms (sign, c or None), sorted, and for
    each exp(c*z) the edge (gate, position, z) into z; None when it is not such a sum."""
    gates, args, fanout = graph.gates, graph.args, graph.fanout
    name = gates[node].name
    if name in ("add", "sub"):
        if fanout[node] != 1:
            return None
        operands = list(zip((1, 1 if name == "add" else -1), args[node]))
    else:
        operands = [(1, node)]
    terms, edges = [], []
    for sign, operand in operands:
        if not graph.needs_grad[operand]:
            if values[operand] != 1:
                return None
            terms.append((sign, None))
            continue
        term = _exp_term(graph, values, operand)
        if term is None:
            return None
        coefficient, edge = term
        terms.append((sign, coefficient))
        edges.append(edge)
    return _terms(terms), edges


def _exp_term(graph: Graph, values: list, node: int) -> tuple[float, tuple[int, int, int]] | None:
    """exp(c*z) (exp(z), exp(-z), exp(2*z), ...): c and the edge (gate, position, z) into z."""
    gates, args, fanout, needs_grad = graph.gates, graph.args, graph.fanout, graph.needs_grad
    if gates[node].name != "exp" or fanout[node] != 1:
        return None
    (inner,) = args[node]
    name = gates[inner].name
    if fanout[inner] == 1 and name == "neg":
        return -1.0, (inner, 0, args[inner][0])
    if fanout[inner] == 1 and name == "mul":
        left, right = args[inner]
        if not needs_grad[left] and needs_grad[right]:
            return float(values[left]), (inner, 1, right)
        if not needs_grad[right] and needs_grad[left]:
            return float(values[right]), (inner, 0, left)
    return 1.0, (node, 0, inner)


def _same(graph: Graph, values: list, first: int, second: int) -> bool:
    """True when two nodes compute the same thing: the same gates over the same inputs and constants."""
    gates, args, needs_grad = graph.gates, graph.args, graph.needs_grad
    pending = [(first, second)]
    while pending:
        a, b = pending.pop()
        if a == b:
            continue
        if not needs_grad[a] and not needs_grad[b]:
            if values[a] != values[b]:
                return False
            continue
        # (an input is one node however often it is used: two different nodes that need gradients
        # compute the same thing only through the same gate over the same operands)
        if gates[a] is not gates[b] or gates[a] is INPUT or len(args[a]) != len(args[b]):
            return False
        pending.extend(zip(args[a], args[b]))
    return True


def _output_as_local_grad_written_out(
    graph: Graph, values: list, locals_: list[tuple], top: int, kind: str, edges: list[tuple[int, int, int]]
) -> list[Mutation]:
    """The written-out sigmoid or tanh at ``top`` with its output as its local gradient: every edge into
    its argument z scaled by output / (its true local gradient), which scales d top / d z the same way."""
    output = values[top]
    local = output * (1 - output) if kind == "sigmoid" else 1 - output * output
    if local == 0:
        return []  # saturated: the gradient through the gate is 0, and no scaling turns it into the output
    ratio = output / local
    changed: dict[int, tuple] = {}
    for gate, position, _z in edges:
        current = changed.get(gate, locals_[gate])
        changed[gate] = _replaced(current, position, current[position] * ratio)
    reaches = tuple(dict.fromkeys(z for _gate, _position, z in edges))
    return [Mutation("output-as-local-grad", top, tuple(changed.items()), reaches, (kind, edges[0][2]))]


def _missed_accumulation(graph: Graph, locals_: list[tuple], near: list[bool] | None = None) -> list[Mutation]:
    """For every node that feeds several paths: the backward pass with only some of them kept."""
    args, needs_grad, fanout = graph.args, graph.needs_grad, graph.fanout
    edges: dict[int, list[tuple[int, int]]] = {}  # fan-out node -> its edges, in backward-pass order
    for i in range(len(locals_) - 1, -1, -1):
        if locals_[i]:
            for k, j in enumerate(args[i]):
                if fanout[j] > 1 and needs_grad[j] and (near is None or near[j]):
                    edges.setdefault(j, []).append((i, k))
    found = []
    for j, leaving in edges.items():
        if len(leaving) < 2:
            continue
        for dropped in _dropped_paths(len(leaving)):
            changed: dict[int, tuple] = {}
            for path in dropped:
                i, k = leaving[path]
                changed[i] = _replaced(changed.get(i, locals_[i]), k, 0.0)
            found.append(Mutation("missed-accumulation", j, tuple(changed.items()), (j,), dropped))
    return found


def _dropped_paths(count: int) -> Iterator[tuple[int, ...]]:
    """The paths (numbered from 0) a student may have left out of ``count``: for a few paths
    every choice but none and all, keeping the fewest first; for more, all but one path left
    out, then one path left out; for very many, one path left out."""
    if count <= MAX_SUBSET_PATHS:
        for size in range(1, count):
            for kept in itertools.combinations(range(count), size):
                yield tuple(p for p in range(count) if p not in kept)
        return
    if count <= MAX_SINGLE_PATHS:
        for kept in range(count):
            yield tuple(p for p in range(count) if p != kept)
    for path in range(count):
        yield (path,)


def _positions(operands: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
    """Per input node of a gate, the positions where it enters (x*x: x at 0 and 1)."""
    if len(operands) == 1 or (len(operands) == 2 and operands[0] != operands[1]):
        return {j: (k,) for k, j in enumerate(operands)}
    found: dict[int, tuple[int, ...]] = {}
    for k, j in enumerate(operands):
        found[j] = found.get(j, ()) + (k,)
    return found


def _replaced(local: tuple, position: int, value: Number) -> tuple:
    return local[:position] + (value,) + local[position + 1 :]


class _Candidate(NamedTuple):
    """A value some mistake would give, with its explanation (built only when chosen)."""

    code: str
    value: Number
    node: str
    explain: Callable[[], str]
    #: for precedence: which reading of the expression
    reading: int = -1


class _Pass:
    """One entry's forward and backward pass, with the mutated passes computed on demand."""

    def __init__(self, grader: Grader, question: Question, inputs: dict, values: list, locals_: list, grads: list) -> None:
        self.grader = grader
        self.question = question
        self.graph = question.graph
        self.inputs = inputs
        self.values = values
        self.locals = locals_
        self.grads = grads
        self._mutations: dict[tuple[str, int], list[Mutation]] = {}
        self._mutated: dict[int, list | None] = {}
        self._readings: dict[int, tuple[list, list | None] | None] = {}
        #: the reading that explained a value claim of this entry, if any
        self._misread: int | None = None
        #: nodes visited by the swapped-rule passes so far (see MAX_DIAGNOSIS_WORK)
        self._work = 0

    # ----------------------------------------------------------------- shown text

    def label(self, node: int) -> str:
        return self.graph.labels[node]

    def rule(self, gate: int, position: int) -> str:
        return f"{self.graph.gates[gate].name}: {_(self.graph.gates[gate].rule(position))}"

    def gate_label(self, mutation: Mutation) -> str:
        """The gate a mutation swapped a rule of: its label, or for a sigmoid or tanh written out in
        primitive gates, the gate they compute (``sigmoid(x * y)`` for 1/(1+exp(-(x*y))))."""
        if mutation.code != "output-as-local-grad" or not mutation.detail or mutation.detail[0] == "every":
            return self.label(mutation.node)
        kind, z = mutation.detail
        argument = self.label(z)
        gate = self.graph.gates[z]
        if gate.symbol and len(self.graph.args[z]) == 2 and argument.startswith("(") and argument.endswith(")"):
            argument = argument[1:-1]  # as the echo writes a call: sigmoid(x * y), not sigmoid((x * y))
        return f"{kind}({argument})"

    def rows_into(self, node: int) -> list[tuple[int, int, int]]:
        """(row, gate, position) of the backward-pass rows that add into ``node``; rows count from 1."""
        return self.question.rows_into(self.locals, self.grads).get(node, [])

    def chained(self, gate: int, position: int) -> Number:
        """What one row of the backward pass adds: upstream x local."""
        return self.grads[gate] * self.locals[gate][position]

    def where(self, claim: Claim, target: int) -> str:
        """The row of `backprop grad` that holds the correct value."""
        if claim.kind in ("value", "node"):
            return _("forward pass row #{row}: {node} = {value}").format(
                row=target, node=self.label(target), value=fmt(self.values[target])
            )
        out = self.graph.output_name
        if target == self.graph.output:
            return _("the seed: d{out}/d{out} = 1").format(out=out)
        into = self.rows_into(target)
        if not into:
            return _("no backward step reaches {node}: its gradient is 0").format(node=self.label(target))
        row, gate, position = into[-1]
        text = _(
            "backward pass row {row}: gate {gate} -> {input}: upstream {upstream} x local {local} ({rule}) = {chained}"
        ).format(
            row=row,
            gate=self.label(gate),
            input=self.label(target),
            upstream=fmt(self.grads[gate]),
            local=fmt(self.locals[gate][position]),
            rule=self.rule(gate, position),
            chained=fmt(self.chained(gate, position)),
        )
        if len(into) > 1:
            text += _("; the {paths} paths add up to {total}").format(paths=len(into), total=fmt(self.grads[target]))
        return text

    # ----------------------------------------------------------------- diagnosis

    def diagnose(self, claim: Claim, target: int, expected: Number) -> Diagnosis:
        """The first mistake in the order of CODES that reproduces the claim.

        One exception: once a value claim is explained by another reading of the expression
        (precedence), a gradient claim that reading gives is precedence before anything else.
        A candidate within the tolerance of the claim wins at once; one that the claim rounds
        (see ``rounds``: a mistake, then rounded) is kept in case nothing closer turns up.
        """
        close = self.grader.close
        claimed = claim.value
        precision = written_precision(claim.text) if claimed != 0 else 0.0
        weak: _Candidate | None = None
        chosen: _Candidate | None = None
        if self._misread is not None and claim.kind in _GRADIENT_KINDS:
            # a value of this entry came from another reading: a gradient of that same reading is
            # the same misreading, whatever swapped rule happens to give the number too
            chosen = next((found for found in self.precedence(claim) if close(claimed, found.value)), None)
        candidates = self.candidates(claim, target, expected, precision) if chosen is None else ()
        for candidate in candidates:
            if close(claimed, candidate.value):
                chosen = candidate
                break
            if weak is None and rounds(claimed, precision, candidate.value):
                weak = candidate
        if chosen is None and rounds(claimed, precision, expected):
            chosen = _Candidate("rounding", expected, self.label(target), lambda: self._rounding(claim, expected))
        if chosen is None:
            for candidate in self.precedence(claim):
                if close(claimed, candidate.value):
                    chosen = candidate
                    break
                if weak is None and rounds(claimed, precision, candidate.value):
                    weak = candidate
        if chosen is None and claim.kind not in _GRADIENT_KINDS and expected != 0 and close(claimed, -expected):
            # a value with its sign flipped: after precedence, which names a cause (-x**2 read as (-x)**2)
            chosen = self._flipped(target, expected)
        chosen = chosen or weak
        where = self.where(claim, target)
        if chosen is None:
            message = _("no common mistake gives {claimed}; the correct value is {expected}").format(
                claimed=claim.text, expected=fmt(expected)
            )
            return Diagnosis("unknown", message, self.label(target), where)
        if chosen.code == "precedence" and claim.kind in ("value", "node"):
            self._misread = chosen.reading
        return Diagnosis(chosen.code, chosen.explain(), chosen.node, where)

    def candidates(self, claim: Claim, target: int, expected: Number, precision: float = 0.0) -> Iterator[_Candidate]:
        """Values of the one-rule mistakes, in the order of CODES.

        A swapped rule whose estimate (see ``_estimate``) is far from the claim is skipped: only
        the mistakes that may give the claim cost a backward pass.
        """
        above, tangents = self._above(target) if claim.kind in ("grad", "node-grad") else ([], [])
        for code in CODES:
            if code == "local-only" and above:
                yield from self._local_only(target, stopped=False)
            for mutation in self.mutations(code, target, above) if above else ():
                if not any(node == target or above[node] for node in mutation.reaches):
                    continue  # the swapped rule changes the gradients below it only
                if mutation.detail and mutation.detail[0] == "every":
                    if sum(1 for node, _local in mutation.replaced if above[node]) < 2:
                        continue  # at most one of its gates lies above the target: a one-gate swap said it
                if not self._may_give(mutation, target, tangents, claim.value, precision):
                    continue
                if id(mutation) not in self._mutated and self._work + len(self.graph) > MAX_DIAGNOSIS_WORK:
                    break  # a huge graph: the remaining mistakes of this kind are not tried
                grads = self.mutated(mutation)
                if grads is not None:
                    yield _Candidate(code, grads[target], self.gate_label(mutation), self._explainer(mutation, target))
            if code == "sign" and expected != 0 and claim.kind in _GRADIENT_KINDS:
                yield self._flipped(target, expected)
            if code == "max-routing" and above:
                # a local gradient whose upstream is 0: most often a relu or max upstream that routed
                # nothing here and was taken to pass the gradient on, which max-routing (just tried) says
                yield from self._local_only(target, stopped=True)

    def _flipped(self, target: int, expected: Number) -> _Candidate:
        """The claim is the correct value with its sign flipped (no rule says where)."""
        return _Candidate(
            "sign",
            -expected,
            self.label(target),
            lambda: _("the sign is flipped: the correct value is {expected}").format(expected=fmt(expected)),
        )

    def _above(self, target: int) -> tuple[list[bool], list]:
        """Per node: whether its value depends on ``target`` (its gradient flows into it), and
        d node / d target (the sum over the paths from ``target`` up to it of the local gradients' product)."""
        args, locals_ = self.graph.args, self.locals
        above = [False] * len(args)
        tangents: list = [0.0] * len(args)
        tangents[target] = 1.0
        for i in range(target + 1, len(args)):
            operands = args[i]
            if any(j == target or above[j] for j in operands):
                above[i] = True
                # (an input that does not depend on the target adds nothing, whatever its local gradient:
                # a constant exponent's may be undefined)
                tangents[i] = sum(local * tangents[j] for j, local in zip(operands, locals_[i]) if tangents[j])
        return above, tangents

    def _estimate(self, mutation: Mutation, target: int, tangents: list) -> tuple[Number, Number]:
        """The target's gradient with the mutation's rule swapped, without a backward pass, and its scale.

        Swapping gate G's local gradient for input j changes the gradient arriving at j by
        upstream(G) x (new - old), and so the target's by that times d j / d target: G's upstream
        and the paths from the target up to j lie above and below G, which the swap leaves alone.
        """
        estimate = self.grads[target]
        scale = abs(estimate)
        args = self.graph.args
        for node, local in mutation.replaced:
            upstream = self.grads[node]
            for j, new, old in zip(args[node], local, self.locals[node]):
                if new != old and tangents[j]:
                    change = upstream * (new - old) * tangents[j]
                    estimate += change
                    scale += abs(change)
        return estimate, scale

    def _may_give(self, mutation: Mutation, target: int, tangents: list, claimed: float, precision: float) -> bool:
        """False when the swapped rule cannot give the claim (not within its tolerance nor its digits)."""
        if mutation.detail and mutation.detail[0] == "every":
            return True  # rules swapped one above the other multiply: only the backward pass knows
        estimate, scale = self._estimate(mutation, target, tangents)
        grader = self.grader
        reach = max(grader.atol, grader.rtol * abs(estimate), precision) + 1e-9 * (scale + 1)
        return abs(claimed - estimate) <= reach * 1.01

    def mutations(self, code: str, target: int, above: list[bool]) -> list[Mutation]:
        """The mutations of one code at or above the target (made on first use, kept for the entry)."""
        key = (code, target)
        found = self._mutations.get(key)
        if found is None:
            found = []
            if code in MUTATED_CODES:
                near = list(above)
                near[target] = True
                found = mutations(code, self.graph, self.values, self.locals, near)
            self._mutations[key] = found
        return found

    def mutated(self, mutation: Mutation) -> list | None:
        """The gradients of the backward pass with the mutation's rule swapped in."""
        key = id(mutation)
        if key not in self._mutated:
            self._work += len(self.graph)
            locals_ = list(self.locals)
            for node, local in mutation.replaced:
                locals_[node] = local
            try:
                self._mutated[key] = self.graph.backward(locals_, 1.0)
            except BackpropError:
                self._mutated[key] = None
        return self._mutated[key]

    def _local_only(self, target: int, stopped: bool) -> Iterator[_Candidate]:
        """The local gradients of the edges into target, as claims that forgot the upstream one;
        ``stopped`` picks the edges whose upstream gradient is 0, or the others."""
        for _row, gate, position in self.rows_into(target):
            if self.grads[gate] == 1 or (self.grads[gate] == 0) != stopped:
                continue  # with upstream 1 the chain rule changes nothing: local and chained agree
            explain = lambda gate=gate, position=position: self._local_only_text(gate, position)  # noqa: E731
            yield _Candidate("local-only", self.locals[gate][position], self.label(gate), explain)

    def _local_only_text(self, gate: int, position: int) -> str:
        return _(
            "that is only the local gradient of gate {gate} ({rule} = {local}): the chain rule multiplies it "
            "by the upstream gradient, {upstream} x {local} = {chained}"
        ).format(
            gate=self.label(gate),
            rule=self.rule(gate, position),
            local=fmt(self.locals[gate][position]),
            upstream=fmt(self.grads[gate]),
            chained=fmt(self.chained(gate, position)),
        )

    def _rounding(self, claim: Claim, expected: Number) -> str:
        return _(
            "right to the digits written ({claimed}) but not within the tolerance: the value is {expected}; "
            "carry more digits"
        ).format(claimed=claim.text, expected=fmt(expected))

    def _explainer(self, mutation: Mutation, target: int) -> Callable[[], str]:
        return lambda: self._mutation_text(mutation, target)

    def _mutation_text(self, mutation: Mutation, target: int) -> str:
        graph, node = self.graph, mutation.node
        gate = self.label(node)
        code = mutation.code
        if mutation.detail and mutation.detail[0] == "every":
            gates = ", ".join(self.label(every) for every in mutation.detail[1])
            if code == "mul-not-swapped":
                return _("every mul gate on the way ({gates}) passed each input its own value; mul swaps them: "
                         "the local gradient for one input is the other input").format(gates=gates)
            rules = ", ".join(f"{self.rule(every, 0)} = {fmt(self.locals[every][0])}" for every in mutation.detail[1])
            return _("at every one of the gates {gates} the output was used as the local gradient; the rules are "
                     "{rules}").format(gates=gates, rules=rules)
        if code == "sign":
            (position,) = mutation.detail
            return _(
                "the minus sign of gate {gate}'s local gradient ({rule} = {local}) was dropped"
            ).format(
                gate=gate, rule=self.rule(node, position), local=fmt(self.locals[node][position])
            )
        if code == "missing-local":
            source, positions = mutation.detail
            locals_ = [self.locals[node][k] for k in positions]
            local = fmt(locals_[0]) if len(locals_) == 1 else f"{_sum_text(locals_)} = {fmt(sum(locals_))}"
            text = _(
                "gate {gate}'s local gradient for {input} ({rule} = {local}) was left out, as if it were 1: the "
                "chain rule multiplies the gradient arriving at the gate by it, {upstream} x {total} = {chained}"
            ).format(
                gate=gate,
                input=self.label(source),
                rule=self.rule(node, positions[0]),
                local=local,
                upstream=fmt(self.grads[node]),
                total=fmt(sum(locals_)),
                chained=fmt(self.grads[node] * sum(locals_)),
            )
            if source != target:
                text += _(", and that flows on down to {target}").format(target=self.label(target))
            return text
        if code == "missed-accumulation":
            into = self.rows_into(node)
            dropped = set(mutation.detail)
            counted = [path for path in range(len(into)) if path not in dropped]
            if len(counted) == 1:
                text = _("{node} feeds {paths} paths and only path {counted} was counted")
            elif len(counted) <= len(dropped):
                text = _("{node} feeds {paths} paths and only paths {counted} were counted")
            elif len(dropped) == 1:
                text = _("{node} feeds {paths} paths and path {dropped}, into gate {into}, was left out")
            else:
                text = _("{node} feeds {paths} paths and paths {dropped} were left out")
            text = text.format(
                node=gate,
                paths=len(into),
                counted=_some(str(path + 1) for path in counted),
                dropped=_some(str(path + 1) for path in sorted(dropped)),
                into=self.label(into[min(dropped)][1]),
            )
            text += _("; gradients from every path add up: {contributions} = {total}").format(
                contributions=_sum_text([self.chained(consumer, k) for _row, consumer, k in into]),
                total=fmt(self.grads[node]),
            )
            if node != target:
                text += _(", and that sum flows on down to {target}").format(target=self.label(target))
            return text
        if code == "mul-not-swapped":
            left, right = graph.args[node]
            return _(
                "mul gate {gate} passed each input its own value; it swaps: the local gradient for {a} is {b} = "
                "{b_value} and for {b} it is {a} = {a_value}"
            ).format(
                gate=gate,
                a=self.label(left),
                b=self.label(right),
                a_value=fmt(self.values[left]),
                b_value=fmt(self.values[right]),
            )
        if code == "output-as-local-grad" and mutation.detail:
            kind, _z = mutation.detail
            output = self.values[node]
            local = output * (1 - output) if kind == "sigmoid" else 1 - output * output
            return _(
                "the gates of {written} compute {gate}, whose output {output} was used as its local gradient; "
                "the rule is {rule} = {local}"
            ).format(
                written=gate,
                gate=self.gate_label(mutation),
                output=fmt(output),
                rule=f"{kind}: {_(GATES[kind].rule(0))}",
                local=fmt(local),
            )
        if code == "output-as-local-grad":
            return _(
                "gate {gate}'s output {output} was used as its local gradient; the rule is {rule} = {local}"
            ).format(gate=gate, output=fmt(self.values[node]), rule=self.rule(node, 0), local=fmt(self.locals[node][0]))
        # max-routing
        (position,) = mutation.detail
        name = graph.gates[node].name
        operands = graph.args[node]
        winners = [self.label(j) for j, local in zip(operands, self.locals[node]) if local != 0]
        correct = ", ".join(winners) or _("no input")
        if name == "relu":  # one input: the mistake is passing where it stops, or stopping where it passes
            operand = operands[0]
            if winners:
                message = _("gate {gate} stopped the gradient; relu passes it on while its input is positive "
                            "({input} = {value})")
            else:
                message = _("gate {gate} passed the gradient on; relu stops it while its input is not positive "
                            "({input} = {value})")
            return message.format(gate=gate, input=self.label(operand), value=fmt(self.values[operand]))
        if position >= 0 and len(winners) > 1:  # a tie: the whole gradient to one of the tied inputs
            return _(
                "gate {gate} sent all of the gradient to {wrong}; at a tie {name} splits it equally among {correct} "
                "(the convention here)"
            ).format(gate=gate, wrong=self.label(operands[position]), name=name, correct=correct)
        if position == -1:
            return _("gate {gate} split the gradient among its inputs; {name} sends all of it to {correct}").format(
                gate=gate, name=name, correct=correct
            )
        if position == -2:
            return _(
                "gate {gate} passed the whole gradient to every input, as add does; {name} sends all of it to {correct}"
            ).format(gate=gate, name=name, correct=correct)
        return _("gate {gate} sent the gradient to {wrong}; {name} sends it to {correct} ({rule})").format(
            gate=gate, wrong=self.label(operands[position]), name=name, correct=correct, rule=graph.gates[node].rule(0)
        )

    # ----------------------------------------------------------------- precedence

    def misread_by_every(self, claims: list[Claim]) -> None:
        """Gradient claims alone (no wrong value to show a misreading) that one other reading
        gives every one of, two or more: that reading is the mistake (x + y*z answered as
        (x+y)*z), and each claim is diagnosed as precedence first."""
        if len(claims) < 2 or any(claim.kind not in _GRADIENT_KINDS for claim in claims):
            return
        close = self.grader.close
        for index in range(len(self.question.readings)):
            if all(any(close(claim.value, found.value) for found in self.precedence(claim, index)) for claim in claims):
                self._misread = index
                return

    def precedence(self, claim: Claim, misread: int | None = None) -> Iterator[_Candidate]:
        """Values of the claim's quantity when the same tokens are grouped differently.

        Values are tried against every reading; gradients only against one reading: ``misread``,
        else the one that already explained a value of this entry (a misread expression
        misleads both).
        """
        backward = claim.kind in ("grad", "node-grad")
        misread = self._misread if misread is None else misread
        if backward and misread is None:
            return
        readings = self.question.readings
        for index in [misread] if backward else range(len(readings)):
            reading = readings[index]
            graph = reading.graph
            if claim.kind == "value":
                node = graph.output
            elif claim.kind == "grad":
                node = graph.inputs.get(claim.name)
            else:
                node = graph.names.get(claim.name)
            evaluated = self._evaluate(index, reading, backward) if node is not None else None
            if evaluated is None:
                continue
            values, grads = evaluated
            number = grads[node] if backward else values[node]
            explain = lambda reading=reading: self._precedence_text(reading)  # noqa: E731
            yield _Candidate("precedence", number, reading.group, explain, index)

    def _evaluate(self, index: int, reading: Reading, backward: bool) -> tuple[list, list | None] | None:
        cached = self._readings.get(index, False)
        if cached is False or (cached is not None and backward and cached[1] is None):
            try:
                values = reading.graph.forward(self.inputs)
                grads = None
                if backward:
                    grads = reading.graph.backward(reading.graph.local_gradients(values), 1.0)
                cached = (values, grads)
            except BackpropError:
                cached = None
            self._readings[index] = cached
        return cached

    def _precedence_text(self, reading: Reading) -> str:
        return _(
            "that is what {reading} gives (the same symbols grouped differently); as written, the expression reads {parsed}"
        ).format(reading=reading.text.strip(), parsed=self.question.parsed)


def regroupings(source: str) -> list[Reading]:
    """The same tokens with one pair of parentheses added or removed, each read as a program.

    Only readings that parse and mean something else are kept: removals first, then added
    pairs from the narrowest group to the widest.
    """
    try:
        tokens = [token for token in tokenize(source) if token[0] != "end"]
        original = echo(parse(source))
    except BackpropError:
        return []
    if len(tokens) > MAX_PRECEDENCE_TOKENS:
        return []
    found: list[Reading] = []
    seen = {original}

    def consider(text: str, group: str) -> None:
        try:
            graph = Graph(parse(text))
        except BackpropError:
            return
        parsed = echo(graph.program)
        if parsed not in seen:
            seen.add(parsed)
            found.append(Reading(text, parsed, group, graph))

    ends = [offset + len(text) for _kind, text, offset in tokens]
    for i, (_kind, text, offset) in enumerate(tokens):  # drop a pair of grouping parentheses
        if text != "(" or (i and tokens[i - 1][0] == "name"):
            continue
        depth = 0
        for j in range(i, len(tokens)):
            depth += {"(": 1, ")": -1}.get(tokens[j][1], 0)
            if depth == 0:
                inner = source[ends[i] : tokens[j][2]]
                consider(source[:offset] + inner + source[ends[j] :], "(" + inner.strip() + ")")
                break

    spans: list[tuple[int, int]] = []
    for i, (kind, text, _offset) in enumerate(tokens):  # add a pair around tokens i..j
        if kind not in ("num", "name") and text not in ("(", "-"):
            continue
        depth = 0
        for j in range(i, len(tokens)):
            kind_j, text_j = tokens[j][0], tokens[j][1]
            if text_j in (";", "\n", "=") or (text_j == "," and depth == 0):
                break
            depth += {"(": 1, ")": -1}.get(text_j, 0)
            if depth < 0:
                break
            is_call = kind_j == "name" and j + 1 < len(tokens) and tokens[j + 1][1] == "("
            closes = kind_j == "num" or text_j == ")" or (kind_j == "name" and not is_call)
            if depth == 0 and j > i and closes:
                spans.append((i, j))
    for i, j in sorted(spans, key=lambda span: (span[1] - span[0], span[0])):
        start, end = tokens[i][2], ends[j]
        group = "(" + source[start:end] + ")"
        consider(source[:start] + group + source[end:], group)
    return found
