"""Text -> syntax tree, safely.

The grammar is the arithmetic subset of Python/SymPy that the course uses::

    program    := statement ((';' | newline) statement)*
    statement  := [NAME '='] expr
    expr       := numbers, names, + - * / ** (^ is read as **), unary -/+, ( ), gate calls

Nothing here evaluates text: the tokenizer is one regular expression, the parser is an
operator-precedence (shunting-yard) loop with explicit stacks, so nesting depth costs heap
memory instead of Python recursion. The parser builds the computational graph itself, as
flat parallel lists in post-order (already a topological order): a variable used several
times is one node, and a staged name refers to the node its statement computed. The graph
adopts these lists as they are; nothing is copied or walked a second time.

Precedence follows Python: ``**`` binds tighter than unary minus on its left
(``-x**2`` is ``-(x**2)``) and is right-associative; ``* /`` bind tighter than ``+ -``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import LimitError, ParseError, printable
from .gates import CONST, GATES, INPUT, OPERATORS, Gate
from .i18n import _

#: Longest source text accepted, in characters.
MAX_SOURCE_CHARS = 10_000_000
#: Most syntax-tree nodes accepted (numbers, names and operations).
MAX_NODES = 2_000_000
#: Deepest nesting of parentheses, calls, unary minus and right-associative powers.
MAX_NESTING = 100_000

_TOKEN = re.compile(
    r"[ \t\r\f]*(?:"
    r"(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<op>\*\*|[-+*/^(),=;\n])"
    r"|(?P<assign>[A-Za-z_][A-Za-z0-9_]*)[ \t\r\f]*="  # 'name =' (an assignment where a statement starts)
    r"|(?P<call>[A-Za-z_][A-Za-z0-9_]*)[ \t\r\f]*\("  # 'name(' (a gate call)
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<comment>\#[^\n]*)"
    r"|(?P<bad>.)"
    r"|(?P<end>$))",
    re.DOTALL | re.ASCII,  # ASCII digits only: a full-width "２" is named as a look-alike
)

#: what follows 'name(' in a function definition, 'f(x) = ...' (a call is never assigned to)
_DEFINITION = re.compile(r"[^()\n;=]*\)[ \t\r\f]*=")

#: operator -> (precedence, how far it reduces): an arriving operator turns every stacked
#: operator that binds tighter than the second number into a node first. That is every one
#: of equal precedence too for left-associative + - * /, but not for right-associative **.
_BINARY = {"+": (1, 0.5), "-": (1, 0.5), "*": (2, 1.5), "/": (2, 1.5), "**": (4, 4), "^": (4, 4)}
_NEG_PRECEDENCE = 3  # between * and **, as in Python
_OPERATOR_GATES = {symbol: GATES[name] for symbol, name in {**OPERATORS, "^": "pow"}.items()}

# operator-stack entry kinds: the first two are operators, the last two open a parenthesis
# (with precedence 0, so that no operator reduces past them)
_BIN, _NEG, _PAREN, _CALL = range(4)


@dataclass
class Program:
    """A parsed program: the graph's nodes in post-order plus the statements that name them."""

    source: str
    #: per node: CONST (a number), INPUT (a variable) or the gate it applies
    gates: list[Gate] = field(default_factory=list)
    #: per node: indices of its operand nodes
    args: list[tuple[int, ...]] = field(default_factory=list)
    #: per node: the literal text, the variable name, or the operator or function as written
    texts: list[str] = field(default_factory=list)
    #: per node: offset in source (of its first use, for a variable)
    offsets: list[int] = field(default_factory=list)
    #: per node: does it depend on some input or on a staged name (other constant
    #: subtrees need no gradient)?
    needs_grad: list[bool] = field(default_factory=list)
    #: node -> literal text, for every number
    literals: dict[int, str] = field(default_factory=dict)
    #: variable name -> node, in order of first use
    inputs: dict[str, int] = field(default_factory=dict)
    #: staged name -> node
    names: dict[str, int] = field(default_factory=dict)
    #: (assigned name or None, root node, offset) per statement
    statements: list[tuple[str | None, int, int]] = field(default_factory=list)
    #: leaf number (numbers and names counted in source order) -> the name written there,
    #: where the node's own spelling differs: after 'q = x', a later 'q' is node x
    spelled: dict[int, str] = field(default_factory=dict)
    #: True when '^' was read as a power
    caret_power: bool = False

    def add(self, gate: Gate, args: tuple[int, ...], text: str, offset: int) -> int:
        """Append one node (after its operands) and return its index."""
        index = len(self.gates)
        if index >= MAX_NODES:
            raise _too_many_nodes()
        self.gates.append(gate)
        self.args.append(args)
        self.texts.append(text)
        self.offsets.append(offset)
        needs_grad = self.needs_grad
        self.needs_grad.append(any([needs_grad[j] for j in args]))
        return index


def short_name(name: str) -> str:
    """A user's name for a message: a name of 100,000 letters is cut to its start, and
    characters a terminal would not show (a NUL in a --values key) become '?'."""
    name = printable(name)
    if len(name) <= 40:
        return name
    return _("{start}... ({count:,} characters)").format(start=name[:20], count=len(name))


def _too_many_nodes() -> LimitError:
    return LimitError(_("expression has more than {limit:,} nodes (the limit)").format(limit=MAX_NODES))


def _describe(token: str) -> str:
    if token == "\n":
        return _("end of line")
    if token == "":
        return _("end of input")
    return repr(token)


def _bad_character(source: str, char: str, offset: int) -> ParseError:
    import unicodedata

    name = unicodedata.name(char, f"U+{ord(char):04X}")
    plain = unicodedata.normalize("NFKC", char)
    if plain != char and plain.isascii() and plain.strip():
        meant = plain
    else:
        meant = "-" if char in "−–—" else "*" if char in "×·" else "/" if char == "÷" else ""
    if meant:
        message = _("unexpected character {char!r} ({name}); did you mean {meant!r}?")
    else:
        message = _("unexpected character {char!r} ({name})")
    return ParseError(message.format(char=char, name=name, meant=meant), source, offset)


def tokenize(source: str) -> Iterator[tuple[str, str, int]]:
    """Yield (kind, text, offset); kind is 'num', 'name', 'op' or 'end'. Raises ParseError."""
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        text = match.group(kind)
        offset = match.start(kind)
        if kind == "comment":
            continue
        if kind == "bad":
            raise _bad_character(source, text, offset)
        if kind in ("call", "assign"):  # the parser reads these two tokens as one
            yield "name", text, offset
            yield "op", match.group()[-1], match.end() - 1
            continue
        yield kind, text, offset
        if kind == "end":
            return


def parse(source: str) -> Program:
    """Parse a program (one expression, or ``;``/newline separated statements) into its graph.

    One loop over the tokens (a shunting-yard with an explicit operator stack): operands go
    to ``output`` as node indices; an operator waits on ``stack`` until one of lower
    precedence (or a closing parenthesis) arrives, then becomes a node over the last two
    outputs. Statements end at ``;``, at a newline outside parentheses and at the end.
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise LimitError(
            _("expression is {length:,} characters long (limit {limit:,})").format(
                length=len(source), limit=MAX_SOURCE_CHARS
            )
        )
    program = Program(source)
    # nodes are appended in place (a method call per node costs ~20%); calls use program.add
    gates, args, texts, offsets = program.gates, program.args, program.texts, program.offsets
    needs, literals, inputs = program.needs_grad, program.literals, program.inputs
    known: dict[str, int] = {}  # every input and staged name so far -> its node
    aliases: set[str] = set()  # staged names of a node that has a spelling of its own (q = x)
    leaves = 0  # numbers and names read so far (program.spelled counts them)
    # every node comes from a token of its own, so a source no longer than MAX_NODES
    # characters cannot have too many nodes: the check per node is skipped then
    may_overflow = len(source) > MAX_NODES
    output: list[int] = []  # node indices not yet used as an operand
    stack: list[tuple] = []  # (kind, precedence, payload, offset)
    expect_operand = True  # False right after a number, a name or a ')'
    previous = ""  # the token before this one in the statement ("" at its start)
    open_parens = 0
    name: str | None = None  # the name assigned by this statement
    name_offset = 0
    start = 0  # offset of the statement's expression
    first = 0  # the first node of the statement

    def reduce(entry: tuple) -> None:
        """Turn an operator from the stack into a node over its operands (appended in place,
        as program.add would)."""
        kind, _precedence, payload, offset = entry
        if may_overflow and len(gates) >= MAX_NODES:
            raise _too_many_nodes()
        if kind == _BIN:
            right = output.pop()
            left = output[-1]
            gates.append(_OPERATOR_GATES[payload])
            args.append((left, right))
            needs.append(needs[left] or needs[right])
            texts.append(payload)
            output[-1] = len(gates) - 1
        else:  # _NEG
            operand = output.pop()
            gates.append(GATES["neg"])
            args.append((operand,))
            needs.append(needs[operand])
            texts.append("-")
            output.append(len(gates) - 1)
        offsets.append(offset)

    def push(entry: tuple) -> None:
        if len(stack) >= MAX_NESTING:
            raise LimitError(
                _("expression is nested more than {limit:,} levels deep (the limit)").format(limit=MAX_NESTING)
            )
        stack.append(entry)

    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        text = match[kind]
        if expect_operand:
            if not previous:
                start = match.start(kind)
                first = len(gates)
            if kind == "num":
                node = len(gates)
                if may_overflow and node >= MAX_NODES:
                    raise _too_many_nodes()
                literals[node] = text
                output.append(node)
                gates.append(CONST)
                args.append(())
                needs.append(False)
                texts.append(text)
                offsets.append(match.start(kind))
                leaves += 1
                expect_operand = False
            elif kind == "name":
                node = known.get(text)
                if node is None:  # a new input
                    if text in GATES:
                        _check_next_character(source, match.end())  # 'exp＋': name the '＋' first
                        raise ParseError(_is_a_function(text), source, match.start(kind))
                    if may_overflow and len(gates) >= MAX_NODES:
                        raise _too_many_nodes()
                    node = known[text] = inputs[text] = len(gates)
                    gates.append(INPUT)
                    args.append(())
                    needs.append(True)
                    texts.append(text)
                    offsets.append(match.start(kind))
                elif aliases and text in aliases:
                    program.spelled[leaves] = text
                output.append(node)
                leaves += 1
                expect_operand = False
            elif kind == "call":
                if text not in GATES:
                    if _DEFINITION.match(source, match.end()):  # f(x) = x**2
                        message = _("{name}(...) = ... defines a function, which a program cannot do "
                                    "(write {name} = EXPRESSION to name a value)").format(name=short_name(text))
                        raise ParseError(message, source, match.start(kind))
                    raise ParseError(_unknown_function(text), source, match.start(kind))
                push((_CALL, 0, [text, 1], match.start(kind)))
                open_parens += 1
                text = "("
            elif text == "(":
                push((_PAREN, 0, None, match.start(kind)))
                open_parens += 1
            elif text == "-":
                push((_NEG, _NEG_PRECEDENCE, None, match.start(kind)))
            elif text == "+":
                pass  # unary plus changes nothing
            elif kind == "assign":
                if previous or name is not None:  # '=' inside an expression
                    if text in GATES:
                        raise ParseError(_is_a_function(text), source, match.start(kind))
                    raise ParseError(_misplaced_equals(), source, match.end() - 1)
                if text in GATES:
                    message = _("cannot assign to {name!r}: it is a gate name").format(name=text)
                    raise ParseError(message, source, match.start(kind))
                name, name_offset = text, match.start(kind)
                continue  # the expression starts after the '='
            elif (text == ";" or text == "\n") and not previous and name is None:
                continue  # an empty statement
            elif text == "\n" and (previous or stack):
                pass  # a line may end after an operator or inside parentheses
            elif kind == "end" and not previous and name is None:
                break
            elif text == ")" and previous == "(" and stack[-1][0] == _CALL:
                message = _("{name}() needs an argument").format(name=stack[-1][2][0])
                raise ParseError(message, source, match.start(kind))
            elif kind == "comment":
                continue
            elif kind == "bad":
                raise _bad_character(source, text, match.start(kind))
            else:
                if previous:
                    message = _("expected a number, a name or '(' but found {found} after {previous!r}")
                else:
                    message = _("expected a number, a name or '(' but found {found}")
                raise ParseError(message.format(found=_describe(text), previous=previous), source, match.start(kind))
        elif (binary := _BINARY.get(text)) is not None:  # first reduce what binds tighter
            precedence, reduces_above = binary
            while stack and stack[-1][1] > reduces_above:
                top = stack.pop()
                if top[0] == _BIN:  # the commonest reduction, written out (as reduce() does it)
                    if may_overflow and len(gates) >= MAX_NODES:
                        raise _too_many_nodes()
                    right = output.pop()
                    left = output[-1]
                    gates.append(_OPERATOR_GATES[top[2]])
                    args.append((left, right))
                    needs.append(needs[left] or needs[right])
                    texts.append(top[2])
                    offsets.append(top[3])
                    output[-1] = len(gates) - 1
                else:
                    reduce(top)
            if text == "^":
                program.caret_power = True
            if len(stack) >= MAX_NESTING:
                push(())  # raises the nesting error
            stack.append((_BIN, precedence, text, match.start(kind)))
            expect_operand = True
        elif text == ")" or text == ",":
            while stack and stack[-1][1] > 0:  # every operator since the parenthesis
                reduce(stack.pop())
            if not stack:
                what = _("unmatched ')'") if text == ")" else _("',' outside a function call")
                raise ParseError(what, source, match.start(kind))
            top = stack[-1]
            if text == ",":
                if top[0] != _CALL:
                    raise ParseError(_("',' outside a function call"), source, match.start(kind))
                top[2][1] += 1
                expect_operand = True
            else:
                stack.pop()
                open_parens -= 1
                if top[0] == _CALL:
                    _call(program, output, top)
        elif text == "\n" and open_parens:
            pass  # newlines inside parentheses continue the statement
        elif kind == "end" or text == ";" or text == "\n":
            while stack:  # the statement is complete
                entry = stack.pop()
                if entry[0] >= _PAREN:  # point at the parenthesis itself, after a call's name
                    offset = source.index("(", entry[3]) if entry[0] == _CALL else entry[3]
                    raise ParseError(_("'(' is never closed"), source, offset)
                reduce(entry)
            root = output.pop()
            if name is not None:
                _assign(program, name, name_offset, root)
                known[name] = root
                needs[root] = True  # a named value gets its gradient, constant or not (--wrt q)
                if root < first or gates[root] is INPUT:  # 'q = x': later uses of q are node x
                    aliases.add(name)
            program.statements.append((name, root, start))
            if kind == "end":
                break
            expect_operand, previous, name = True, "", None
            continue
        elif kind == "comment":
            continue
        elif kind == "bad":
            raise _bad_character(source, text, match.start(kind))
        elif text == "=":
            raise ParseError(_misplaced_equals(), source, match.start(kind))
        else:
            raise ParseError(_missing_operator(kind, text, previous), source, match.start(kind))
        previous = text

    if not program.statements:
        raise ParseError(_("empty expression"), source, 0)
    return program


def _assign(program: Program, name: str, offset: int, root: int) -> None:
    """Record a staged name for the node its statement computed."""
    if name in program.names:
        raise ParseError(_("{name!r} is assigned twice").format(name=short_name(name)), program.source, offset)
    if name in program.inputs:
        raise ParseError(
            _("{name!r} is used before it is assigned (a name is either an input or "
              "assigned once before its first use)").format(name=short_name(name)),
            program.source,
            program.offsets[program.inputs[name]],
        )
    program.names[name] = root


#: names other tools and textbooks use for our gates
_SYNONYMS = {"ln": "log", "sigma": "sigmoid", "logistic": "sigmoid", "maximum": "max", "minimum": "min", "fabs": "abs"}


def _unknown_function(name: str) -> str:
    known = ", ".join(sorted(GATES))
    meant = _SYNONYMS.get(name.lower()) or (name.lower() if name.lower() in GATES else None)
    if meant is None:
        import difflib

        close = difflib.get_close_matches(name, list(GATES), n=1, cutoff=0.75)
        meant = close[0] if close else None
    if meant:
        return _("unknown function {name!r}: did you mean {meant!r}? (known: {known})").format(
            name=short_name(name), meant=meant, known=known
        )
    return _("unknown function {name!r} (known: {known})").format(name=short_name(name), known=known)


def _missing_operator(kind: str, text: str, previous: str) -> str:
    """Two operands side by side: name the fix for what was written."""
    if kind == "assign":  # 'q = x*2 f = q + 1'
        return _("missing ';' or line break before {found} (statements are separated by ';' or new lines)").format(
            found=repr(text)
        )
    found = _describe(text)
    if kind in ("num", "name", "call") and previous not in ("", ")"):
        right = f"{text}(...)" if kind == "call" else text
        left, right = short_name(previous), short_name(right)
        return _("missing operator before {found} (write {left}*{right} to multiply)").format(
            found=found, left=left, right=right
        )
    return _("missing operator before {found} (write * to multiply: 2*x, (a)*(b))").format(found=found)


def _is_a_function(name: str) -> str:
    return _("{name!r} is a function: write {name}(...)").format(name=name)


def _misplaced_equals() -> str:
    return _("'=' may only follow a name at the start of a statement")


def _check_next_character(source: str, offset: int) -> None:
    """Raise the unexpected-character error if the token at offset (after a comment) is one."""
    following = _TOKEN.match(source, offset)
    if following.lastgroup == "comment":
        following = _TOKEN.match(source, following.end())
    if following.lastgroup == "bad":
        raise _bad_character(source, following.group("bad"), following.start("bad"))


def _call(program: Program, output: list[int], entry: tuple) -> None:
    _kind, _precedence, (name, count), offset = entry
    gate = GATES[name]  # the call's own spelling stays in texts (the echo writes add(x, y) back)
    if gate.arity is None and count < 2:
        message = _("{name}() needs at least 2 arguments, got {count}").format(name=name, count=count)
        raise ParseError(message, program.source, offset)
    if gate.arity is not None and count != gate.arity:
        if gate.arity == 1:
            message = _("{name}() takes 1 argument, got {count}")
        else:
            message = _("{name}() takes {arity} arguments, got {count}")
        raise ParseError(message.format(name=name, arity=gate.arity, count=count), program.source, offset)
    if count == 1:
        operands: tuple[int, ...] = (output.pop(),)
    else:
        operands = tuple(output[len(output) - count :])
        del output[len(output) - count :]
    output.append(program.add(gate, operands, name, offset))


def echo(program: Program) -> str:
    """The program fully parenthesised (``((x + y) * z)``), so precedence is visible.

    Built with an explicit stack: deep nesting costs no recursion and long sums no
    quadratic string building. Arguments of calls are not wrapped a second time. A node
    that an earlier statement computed is written as the name that statement gave it.
    """
    gates, args, texts, spelled = program.gates, program.args, program.texts, program.spelled
    symbols = {name: f" {gate.symbol} " for name, gate in GATES.items() if gate.symbol}
    referenced: dict[int, str] = {}  # the root of each earlier named statement -> its name
    leaves = 0  # numbers and names written so far (program.spelled counts them)
    pieces: list[str] = []
    for index, (name, root, _offset) in enumerate(program.statements):
        if index:
            pieces.append("; ")
        if name is not None:
            pieces.append(f"{name} = ")
        plain = not referenced and not spelled  # a leaf is its own text: write it at once
        # the stack holds text still to write (str) and nodes still to spell out: (node, bare),
        # bare being True for call arguments, False for operands of an operator, None at the top
        stack: list = [(root, None)]  # None: the whole statement (operators keep their parentheses)
        while stack:
            item = stack.pop()
            if type(item) is str:
                pieces.append(item)
                continue
            node, bare = item
            operands = args[node]
            if not operands or node in referenced:  # a number, a name, or an earlier statement
                text = referenced.get(node) or texts[node]
                if spelled:
                    text = spelled.get(leaves, text)
                    leaves += 1
                pieces.append(text)
                continue
            gate = gates[node]
            if gate.name == "neg":
                operand = operands[0]
                if gates[operand].name == "neg" and operand not in referenced:
                    inner = [")", (operand, True), "-("]
                else:
                    inner = [(operand, False), "-"]
                # an operand of an operator gets parentheses: (-x) ** 2 is not -(x ** 2)
                stack += [")", *inner, "("] if bare is False else inner
            elif gate.symbol and texts[node] != gate.name:  # written as an operator: (a + b)
                left, right = operands
                if plain:  # a number or a name goes on the stack as its text straight away
                    left = (left, False) if args[left] else texts[left]
                    right = (right, False) if args[right] else texts[right]
                else:
                    left, right = (left, False), (right, False)
                symbol = symbols[gate.name]
                if bare:
                    stack += [right, symbol, left]
                else:
                    stack += [")", right, symbol, left, "("]
            else:  # a call: its arguments are not wrapped a second time
                stack.append(")")
                for position, operand in enumerate(reversed(operands)):
                    if position:
                        stack.append(", ")
                    stack.append((operand, True))
                stack.append(f"{texts[node]}(")
        if name is not None and gates[root] is not INPUT:
            referenced.setdefault(root, name)
    return "".join(pieces)
