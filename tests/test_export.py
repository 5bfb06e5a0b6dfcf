"""`backprop grad --format markdown` and `--format latex`.

The Markdown is read back with a real CommonMark parser with GitHub's table extension
(markdown-it-py, which Rich already depends on) and checked cell by cell; the LaTeX is checked
structurally (cells per row, balanced braces and environments, escaped special characters,
only commands of plain LaTeX), since a TeX installation is too large to add for one test.

Expected numbers are the worked examples of the course notes (MISSION.md), worked by hand.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from backprop_cli.render.latex import escape_latex, latex_number
from backprop_cli.verify import SYMPY_MAX_NODES

CIRCUIT = ("(x+y)*z", "x=-2", "y=5", "z=-4")
NEURON_VALUES = ("w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
NEURON_GRADIENTS = {"w0": "-0.1966", "x0": "0.3932", "w1": "-0.3932", "x1": "-0.5898", "w2": "0.1966"}

# ------------------------------------------------------------------------- reading Markdown back


def markdown_tables(text: str) -> dict[str, dict]:
    """Every table under its ### heading: header cells, alignments, rows of cell texts, and
    which cells are code spans. Cell text is what a reader sees (escapes removed)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables: dict[str, dict] = {}
    heading = None
    current = None
    in_heading = False
    for token in tokens:
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "inline" and in_heading:
            heading, in_heading = token.content, False
        elif token.type == "table_open":
            current = tables[heading] = {"header": [], "align": [], "rows": [], "code": []}
        elif token.type == "tr_open" and current is not None:
            row: list[str] = []
            code: list[bool] = []
        elif token.type in ("th_open", "td_open"):
            if token.type == "th_open":
                current["align"].append((token.attrs or {}).get("style", "text-align:left"))
        elif token.type == "inline" and current is not None:
            row.append("".join(child.content for child in token.children))
            code.append(any(child.type == "code_inline" for child in token.children))
        elif token.type == "tr_close":
            if not current["header"]:
                current["header"] = row
            else:
                current["rows"].append(row)
                current["code"].append(code)
        elif token.type == "table_close":
            current = None
    return tables


def paragraphs(text: str) -> list[str]:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    out = []
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type == "paragraph_open":
            out.append("".join(child.content for child in inline.children) if inline.children else inline.content)
    return out


def by_first_cell(table: dict, key_column: int = 1) -> dict[str, list[str]]:
    return {row[key_column]: row for row in table["rows"]}


def markdown(cli, *args: str) -> str:
    result = cli("grad", *args, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    return result.stdout


# ------------------------------------------------------------------------- Markdown


def test_markdown_forward_table_cell_by_cell(cli):
    tables = markdown_tables(markdown(cli, *CIRCUIT))
    assert list(tables) == ["Forward pass", "Backward pass", "Gradients of f = -12"]
    forward = tables["Forward pass"]
    assert forward["header"] == ["#", "node", "gate", "inputs", "value"]
    right, left = "text-align:right", "text-align:left"
    assert forward["align"] == [right, left, left, left, right]
    rows = by_first_cell(forward)
    # the worked circuit: q = x + y = 3, f = q * z = -12
    assert rows["x"][2:] == ["input", "", "-2"]
    assert rows["y"][2:] == ["input", "", "5"]
    assert rows["(x + y)"][2:] == ["add", "x, y", "3"]
    assert rows["z"][2:] == ["input", "", "-4"]
    assert rows["((x + y) * z)"][2:] == ["mul", "(x + y), z", "-12"]
    assert len(forward["rows"]) == 5
    # node ids are the evaluation order: every node after its inputs
    order = [row[1] for row in forward["rows"]]
    assert order.index("x") < order.index("(x + y)") < order.index("((x + y) * z)")
    assert all(code[1] for code in forward["code"])  # labels are code spans: * is not emphasis


def test_markdown_backward_table_cell_by_cell(cli):
    text = markdown(cli, *CIRCUIT)
    backward = markdown_tables(text)["Backward pass"]
    assert backward["header"] == ["gate", "input", "upstream", "local gradient", "chained (up x local)", "accumulated"]
    rows = {(row[0], row[1]): row[2:] for row in backward["rows"]}
    # mul swaps its inputs: df/dq = z = -4, df/dz = q = 3; add passes -4 to both x and y
    assert rows == {
        ("((x + y) * z)", "(x + y)"): ["1", "mul: other input = -4", "-4", "-4"],
        ("((x + y) * z)", "z"): ["1", "mul: other input = 3", "3", "3"],
        ("(x + y)", "x"): ["-4", "add: 1", "-4", "-4"],
        ("(x + y)", "y"): ["-4", "add: 1", "-4", "-4"],
    }
    assert "seed: df/df = 1 at the output node ((x + y) * z)" in paragraphs(text)


def test_markdown_gradients_with_sympy_derivatives(cli):
    text = markdown(cli, *CIRCUIT)
    gradients = markdown_tables(text)["Gradients of f = -12"]
    assert gradients["header"] == ["input", "gradient", "SymPy derivative", "SymPy value", "check"]
    # by hand: d/dx (x+y)z = z, d/dz = x + y; at the point: -4, -4, 3
    assert gradients["rows"] == [
        ["df/dx", "-4", "$z$", "-4", "ok"],
        ["df/dy", "-4", "$z$", "-4", "ok"],
        ["df/dz", "3", "$x + y$", "3", "ok"],
    ]
    assert r"Function: $f = z \left(x + y\right)$" in paragraphs(text)
    assert "check: sympy: agrees" in paragraphs(text)


@pytest.mark.parametrize(
    "expression",
    ["sigmoid(w0*x0 + w1*x1 + w2)", "1/(1+exp(-(w0*x0 + w1*x1 + w2)))"],
    ids=["sigmoid gate", "primitive gates"],
)
def test_markdown_sigmoid_neuron(cli, expression):
    tables = markdown_tables(markdown(cli, expression, *NEURON_VALUES, "--digits", "4"))
    gradients = tables["Gradients of f = 0.7311"]
    assert {row[0]: row[1] for row in gradients["rows"]} == {f"df/d{n}": g for n, g in NEURON_GRADIENTS.items()}
    assert all(row[-1] == "ok" for row in gradients["rows"])
    forward = by_first_cell(tables["Forward pass"])
    # the dot product w0*x0 + w1*x1 + w2 = -2 + 6 - 3 = 1
    assert any(row[4] == "1" and row[2] == "add" for row in forward.values())


def test_markdown_fan_out_accumulates(cli):
    # x*x + x at x = 3: contributions 1 (add), then 3 and 3 (mul swaps: the other input is x = 3)
    backward = markdown_tables(markdown(cli, "x*x + x", "x=3"))["Backward pass"]
    assert backward["header"][-1] == "fan-out"
    into_x = [row for row in backward["rows"] if row[1] == "x"]
    assert [(row[4], row[5], row[6]) for row in into_x] == [
        ("1", "1", "+= path 1 of 3"),
        ("3", "4", "+= path 2 of 3"),
        ("3", "7", "+= path 3 of 3"),
    ]


def test_markdown_exact_mode_and_names_with_underscores(cli):
    text = markdown(cli, "apple*apple_num*tax", "apple=100", "apple_num=2", "tax=1.1", "--exact")
    gradients = markdown_tables(text)["Gradients of f = 220"]
    assert gradients["header"][:3] == ["input", "gradient", "≈"]
    # by hand: d/dapple = apple_num * tax = 11/5, d/dapple_num = apple * tax = 110, d/dtax = 200
    assert [row[:3] for row in gradients["rows"]] == [
        ["df/dapple", "11/5", "2.2"],
        ["df/dapple_num", "110", "110"],
        ["df/dtax", "200", "200"],
    ]
    assert r"df/dapple\_num" in text  # escaped in the source, so no emphasis


def test_markdown_pipes_in_derivatives_stay_in_their_cell(cli):
    # d/db of abs(a)*b is |a|: SymPy writes \left|{a}\right|, whose pipes must not split the row
    text = markdown(cli, "abs(a)*b", "a=-3", "b=2")
    gradients = markdown_tables(text)["Gradients of f = 6"]
    rows = {row[0]: row for row in gradients["rows"]}
    assert len(rows["df/db"]) == 5
    assert rows["df/db"][1:] == ["3", r"$\left|{a}\right|$", "3", "ok"]
    assert rows["df/da"][1] == "-2"  # sign(a) * b = -2


def test_markdown_without_the_check_says_why_there_are_no_derivatives(cli):
    text = markdown(cli, *CIRCUIT, "--no-check")
    gradients = markdown_tables(text)["Gradients of f = -12"]
    assert gradients["header"] == ["input", "gradient"]
    assert gradients["rows"] == [["df/dx", "-4"], ["df/dy", "-4"], ["df/dz", "3"]]
    assert "note: symbolic derivatives not shown: the SymPy cross-check was skipped (--no-check)" in paragraphs(text)


def test_markdown_of_a_graph_too_large_for_sympy(cli):
    # 3 nodes per term: more nodes than SymPy is used for; the check uses finite differences
    terms = SYMPY_MAX_NODES // 3 + 10
    expression = "+".join(f"x{i}*x{i}" for i in range(terms))
    text = markdown(cli, expression, *[f"x{i}=1" for i in range(terms)])
    assert any(p.startswith("note: symbolic derivatives not shown: SymPy was not used (") for p in paragraphs(text))
    gradients = markdown_tables(text)[f"Gradients of f = {terms}"]
    assert gradients["rows"][0] == ["df/dx0", "2"]  # d(x*x)/dx = 2x


def test_markdown_wrt_an_intermediate(cli):
    text = markdown(cli, "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "--wrt", "q,x")
    gradients = markdown_tables(text)["Gradients of f = -12"]
    # df/dq = z = -4 (SymPy differentiates by inputs only, so q has no symbolic cell)
    assert gradients["rows"] == [["df/dq", "-4", "", "", ""], ["df/dx", "-4", "$z$", "-4", "ok"]]


def test_markdown_through_the_real_entry_point(run_backprop):
    done = run_backprop("grad", *CIRCUIT, "--format", "markdown")
    assert done.returncode == 0 and done.stderr == ""
    assert markdown_tables(done.stdout)["Gradients of f = -12"]["rows"][2][:2] == ["df/dz", "3"]


# ------------------------------------------------------------------------- LaTeX

#: the commands plain LaTeX (article, report, beamer) knows without any package, and the ones
#: SymPy's printer uses for these gates
PLAIN_LATEX = {
    "noindent", "textbf", "texttt", "par", "medskip", "begin", "end", "hline", "partial", "mathit",
    "approx", "times", "textbackslash", "textasciitilde", "textasciicircum", "textless", "textgreater",
    "textbar", "left", "right", "frac", "operatorname", "sin", "cos", "log", "tanh", "sqrt", "max", "min",
}


def latex(cli, *args: str) -> str:
    result = cli("grad", *args, "--format", "latex")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def split_unescaped(text: str, separator: str) -> list[str]:
    return re.split(rf"(?<!\\){re.escape(separator)}", text)


def tabulars(text: str) -> list[tuple[str, list[list[str]]]]:
    """(column spec, rows of cells) of every tabular, checking the structure on the way."""
    found = []
    for spec, body in re.findall(r"\\begin\{tabular\}\{([lr]+)\}\n(.*?)\\end\{tabular\}", text, re.DOTALL):
        lines = [line for line in body.splitlines() if line != r"\hline"]
        rows = []
        for line in lines:
            assert line.endswith(r" \\"), line
            cells = [cell.strip() for cell in split_unescaped(line[: -len(r" \\")], "&")]
            assert len(cells) == len(spec), (spec, line)
            rows.append(cells)
        found.append((spec, rows))
    return found


def assert_balanced(text: str) -> None:
    depth = 0
    for match in re.finditer(r"\\[{}]|[{}]", text):
        if match.group() in ("{", "}"):
            depth += 1 if match.group() == "{" else -1
            assert depth >= 0
    assert depth == 0
    assert text.count(r"\begin{") == text.count(r"\end{")
    for line in text.splitlines():
        if not line.startswith("%"):
            assert len(re.findall(r"(?<!\\)\$", line)) % 2 == 0, line


def test_latex_tables_of_the_worked_circuit(cli):
    text = latex(cli, *CIRCUIT)
    assert_balanced(text)
    (forward_spec, forward), (backward_spec, backward), (gradient_spec, gradients) = tabulars(text)
    assert forward_spec == "rlllr" and backward_spec == "llrlrr" and gradient_spec == "lrlrl"
    assert forward[0] == [r"\#", "node", "gate", "inputs", "value"]
    rows = {row[1]: row for row in forward[1:]}
    assert rows[r"\texttt{(x + y)}"][2:] == ["add", r"\texttt{x, y}", "$3$"]
    assert rows[r"\texttt{((x + y) * z)}"][2:] == ["mul", r"\texttt{(x + y), z}", "$-12$"]
    assert [r"\texttt{(x + y)}", r"\texttt{x}", "$-4$", r"\texttt{add: 1}", "$-4$", "$-4$"] in backward
    assert [r"\texttt{((x + y) * z)}", r"\texttt{z}", "$1$", r"\texttt{mul: other input} = $3$", "$3$", "$3$"] in backward
    assert gradients[1:] == [
        [r"$\partial f/\partial x$", "$-4$", "$z$", "$-4$", "ok"],
        [r"$\partial f/\partial y$", "$-4$", "$z$", "$-4$", "ok"],
        [r"$\partial f/\partial z$", "$3$", "$x + y$", "$3$", "ok"],
    ]
    assert r"Function: $f = z \left(x + y\right)$" in text


def test_latex_uses_plain_latex_commands_only(cli):
    for args in [CIRCUIT, ("1/(1+exp(-(w0*x0 + w1*x1 + w2)))", *NEURON_VALUES), ("x*x + x", "x=3", "--exact")]:
        text = latex(cli, *args)
        assert_balanced(text)
        commands = set(re.findall(r"\\([A-Za-z]+)", text))
        assert commands <= PLAIN_LATEX, commands - PLAIN_LATEX


def test_latex_escapes_names_and_numbers(cli):
    text = latex(cli, "apple_num*tax", "apple_num=2", "tax=1.5e-9")
    assert_balanced(text)
    assert r"\texttt{apple\_num}" in text and "apple_num" not in text.replace(r"apple\_num", "")
    assert r"$\partial f/\partial \mathit{apple\_num}$" in text
    assert r"$1.5 \times 10^{-9}$" in text  # tax, and d/dapple_num = tax


def test_latex_sigmoid_neuron_gradients(cli):
    _, _, (_, gradients) = tabulars(latex(cli, "sigmoid(w0*x0 + w1*x1 + w2)", *NEURON_VALUES, "--digits", "4"))
    found = {row[0]: row[1] for row in gradients[1:]}
    assert found == {rf"$\partial f/\partial \mathit{{{name}}}$": f"${g}$" for name, g in NEURON_GRADIENTS.items()}


@pytest.mark.parametrize("char", list("\\&%$#_{}~^<>|"))
def test_escape_latex_leaves_no_special_character_bare(char):
    escaped = escape_latex(f"a{char}b")
    assert escaped.startswith("a") and escaped.endswith("b")
    middle = escaped[1:-1]
    assert middle.startswith("\\") and middle != "\\"
    # what is left after the escape command is a brace pair or nothing: no bare special character
    assert re.fullmatch(r"\\(?:[&%$#_{}]|[a-z]+\{\})", middle), middle


@pytest.mark.parametrize(
    "text, expected",
    [("-4", "$-4$"), ("11/5", "$11/5$"), ("1.5e-9", r"$1.5 \times 10^{-9}$"), ("2e+30", r"$2 \times 10^{+30}$")],
)
def test_latex_numbers_are_math(text, expected):
    assert latex_number(text) == expected
