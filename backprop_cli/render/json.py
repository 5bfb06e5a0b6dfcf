"""The `--json` document, written as a stream so that 400,000-node graphs need no giant string.

The document is exactly ``json.dumps(result.to_dict(steps))`` (the test suite checks it),
but a node or a step is formatted straight from the graph's lists with one template instead
of building a dict and a record object per row: a 100,000-term sum has 1.5 million rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TextIO

from ..errors import LimitError
from ..numeric import to_float
from ..result import Result

_quote = json.encoder.encode_basestring  # a str as a JSON string (ensure_ascii=False)

#: Rows formatted per write.
_CHUNK = 4096

def write_json(result: Result, stream: TextIO, *, steps: bool = True, wrt: list[str] | None = None) -> None:
    """Write result.to_dict(steps) to stream, one chunk of nodes and steps at a time.

    Raises LimitError before writing anything when an exact value is beyond the range of
    a float, which a JSON number cannot carry.
    """
    if result.exact:
        _check_float_range(result, steps)
    header = result.header_dict()
    if wrt:
        header["gradients"] = {name: _grad(result, name) for name in wrt}
        header.pop("gradients_exact", None)
    stream.write("{")
    stream.write(", ".join(f"{_dump(key)}: {_dump(value)}" for key, value in header.items()))
    if steps:
        _write_list(stream, "nodes", _node_lines(result))
        _write_list(stream, "backward", _step_lines(result))
    stream.write("}\n")


def _dump(value) -> str:
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def _node_lines(result: Result) -> Iterator[str]:
    graph = result.graph
    if result.exact:  # every number has an _exact sibling: the general (slower) path
        yield from (_dump(result.node_dict(node)) for node in result.nodes())
        return
    # not exact: values are floats, local gradients floats, ints or 1/2 (float() is exact)
    # the numbers are formatted a whole list at a time (map runs in C)
    value_texts = map(repr, map(float, result.values))
    grad_texts = map(repr, map(float, result.grads))
    for node, (label, gate, operands, value, grad) in enumerate(
        zip(map(_quote, graph.labels), graph.gates, graph.args, value_texts, grad_texts)
    ):
        if len(operands) == 2:
            inputs = f"[{operands[0]}, {operands[1]}]"
        else:
            inputs = "[]" if not operands else repr(list(operands))
        yield (
            f'{{"id": {node}, "label": {label}, "gate": "{gate.name}", "inputs": {inputs}, '
            f'"value": {value}, "grad": {grad}}}'
        )


def _step_lines(result: Result) -> Iterator[str]:
    if result.exact:
        yield from (_dump(result.step_dict(step)) for step in result.steps())
        return
    # Graph.step_rows written out for floats: a 100,000-term sum has 700,000 steps, and
    # writing a float costs more than anything else here, so no float is written twice: a
    # gate's edges share its upstream gradient, and an input's first path's running sum is
    # the contribution itself (unless that is -0.0, which 0.0 + -0.0 turns into 0.0)
    graph = result.graph
    gates, args, needs_grad, fanout = graph.gates, graph.args, graph.needs_grad, graph.fanout
    grads, locals_ = result.grads, result.locals
    running = [0.0] * len(gates)
    running[graph.output] = float(grads[graph.output])
    seen = [0] * len(gates)
    rules: dict[tuple, str] = {}  # (gate name, position) -> the rule as a JSON string
    for i in range(graph.output, -1, -1):
        operands = args[i]
        if not operands or not needs_grad[i]:
            continue
        upstream = float(grads[i])
        head = f'{{"gate": {i}, "input": '
        tail = f', "upstream": {upstream!r}, "local": '
        name = gates[i].name
        for position, (j, local) in enumerate(zip(operands, locals_[i])):
            if not needs_grad[j]:
                continue
            rule = rules.get((name, position))
            if rule is None:
                rule = rules[name, position] = _quote(result.rule_text(i, position))
            local = float(local)
            contribution = upstream * local
            contribution_text = repr(contribution)
            path = seen[j] = seen[j] + 1
            if path == 1 and contribution:
                running[j] = contribution
                accumulated_text = contribution_text
            else:
                running[j] = accumulated = running[j] + contribution
                accumulated_text = repr(accumulated)
            yield (
                f'{head}{j}, "rule": {rule}{tail}{local!r}, "contribution": {contribution_text}, '
                f'"accumulated": {accumulated_text}, "path": {path}, "paths": {fanout[j]}}}'
            )


def _grad(result: Result, name: str) -> float:
    graph = result.graph
    return float(result.grads[graph.inputs.get(name, graph.names.get(name))])


def _write_list(stream: TextIO, key: str, lines: Iterable[str]) -> None:
    stream.write(f', "{key}": [')
    lines = iter(lines)
    chunk = list(islice(lines, _CHUNK))
    separator = ""
    while chunk:
        stream.write(separator)
        stream.write(",\n ".join(chunk))
        separator = ",\n "
        chunk = list(islice(lines, _CHUNK))
    stream.write("]")


def _check_float_range(result: Result, steps: bool) -> None:
    """Exact values can be larger than any float; JSON numbers here are floats."""
    numbers: list[Iterable] = [result.values, result.grads]
    if steps:
        numbers.append(number for row in result.graph.step_rows(result.locals, result.grads) for number in row[3:7])
    for group in numbers:
        for value in group:
            if abs(to_float(value)) == float("inf"):
                shown = str(value)
                if len(shown) > 40:
                    shown = f"{shown[:20]}...{shown[-10:]} ({len(shown):,} characters)"
                raise LimitError(
                    f"exact value {shown} is beyond the range of a float, so --json cannot write it as a "
                    "number; drop --json to see it exactly, or drop --exact"
                )
