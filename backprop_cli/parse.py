"""Text -> syntax tree, safely.

The grammar is the arithmetic subset of Python/SymPy that the course uses::

    program    := statement ((';' | newline) statement)*
    statement  := [NAME '='] expr
    expr       := numbers, names, + - * / ** (^ is read as **), unary -/+, ( ), gate calls

Nothing here evaluates text: the tokenizer is one regular expression, the parser is an
operator-precedence (shunting-yard) loop with explicit stacks, so nesting depth costs heap
memory instead of Python recursion. The syntax tree comes out as flat parallel lists in
post-order, which is already a topological order for the graph.

Precedence follows Python: ``**`` binds tighter than unary minus on its left
(``-x**2`` is ``-(x**2)``) and is right-associative; ``* /`` bind tighter than ``+ -``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .errors import LimitError, ParseError
from .gates import GATES, OPERATORS

#: Longest source text accepted, in characters.
MAX_SOURCE_CHARS = 10_000_000
#: Most syntax-tree nodes accepted (numbers, names and operations).
MAX_NODES = 2_000_000
#: Deepest nesting of parentheses, calls, unary minus and right-associative powers.
MAX_NESTING = 100_000

_TOKEN = re.compile(
    r"[ \t\r\f]*(?:"
    r"(?P<comment>\#[^\n]*)"
    r"|(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),=;\n])"
    r"|(?P<bad>.)"
    r"|(?P<end>$))",
    re.DOTALL,
)

_BINARY = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), "**": (4, True), "^": (4, True)}
_NEG_PRECEDENCE = 3  # between * and **, as in Python

# operator-stack entry kinds
_BIN, _NEG, _PAREN, _CALL = range(4)


@dataclass
class Program:
    """A parsed program: post-order syntax nodes plus the statements that name them."""

    source: str
    #: per node: "num", "var", or a gate name
    ops: list[str] = field(default_factory=list)
    #: per node: indices of its operand nodes
    args: list[tuple[int, ...]] = field(default_factory=list)
    #: per node: the literal text, the variable name, or the operator as written
    texts: list[str] = field(default_factory=list)
    #: per node: offset in source
    offsets: list[int] = field(default_factory=list)
    #: (assigned name or None, root node, offset) per statement
    statements: list[tuple[str | None, int, int]] = field(default_factory=list)
    #: True when '^' was read as a power
    caret_power: bool = False

    def add(self, op: str, args: tuple[int, ...], text: str, offset: int) -> int:
        if len(self.ops) >= MAX_NODES:
            raise LimitError(f"expression has more than {MAX_NODES:,} nodes (the limit)")
        self.ops.append(op)
        self.args.append(args)
        self.texts.append(text)
        self.offsets.append(offset)
        return len(self.ops) - 1


def _describe(token: str) -> str:
    if token == "\n":
        return "end of line"
    if token == "":
        return "end of input"
    return repr(token)


def _bad_character(source: str, char: str, offset: int) -> ParseError:
    name = unicodedata.name(char, f"U+{ord(char):04X}")
    hint = ""
    plain = unicodedata.normalize("NFKC", char)
    if plain != char and plain.isascii() and plain.strip():
        hint = f"; did you mean {plain!r}?"
    elif char in "−–—":
        hint = "; did you mean '-'?"
    elif char in "×·":
        hint = "; did you mean '*'?"
    elif char == "÷":
        hint = "; did you mean '/'?"
    return ParseError(f"unexpected character {char!r} ({name}){hint}", source, offset)


def tokenize(source: str):
    """Yield (kind, text, offset); kind is 'num', 'name', 'op' or 'end'. Raises ParseError."""
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        text = match.group(kind)
        offset = match.start(kind)
        if kind == "comment":
            continue
        if kind == "bad":
            raise _bad_character(source, text, offset)
        yield kind, text, offset
        if kind == "end":
            return


def parse(source: str) -> Program:
    """Parse a program (one expression, or ``;``/newline separated statements)."""
    if len(source) > MAX_SOURCE_CHARS:
        raise LimitError(f"expression is {len(source):,} characters long (limit {MAX_SOURCE_CHARS:,})")
    program = Program(source)
    tokens = tokenize(source)
    token = next(tokens)
    while token[0] != "end":
        if token[1] in (";", "\n"):
            token = next(tokens)
            continue
        name = None
        start = token[2]
        if token[0] == "name":
            following = next(tokens)
            if following[1] == "=":
                name = token[1]
                if name in GATES:
                    raise ParseError(f"cannot assign to {name!r}: it is a gate name", source, start)
                token = next(tokens)
                start = token[2]
            else:
                tokens = _prepend(following, tokens)
        root, token = _expression(program, token, tokens)
        program.statements.append((name, root, start))
    if not program.statements:
        raise ParseError("empty expression", source, 0)
    return program


def _prepend(first, rest):
    yield first
    yield from rest


def _expression(program: Program, token, tokens):
    """Shunting-yard over one statement; returns (root node, the token that ended it)."""
    source = program.source
    output: list[int] = []
    stack: list[tuple] = []  # (kind, precedence, payload, offset)
    expect_operand = True
    previous = ""
    open_parens = 0

    def reduce(entry) -> None:
        kind, _, payload, offset = entry
        if kind == _BIN:
            right = output.pop()
            left = output.pop()
            output.append(program.add(OPERATORS.get(payload, "pow"), (left, right), payload, offset))
        else:  # _NEG
            output.append(program.add("neg", (output.pop(),), "-", offset))

    def push(entry) -> None:
        if len(stack) >= MAX_NESTING:
            raise LimitError(f"expression is nested more than {MAX_NESTING:,} levels deep (the limit)")
        stack.append(entry)

    while True:
        kind, text, offset = token
        if expect_operand:
            if kind == "num":
                output.append(program.add("num", (), text, offset))
                expect_operand = False
            elif kind == "name":
                following = next(tokens)
                if following[1] == "(":
                    if text not in GATES:
                        known = ", ".join(sorted(GATES))
                        raise ParseError(f"unknown function {text!r} (known: {known})", source, offset)
                    push((_CALL, 0, [text, 1], offset))
                    open_parens += 1
                    token = next(tokens)
                    if token[1] == ")":
                        raise ParseError(f"{text}() needs an argument", source, token[2])
                    previous = "("
                    continue
                if text in GATES:
                    raise ParseError(f"{text!r} is a function: write {text}(...)", source, offset)
                output.append(program.add("var", (), text, offset))
                expect_operand = False
                token = following
                previous = text
                continue
            elif text == "(":
                push((_PAREN, 0, None, offset))
                open_parens += 1
            elif text == "-":
                push((_NEG, _NEG_PRECEDENCE, None, offset))
            elif text == "+":
                pass  # unary plus changes nothing
            elif text == "\n" and (previous or stack):
                pass  # a line may end after an operator or inside parentheses
            else:
                after = f" after {previous!r}" if previous else ""
                raise ParseError(
                    f"expected a number, a name or '(' but found {_describe(text)}{after}", source, offset
                )
        elif text in _BINARY:
            precedence, right_assoc = _BINARY[text]
            while stack and stack[-1][0] in (_BIN, _NEG) and (
                stack[-1][1] > precedence or (stack[-1][1] == precedence and not right_assoc)
            ):
                reduce(stack.pop())
            if text == "^":
                program.caret_power = True
            push((_BIN, precedence, text, offset))
            expect_operand = True
        elif text == ")" or text == ",":
            while stack and stack[-1][0] in (_BIN, _NEG):
                reduce(stack.pop())
            if not stack:
                what = "unmatched ')'" if text == ")" else "',' outside a function call"
                raise ParseError(what, source, offset)
            top = stack[-1]
            if text == ",":
                if top[0] != _CALL:
                    raise ParseError("',' outside a function call", source, offset)
                top[2][1] += 1
                expect_operand = True
            else:
                stack.pop()
                open_parens -= 1
                if top[0] == _CALL:
                    _call(program, output, top)
        elif text == "\n" and open_parens:
            pass  # newlines inside parentheses continue the statement
        elif kind == "end" or text in (";", "\n"):
            break
        elif text == "=":
            raise ParseError("'=' may only follow a name at the start of a statement", source, offset)
        else:
            raise ParseError(
                f"missing operator before {_describe(text)} (write 2*x, not 2x)", source, offset
            )
        previous = text
        token = next(tokens)

    if expect_operand:
        raise ParseError(f"expression ends early: expected a value after {previous!r}", source, token[2])
    while stack:
        entry = stack.pop()
        if entry[0] in (_PAREN, _CALL):
            raise ParseError("'(' is never closed", source, entry[3])
        reduce(entry)
    return output[-1], token


def _call(program: Program, output: list[int], entry) -> None:
    _, _, (name, count), offset = entry
    gate = GATES[name]
    if gate.arity is None and count < 2:
        raise ParseError(f"{name}() needs at least 2 arguments, got {count}", program.source, offset)
    if gate.arity is not None and count != gate.arity:
        plural = "s" if gate.arity != 1 else ""
        raise ParseError(
            f"{name}() takes {gate.arity} argument{plural}, got {count}", program.source, offset
        )
    operands = tuple(output[len(output) - count :])
    del output[len(output) - count :]
    output.append(program.add(name, operands, name, offset))


def echo(program: Program) -> str:
    """The program fully parenthesised (``((x + y) * z)``), so precedence is visible.

    Built with an explicit stack: deep nesting costs no recursion and long sums no
    quadratic string building. Arguments of calls are not wrapped a second time.
    """
    ops, args, texts = program.ops, program.args, program.texts
    pieces: list[str] = []
    for index, (name, root, _) in enumerate(program.statements):
        if index:
            pieces.append("; ")
        if name is not None:
            pieces.append(f"{name} = ")
        stack: list = [(root, False)]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                pieces.append(item)
                continue
            node, bare = item
            op = ops[node]
            if op in ("num", "var"):
                pieces.append(texts[node])
            elif op == "neg":
                operand = args[node][0]
                if ops[operand] == "neg":
                    stack += [")", (operand, False), "-("]
                else:
                    stack += [(operand, False), "-"]
            elif GATES[op].symbol and texts[node] != op:  # written as an operator
                left, right = args[node]
                stack += [")" if not bare else "", (right, False), f" {GATES[op].symbol} ", (left, False)]
                stack.append("(" if not bare else "")
            else:
                stack.append(")")
                for position, operand in enumerate(reversed(args[node])):
                    if position:
                        stack.append(", ")
                    stack.append((operand, True))
                stack.append(f"{op}(")
    return "".join(pieces)
