"""The `--json` document, written as a stream so that 400,000-node graphs need no giant string.

The document is exactly ``json.dumps(result.to_dict(steps))`` (the test suite checks it),
but a node or a step is formatted straight from the graph's lists with one template instead
of building a dict and a record object per row: a 100,000-term sum has 1.5 million rows.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import TextIO

from ..errors import LimitError
from ..numeric import exact_text, to_float
from ..result import Result

_quote = json.encoder.encode_basestring  # a str as a JSON string (ensure_ascii=False)

#: Rows formatted per write.
_CHUNK = 4096
#: Nodes from which a second process formats the backward steps while this one writes the nodes.
PARALLEL_NODES = 100_000

def write_json(result: Result, stream: TextIO, *, steps: bool = True, wrt: list[str] | None = None) -> None:
    """Write result.to_dict(steps) to stream, one chunk of nodes and steps at a time.

    Raises LimitError before writing anything when an exact value is beyond the range of
    a float, which a JSON number cannot carry.
    """
    if result.exact:
        _check_float_range(result, steps)
    # every gradient as text once: the nodes and the backward steps (as upstream) share it
    grad_texts = list(map(repr, map(float, result.grads))) if steps and not result.exact else []
    backward = _step_lines(result, grad_texts)
    # a big graph's steps are formatted by a second process from the start, while this one
    # writes the header (with the echo) and the nodes (with their labels)
    with _formatted_aside("backward", backward, steps and _parallel(result)) as copy_into:
        header = result.header_dict()
        if wrt:
            header["gradients"] = {name: float(_grad(result, name)) for name in wrt}
            if result.exact:
                header["gradients_exact"] = {name: exact_text(_grad(result, name)) for name in wrt}
        stream.write("{")
        stream.write(", ".join(f"{_dump(key)}: {_dump(value)}" for key, value in header.items()))
        if steps:
            _write_list(stream, "nodes", _node_lines(result, grad_texts))
            if not copy_into(stream):  # not formatted aside, or the child process failed
                _write_list(stream, "backward", backward)
    stream.write("}\n")


def _dump(value) -> str:
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def _node_lines(result: Result, grad_texts: list[str]) -> Iterator[str]:
    graph = result.graph
    if result.exact:  # every number has an _exact sibling: the general (slower) path
        yield from (_dump(result.node_dict(node)) for node in result.nodes())
        return
    # not exact: values are floats, local gradients floats, ints or 1/2 (float() is exact)
    # the numbers are formatted a whole list at a time (map runs in C)
    value_texts = map(repr, map(float, result.values))
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


def _step_lines(result: Result, grad_texts: list[str]) -> Iterator[str]:
    if result.exact:
        yield from (_dump(result.step_dict(step)) for step in result.steps())
        return
    # Graph.step_rows written out for floats: a 100,000-term sum has 700,000 steps, and
    # writing a float costs more than anything else here, so no float is written twice: a
    # gate's upstream gradient is its node's grad (written for the nodes already), a local
    # gradient of 1 (every + and most relus) passes the upstream on unchanged, and an
    # input's first path's running sum is the contribution itself (unless that is -0.0,
    # which 0.0 + -0.0 turns into 0.0)
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
        upstream_text = grad_texts[i]
        head = f'{{"gate": {i}, "input": '
        tail = f', "upstream": {upstream_text}, "local": '
        name = gates[i].name
        for position, (j, local) in enumerate(zip(operands, locals_[i])):
            if not needs_grad[j]:
                continue
            rule = rules.get((name, position))
            if rule is None:
                rule = rules[name, position] = _quote(result.rule_text(i, position))
            if local == 1:  # upstream * 1.0 is upstream, bit for bit
                contribution, local_text, contribution_text = upstream, "1.0", upstream_text
            else:
                local = float(local)
                contribution = upstream * local
                local_text, contribution_text = repr(local), repr(contribution)
            path = seen[j] = seen[j] + 1
            if path == 1 and contribution:
                running[j] = contribution
                accumulated_text = contribution_text
            else:
                running[j] = accumulated = running[j] + contribution
                accumulated_text = repr(accumulated)
            yield (
                f'{head}{j}, "rule": {rule}{tail}{local_text}, "contribution": {contribution_text}, '
                f'"accumulated": {accumulated_text}, "path": {path}, "paths": {fanout[j]}}}'
            )


def _grad(result: Result, name: str):
    graph = result.graph
    return result.grads[graph.inputs.get(name, graph.names.get(name))]


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


def _parallel(result: Result) -> bool:
    """Format the backward steps in a second process? Only where that is cheap and safe: a
    forking Linux with a core to spare, one thread, float mode, a large graph, and not
    turned off with BACKPROP_PARALLEL=0."""
    import threading

    return (
        sys.platform == "linux"
        and (os.cpu_count() or 1) > 1
        and os.environ.get("BACKPROP_PARALLEL", "1") != "0"
        and threading.active_count() == 1
        and not result.exact
        and len(result.graph) >= PARALLEL_NODES
    )


@contextmanager
def _formatted_aside(key: str, lines: Iterable[str], enabled: bool) -> Iterator[Callable[[TextIO], bool]]:
    """Format a JSON list in a forked child process, into an unnamed temporary file, while
    this process writes something else on the other core.

    Yields a function that waits for the child and copies the list into a stream; it
    returns False, having written nothing, if the child failed or ``enabled`` is False
    (the caller then formats the list itself). Leaving the block early stops the child.
    """
    if not enabled:
        yield lambda stream: False
        return
    import shutil
    import signal
    import tempfile

    file = None
    parent = os.getpid()
    try:
        file = tempfile.TemporaryFile()
        pid = os.fork()
    except OSError:  # no room for the file, or no process to spare: the caller formats the list
        if file is not None:
            file.close()
        yield lambda stream: False
        return
    if pid == 0:  # the child: the graph is already in its memory (copy on write)
        status = 1
        try:
            _die_with(parent)
            with open(file.fileno(), "w", encoding="utf-8", closefd=False) as out:
                _write_list(out, key, lines)
            status = 0
        finally:
            os._exit(status)  # no cleanup of the parent's state, no flushing of its buffers
    running = True

    def copy_into(stream: TextIO) -> bool:
        nonlocal running
        status = os.waitpid(pid, 0)[1]
        running = False
        if status != 0:
            return False
        file.seek(0)
        binary = getattr(stream, "buffer", None)
        if binary is not None and (stream.encoding or "").lower().replace("-", "") == "utf8":
            stream.flush()  # the bytes go straight after what the stream has written so far
            shutil.copyfileobj(file, binary, 1 << 20)
        else:
            with open(file.fileno(), encoding="utf-8", closefd=False) as text:
                shutil.copyfileobj(text, stream, 1 << 20)
        return True

    with file:
        try:
            yield copy_into
        finally:
            if running:  # an error (or a closed pipe) while writing the nodes
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _die_with(parent: int) -> None:
    """Have Linux end this child when its parent ends (killed, or by SIGPIPE at a closed
    pipe, where no cleanup of the parent runs): prctl(PR_SET_PDEATHSIG, SIGKILL)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # no prctl: the child finishes its file and exits
    if os.getppid() != parent:  # the parent ended before the request took hold
        os._exit(1)


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
