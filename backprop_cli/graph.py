"""The computational graph and our own engine: forward pass, local gradients, backward pass.

Nodes live in flat parallel lists in topological order (every node after its inputs), so
the forward pass is one loop up the list and the backward pass one loop down it: no
recursion, no object or closure per node. A variable used several times is one node; its
gradient accumulates over every edge that leaves it, as the course notes teach (``+=``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from itertools import chain, compress, count

from .errors import BackpropError, DomainError, InputError, LimitError, locate, place, position_text
from .gates import CONST, GATES, INPUT, Gate
from .i18n import _
from .numeric import MAX_LITERAL_CHARS, ExactBudget, Number, fmt, literal
from .parse import Program, short_name

#: Longest sub-expression shown as a node label; longer ones get a short id like n12.
MAX_LABEL_CHARS = 28
_INF = float("inf")


def _overflow() -> str:
    return _("overflow: a value is too large for a float (exact values this large cannot go through log or exp)")


@dataclass(frozen=True)
class Step:
    """One edge of the backward pass: the gradient flowing from a gate into one input."""

    gate: int
    input: int
    position: int
    upstream: Number
    local: Number
    contribution: Number
    accumulated: Number
    #: 1-based index of this contribution among the paths leaving the input, and their count
    path: int
    paths: int


def _short(text: str) -> str:
    """A number for an error message: huge exact fractions are cut in the middle."""
    if len(text) <= 40:
        return text
    return _("{start}...{end} ({count:,} characters)").format(start=text[:15], end=text[-15:], count=len(text))


class Graph:
    """A computational graph built from a parsed program. Values are not part of it:
    the same graph can be evaluated at many points (finite differences, training)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        # the parser has built the nodes already: the graph adopts its lists
        self.gates: list[Gate] = program.gates
        self.args: list[tuple[int, ...]] = program.args
        self.offsets: list[int] = program.offsets
        #: per node: does it depend on some input? (the backward pass skips the rest)
        self.needs_grad: list[bool] = program.needs_grad
        self.literals: dict[int, str] = program.literals
        #: input name -> node, in order of first use
        self.inputs: dict[str, int] = program.inputs
        #: staged intermediate name -> node
        self.names: dict[str, int] = program.names
        name, self.output, _offset = program.statements[-1]
        if name is None:  # the output is called f, unless the expression uses f itself ("f*2")
            taken = set(self.inputs) | set(self.names)
            spares = chain(("f", "out", "output"), (f"f{number}" for number in count(1)))
            name = next(free for free in spares if free not in taken)
        self.output_name = name
        # how many edges leave each node
        fanout = [0] * len(self.gates)
        for j in chain.from_iterable(self.args):
            fanout[j] += 1
        self.fanout = fanout

    def __len__(self) -> int:
        return len(self.gates)

    @cached_property
    def labels(self) -> list[str]:
        """Per node: the variable, the literal, the staged name, or the sub-expression it
        computes (``(x + y)``); sub-expressions longer than MAX_LABEL_CHARS get ids like n12.

        Computed on first use: a summary of a huge graph never needs them.
        """
        labels: list = [None] * len(self.gates)
        self._compose_labels(range(len(self.gates)), labels)
        return labels

    def label(self, node: int) -> str:
        """One node's label, composing only the labels of its own sub-expression when the
        whole list is not known yet (a note about one relu of a 700,000-node graph)."""
        if "labels" in self.__dict__:
            return self.labels[node]
        below, stack = {node}, [node]
        while stack:
            for j in self.args[stack.pop()]:
                if j not in below:
                    below.add(j)
                    stack.append(j)
        labels: dict[int, str] = {}
        self._compose_labels(sorted(below), labels)
        return labels[node]

    @cached_property
    def _short_id(self) -> str:
        """How a long sub-expression is called: n12, or #12 when the expression has a name
        like n8 of its own (no name can start with #, which begins a comment)."""
        names = chain(self.inputs, self.names)
        return "#" if any(name[0] == "n" and name[1:].isdigit() for name in names) else "n"

    def _compose_labels(self, nodes, labels) -> None:
        """Write labels[index] for each index of nodes (ascending: operands before their gate)."""
        named = {node: name for name, node in self.names.items() if self.gates[node] is not INPUT}
        inputs = {node: name for name, node in self.inputs.items()}
        gates, args, literals, short_id = self.gates, self.args, self.literals, self._short_id
        for index in nodes:
            gate = gates[index]
            if index in named:
                label = named[index]
            elif gate is INPUT:
                label = inputs[index]
            elif gate is CONST:
                label = literals[index]
            else:
                operands = args[index]
                # the same spelling as the echo: operands of operators wrap a negation,
                # call arguments drop the outer parentheses of an operator
                if gate.symbol and len(operands) == 2:  # written with its operator: (a + b)
                    left, right = operands
                    left_label, right_label = labels[left], labels[right]
                    # an operand that is a negation written -x gets parentheses: (-x) ** 2
                    if left_label[0] == "-" and gates[left].name == "neg" and left not in named:
                        left_label = f"({left_label})"
                    if right_label[0] == "-" and gates[right].name == "neg" and right not in named:
                        right_label = f"({right_label})"
                    label = f"({left_label} {gate.symbol} {right_label})"
                elif gate.name == "neg":
                    operand = operands[0]
                    inner = labels[operand]
                    label = f"-({inner})" if gates[operand].name == "neg" and operand not in named else f"-{inner}"
                else:
                    label = f"{gate.name}({', '.join([self._bare(labels, j, named) for j in operands])})"
                if len(label) > MAX_LABEL_CHARS:
                    label = f"{short_id}{index}"
            labels[index] = label

    def _bare(self, labels, node: int, named: dict) -> str:
        label = labels[node]
        composed = node not in named and self.gates[node].symbol and len(self.args[node]) == 2
        return label[1:-1] if composed and label.startswith("(") else label

    # ------------------------------------------------------------------ forward

    def leaf_values(self, inputs: Mapping[str, Number], exact: bool = False) -> list:
        """The value list with inputs and constants filled in and the rest None."""
        values: list = [None] * len(self.gates)
        missing = [name for name in self.inputs if name not in inputs]
        if missing:
            raise self.missing_values(missing)
        for name, node in self.inputs.items():
            values[node] = inputs[name]
        for node, value in zip(self.literals, self._literal_values(exact)):
            values[node] = value
        return values

    def missing_values(self, missing: list[str], unused: list[str] = ()) -> InputError:
        """The error for inputs without a value; ``unused`` are names given a value that the
        expression does not use (a typo for a missing one, most likely)."""
        first = self.inputs[missing[0]]
        line, column, _line_text = locate(self.program.source, self.offsets[first])
        where = position_text(self.program.source, line, column)
        names = ", ".join(map(short_name, missing[:5]))
        if len(missing) > 5:
            names = _("{names} and {count} more").format(names=names, count=len(missing) - 5)
        if len(missing) == 1:
            message = _("missing value for {names} (first used at {where}); pass {name}=VALUE")
        else:
            message = _("missing values for {names} ({name} is first used at {where}); pass {name}=VALUE and the others")
        message = message.format(names=names, where=where, name=short_name(missing[0]))
        if unused:
            given = ", ".join(map(short_name, unused[:3]))
            message += _("; a value was given for {given}, which the expression does not use: a typo?").format(
                given=given
            )
        if "e" in missing:
            message += _("; e is a variable here: for Euler's number write exp(x), not e^x")
        return InputError(message)

    def ignored_values(self, values: Mapping[str, object]) -> list[str]:
        """Warnings for values given for names that are not inputs: a name the program
        computes ("q = x + y") or a name the expression does not use at all."""
        return [
            (
                _("{name!r} is computed by the program, so the value given for it is ignored")
                if name in self.names
                else _("value given for {name!r}, which the expression does not use")
            ).format(name=short_name(name))
            for name in values
            if name not in self.inputs
        ]

    def _literal_values(self, exact: bool) -> list[Number]:
        """The value of every number written in the expression (in the order of
        self.literals), converted once per mode: finite differences and training loops
        evaluate the same graph many times."""
        cache = self.__dict__.setdefault("_literal_cache", {})
        texts = self.literals.values()
        if exact not in cache and not exact and max(map(len, texts), default=0) <= MAX_LITERAL_CHARS:
            converted = list(map(float, texts))  # floats: the common case, converted in C
            if 0.0 not in converted and _INF not in converted:  # (an underflow or inf: one by one below)
                cache[exact] = converted
        if exact not in cache:
            converted = []
            for node, text in self.literals.items():
                try:
                    converted.append(literal(text, exact))
                except LimitError as error:  # point at the number: 1e999, or 1e-400 without --exact
                    located, detail = place(error.message, self.program.source, self.offsets[node])
                    raise LimitError(located, detail=detail) from None
            cache[exact] = converted
        return cache[exact]

    def forward(self, inputs: Mapping[str, Number], exact: bool = False) -> list:
        """Evaluate every node; returns the list of values in node order."""
        values = self.leaf_values(inputs, exact)
        gates, args = self.gates, self.args
        budget = ExactBudget()
        i = 0
        try:
            for i, operands in enumerate(args):
                if not operands:
                    continue
                forward = gates[i].forward
                if len(operands) == 2:
                    value = forward(values[operands[0]], values[operands[1]])
                elif len(operands) == 1:
                    value = forward(values[operands[0]])
                else:
                    value = forward(*[values[j] for j in operands])
                if not -_INF < value < _INF:
                    raise DomainError(_("overflow: the result is too large for a float"))
                if exact:
                    budget.spend(value)
                values[i] = value
        except BackpropError as error:
            raise type(error)(self._context(i, values, error.message)) from None
        except OverflowError:
            raise DomainError(self._context(i, values, _overflow())) from None
        except (ArithmeticError, ValueError) as error:
            raise DomainError(self._context(i, values, f"{error}")) from None
        return values

    def _context(self, node: int, values: list, message: str) -> str:
        shown = ", ".join(
            self.label(j) if self.gates[j] is CONST else f"{self.label(j)} = {_short(fmt(values[j]))}"
            for j in self.args[node][:4]
        )
        return _("{gate} at node {label!r}: {message} (inputs: {inputs})").format(
            gate=self.gates[node].name, label=self.label(node), message=message, inputs=shown
        )

    # ----------------------------------------------------------------- backward

    def local_gradients(self, values: list) -> list[tuple]:
        """Each gate's local gradients d node / d input, from the cached forward values."""
        locals_: list[tuple] = [()] * len(self.gates)
        gates, args, needs_grad = self.gates, self.args, self.needs_grad
        i = 0
        try:
            for i, operands in enumerate(args):
                if not operands or not needs_grad[i]:
                    continue  # leaves and constant subtrees pass no gradient on
                if len(operands) == 2:
                    inputs = (values[operands[0]], values[operands[1]])
                elif len(operands) == 1:
                    inputs = (values[operands[0]],)
                else:
                    inputs = tuple([values[j] for j in operands])
                local = gates[i].local_grads(inputs, values[i])
                for k, j in enumerate(operands):
                    if not -_INF < local[k] < _INF and needs_grad[j]:
                        if local[k] != local[k]:  # nan
                            message = _("the local gradient for its input {number}, {name} ({rule}), is undefined here")
                        else:
                            message = _("the local gradient for its input {number}, {name} ({rule}), is too large "
                                        "for a float here (overflow)")
                        raise DomainError(
                            message.format(number=k + 1, name=self.label(j), rule=_(gates[i].rule(k)))
                        )
                locals_[i] = local
        except BackpropError as error:
            raise DomainError(self._context(i, values, error.message)) from None
        except OverflowError:
            message = _("local gradient: {error}").format(error=_overflow())
            raise DomainError(self._context(i, values, message)) from None
        except (ArithmeticError, ValueError) as error:
            message = _("local gradient: {error}").format(error=error)
            raise DomainError(self._context(i, values, message)) from None
        return locals_

    def backward(self, locals_: list[tuple], seed: Number = 1.0) -> list:
        """Chain rule from the output down: grad[input] += upstream * local, per edge."""
        grads: list = [0 * seed] * len(self.gates)
        grads[self.output] = seed
        args, needs_grad = self.args, self.needs_grad
        exact = isinstance(seed, Fraction)
        budget = ExactBudget()  # exact gradients can grow step by step, as values can
        for i in range(self.output, -1, -1):
            upstream = grads[i]
            if upstream == 0 or not args[i]:
                continue
            for j, local in zip(args[i], locals_[i]):
                if needs_grad[j]:
                    grads[j] = grads[j] + upstream * local
                    if exact:
                        budget.spend(grads[j])
        for name, node in self.inputs.items():
            if not -_INF < grads[node] < _INF:
                raise DomainError(
                    _("overflow: the gradient for {name!r} is too large for a float").format(name=short_name(name))
                )
        return grads

    def steps(self, locals_: list[tuple], grads: list) -> Iterator[Step]:
        """The backward pass again, edge by edge, with the running sums it accumulates."""
        for row in self.step_rows(locals_, grads):
            yield Step(*row)

    def step_rows(self, locals_: list[tuple], grads: list) -> Iterator[tuple]:
        """steps() as plain tuples in Step's field order (cheaper for 100,000s of edges)."""
        running: list = [0 * grads[self.output]] * len(self.gates)
        running[self.output] = grads[self.output]
        seen = [0] * len(self.gates)
        args, needs_grad, fanout = self.args, self.needs_grad, self.fanout
        for i in range(self.output, -1, -1):
            if not args[i] or not needs_grad[i]:
                continue
            upstream = grads[i]
            for position, (j, local) in enumerate(zip(args[i], locals_[i])):
                if not needs_grad[j]:
                    continue
                contribution = upstream * local
                running[j] = running[j] + contribution
                seen[j] += 1
                yield i, j, position, upstream, local, contribution, running[j], seen[j], fanout[j]

    # ------------------------------------------------------------------- helpers

    def kinks(self, values: list) -> list[str]:
        """Notes for gates evaluated where they are not differentiable."""
        notes = []
        gates, args = self.gates, self.args
        # only the nodes of a gate with a kink (relu, abs, max, min) that need a gradient,
        # picked out in C (by identity: a Gate's own hash is slow): most nodes are + and *
        kinked = {id(gate) for gate in GATES.values() if gate.kink is not None}
        candidates = list(compress(range(len(gates)), map(kinked.__contains__, map(id, gates))))
        for i in compress(candidates, map(self.needs_grad.__getitem__, candidates)):
            gate, operands = gates[i], args[i]
            inputs = (values[operands[0]],) if len(operands) == 1 else tuple([values[j] for j in operands])
            if gate.kink(inputs):
                notes.append(f"{self.label(i)}: {_(gate.convention)}")
        return notes

    def step_count(self) -> int:
        """How many steps steps() yields (edges between nodes that need gradients)."""
        needs_grad = self.needs_grad
        return sum(
            sum(1 for j in operands if needs_grad[j])
            for i, operands in enumerate(self.args)
            if operands and needs_grad[i] and i <= self.output
        )

    def depth(self) -> int:
        """Length of the longest path from a leaf to the output."""
        depth = [0] * len(self.gates)
        for i, operands in enumerate(self.args):
            if operands:
                depth[i] = 1 + max(depth[j] for j in operands)
        return max(depth, default=0)

