"""Numbers: reading user values, exact fractions with bounded size, and display."""

from __future__ import annotations

import math
import re
from decimal import Context, Decimal
from fractions import Fraction

from .errors import InputError, LimitError
from .i18n import _

Number = float | Fraction | int

#: Exact mode refuses numbers whose numerator or denominator exceeds this many bits
#: (about 3,000 decimal digits): beyond it arithmetic gets slow without teaching anything.
MAX_EXACT_BITS = 10_000
#: A decimal exponent larger than this in exact mode would build a gigantic integer.
MAX_EXACT_EXPONENT = 3_000
#: Budget of one exact forward or backward pass: the sum over its results of their size in
#: bits, squared (keeping a fraction in lowest terms costs about that). 5e11 is about a second
#: here; it stops chains whose fractions grow a little at every step (bench/bench_exact.py).
MAX_EXACT_WORK = 5 * 10**11
#: Longest numeric literal accepted (a float holds 17 significant digits).
MAX_LITERAL_CHARS = 400

_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_VALUE = re.compile(rf"\s*({_DECIMAL})(?:\s*/\s*({_DECIMAL}))?\s*", re.ASCII)


def parse_number(text: str, exact: bool, what: str | None = None) -> Number:
    """Read an integer, decimal, exponent or fraction (``11/5``) written by a user.

    In exact mode the result is a Fraction that keeps the decimal meaning (2.2 is 11/5);
    otherwise a float. ``what`` names the value in error messages (default: "value").
    """
    what = what or _("value")
    match = _VALUE.fullmatch(text)
    if not match:
        shown = text if len(text) <= 40 else _("{start}... ({count:,} characters)").format(start=text[:20], count=len(text))
        if re.search(r"[,;]\s*[A-Za-z_]\w*\s*=", text):  # x=1,y=2 or x=1;y=2: several values run together
            message = _("{what} {text!r} is not a number: give each value as a word of its own (x=1 y=2)")
        else:
            message = _("{what} {text!r} is not a number (use forms like 3, -2.5, 1e-3 or 11/5)")
        raise InputError(message.format(what=what, text=shown))
    numerator, denominator = match.group(1), match.group(2)
    value = literal(numerator, exact)
    if denominator is not None:
        divisor = literal(denominator, exact)
        if divisor == 0:
            raise InputError(_("{what} {text!r} divides by zero").format(what=what, text=text))
        value = value / divisor
        check_finite(value, what)
    return value


def literal(text: str, exact: bool) -> Number:
    """Convert a decimal literal (already known to be well formed) to a number."""
    if len(text) > MAX_LITERAL_CHARS:
        raise LimitError(
            _("number literal is {length} characters long (limit {limit})").format(length=len(text), limit=MAX_LITERAL_CHARS)
        )
    if exact:
        exponent = re.search(r"[eE]([+-]?\d+)", text)
        if exponent and abs(int(exponent.group(1))) > MAX_EXACT_EXPONENT:
            raise LimitError(
                _("exponent in {text!r} is too large for exact arithmetic (limit 1e{limit})").format(
                    text=text, limit=MAX_EXACT_EXPONENT
                )
            )
        return Fraction(text)
    value = float(text)
    if not math.isfinite(value):
        check_finite(value, _("number {text!r}").format(text=text))  # raises
    if value == 0 and any(digit in "123456789" for digit in re.split("[eE]", text)[0]):
        raise LimitError(
            _("number {text!r} is too small for a floating-point number (it would be read as 0); "
              "exact arithmetic holds it (grad --exact)").format(text=text)
        )
    return value


def check_finite(value: Number, what: str) -> None:
    """LimitError naming ``what`` when a float overflowed to infinity (or is NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise LimitError(_("{what} is too large for a floating-point number").format(what=what))


def check_exact_size(value: Number) -> None:
    """Refuse fractions that grew past MAX_EXACT_BITS (keeps --exact fast and bounded)."""
    if isinstance(value, Fraction) and (
        value.numerator.bit_length() > MAX_EXACT_BITS or value.denominator.bit_length() > MAX_EXACT_BITS
    ):
        raise LimitError(
            _("exact value needs more than {limit} bits; drop --exact to use floats").format(limit=MAX_EXACT_BITS)
        )


class ExactBudget:
    """Keeps one pass of exact arithmetic bounded in size and in total work."""

    def __init__(self) -> None:
        self.spent = 0
        self.steps = 0

    def spend(self, value: Number) -> None:
        """Account for one exact result; LimitError when it or the pass grew too large."""
        if not isinstance(value, Fraction):
            return
        check_exact_size(value)
        bits = max(value.numerator.bit_length(), value.denominator.bit_length())
        self.spent += bits * bits
        self.steps += 1
        if self.spent > MAX_EXACT_WORK:
            raise LimitError(
                _(
                    "exact arithmetic is growing too costly: after {steps:,} steps the fractions "
                    "have up to {digits:,} digits; drop --exact to use floats"
                ).format(steps=self.steps, digits=bits * 3 // 10)
            )


def to_float(value: Number) -> float:
    """The nearest float; exact values beyond the float range become +-inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def fmt(value: Number, digits: int = 6) -> str:
    """Show a number the way a student writes it: 6 significant digits, fractions as a/b."""
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"  # no "-0": it only confuses
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def wide_context(digits: int) -> Context:
    """A Decimal context of ``digits`` significant digits whose exponent range holds every
    fraction --exact allows (10**-400 is no float, but its square root or its digits are)."""
    return Context(prec=digits, Emin=-(10**6), Emax=10**6)


def approx(value: Number, digits: int = 6) -> str:
    """An exact value as a decimal approximation: fmt of its float, or, for fractions
    beyond a float's range (10**400, 10**-400), the same digits read through Decimal."""
    number = to_float(value)
    if isinstance(value, Fraction) and (math.isinf(number) or (number == 0 and value)):
        context = wide_context(digits)
        mantissa, exponent = f"{context.divide(Decimal(value.numerator), Decimal(value.denominator)):e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return fmt(number, digits)


def json_number(value: Number) -> float | int:
    """A JSON-safe float for any number (exact values are shown beside it as strings)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return to_float(value)


def exact_text(value: Number) -> str:
    if isinstance(value, (Fraction, int)):
        return fmt(value)  # int: the constant local gradients of add, sub, relu ... ("1", not "1.0")
    return repr(float(value))
