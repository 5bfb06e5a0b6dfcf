"""The forward and backward pass told in words, as a teaching assistant writes a worked solution.

``explain(result)`` returns the narration as numbered sentences (plain data: the quiz takes its
hints from here and the tests read the numbers in them); ``render_explanation`` prints them.
Every number in a sentence comes from the Result: the engine computes, this module only words
it. The gate's rule and its one-line intuition come from the gate registry (gates.py), so a new
gate is narrated without touching this file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby, islice

from .gates import CONST, INPUT
from .i18n import _
from .numeric import Number, fmt
from .result import Result

#: Sentences printed by `backprop grad --explain`; a graph larger than this is cut short
#: (the tables above still hold every step).
MAX_SENTENCES = 400


@dataclass(frozen=True)
class Sentence:
    """One numbered sentence of the narration."""

    number: int
    #: "forward", "backward" or "result"
    part: str
    text: str
    #: the node the sentence is about: the node computed (forward) or the gate (backward)
    node: int | None = None


class _Words:
    """Shared formatting for one Result: numbers, derivative names, gate rules."""

    def __init__(self, result: Result, digits: int) -> None:
        self.result = result
        self.graph = result.graph
        self.digits = digits

    def num(self, value: Number) -> str:
        return fmt(value, self.digits)

    def operand(self, value: Number, first: bool = False) -> str:
        """A number inside a formula: fractions in parentheses, negatives too unless they come first."""
        text = self.num(value)
        return f"({text})" if "/" in text or (text.startswith("-") and not first) else text

    def d(self, node: int) -> str:
        """The derivative's name: df/dx, df/d(x + y), df/d[sigmoid(n8)]."""
        out = self.result.output
        if node == self.graph.output:
            return f"d{out}/d{out}"
        label = self.graph.labels[node]
        if label.isidentifier() or label.startswith("("):
            return f"d{out}/d{label}"
        return f"d{out}/d[{label}]"

    def formula(self, node: int) -> str:
        """The node's gate applied to the labels of its inputs: ``x + y``, ``sigmoid(z)``."""
        graph = self.graph
        gate = graph.gates[node]
        names = [graph.labels[j] for j in graph.args[node]]
        if gate.name == "neg":
            return f"-{names[0]}"
        if gate.symbol and len(names) == 2:
            return f"{names[0]} {gate.symbol} {names[1]}"
        return f"{gate.name}({', '.join(names)})"

    def computation(self, node: int) -> str:
        """The same with the numbers of the forward pass: ``-2 + 5``, ``3 × (-4)``."""
        graph, values = self.graph, self.result.values
        gate = graph.gates[node]
        operands = graph.args[node]
        if gate.name == "neg":
            return f"-{self.operand(values[operands[0]])}"
        if gate.symbol and len(operands) == 2:
            symbol = "×" if gate.name == "mul" else gate.symbol
            left = self.operand(values[operands[0]], first=gate.name != "pow")
            return f"{left} {symbol} {self.operand(values[operands[1]])}"
        text = f"{gate.name}({', '.join(self.num(values[j]) for j in operands)})"
        if gate.name == "sigmoid":
            text += f" = 1/(1 + exp({self.num(-values[operands[0]])}))"
        return text

    def equation(self, node: int) -> str:
        """``q = x + y = -2 + 5 = 3`` (the symbolic form only when the label does not show it)."""
        label = self.graph.labels[node]
        formula = self.formula(node)
        pieces = [label]
        if label not in (formula, f"({formula})"):
            pieces.append(formula)
        pieces += [self.computation(node), self.num(self.result.values[node])]
        return " = ".join(_dedupe(pieces))

    def rule(self, gate_node: int, position: int) -> str:
        """The gate's rule for one input, translated: ``other input``, ``s*(1-s)``."""
        return _(self.graph.gates[gate_node].rule(position))

    def local(self, gate_node: int, position: int) -> str:
        """The local gradient with its rule and numbers: ``s*(1-s) = 0.7311 × (1 - 0.7311) = 0.1966``."""
        graph, values = self.graph, self.result.values
        operands = graph.args[gate_node]
        a = [self.operand(values[j]) for j in operands]
        out = self.operand(values[gate_node])
        substitute = _SUBSTITUTIONS.get(graph.gates[gate_node].name)
        middle = substitute(self, operands, a, out, position) if substitute else ""
        local = self.num(self.result.locals[gate_node][position])
        return " = ".join(_dedupe([self.rule(gate_node, position), middle, local]))


def _dedupe(pieces: list[str]) -> list[str]:
    """Drop empty pieces and a piece equal to the one before it (``1 = 1``)."""
    kept: list[str] = []
    for piece in pieces:
        if piece and (not kept or kept[-1] != piece):
            kept.append(piece)
    return kept


def _power(words: _Words, operands: tuple, a: list[str], out: str, position: int) -> str:
    if position == 0:
        exponent = words.result.values[operands[1]]
        return f"{a[1]} × {a[0]}^{words.operand(exponent - 1)}"
    return f"{out} × log({a[0]})"


#: How the numbers go into each gate's rule (a gate missing here shows its rule and value only).
_SUBSTITUTIONS: dict[str, Callable[[_Words, tuple, list, str, int], str]] = {
    "mul": lambda w, ops, a, out, k: w.graph.labels[ops[1 - k]],
    "div": lambda w, ops, a, out, k: f"1/{a[1]}" if k == 0 else f"-{a[0]}/{a[1]}^2",
    "pow": _power,
    "exp": lambda w, ops, a, out, k: out,
    "log": lambda w, ops, a, out, k: f"1/{a[0]}",
    "sqrt": lambda w, ops, a, out, k: f"1/(2 × {out})",
    "sigmoid": lambda w, ops, a, out, k: f"{out} × (1 - {out})",
    "tanh": lambda w, ops, a, out, k: f"1 - {out}^2",
    "abs": lambda w, ops, a, out, k: f"sign({w.num(w.result.values[ops[0]])})",
    "sin": lambda w, ops, a, out, k: f"cos({w.num(w.result.values[ops[0]])})",
    "cos": lambda w, ops, a, out, k: f"-sin({w.num(w.result.values[ops[0]])})",
}


def narrate(result: Result, digits: int = 6) -> Iterator[Sentence]:
    """The narration, sentence by sentence (lazily: a huge graph can be cut short)."""
    words = _Words(result, digits)
    graph = result.graph
    number = 0

    def sentence(part: str, text: str, node: int | None = None) -> Sentence:
        nonlocal number
        number += 1
        return Sentence(number, part, text, node)

    inputs = ", ".join(f"{name} = {words.num(result.values[node])}" for name, node in graph.inputs.items())
    if inputs:
        yield sentence("forward", _("The inputs are {values}.").format(values=inputs))
    for name, node in graph.inputs.items():
        if graph.fanout[node] > 1:
            yield sentence("forward", _fan_out_text(name, graph.fanout[node]), node)
    for node, gate in enumerate(graph.gates):
        if gate in (INPUT, CONST):
            continue
        text = _("The {gate} gate computes {equation}.").format(gate=gate.name, equation=words.equation(node))
        if node == graph.output:
            text = _join(
                text, _("This is the output: {out} = {value}.").format(out=result.output, value=words.num(result.value))
            )
        elif graph.fanout[node] > 1 and graph.needs_grad[node]:
            text = _join(text, _fan_out_text(graph.labels[node], graph.fanout[node]))
        yield sentence("forward", text, node)

    yield sentence(
        "backward",
        _("The backward pass starts at the output with {seed} = 1: the output's gradient with respect to itself.").format(
            seed=words.d(graph.output)
        ),
        graph.output,
    )
    contributions: dict[int, list[Number]] = {}
    for gate_node, grouped in groupby(result.steps(), key=lambda step: step.gate):
        gate_steps = list(grouped)
        gate = graph.gates[gate_node]
        upstream = gate_steps[0].upstream
        parts = [
            _("The {gate} gate {node} receives the gradient {d} = {upstream} from above. Why: {intuition}.").format(
                node=graph.labels[gate_node],
                gate=gate.name,
                d=words.d(gate_node),
                upstream=words.num(upstream),
                intuition=_(gate.intuition),
            )
        ]
        for step in gate_steps:
            contributions.setdefault(step.input, []).append(step.contribution)
            input_label = graph.labels[step.input]
            if sum(1 for other in gate_steps if other.input == step.input) > 1:
                input_label = _("{input} (input {position})").format(input=input_label, position=step.position + 1)
            chained = _(
                "For {input} the local gradient is {local}; by the chain rule, "
                "upstream × local = {upstream} × {local_value} = {chained}."
            ).format(
                input=input_label,
                local=words.local(gate_node, step.position),
                upstream=words.operand(step.upstream, first=True),
                local_value=words.operand(step.local),
                chained=words.num(step.contribution),
            )
            if step.paths == 1:
                chained = _join(
                    chained, _("So {d} = {value}.").format(d=words.d(step.input), value=words.num(step.accumulated))
                )
            elif step.path < step.paths:
                running = _(
                    "{input} is used {paths} times: this is contribution {path} of {paths} (running total {total})."
                ).format(input=graph.labels[step.input], paths=step.paths, path=step.path, total=words.num(step.accumulated))
                chained = _join(chained, running)
            else:
                terms = " + ".join(words.operand(value) for value in contributions[step.input])
                total = _(
                    "That was the last of the {paths} contributions to {input}; "
                    "they add up: {terms} = {total}, so {d} = {total}."
                ).format(
                    paths=step.paths,
                    input=graph.labels[step.input],
                    terms=terms,
                    total=words.num(step.accumulated),
                    d=words.d(step.input),
                )
                chained = _join(chained, total)
            parts.append(chained)
        if gate.kink and gate.kink(tuple(result.values[j] for j in graph.args[gate_node])):
            parts.append(
                _("Here the gate has no derivative; by convention, {convention}.").format(convention=_(gate.convention))
            )
        yield sentence("backward", _join(*parts), gate_node)

    out = result.output
    gradients = ", ".join(f"d{out}/d{name} = {words.num(result.grads[node])}" for name, node in graph.inputs.items())
    summary = _("Result: {out} = {value}.").format(out=result.output, value=words.num(result.value))
    if gradients:
        summary = _join(summary, _("Gradients: {gradients}.").format(gradients=gradients))
    yield sentence("result", summary)


def _fan_out_text(name: str, count: int) -> str:
    return _("{node} is used {count} times, so in the backward pass its gradient adds up {count} contributions.").format(
        node=name, count=count
    )


def explain(result: Result, digits: int = 6) -> list[Sentence]:
    """The whole narration of the forward and backward pass as numbered sentences.

    >>> from backprop_cli import grad
    >>> explain(grad("(x+y)*z", {"x": -2, "y": 5, "z": -4}))[1].text
    'The add gate computes (x + y) = -2 + 5 = 3.'
    """
    return list(narrate(result, digits))


def derivative_name(result: Result, node: int) -> str:
    """The name of the output's derivative with respect to a node: ``df/dx``, ``df/d(x + y)``."""
    return _Words(result, 6).d(node)


def forward_hint(result: Result, node: int, digits: int = 6) -> str:
    """What to compute for a node's forward value, without the answer."""
    words = _Words(result, digits)
    graph = result.graph
    inputs = ", ".join(f"{graph.labels[j]} = {words.num(result.values[j])}" for j in graph.args[node])
    return _("The {gate} gate {node} computes {formula}: use {inputs}.").format(
        node=graph.labels[node], gate=graph.gates[node].name, formula=words.formula(node), inputs=inputs
    )


def backward_hint(result: Result, node: int, digits: int = 6) -> str:
    """Where a node's gradient comes from (gates, rules, upstream gradients), without the answer."""
    words = _Words(result, digits)
    graph = result.graph
    into = [step for step in result.steps() if step.input == node]
    pieces = [
        _("gate {gate} ({rule}; {intuition}) with upstream gradient {upstream}").format(
            gate=graph.labels[step.gate],
            rule=f"{graph.gates[step.gate].name}: {words.rule(step.gate, step.position)}",
            intuition=_(graph.gates[step.gate].intuition),
            upstream=words.num(step.upstream),
        )
        for step in into
    ]
    text = _("The gradient of {node} comes from {sources}. Multiply the upstream gradient by the local gradient.").format(
        node=graph.labels[node], sources="; ".join(pieces)
    )
    if len(into) > 1:
        text = _join(
            text, _("{node} is used {count} times: add the contributions.").format(node=graph.labels[node], count=len(into))
        )
    return text


#: Sentence ends after which no space follows (Chinese and Japanese full-width punctuation).
_FULL_WIDTH_ENDS = ("。", "；", "：", "！", "？", "）")


def _join(*sentences: str) -> str:
    """Sentences one after the other: a space between them, none after full-width punctuation."""
    text = sentences[0]
    for sentence in sentences[1:]:
        text += sentence if text.endswith(_FULL_WIDTH_ENDS) else " " + sentence
    return text


def part_title(part: str) -> str:
    """The heading of a part of the narration, translated."""
    return {"forward": _("Forward pass"), "backward": _("Backward pass"), "result": _("Result")}[part]


def render_explanation(result: Result, console, *, digits: int = 6, limit: int = MAX_SENTENCES) -> None:
    """Print the narration under a heading, one numbered sentence per row."""
    from .render.tutor import render_sentences

    sentences = list(islice(narrate(result, digits), limit + 1))
    render_sentences(console, sentences[:limit], title=_("Explanation"), cut=len(sentences) > limit, limit=limit)
