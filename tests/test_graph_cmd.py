"""`backprop graph`: the terminal tree, DOT rendered for real by Graphviz, SVG/PNG/PDF files,
Mermaid, large graphs, errors, and the examples and pictures of docs/graph.md.

Expected numbers are the worked examples of the course notes (MISSION.md), worked by hand:
(x+y)*z at x=-2, y=5, z=-4: q = 3, f = -12, df/dq = z = -4, df/dx = df/dy = -4, df/dz = q = 3.
Sigmoid neuron at w = [2,-3,-3], x = [-1,-2]: dot product 1, f = 0.7311,
dw = [-0.1966, -0.3932, 0.1966], dx = [0.3932, -0.5898].
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from conftest import ROOT

CIRCUIT = ("(x+y)*z", "x=-2", "y=5", "z=-4")
NEURON_VALUES = ("w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
NEURON = ("sigmoid(w0*x0 + w1*x1 + w2)", *NEURON_VALUES)
NEURON_EXPANDED = ("1/(1+exp(-(w0*x0 + w1*x1 + w2)))", *NEURON_VALUES)
#: by hand: d sigmoid = s(1-s) with s = 0.731059 -> 0.196612; times the other input of each mul
NEURON_GRADIENTS = {"w0": "-0.1966", "x0": "0.3932", "w1": "-0.3932", "x1": "-0.5898", "w2": "0.1966"}
NEURON_INPUT_VALUES = {"w0": "2", "x0": "-1", "w1": "-3", "x1": "-2", "w2": "-3"}

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

# ------------------------------------------------------------------------- terminal tree

LINE = re.compile(
    r"^(?P<guides>[|`+\- ]*)(?P<label>.+?)  (?P<gate>[a-z]+)(?:  value=(?P<value>\S+))?(?:  grad=(?P<grad>\S+))?(?P<rest>.*)$"
)
REFERENCE = re.compile(r"^(?P<guides>[|`+\- ]*)(?P<label>.+?)  \(shared: shown in full above\)(?:  this use: (?P<use>\S+))?$")


def tree_lines(stdout: str) -> list[dict]:
    """The node lines of the tree (after the two header lines), parsed into their fields."""
    rows = []
    for line in stdout.splitlines()[2:]:
        if line.startswith("note:") or line.endswith("-- ... more not shown (--max-nodes " + line.rsplit(" ", 1)[-1]):
            continue  # a note, or the mark where --max-nodes cut a branch (not a node)
        if line.endswith(")") and "-- ... deeper levels not shown (depth limit" in line:
            rows.append({"label": "...", "depth": line.index("...") // 4, "shared": False})
            continue
        reference = REFERENCE.match(line)
        match = reference or LINE.match(line)
        assert match, f"unreadable tree line: {line!r}"
        row = match.groupdict()
        row["depth"] = len(row.pop("guides")) // 4
        row["shared"] = reference is not None
        rows.append(row)
    return rows


def test_tree_of_the_worked_circuit(cli):
    result = cli("graph", *CIRCUIT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Parsed: ((x + y) * z)"
    rows = tree_lines(result.stdout)
    found = {(row["label"], row["depth"]): (row["gate"], row["value"], row["grad"]) for row in rows}
    assert found == {
        ("f = ((x + y) * z)", 0): ("mul", "-12", "1"),
        ("(x + y)", 1): ("add", "3", "-4"),
        ("x", 2): ("input", "-2", "-4"),
        ("y", 2): ("input", "5", "-4"),
        ("z", 1): ("input", "-4", "3"),
    }
    # output at the root, inputs at the leaves, in reading order; plain ASCII guides off a terminal
    assert [row["label"] for row in rows] == ["f = ((x + y) * z)", "(x + y)", "x", "y", "z"]
    assert "\x1b[" not in result.stdout
    assert "+-- (x + y)" in result.stdout and "`-- z" in result.stdout


def test_tree_fan_out_shows_a_shared_node_once_and_each_use(cli):
    # x*x + x at x=3: df/dx = 2x + 1 = 7, made of 3 (x*x, left) + 3 (x*x, right) + 1 (add)
    rows = tree_lines(cli("graph", "x*x + x", "x=3").stdout)
    full = [row for row in rows if row["label"] == "x" and not row["shared"]]
    shared = [row for row in rows if row["label"] == "x" and row["shared"]]
    assert len(full) == 1 and len(shared) == 2
    assert (full[0]["value"], full[0]["grad"]) == ("3", "7")
    assert "used 3 times" in full[0]["rest"] and full[0]["rest"].endswith("this use: 3")
    assert sorted(row["use"] for row in shared) == ["1", "3"]


def test_tree_shared_intermediate_is_expanded_once(cli):
    # q = x*y is used twice: its subtree (x, y) appears once, the second use points back
    rows = tree_lines(cli("graph", "q = x*y; f = q + q*z", "x=2", "y=3", "z=4").stdout)
    assert [row["label"] for row in rows if not row["shared"]].count("q") == 1
    assert [row["label"] for row in rows].count("x") == 1
    q = next(row for row in rows if row["label"] == "q" and not row["shared"])
    # df/dq = 1 + z = 5; the uses send 1 (add) and z = 4 (mul)
    assert (q["value"], q["grad"]) == ("6", "5")
    uses = [row["use"] for row in rows if row["label"] == "q" and row["shared"]] + [q["rest"].rsplit(" ", 1)[-1]]
    assert sorted(uses) == ["1", "4"]


def test_tree_of_the_sigmoid_neuron(cli):
    rows = tree_lines(cli("graph", *NEURON, "--digits", "4").stdout)
    root = rows[0]
    assert (root["gate"], root["value"], root["grad"]) == ("sigmoid", "0.7311", "1")
    leaves = {row["label"]: (row["value"], row["grad"]) for row in rows if row["gate"] == "input"}
    assert leaves == {name: (NEURON_INPUT_VALUES[name], NEURON_GRADIENTS[name]) for name in NEURON_GRADIENTS}


def test_tree_constants_have_no_gradient(cli):
    # the engine does not differentiate by constants: showing 0 would be wrong (df/d2 is x)
    rows = tree_lines(cli("graph", "x*2", "x=5").stdout)
    constant = next(row for row in rows if row["gate"] == "const")
    assert (constant["label"], constant["value"], constant["grad"]) == ("2", "2", None)


def test_tree_without_values_draws_the_structure(cli):
    result = cli("graph", "q = x + y; f = q * z")
    assert result.exit_code == 0
    assert "No values given" in result.stdout
    rows = tree_lines(result.stdout)
    assert [(row["label"], row["gate"], row["value"]) for row in rows] == [
        ("f", "mul", None), ("q", "add", None), ("x", "input", None), ("y", "input", None), ("z", "input", None)
    ]


def test_tree_of_constants_only_needs_no_values(cli):
    rows = tree_lines(cli("graph", "2*3").stdout)
    assert [(row["label"], row["value"], row["grad"]) for row in rows] == [
        ("f = (2 * 3)", "6", None), ("2", "2", None), ("3", "3", None)
    ]


def test_tree_colours_values_green_and_gradients_red(cli):
    out = cli("graph", *CIRCUIT, "--color", "always").stdout
    assert "\x1b[32m-12\x1b[0m" in out  # value in green
    assert re.search(r"grad=\x1b\[0m\x1b\[31m1\x1b\[0m|grad=.{0,12}\x1b\[31m1", out)
    assert "\x1b[32m" not in cli("graph", *CIRCUIT, "--color", "never").stdout


def test_no_color_environment_is_honoured(run_backprop):
    done = run_backprop("graph", *CIRCUIT, "--color", "always", env={"NO_COLOR": "1"})
    assert done.returncode == 0
    assert "\x1b[32m" not in done.stdout and "\x1b[31m" not in done.stdout
    assert "value=-12" in done.stdout


def test_deep_graph_tree_is_cut_at_the_depth_limit(cli):
    # 10,000 nested sin gates: no recursion anywhere, and a tree of a few dozen lines
    expression = "sin(" * 10_000 + "x" + ")" * 10_000
    result = cli("graph", expression, "x=0.5")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) < 40
    assert "deeper levels not shown (depth limit 25)" in result.stdout
    assert any(line.startswith("note: levels deeper than 25") for line in lines)
    assert len(lines[0]) < 400  # the echo of the expression is cut too
    deeper = cli("graph", expression, "x=0.5", "--max-depth", "30")
    assert "deeper levels not shown (depth limit 30)" in deeper.stdout
    assert len(tree_lines(deeper.stdout)) == 30 + 1 + 1  # the root, 30 levels below it, the "..." line


def test_wide_graph_tree_is_cut_at_max_nodes(cli):
    # one max gate with 3,000 inputs: 3,001 lines in full
    expression = "max(" + ", ".join(f"x{i}" for i in range(3000)) + ")"
    values = [f"x{i}={i}" for i in range(3000)]
    result = cli("graph", expression, *values)
    lines = result.stdout.splitlines()
    assert len(tree_lines(result.stdout)) == 200 and len(lines) < 211
    assert "note: tree cut after 200 lines (3,001 nodes in the graph)" in result.stdout
    assert lines[-2].endswith("`-- ... more not shown (--max-nodes 200)")  # the cut branch says so
    fewer = cli("graph", expression, *values, "--max-nodes", "20")
    assert len(tree_lines(fewer.stdout)) == 20
    everything = tree_lines(cli("graph", expression, *values, "--all").stdout)
    assert len(everything) == 3001
    # max routes the whole gradient to the largest input, none to the others
    assert everything[-1] == {**everything[-1], "label": "x2999", "value": "2999", "grad": "1"}
    assert {row["grad"] for row in everything[1:-1]} == {"0"}


# ------------------------------------------------------------------------- DOT and SVG

SVG = "{http://www.w3.org/2000/svg}"


def svg_drawing(svg: str) -> tuple[dict, list]:
    """Parse Graphviz's SVG: node id -> (label, x), and edges as (source label, target label, texts)."""
    root = ElementTree.fromstring(svg)
    nodes = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            name = group.find(f"{SVG}title").text
            text = next(group.iter(f"{SVG}text"))
            nodes[name] = (text.text, float(text.get("x")))
    edges = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "edge":
            source, target = group.find(f"{SVG}title").text.split("->")
            texts = [(t.text, t.get("fill"), float(t.get("y"))) for t in group.iter(f"{SVG}text")]
            edges.append((nodes[source][0], nodes[target][0], texts))
    return nodes, edges


def wire(texts: list) -> tuple:
    """(value, gradient) of a wire label, checking green above red."""
    (value, value_fill, value_y), (grad, grad_fill, grad_y) = texts
    assert (value_fill, grad_fill) == ("#1b7f3b", "#c0392b")
    assert value_y < grad_y  # the value is written above the gradient
    return value, grad


@needs_dot
def test_svg_of_the_worked_circuit(cli):
    result = cli("graph", *CIRCUIT, "--format", "svg")
    assert result.exit_code == 0, result.stderr
    nodes, edges = svg_drawing(result.stdout)
    found = {(source, target): wire(texts) for source, target, texts in edges}
    assert found == {
        ("x", "+"): ("-2", "-4"),
        ("y", "+"): ("5", "-4"),
        ("+", "*"): ("3", "-4"),
        ("z", "*"): ("-4", "3"),
        ("*", "f"): ("-12", "1"),
    }
    # left to right: the inputs on the left edge, then the add, the mul, the output name
    x = {label: position for label, position in nodes.values()}
    assert max(x["x"], x["y"], x["z"]) < x["+"] < x["*"] < x["f"]


@needs_dot
@pytest.mark.parametrize("form", [NEURON, NEURON_EXPANDED], ids=["sigmoid gate", "primitive gates"])
def test_svg_of_the_sigmoid_neuron(cli, form):
    result = cli("graph", *form, "--format", "svg", "--digits", "4")
    _, edges = svg_drawing(result.stdout)
    from_inputs = {source: wire(texts) for source, _, texts in edges if source in NEURON_GRADIENTS}
    assert from_inputs == {name: (NEURON_INPUT_VALUES[name], NEURON_GRADIENTS[name]) for name in NEURON_GRADIENTS}
    output = [wire(texts) for _, target, texts in edges if target == "f"]
    assert output == [("0.7311", "1")]


@needs_dot
def test_svg_fan_out_has_one_wire_per_use(cli):
    _, edges = svg_drawing(cli("graph", "x*x + x", "x=3", "--format", "svg").stdout)
    from_x = sorted(wire(texts) for source, _, texts in edges if source == "x")
    assert from_x == [("3", "1"), ("3", "3"), ("3", "3")]  # 3 + 3 + 1 = 7 = df/dx


@needs_dot
def test_dot_text_is_rendered_by_graphviz(cli, tmp_path):
    result = cli("graph", *CIRCUIT, "--format", "dot")
    source = result.stdout
    assert source.startswith("digraph backprop {") and "rankdir=LR" in source
    # hand it to Graphviz ourselves: it must accept it, and lay out what we expect
    done = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True, check=True)
    assert done.stderr == ""
    _, edges = svg_drawing(done.stdout)
    assert {(s, t) for s, t, _ in edges} == {("x", "+"), ("y", "+"), ("+", "*"), ("z", "*"), ("*", "f")}


@needs_dot
def test_dot_quotes_names_and_staged_intermediates(cli):
    result = cli("graph", "q = apple*apple_num; f = q*tax", "apple=100", "apple_num=2", "tax=1.1", "--format", "svg")
    nodes, edges = svg_drawing(result.stdout)
    labels = {label for label, _ in nodes.values()}
    assert {"apple", "apple_num", "tax", "f"} <= labels
    found = {source: wire(texts) for source, _, texts in edges if source in ("apple", "apple_num", "tax")}
    # by hand: d/dapple = apple_num*tax = 2.2, d/dapple_num = apple*tax = 110, d/dtax = 200
    assert found == {"apple": ("100", "2.2"), "apple_num": ("2", "110"), "tax": ("1.1", "200")}


@needs_dot
def test_structure_only_svg_has_no_numbers(cli):
    _, edges = svg_drawing(cli("graph", "(x+y)*z", "--format", "svg").stdout)
    assert len(edges) == 5 and all(texts == [] for _, _, texts in edges)


@needs_dot
def test_png_and_pdf_files(cli, tmp_path):
    png = tmp_path / "circuit.png"
    result = cli("graph", *CIRCUIT, "--format", "png", "-o", str(png))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "wrote" in result.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 400 < width < 3000 and 200 < height < 2000
    pdf = tmp_path / "circuit.pdf"
    assert cli("graph", *CIRCUIT, "--format", "pdf", "-o", str(pdf)).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF-")


@needs_dot
def test_format_is_guessed_from_the_file_name(cli, tmp_path):
    for name, check in [
        ("c.svg", lambda d: d.startswith(b"<?xml")),
        ("c.png", lambda d: d.startswith(b"\x89PNG")),
        ("c.gv", lambda d: d.startswith(b"digraph")),
        ("c.mmd", lambda d: d.startswith(b"flowchart LR")),
    ]:
        assert cli("graph", *CIRCUIT, "-o", str(tmp_path / name)).exit_code == 0
        assert check((tmp_path / name).read_bytes()), name


def test_missing_dot_says_how_to_install_it(cli, tmp_path):
    result = cli("graph", *CIRCUIT, "--format", "svg", env={"PATH": str(tmp_path)})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'dot' program is not installed" in result.stderr and "apt-get install graphviz" in result.stderr
    assert "Traceback" not in result.stderr
    # DOT text needs no Graphviz program at all
    assert cli("graph", *CIRCUIT, "--format", "dot", env={"PATH": str(tmp_path)}).exit_code == 0


def test_missing_dot_through_the_real_entry_point(run_backprop, tmp_path):
    done = run_backprop("graph", *CIRCUIT, "-o", str(tmp_path / "c.png"), env={"PATH": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.startswith("error: Graphviz's 'dot' program is not installed") and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        ((*CIRCUIT, "--format", "png"), "--format png writes a binary file: pass -o FILE"),
        ((*CIRCUIT, "-o", "tree.txt"), "-o FILE is for dot, svg, png, pdf and mermaid"),
        (("(x+y)*", "x=1"), "error:"),
        (("(x+y)*z", "x=1", "y=2"), "missing value for z"),
        (("log(x)", "x=-1"), "log needs a positive input"),
        ((*CIRCUIT, "--format", "gif"), "Invalid value for '--format'"),
    ],
)
def test_bad_input_is_one_error_and_exit_2(cli, args, message):
    result = cli("graph", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "output_format, name, message",
    [
        ("svg", "c.png", "error: --format svg does not match -o '{dir}/c.png' (a .png file): leave out --format to write png, or name the file '{dir}/c.svg'"),
        ("dot", "c.svg", "error: --format dot does not match -o '{dir}/c.svg' (a .svg file): leave out --format to write svg, or name the file '{dir}/c.dot'"),
        ("mermaid", "c.PDF", "error: --format mermaid does not match -o '{dir}/c.PDF' (a .pdf file): leave out --format to write pdf, or name the file '{dir}/c.mmd'"),
    ],
)
def test_a_format_that_contradicts_the_file_suffix_is_an_error(cli, tmp_path, output_format, name, message):
    result = cli("graph", *CIRCUIT, "--format", output_format, "-o", str(tmp_path / name))
    assert result.exit_code == 2
    assert result.stderr == message.format(dir=tmp_path) + "\n" and result.stdout == ""
    assert not (tmp_path / name).exists()  # no SVG text in a .png file


def test_a_format_matching_the_suffix_or_an_unknown_suffix_is_written(cli, tmp_path):
    result = cli("graph", *CIRCUIT, "--format", "mermaid", "-o", str(tmp_path / "c.mermaid"))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"wrote {tmp_path / 'c.mermaid'} (mermaid)\n"
    assert (tmp_path / "c.mermaid").read_text().startswith("flowchart LR")
    # without --format, .mermaid is Mermaid too; a suffix we do not know leaves --format in charge
    assert cli("graph", *CIRCUIT, "-o", str(tmp_path / "d.mermaid")).exit_code == 0
    assert (tmp_path / "d.mermaid").read_text().startswith("flowchart LR")
    result = cli("graph", *CIRCUIT, "--format", "dot", "-o", str(tmp_path / "c.txt"))
    assert result.exit_code == 0 and (tmp_path / "c.txt").read_text().startswith("digraph")


def test_unwritable_output_file(cli, tmp_path):
    result = cli("graph", *CIRCUIT, "--format", "dot", "-o", str(tmp_path / "missing" / "c.dot"))
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_values_from_a_file_and_unused_values(cli, tmp_path):
    values = tmp_path / "v.json"
    values.write_text('{"x": -2, "y": 5, "z": -4, "w": 1}')
    result = cli("graph", "(x+y)*z", "--values", str(values))
    assert result.exit_code == 0
    assert "value=-12" in result.stdout
    assert "warning: value given for 'w'" in result.stderr


# ------------------------------------------------------------------------- large graphs in DOT

def dot_nodes(source: str) -> set[str]:
    return set(re.findall(r"^\s*(n\d+|output) \[", source, re.MULTILINE))


def test_dot_of_a_large_graph_is_capped_with_a_note(cli):
    expression = "+".join(f"x{i}" for i in range(3000))
    values = [f"x{i}=1" for i in range(3000)]
    result = cli("graph", expression, *values, "--format", "dot")
    assert result.exit_code == 0
    nodes = dot_nodes(result.stdout)
    # the 200 nearest the output, the nodes they read that are not drawn (dashed boxes), the output name
    assert 200 < len(nodes) <= 200 + 2 * 200 + 1
    assert "(not drawn)" in result.stdout and "style=dashed" in result.stdout
    assert "showing the 200 nodes nearest the output of 5,999" in result.stderr
    assert "--all draws every node" in result.stdout  # the note is in the picture too
    everything = cli("graph", expression, *values, "--format", "dot", "--all")
    assert len(dot_nodes(everything.stdout)) == 5_999 + 1
    assert "not drawn" not in everything.stdout and everything.stderr == ""


@needs_dot
def test_deep_graph_renders_within_the_cap(cli):
    expression = "sin(" * 10_000 + "x" + ")" * 10_000
    result = cli("graph", expression, "x=0.5", "--format", "svg")
    assert result.exit_code == 0
    nodes, _ = svg_drawing(result.stdout)
    assert 200 <= len(nodes) <= 203


# ------------------------------------------------------------------------- Mermaid

EDGE = re.compile(r'^    (n\d+) -->(?:\|"(.*)"\|)? (n\d+|output)$')
NODE = re.compile(r'^    (n\d+|output)(\(\(|\[)"(.*)"(\)\)|\])(:::\w+)?$')


def mermaid_drawing(text: str) -> tuple[dict, list]:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes, edges = {}, []
    for line in lines[1:]:
        if line.strip().startswith(("%%", "classDef")):
            continue
        node, edge = NODE.match(line), EDGE.match(line)
        assert node or edge, f"unexpected Mermaid line: {line!r}"
        if node:
            nodes[node.group(1)] = node.group(3)
        else:
            edges.append((edge.group(1), edge.group(3), edge.group(2)))
    return nodes, [(nodes[s], nodes[t], label) for s, t, label in edges]


def test_mermaid_of_the_worked_circuit(cli):
    result = cli("graph", *CIRCUIT, "--format", "mermaid")
    assert result.exit_code == 0
    nodes, edges = mermaid_drawing(result.stdout)
    assert sorted(nodes.values()) == sorted(["x", "y", "z", "+", "*", "f"])
    assert sorted(edges) == sorted([
        ("x", "+", "value -2<br/>grad -4"),
        ("y", "+", "value 5<br/>grad -4"),
        ("+", "*", "value 3<br/>grad -4"),
        ("z", "*", "value -4<br/>grad 3"),
        ("*", "f", "value -12<br/>grad 1"),
    ])


def test_mermaid_quotes_and_caps(cli):
    nodes, edges = mermaid_drawing(cli("graph", "q = x ** 2; f = q / 3", "x=3", "--format", "mermaid").stdout)
    assert "** q" in nodes.values() and "/ f" in nodes.values() and "3" in nodes.values()
    # a constant's wire has a value and no gradient
    assert ("3", "/ f", "value 3") in edges
    expression = "+".join(f"x{i}" for i in range(500))
    capped = cli("graph", expression, *[f"x{i}=1" for i in range(500)], "--format", "mermaid", "--max-nodes", "30")
    nodes, _ = mermaid_drawing(capped.stdout)
    assert len(nodes) <= 30 + 2 * 30 + 1 and ":::hidden" in capped.stdout
    assert "showing the 30 nodes nearest the output" in capped.stderr


# ------------------------------------------------------------------------- docs and pictures

DOC = ROOT / "docs" / "graph.md"


def sh_commands() -> list[str]:
    text = DOC.read_text()
    return [line for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL) for line in block.splitlines() if line.strip()]


@needs_dot
@pytest.mark.parametrize("command", [c for c in sh_commands() if c.startswith("backprop ")])
def test_doc_sh_examples_run(command, tmp_path):
    """Every `backprop` line of the ```sh blocks runs in a shell with exit code 0 and writes its file."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    done = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    written = re.search(r"(?:-o|>) (\S+)", command)
    assert (tmp_path / written.group(1)).stat().st_size > 0 if written else "Output f at the root" in done.stdout


def test_doc_console_examples_exit_0(cli):
    """The ```console examples exit with 0, or 2 when they show an error (tests/test_docs.py
    compares their output)."""
    examples = re.findall(r"^\$ (backprop .*)\n(.*)$", DOC.read_text(), re.MULTILINE)
    assert len(examples) >= 6
    for command, first_line in examples:
        result = cli(*shlex.split(command)[1:])
        assert result.exit_code == (2 if first_line.startswith("error:") else 0), (command, result.stderr)


def test_doc_pictures_exist_and_are_linked():
    text = DOC.read_text()
    for name in ["circuit.png", "circuit.svg", "neuron.png", "neuron_expanded.png", "tree_fanout.svg"]:
        assert (ROOT / "docs" / "images" / name).is_file(), name
        assert f"images/{name}" in text, name


@needs_dot
def test_picture_script_draws_the_course_examples(tmp_path):
    """The documented picture command (run here with --out, so docs/ is left alone)."""
    assert "python scripts/make_images.py" in sh_commands()
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_images.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    _, edges = svg_drawing((tmp_path / "circuit.svg").read_text())
    assert ("*", "f", ("-12", "1")) in [(s, t, wire(texts)) for s, t, texts in edges]
    _, edges = svg_drawing((tmp_path / "neuron_expanded.svg").read_text())
    assert {s: wire(texts) for s, _, texts in edges if s in NEURON_GRADIENTS}["x1"] == ("-2", "-0.5898")
    for name in ("circuit.png", "neuron.png", "neuron_expanded.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    tree = ElementTree.parse(tmp_path / "tree_fanout.svg").getroot()
    text = "".join(t.text or "" for t in tree.iter(f"{SVG}text")).replace("\xa0", " ")
    assert "used 3 times" in text and "grad=" in text


def test_mermaid_entities_keep_labels_closed():
    from backprop_cli.render.mermaid import quote

    assert quote('a"b<c>&d') == '"a#quot;b#lt;c#gt;#amp;d"'


def test_a_branch_cut_by_max_nodes_ends_in_a_mark(cli):
    # (x+y)*z has 5 nodes; 3 lines show f, (x + y) and x: y and z are left out, and both branches say so
    result = cli("graph", "(x+y)*z", "x=-2", "y=5", "z=-4", "--max-nodes", "3")
    lines = result.stdout.splitlines()
    assert lines[2:7] == [
        "f = ((x + y) * z)  mul  value=-12  grad=1",
        "+-- (x + y)  add  value=3  grad=-4",
        "|   +-- x  input  value=-2  grad=-4",
        "|   `-- ... more not shown (--max-nodes 3)",
        "`-- ... more not shown (--max-nodes 3)",
    ]
