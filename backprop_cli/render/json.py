"""The `--json` document, written as a stream so that 400,000-node graphs need no giant string."""

from __future__ import annotations

import json
from typing import TextIO

from ..result import Result


def write_json(result: Result, stream: TextIO, *, steps: bool = True, wrt: list[str] | None = None) -> None:
    """Write result.to_dict(steps) to stream, one node and one step at a time."""
    header = result.header_dict()
    if wrt:
        header["gradients"] = {name: _grad(result, name) for name in wrt}
        header.pop("gradients_exact", None)
    dump = lambda value: json.dumps(value, allow_nan=False, ensure_ascii=False)  # noqa: E731
    stream.write("{")
    stream.write(", ".join(f"{dump(key)}: {dump(value)}" for key, value in header.items()))
    if steps:
        _write_list(stream, "nodes", (dump(result.node_dict(n)) for n in result.nodes()))
        _write_list(stream, "backward", (dump(result.step_dict(s)) for s in result.steps()))
    stream.write("}\n")


def _grad(result: Result, name: str) -> float:
    graph = result.graph
    return float(result.grads[graph.inputs.get(name, graph.names.get(name))])


def _write_list(stream: TextIO, key: str, items) -> None:
    stream.write(f', "{key}": [')
    first = True
    for item in items:
        if not first:
            stream.write(",\n ")
        stream.write(item)
        first = False
    stream.write("]")
