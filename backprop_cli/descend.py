"""Gradient descent: theta <- theta - eta * grad L, one recorded step at a time.

The loop is written once, for any objective that maps parameters to (loss, gradients):
`descend` gives it an expression (built into a graph once, evaluated at every step), and
`backprop_cli.net` gives it a network. Step k records the parameters *before* update k, so
step 0 is the starting point; the loop stops, keeping what it has, when the loss stops
being a finite number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .errors import DomainError, InputError
from .i18n import _
from .numeric import fmt

#: Objective: parameters -> (loss, gradient per parameter name).
Objective = Callable[[dict[str, float]], tuple[float, dict[str, float]]]

#: Most steps one run may take (each step costs a forward and a backward pass).
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class DescentStep:
    """The parameters before update ``step``, the loss there and its gradients."""

    step: int
    params: dict[str, float]
    loss: float
    gradients: dict[str, float]

    @property
    def gradient_norm(self) -> float:
        """Euclidean length of the gradient: how steep the loss is here."""
        return math.hypot(*self.gradients.values())  # (no overflow where g*g would: 1e154)

    def to_dict(self) -> dict:
        return {"step": self.step, "params": self.params, "loss": self.loss, "gradients": self.gradients}


@dataclass
class Descent:
    """A whole run: the recorded steps, where it ended, and why it stopped early (if it did)."""

    learning_rate: float
    steps: list[DescentStep] = field(default_factory=list)
    final_params: dict[str, float] = field(default_factory=dict)
    final_loss: float = math.nan
    #: name of the loss (the expression's output, or L for a network)
    loss_name: str = "L"
    #: step at which the loss diverged, or None when every step finished
    diverged_step: int | None = None
    #: why it diverged, in words
    diverged_reason: str = ""
    #: problems with the input that do not stop the run (a negative learning rate, values given
    #: but not used)
    warnings: list[str] = field(default_factory=list)

    @property
    def losses(self) -> list[float]:
        """The loss curve: one point per recorded step, then the final point."""
        curve = [step.loss for step in self.steps]
        if self.diverged_step is None:
            curve.append(self.final_loss)
        return curve

    @property
    def completed_steps(self) -> int:
        """Number of updates made (the step number of the final point)."""
        return self.steps[-1].step if self.diverged_step is not None else len(self.steps)

    def to_dict(self) -> dict:
        """The `--json` document: steps, final and (only when it happened) diverged."""
        doc: dict = {
            "steps": [step.to_dict() for step in self.steps],
            "final": {"params": self.final_params, "loss": self.final_loss},
        }
        if self.diverged_step is not None:
            doc["diverged"] = {"step": self.diverged_step, "reason": self.diverged_reason}
        return doc


def gradient_descent(
    objective: Objective, start: Mapping[str, float], learning_rate: float, steps: int, loss_name: str = "L"
) -> Descent:
    """Run ``steps`` updates of plain gradient descent from ``start``.

    A DomainError (overflow, log of a negative number) at the starting point is the user's
    input and propagates; at a later step it means the run diverged, which is recorded in the
    result (``diverged_step``) with every step before it kept.

    A learning rate of 0 (nothing would move) or one that is not a finite number is an
    InputError; a negative one runs gradient ascent, which is allowed but recorded in
    ``warnings``.
    """
    if not math.isfinite(learning_rate):
        raise InputError(_("--lr must be a finite number, got {value}").format(value=learning_rate))
    if learning_rate == 0:
        raise InputError(_("--lr must not be 0: no step would move the parameters (try --lr 0.1)"))
    if not 0 <= steps <= MAX_STEPS:
        raise InputError(_("--steps must be between 0 and {limit:,}, got {value}").format(limit=MAX_STEPS, value=steps))
    run = Descent(learning_rate, loss_name=loss_name)
    if learning_rate < 0:
        run.warnings.append(
            _("--lr {value} is negative: every step climbs the loss (gradient ascent) instead of descending").format(
                value=fmt(learning_rate)
            )
        )
    params = {name: float(value) for name, value in start.items()}
    for k in range(steps + 1):
        try:
            loss, gradients = objective(params)
        except DomainError as error:
            if k == 0:
                raise
            return _diverged(run, k, error.message)
        if not math.isfinite(loss):
            if k == 0:
                raise DomainError(_("the loss at the starting point is {value}").format(value=loss))
            return _diverged(run, k, _("the loss is {value}").format(value=loss))
        if k == steps:
            run.final_params, run.final_loss = params, loss
            return run
        run.steps.append(DescentStep(k, params, loss, gradients))
        params = {name: value - learning_rate * gradients[name] for name, value in params.items()}
        overflowed = [name for name, value in params.items() if not math.isfinite(value)]
        if overflowed:
            return _diverged(run, k + 1, _("parameter {name} overflowed").format(name=overflowed[0]))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns at k == steps


def _diverged(run: Descent, step: int, reason: str) -> Descent:
    last = run.steps[-1]
    run.final_params, run.final_loss = last.params, last.loss
    run.diverged_step = step
    run.diverged_reason = reason
    return run


def descend(
    expression: str,
    wrt: list[str],
    values: Mapping[str, object],
    learning_rate: float = 0.1,
    steps: int = 50,
) -> Descent:
    """Gradient descent on ``expression`` over the variables ``wrt``, others held at ``values``.

    >>> run = descend("(w*x + b - y)**2", ["w", "b"], {"x": 2, "y": 5, "w": 0, "b": 0}, 0.05, 2)
    >>> [step.loss for step in run.steps], run.final_loss
    ([25.0, 6.25], 1.5625)

    The expression is parsed and built into a graph once; every step is one forward pass,
    one set of local gradients and one backward pass of the engine.
    """
    from .api import build, read_value

    graph = build(expression)
    if not wrt:
        raise InputError(_("--wrt needs at least one variable to descend on"))
    known = list(graph.inputs)
    for name in wrt:
        if name not in graph.inputs:
            hint = (
                _("it is a named intermediate, not an input")
                if name in graph.names
                else _("known: {names}").format(names=", ".join(known))
            )
            raise InputError(_("--wrt: {name!r} is not an input of the expression ({hint})").format(name=name, hint=hint))
    if len(set(wrt)) != len(wrt):
        raise InputError(_("--wrt names a variable twice"))
    point = {name: read_value(name, values[name], False) for name in graph.inputs if name in values}
    missing = [name for name in graph.inputs if name not in point]
    if missing:
        raise InputError(
            _("missing value for {names}: give every variable a value (--wrt ones: where to start), e.g. {name}=0").format(
                names=", ".join(missing), name=missing[0]
            )
        )
    nodes = {name: graph.inputs[name] for name in wrt}

    def objective(params: dict[str, float]) -> tuple[float, dict[str, float]]:
        inputs = {**point, **params}
        node_values = graph.forward(inputs)
        grads = graph.backward(graph.local_gradients(node_values), 1.0)
        return node_values[graph.output], {name: grads[node] for name, node in nodes.items()}

    run = gradient_descent(objective, {name: point[name] for name in wrt}, learning_rate, steps, graph.output_name)
    run.warnings += graph.ignored_values(values)
    return run
