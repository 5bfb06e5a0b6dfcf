"""`backprop grad --format latex`: the tables of `backprop grad` as LaTeX tabulars.

The document comes from render/markdown.py (same sections, same columns); this module only
writes it as LaTeX that needs no extra package: labels in ``\\texttt`` with every special
character escaped, numbers in math mode (a real minus sign), SymPy's LaTeX printer for the
function and its derivatives.
"""

from __future__ import annotations

from ..result import Result
from .markdown import Code, Math, Num, Part, Strong, Table, grad_document

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def escape_latex(text: str) -> str:
    """Text with every character that LaTeX would read as a command escaped."""
    return "".join(_SPECIAL.get(char, char) for char in text)


def latex_number(text: str) -> str:
    """A formatted number in math mode: ``-4`` -> ``$-4$``, ``1.5e-7`` -> ``$1.5 \\times 10^{-7}$``."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"${mantissa} \times 10^{{{exponent}}}$"
    return f"${text}$"


def latex_part(part: Part) -> str:
    if isinstance(part, Code):
        return rf"\texttt{{{escape_latex(part.text)}}}"
    if isinstance(part, Num):
        return latex_number(part.text)
    if isinstance(part, Math):
        return f"${part.latex}$"
    if isinstance(part, Strong):
        return rf"\textbf{{{escape_latex(part.text)}}}"
    return escape_latex(part)


def latex_cell(cell: tuple) -> str:
    return "".join(latex_part(part) for part in cell)


def grad_latex(result: Result, *, digits: int = 6, wrt: list[str] | None = None) -> str:
    """The forward, backward and gradient tables as LaTeX, ready to paste into a document."""
    lines = ["% backprop grad: forward pass, backward pass and gradients (plain LaTeX, no extra packages)", ""]
    for block in grad_document(result, digits=digits, wrt=wrt):
        if isinstance(block, Table):
            lines.append(rf"\medskip\noindent\textbf{{{escape_latex(block.title)}}}\par")
            for paragraph in block.before:
                lines.append(rf"\noindent {latex_cell(paragraph)}\par")
            lines.append(rf"\noindent\begin{{tabular}}{{{block.align}}}")
            lines.append(r"\hline")
            lines.append(" & ".join(latex_part(column) for column in block.columns) + r" \\")
            lines.append(r"\hline")
            lines += [" & ".join(latex_cell(cell) for cell in row) + r" \\" for row in block.rows]
            lines.append(r"\hline")
            lines.append(r"\end{tabular}\par")
        else:
            lines.append(rf"\noindent {latex_cell(block)}\par")
        lines.append("")
    return "\n".join(lines)
