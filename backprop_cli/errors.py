"""Errors a user can act on.

Every problem caused by the input is a :class:`BackpropError` (a ``ValueError``) whose
message says what was wrong, where, and what to do. The CLI prints the message as one line
on standard error and exits with code 2.
"""

from __future__ import annotations

from .i18n import _


class BackpropError(ValueError):
    """Base class of every error caused by the user's input."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: optional extra lines shown under the message (e.g. the source line and a caret)
        self.detail = detail


class ParseError(BackpropError):
    """The expression text is not valid; carries the 0-based offset of the problem."""

    def __init__(self, message: str, source: str, offset: int) -> None:
        located, detail = place(message, source, offset)
        super().__init__(located, detail=detail)
        self.offset = offset
        self.line, self.column, _text = locate(source, offset)


class LimitError(BackpropError):
    """The input is larger than a documented limit."""


class InputError(BackpropError):
    """A value, a name or an option is missing or malformed."""


class DomainError(BackpropError):
    """A gate was asked for a value outside its domain (log(-1), division by zero, ...)."""


def printable(text: str) -> str:
    """Text from a user as a message may show it: control characters and lone surrogates
    (which no terminal, UTF-8 output or XML document can carry) become '?'."""
    return text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)


def place(message: str, source: str, offset: int) -> tuple[str, str]:
    """The message with "at column 7" added, and the detail lines: the source line, a caret."""
    line, column, text = locate(source, offset)
    where = position_text(source, line, column)
    shown = text if len(text) <= 120 else text[max(0, column - 60) : column + 60]
    caret_at = column - 1 if len(text) <= 120 else min(column - 1, 60)
    shown = printable(shown)  # no raw control bytes
    located = _("{message} at {where}").format(message=message, where=where)
    return located, f"  {shown}\n  {' ' * caret_at}^"


def locate(source: str, offset: int) -> tuple[int, int, str]:
    """Return (1-based line, 1-based column, text of that line) for an offset in source."""
    offset = max(0, min(offset, len(source)))
    line_start = source.rfind("\n", 0, offset) + 1
    line_end = source.find("\n", offset)
    if line_end == -1:
        line_end = len(source)
    line = source.count("\n", 0, offset) + 1
    return line, offset - line_start + 1, source[line_start:line_end]


def position_text(source: str, line: int, column: int) -> str:
    """Where a place is, for a message: "column 7", or "line 2, column 7" in a multi-line source."""
    if "\n" not in source:
        return _("column {column}").format(column=column)
    return _("line {line}, column {column}").format(line=line, column=column)
