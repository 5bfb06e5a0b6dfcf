"""Plain records that every renderer consumes; the JSON document is derived from them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .graph import Graph, Step
from .numeric import Number, exact_text, json_number
from .parse import echo

#: Version of the JSON document; bumped only for incompatible changes.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class NodeRecord:
    id: int
    label: str
    gate: str
    inputs: tuple[int, ...]
    value: Number
    grad: Number


@dataclass(frozen=True)
class CheckItem:
    """One input's gradient compared with an independent reference."""

    name: str
    engine: Number
    reference: float
    ok: bool
    #: SymPy's derivative as text (None for the finite-difference check)
    symbolic: str | None = None
    note: str = ""


@dataclass
class Check:
    #: "sympy" or "finite-difference"
    method: str
    ok: bool
    items: list[CheckItem] = field(default_factory=list)
    note: str = ""
    #: True when no comparison could be made (the function is undefined next to the point)
    skipped: bool = False


@dataclass
class Result:
    """Everything `backprop grad` computes for one expression at one point."""

    expression: str
    graph: Graph
    inputs: dict[str, Number]
    values: list
    locals: list[tuple]
    grads: list
    exact: bool = False
    check: Check | None = None
    #: what the reader should know (conventions at kinks, '^' read as power, float fallbacks)
    notes: list[str] = field(default_factory=list)
    #: harmless problems with the input (unused values)
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def parsed(self) -> str:
        """The expression fully parenthesised (made on first use: a library caller
        differentiating in a loop never needs it)."""
        return echo(self.graph.program)

    @property
    def output(self) -> str:
        return self.graph.output_name

    @property
    def value(self) -> Number:
        return self.values[self.graph.output]

    @property
    def gradients(self) -> dict[str, Number]:
        return {name: self.grads[node] for name, node in self.graph.inputs.items()}

    def nodes(self) -> Iterator[NodeRecord]:
        g = self.graph
        for i in range(len(g)):
            yield NodeRecord(i, g.labels[i], g.gates[i].name, g.args[i], self.values[i], self.grads[i])

    def steps(self) -> Iterator[Step]:
        return self.graph.steps(self.locals, self.grads)

    def rule(self, step: Step) -> str:
        """The local-gradient rule of a backward step, e.g. ``mul: other input``."""
        return self.rule_text(step.gate, step.position)

    def rule_text(self, node: int, position: int) -> str:
        """The local-gradient rule of gate ``node`` for its input number ``position``."""
        gate = self.graph.gates[node]
        return f"{gate.name}: {gate.rule(position)}"

    # ------------------------------------------------------------------ JSON

    def number(self, record: dict[str, Any], key: str, value: Number) -> None:
        """Put a number in a JSON record, with its exact form beside it in exact mode."""
        record[key] = json_number(value)
        if self.exact:
            record[f"{key}_exact"] = exact_text(value)

    def numbers(self, record: dict[str, Any], key: str, mapping: dict[str, Number]) -> None:
        record[key] = {name: json_number(v) for name, v in mapping.items()}
        if self.exact:
            record[f"{key}_exact"] = {name: exact_text(v) for name, v in mapping.items()}

    def header_dict(self) -> dict[str, Any]:
        """Everything but the per-node and per-step lists."""
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "expression": self.expression,
            "parsed": self.parsed,
            "exact": self.exact,
        }
        self.numbers(doc, "inputs", self.inputs)
        doc["output"] = self.output
        self.number(doc, "value", self.value)
        self.numbers(doc, "gradients", self.gradients)
        doc["check"] = self.check_dict()
        doc["notes"] = list(self.notes)
        doc["warnings"] = list(self.warnings)
        return doc

    def check_dict(self) -> dict[str, Any] | None:
        if self.check is None:
            return None
        return {
            "method": self.check.method,
            "ok": self.check.ok,
            "skipped": self.check.skipped,
            "note": self.check.note,
            "derivatives": {
                item.name: {
                    "symbolic": item.symbolic,
                    "value": item.reference,
                    "engine": json_number(item.engine),
                    "ok": item.ok,
                    "note": item.note,
                }
                for item in self.check.items
            },
        }

    def node_dict(self, node: NodeRecord) -> dict[str, Any]:
        record: dict[str, Any] = {"id": node.id, "label": node.label, "gate": node.gate, "inputs": list(node.inputs)}
        self.number(record, "value", node.value)
        self.number(record, "grad", node.grad)
        return record

    def step_dict(self, step: Step) -> dict[str, Any]:
        record: dict[str, Any] = {"gate": step.gate, "input": step.input, "rule": self.rule(step)}
        for key in ("upstream", "local", "contribution", "accumulated"):
            self.number(record, key, getattr(step, key))
        record["path"] = step.path
        record["paths"] = step.paths
        return record

    def to_dict(self, steps: bool = True) -> dict[str, Any]:
        """The `--json` document (without `nodes` and `backward` when steps is False)."""
        doc = self.header_dict()
        if steps:
            doc["nodes"] = [self.node_dict(n) for n in self.nodes()]
            doc["backward"] = [self.step_dict(s) for s in self.steps()]
        return doc
