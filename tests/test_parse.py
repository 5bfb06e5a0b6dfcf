"""The parser: grammar, precedence as in Python, the echo, and errors with positions."""

from __future__ import annotations

import pytest

from backprop_cli import LimitError, ParseError
from backprop_cli.parse import MAX_NESTING, echo, parse


@pytest.mark.parametrize(
    "text, parenthesised",
    [
        ("(x+y)*z", "((x + y) * z)"),
        ("1/1+exp(-z)", "((1 / 1) + exp(-z))"),  # the classic precedence mistake, made visible
        ("1/(1+exp(-z))", "(1 / (1 + exp(-z)))"),
        ("-x**2", "-(x ** 2)"),  # Python: ** binds tighter than unary minus
        ("2**-x", "(2 ** (-x))"),
        ("(-x)**2", "((-x) ** 2)"),  # not -(x ** 2)
        ("-x", "-x"),
        ("x**y**z", "(x ** (y ** z))"),  # right-associative
        ("x^2", "(x ** 2)"),
        ("a-b-c", "((a - b) - c)"),  # left-associative
        ("a/b/c", "((a / b) / c)"),
        ("a+b*c", "(a + (b * c))"),
        ("-x*y", "((-x) * y)"),
        ("--x", "-(-x)"),
        ("+x", "x"),
        ("max(x+1, y, 3)", "max(x + 1, y, 3)"),
        ("sigmoid(w0*x0+w1*x1+w2)", "sigmoid(((w0 * x0) + (w1 * x1)) + w2)"),
        ("1.5e-3*x + .5", "((1.5e-3 * x) + .5)"),
        ("q = x + y; f = q * z", "q = (x + y); f = (q * z)"),
        ("q = x + y\nf = q * z", "q = (x + y); f = (q * z)"),
        ("(x +\n y) * 2", "((x + y) * 2)"),  # a newline inside parentheses continues the statement
        ("x +\n y", "(x + y)"),  # ... and so does one after an operator
        ("x  # a comment\n", "x"),
    ],
)
def test_echo_is_fully_parenthesised(text, parenthesised):
    assert echo(parse(text)) == parenthesised


def test_caret_is_power_and_is_reported():
    assert parse("x^2").caret_power
    assert not parse("x**2").caret_power


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("(x+y", "'(' is never closed", 1),
        ("x+", "expected a number, a name or '('", 3),
        ("2x", "missing operator before 'x'", 2),
        ("foo(x)", "unknown function 'foo'", 1),
        ("x ＋ y", "did you mean '+'", 3),
        ("exp()", "exp() needs an argument", 5),
        ("max(x)", "at least 2 arguments", 1),
        ("exp(x, y)", "takes 1 argument, got 2", 1),
        ("x)", "unmatched ')'", 2),
        ("a, b", "',' outside a function call", 2),
        ("", "empty expression", 1),
        ("x == y", "expected a number", 4),
        ("exp + 1", "'exp' is a function", 1),
        ("x\0", "unexpected character", 2),
        ("x.real", "unexpected character '.'", 2),
        ("q = 1; exp = 2", "cannot assign to 'exp'", 8),
        ("x = 1 = 2", "'=' may only follow a name", 7),
        ("lambda: 1", "unexpected character ':'", 7),
        ("x @ y", "unexpected character '@'", 3),
        ("x; (y", "'(' is never closed", 4),
        ("sin(x", "'(' is never closed", 4),
        ("f(x) = x**2", "f(...) = ... defines a function, which a program cannot do (write f = EXPRESSION", 1),
        ("y = 2\nloss(w, b) = (w*y + b)**2", "loss(...) = ... defines a function", 1),  # the parenthesis, not the function's name
        ("2*(x + max (x, y", "'(' is never closed", 12),  # the innermost one still open
    ],
)
def test_syntax_errors_name_the_problem_and_column(text, message, column):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert message in caught.value.message
    assert caught.value.column == column
    assert f"column {column}" in caught.value.message
    caret_line = caught.value.detail.splitlines()[-1]
    assert caret_line.index("^") == 2 + column - 1  # two spaces of indent, then the caret


def test_errors_in_staged_programs_give_the_line():
    with pytest.raises(ParseError) as caught:
        parse("q = x + y\nf = q * * z")
    assert "line 2, column 9" in caught.value.message


def test_unicode_lookalikes_are_named():
    with pytest.raises(ParseError, match=r"MINUS SIGN.*did you mean '-'"):
        parse("x − y")


def test_deep_nesting_is_iterative():
    depth = 20_000
    program = parse("(" * depth + "x" + ")" * depth)
    assert echo(program) == "x"
    program = parse("tanh(" * depth + "x" + ")" * depth)
    assert len(program.gates) == depth + 1


def test_nesting_limit_is_a_clear_error():
    with pytest.raises(LimitError, match="nested more than"):
        parse("(" * (MAX_NESTING + 5) + "x" + ")" * (MAX_NESTING + 5))


def test_long_sum_echo_is_linear():
    terms = 100_000
    text = "+".join(["x"] * terms)
    assert echo(parse(text)).count("x") == terms
