"""The gate registry: every gate's forward rule, local gradient(s), SymPy form and intuition.

Adding a gate means adding one entry to GATES below; nothing else in the package needs to
change. Each entry keeps the forward rule and the local gradient side by side (as in
micrograd), so the chain rule for a gate fits in one screenful.

Conventions shared by all gates:

* ``forward(*inputs)`` gets plain numbers (float, or Fraction in exact mode) and returns one.
  It raises DomainError for inputs outside the domain.
* ``local_grads(inputs, out)`` returns d out / d input for every input, given the inputs
  and the cached output (sigmoid and tanh reuse their output, as the course notes teach).
* ``rules`` is a short text per input that says what the local gradient is ("other input").
* ``sympy(sp, *args)`` builds the same function with SymPy; the cross-check compares the
  engine with SymPy's derivative of it, which keeps the hand-written rules honest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .errors import DomainError, LimitError
from .i18n import _
from .numeric import MAX_EXACT_BITS, Number, wide_context


@dataclass(frozen=True)
class Gate:
    name: str
    #: number of inputs; None means two or more (max, min)
    arity: int | None
    forward: Callable[..., Number]
    local_grads: Callable[[tuple, Number], tuple]
    #: what the local gradient is, per input (the last one repeats for variadic gates)
    rules: tuple[str, ...]
    sympy: Callable[..., Any]
    intuition: str
    #: infix operator symbol for the echo, or None for a function call
    symbol: str | None = None
    #: True when rational inputs give a rational output (exact mode stays exact)
    exact: bool = True
    #: inputs -> True at a point where the gate is not differentiable
    kink: Callable[[tuple], bool] | None = None
    #: the convention used at such a point
    convention: str = ""

    def rule(self, index: int) -> str:
        return self.rules[min(index, len(self.rules) - 1)]


def _div(a: Number, b: Number) -> Number:
    if b == 0:
        raise DomainError(_("division by zero"))
    return a / b


def _pow(a: Number, b: Number) -> Number:
    if isinstance(a, Fraction) and isinstance(b, Fraction) and b.denominator == 1:
        size = max(a.numerator.bit_length(), a.denominator.bit_length())
        if size * abs(b.numerator) > MAX_EXACT_BITS:
            raise LimitError(
                _("exact power {base}**{exponent} would need more than {limit} bits; drop --exact to use floats").format(
                    base=a, exponent=b, limit=MAX_EXACT_BITS
                )
            )
        if a == 0 and b < 0:
            raise DomainError(_("zero raised to a negative power"))
        return a**b.numerator
    if isinstance(a, Fraction) and isinstance(b, Fraction) and a > 0:
        root = _exact_root(a, b.denominator)  # 4**(1/2) and 8**(2/3) stay exact
        if root is not None:
            return _pow(root, Fraction(b.numerator))
    a, b = float(a), float(b)
    if a == 0 and b < 0:
        raise DomainError(_("zero raised to a negative power"))
    if a < 0 and not b.is_integer():
        raise DomainError(_("a negative number raised to a non-integer power"))
    try:
        return a**b
    except OverflowError:
        raise DomainError(_("overflow: the power is too large for a float")) from None


def _exact_root(a: Fraction, degree: int) -> Fraction | None:
    """The exact degree-th root of a positive fraction, or None when it is irrational."""
    if degree > 64:
        return None
    top, bottom = _integer_root(a.numerator, degree), _integer_root(a.denominator, degree)
    return None if top is None or bottom is None else Fraction(top, bottom)


def _integer_root(n: int, degree: int) -> int | None:
    if n.bit_length() > 1000:
        return None
    guess = round(n ** (1.0 / degree))
    return next((c for c in (guess - 1, guess, guess + 1) if c >= 0 and c**degree == n), None)


def _pow_local(inputs: tuple, out: Number) -> tuple:
    a, b = inputs
    if a == 0 and 0 < b < 1:
        raise DomainError(_("a**b has an infinite slope at a = 0 when 0 < b < 1 (no gradient)"))
    try:
        d_base = b * _pow(a, b - 1) if b != 0 else 0 * b
    except DomainError:  # a**(b-1) beyond a float (x**-1 at 1e-200): an error only if the base needs a gradient
        d_base = math.inf
    if a > 0:
        try:
            d_exponent = out * math.log(a)
        except OverflowError:  # a huge exact power: only an error if the exponent needs a gradient
            d_exponent = math.nan
    elif a == 0 and b > 0:
        d_exponent = 0.0  # a**b is 0 for b near a positive exponent
    else:
        d_exponent = math.nan  # log(a) is undefined: only an error if the exponent needs a gradient
    return d_base, d_exponent


def _exp(a: Number) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        raise DomainError(_("overflow: exp of this input is too large for a float")) from None


def _log(a: Number) -> float:
    if a <= 0:
        raise DomainError(_("log needs a positive input"))
    if isinstance(a, Fraction):  # 10**-400 is no float, but its log is: take it part by part
        return math.log(a.numerator) - math.log(a.denominator)
    return math.log(a)


def _sqrt(a: Number) -> Number:
    if a < 0:
        raise DomainError(_("sqrt of a negative number"))
    if isinstance(a, Fraction):
        top, bottom = math.isqrt(a.numerator), math.isqrt(a.denominator)
        if top * top == a.numerator and bottom * bottom == a.denominator:
            return Fraction(top, bottom)  # perfect squares stay exact
        # through Decimal, whose range is wide: sqrt(2e-400) is a float though 2e-400 is not
        context = wide_context(30)
        return float(context.divide(Decimal(a.numerator), Decimal(a.denominator)).sqrt(context))
    return math.sqrt(a)


def _sqrt_local(inputs: tuple, out: Number) -> tuple:
    if out == 0:
        raise DomainError(_("sqrt has an infinite slope at 0 (no gradient)"))
    return (1 / (2 * out),)


def _sigmoid(a: Number) -> float:
    a = float(a)
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)  # the mirrored form never overflows
    return e / (1.0 + e)


def _sigmoid_local(inputs: tuple, out: float) -> tuple:
    """s*(1-s), written with e = exp(-|a|) as e/(1+e)**2: the same number, but where s rounds
    to 1 (a = 40) 1-s would lose every digit and give 0 instead of 4.25e-18."""
    e = math.exp(-abs(float(inputs[0])))
    return (e / ((1.0 + e) * (1.0 + e)),)


def _tanh_local(inputs: tuple, out: float) -> tuple:
    """1-t**2, written with e = exp(-2|a|) as 4e/(1+e)**2 for the same reason as sigmoid's."""
    e = math.exp(-2.0 * abs(float(inputs[0])))
    return (4.0 * e / ((1.0 + e) * (1.0 + e)),)


def _relu(a: Number) -> Number:
    return a if a > 0 else 0 * a + 0  # a zero of a's type (Fraction or float), never -0.0


def _max_local(inputs: tuple, out: Number) -> tuple:
    winners = sum(1 for v in inputs if v == out)
    share = Fraction(1, winners) if winners > 1 else 1
    return tuple(share if v == out else 0 for v in inputs)


def _tie(inputs: tuple) -> bool:
    best = max(inputs)
    worst = min(inputs)
    return sum(1 for v in inputs if v == best) > 1 or sum(1 for v in inputs if v == worst) > 1


def _sign(a: Number) -> int:
    return (a > 0) - (a < 0)


GATES: dict[str, Gate] = {
    gate.name: gate
    for gate in (
        Gate(
            "add", 2, lambda a, b: a + b, lambda i, o: (1, 1),
            ("1",), lambda sp, a, b: a + b,
            "add distributes: every input gets the upstream gradient unchanged", symbol="+",
        ),
        Gate(
            "sub", 2, lambda a, b: a - b, lambda i, o: (1, -1),
            ("1", "-1"), lambda sp, a, b: a - b,
            "sub passes the upstream gradient to the left input and its negative to the right",
            symbol="-",
        ),
        Gate(
            "mul", 2, lambda a, b: a * b, lambda i, o: (i[1], i[0]),
            ("other input",), lambda sp, a, b: a * b,
            "mul swaps: each input's gradient is the upstream gradient times the other input",
            symbol="*",
        ),
        Gate(
            # -a/b/b, not -a/(b*b): b*b underflows to 0 for b = 1e-200 where -a/b^2 is only too large
            "div", 2, _div, lambda i, o: (_div(1, i[1]), _div(_div(-i[0], i[1]), i[1])),
            ("1/b", "-a/b^2"), lambda sp, a, b: a / b,
            "div scales by 1/b for the numerator and by -a/b^2 for the denominator",
            symbol="/",
        ),
        Gate(
            "neg", 1, lambda a: -a, lambda i, o: (-1,),
            ("-1",), lambda sp, a: -a,
            "neg flips the sign of the upstream gradient",
        ),
        Gate(
            "pow", 2, _pow, _pow_local,
            ("b*a^(b-1)", "a^b*log(a)"), lambda sp, a, b: a**b,
            "pow: the base gets b*a^(b-1) times upstream (a^2 gives 2a), the exponent a^b*log(a)",
            symbol="**",
        ),
        Gate(
            "exp", 1, _exp, lambda i, o: (o,),
            ("exp(a) = its own output",), lambda sp, a: sp.exp(a),
            "exp is its own derivative: the local gradient is the gate's output", exact=False,
        ),
        Gate(
            "log", 1, _log, lambda i, o: (_div(1, i[0]),),
            ("1/a",), lambda sp, a: sp.log(a),
            "log scales the upstream gradient by 1/a: small inputs get large gradients",
            exact=False,
        ),
        Gate(
            "sqrt", 1, _sqrt, _sqrt_local,
            ("1/(2*sqrt(a))",), lambda sp, a: sp.sqrt(a),
            "sqrt scales by 1/(2*sqrt(a)), which grows without bound near 0",
            exact=False,
        ),
        Gate(
            "sigmoid", 1, _sigmoid, _sigmoid_local,
            ("s*(1-s)",), lambda sp, a: 1 / (1 + sp.exp(-a)),
            "sigmoid's local gradient is s*(1-s) from its own output s: at most 1/4, tiny when saturated",
            exact=False,
        ),
        Gate(
            "tanh", 1, lambda a: math.tanh(a), _tanh_local,
            ("1-t^2",), lambda sp, a: sp.tanh(a),
            "tanh's local gradient is 1-t^2 from its own output t: at most 1, tiny when saturated",
            exact=False,
        ),
        Gate(
            "relu", 1, _relu, lambda i, o: (1 if i[0] > 0 else 0,),
            ("1 if a > 0 else 0",), lambda sp, a: sp.Max(0, a),
            "relu is a switch: the gradient passes where the input was positive and stops elsewhere",
            kink=lambda i: i[0] == 0, convention="relu'(0) = 0 (as in PyTorch and micrograd)",
        ),
        Gate(
            "max", None, lambda *a: max(a), _max_local,
            ("1 if largest else 0",), lambda sp, *a: sp.Max(*a),
            "max routes: the whole gradient goes to the largest input, none to the others",
            kink=_tie, convention="a tie for max/min splits the gradient equally among the tied inputs",
        ),
        Gate(
            "min", None, lambda *a: min(a), _max_local,
            ("1 if smallest else 0",), lambda sp, *a: sp.Min(*a),
            "min routes: the whole gradient goes to the smallest input, none to the others",
            kink=_tie, convention="a tie for max/min splits the gradient equally among the tied inputs",
        ),
        Gate(
            "abs", 1, lambda a: abs(a), lambda i, o: (_sign(i[0]),),
            ("sign(a)",), lambda sp, a: sp.Abs(a),
            "abs passes the gradient for positive inputs and flips it for negative ones",
            kink=lambda i: i[0] == 0, convention="abs'(0) = 0 (the sign function, as in PyTorch)",
        ),
        Gate(
            "sin", 1, lambda a: math.sin(a), lambda i, o: (math.cos(i[0]),),
            ("cos(a)",), lambda sp, a: sp.sin(a),
            "sin scales the upstream gradient by cos(a)", exact=False,
        ),
        Gate(
            "cos", 1, lambda a: math.cos(a), lambda i, o: (-math.sin(i[0]),),
            ("-sin(a)",), lambda sp, a: sp.cos(a),
            "cos scales the upstream gradient by -sin(a)", exact=False,
        ),
    )
}

#: leaves of the graph: they have no inputs and no local gradients
INPUT = Gate("input", 0, lambda: 0, lambda i, o: (), (), lambda sp: None, "a variable you give a value")
CONST = Gate("const", 0, lambda: 0, lambda i, o: (), (), lambda sp: None, "a number written in the expression")

#: infix symbol -> gate name, for the parser
OPERATORS = {gate.symbol: name for name, gate in GATES.items() if gate.symbol}
