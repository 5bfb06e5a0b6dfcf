"""Tutor mode on the terminal: the narration, the gate reference, quiz screens, worksheets.

Formatting only: the sentences come from explain.py, the exercises, questions and grades from
tutor.py.
"""

from __future__ import annotations

from ..i18n import _


def print_numbered(console, number: str, text: str, width: int = 0) -> None:
    """``12. text`` with the wrapped lines indented under the text."""
    prefix = f"{number}. ".rjust(width + 2) if width else f"{number}. "
    print_hanging(console, prefix, text, len(prefix))


def print_hanging(console, prefix: str, text: str, indent: int, style: str = "") -> None:
    """``prefix`` then ``text`` wrapped to the console, the wrapped lines indented (CJK-aware, via Rich)."""
    from rich.cells import cell_len
    from rich.text import Text

    lead = Text(prefix + " " * max(0, indent - cell_len(prefix)), style=style)
    for index, line in enumerate(Text(text).wrap(console, max(20, console.width - indent))):
        line.rstrip()
        console.print((lead if index == 0 else Text(" " * indent)) + line, soft_wrap=True)


def render_sentences(console, sentences: list, *, title: str, cut: bool = False, limit: int = 0) -> None:
    """Numbered sentences under part headings, wrapped with a hanging indent."""
    from rich.text import Text

    from ..explain import part_title

    console.print(Text(title, style="bold"))
    width = len(str(sentences[-1].number)) if sentences else 0
    part = None
    for sentence in sentences:
        if sentence.part != part:
            part = sentence.part
            console.print(Text(part_title(part), style="bold"))
        print_numbered(console, str(sentence.number), sentence.text, width)
    if cut:
        console.print(
            Text(_("... the narration stops after {limit} sentences; the tables above hold every step.").format(limit=limit))
        )


# --------------------------------------------------------------------------- gate reference


def render_gate_list(console, infos: list) -> None:
    """`backprop gates`: one row per gate."""
    from rich.table import Table

    from .console import print_titled, table_box

    table = Table(box=table_box(console))
    for column in (_("gate"), _("forward rule"), _("local gradients"), _("intuition")):
        table.add_column(column)
    for info in infos:
        forward = info.forward + (f" = {info.definition}" if info.definition else "")
        local = "\n".join(f"d/d{name}: {rule}" for name, rule in info.local_gradients.items())
        table.add_row(info.name, _escape(forward), _escape(local), _escape(info.intuition))
    print_titled(console, _("Gates"), table)
    console.print(_("Details and a worked example: backprop gates NAME (for example: backprop gates mul)."))


def render_gate(console, info, example, digits: int = 6) -> None:
    """`backprop gates NAME`: the gate in depth and a worked example narrated step by step."""
    from rich.text import Text

    from ..explain import explain
    from ..numeric import fmt

    console.print(Text(_("The {gate} gate").format(gate=info.name), style="bold"))
    rows = [(_("forward rule"), info.forward + (f" = {info.definition}" if info.definition else ""))]
    if info.symbol:
        rows.append((_("operator"), info.symbol))
    for name, rule in info.local_gradients.items():
        rows.append((_("local gradient d/d{input}").format(input=name), rule))
    rows.append((_("intuition"), info.intuition))
    if info.convention:
        rows.append((_("where it has no derivative"), info.convention))
    _print_pairs(console, rows)
    console.print()
    values = ", ".join(f"{name} = {fmt(value, digits)}" for name, value in example.inputs.items())
    console.print(
        Text(
            _("Worked example: f = {expression} at {values}").format(expression=example.expression, values=values),
            style="bold",
        )
    )
    for sentence in explain(example, digits):
        print_numbered(console, str(sentence.number), sentence.text, 2)
    if example.check is not None:
        status = _("agrees") if example.check.ok else _("DISAGREES")
        console.print(_("SymPy cross-check: {status}").format(status=status))


def _print_pairs(console, rows: list[tuple[str, str]]) -> None:
    from rich.cells import cell_len

    indent = max(cell_len(key) for key, _value in rows) + 2
    for key, value in rows:
        print_hanging(console, key, value, indent, style="bold")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --------------------------------------------------------------------------- quiz


def shown_expression(result) -> str:
    """The expression as the student reads it: ``f = (x + y) * z``, or a staged program as written."""
    if result.graph.names:
        return result.expression
    return f"{result.output} = {result.expression}"


def question_label(result, question) -> str:
    """What the question asks for: ``(x + y)``, ``f``, ``df/dx``, ``df/d(x + y)``."""
    from ..explain import derivative_name

    graph = result.graph
    if question.part == "forward":
        return result.output if question.kind == "value" else graph.labels[question.node]
    return derivative_name(result, question.node)


class QuizScreen:
    """Prints a quiz session: exercise headers, prompts, feedback and the final summary."""

    def __init__(self, quiz, console, digits: int = 4) -> None:
        self.quiz = quiz
        self.console = console
        self.digits = digits
        self._shown: tuple[int, str] | None = None

    def num(self, value) -> str:
        from ..numeric import fmt

        return fmt(value, self.digits)

    def intro(self) -> None:
        from rich.text import Text

        quiz = self.quiz
        self.console.print(
            Text(
                _("Backprop quiz: {count} exercise(s), {questions} questions.").format(
                    count=len(quiz.exercises), questions=quiz.total
                ),
                style="bold",
            )
        )
        if quiz.seed is not None:
            command = f"backprop quiz --level {quiz.exercises[0].level} --count {len(quiz.exercises)} --seed {quiz.seed}"
            self.console.print(
                Text(_("Seed {seed}: `{command}` repeats this quiz.").format(seed=quiz.seed, command=command))
            )
        self.console.print(
            _(
                "Type a number (fractions like 11/5 are fine; {digits} significant digits are enough), "
                "? for a hint, q to stop."
            ).format(digits=self.digits)
        )

    def before_question(self) -> None:
        """Headers when a new exercise or a new part (forward, backward) begins."""
        from rich.text import Text

        quiz = self.quiz
        index = quiz.position[0]
        question = quiz.current
        exercise = quiz.exercises[index]
        result = quiz.results[index]
        if self._shown is None or self._shown[0] != index:
            values = ", ".join(f"{name} = {value}" for name, value in exercise.values.items())
            self.console.print()
            self.console.print(
                Text(
                    _("Exercise {number} of {count} (level {level}): {expression} at {values}").format(
                        number=index + 1,
                        count=len(quiz.exercises),
                        level=exercise.level,
                        expression=shown_expression(result),
                        values=values,
                    ),
                    style="bold",
                )
            )
            self.console.print(Text(_("Parsed: {parsed}").format(parsed=result.parsed)))
        if self._shown is None or self._shown != (index, question.part):
            if question.part == "forward":
                self.console.print(Text(_("Forward pass: the value of each node."), style="bold"))
            else:
                self.console.print(
                    Text(
                        _(
                            "Backward pass: the gradient of {out} with respect to each node, "
                            "from the output down (d{out}/d{out} = 1)."
                        ).format(out=result.output),
                        style="bold",
                    )
                )
        self._shown = (index, question.part)

    def prompt(self) -> str:
        quiz = self.quiz
        result = quiz.results[quiz.position[0]]
        return f"[{quiz.number}/{quiz.total}] {question_label(result, quiz.current)} = "

    def hint(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text(_("Hint: {hint}").format(hint=text), style="cyan"))

    def not_a_number(self, problem: str) -> None:
        """The answer could not be read; the same question is asked again."""
        from rich.text import Text

        self.console.print(
            Text(
                _("{problem}; type a number such as -4, 0.25 or 11/5, ? for a hint, q to quit").format(problem=problem),
                style="yellow",
            )
        )

    def feedback(self, attempt) -> None:
        from rich.text import Text

        grade = attempt.grade
        if grade.ok:
            self.console.print(Text(_("right"), style="green"))
            return
        self.console.print(
            Text(_("wrong: the answer is {expected}.").format(expected=self.num(grade.expected)), style="bold red")
        )
        if grade.code and grade.code != "unknown":  # unknown only repeats the answer
            self.console.print(
                Text(_("Diagnosis ({code}): {message}").format(code=grade.code, message=grade.message), style="red")
            )
        self.step_rows(attempt)

    def step_rows(self, attempt) -> None:
        """The rows of `backprop grad`'s tables that hold the answer."""
        from rich.table import Table

        from .console import print_titled, table_box

        result = self.quiz.results[attempt.exercise]
        graph = result.graph
        question = attempt.question
        num = self.num
        if question.part == "forward":
            title = _("Forward pass")
            table = Table(box=table_box(self.console))
            for column, justify in (
                ("#", "right"),
                (_("node"), "left"),
                (_("gate"), "left"),
                (_("inputs"), "left"),
                (_("value"), "right"),
            ):
                table.add_column(column, justify=justify)
            node = question.node
            inputs = ", ".join(f"{graph.labels[j]} = {num(result.values[j])}" for j in graph.args[node])
            table.add_row(
                str(node), _escape(graph.labels[node]), graph.gates[node].name, _escape(inputs), num(result.values[node])
            )
        else:
            title = _("Backward pass")
            table = Table(box=table_box(self.console))
            numbers = (_("upstream"), _("chained (up x local)"), _("accumulated"))
            for column in (_("gate"), _("input"), numbers[0], _("local gradient"), *numbers[1:]):
                table.add_column(column, justify="right" if column in numbers else "left")
            for step in result.steps():
                if step.input != question.node:
                    continue
                rule = f"{graph.gates[step.gate].name}: {_(graph.gates[step.gate].rule(step.position))}"
                if not rule.endswith(f": {num(step.local)}"):  # "add: 1" needs no "= 1"
                    rule += f" = {num(step.local)}"
                table.add_row(
                    _escape(graph.labels[step.gate]),
                    _escape(graph.labels[step.input]),
                    num(step.upstream),
                    _escape(rule),
                    num(step.contribution),
                    num(step.accumulated),
                )
        print_titled(self.console, title, table)

    def summary(self, stopped: bool) -> None:
        from rich.text import Text

        quiz = self.quiz
        answered = len(quiz.attempts)
        self.console.print()
        if stopped:
            self.console.print(
                Text(_("Quiz stopped after {answered} of {total} questions.").format(answered=answered, total=quiz.total))
            )
        self.console.print(Text(_("Score: {score}/{answered}").format(score=quiz.score, answered=answered), style="bold"))
        for part, (right, asked) in quiz.part_scores().items():
            if asked:
                name = _("forward pass") if part == "forward" else _("backward pass")
                self.console.print(_("  {part}: {right}/{asked} right").format(part=name, right=right, asked=asked))
        if quiz.hints:
            self.console.print(_("  hints used: {count}").format(count=quiz.hints))
        mistakes = quiz.mistakes()
        if mistakes:
            unexplained = _("no common mistake")  # the code "unknown" would read like a mistake's name
            listed = ", ".join(
                f"{unexplained if code == 'unknown' else code} x{count}" for code, count in mistakes.items()
            )
            self.console.print(_("  mistakes: {mistakes} (docs/check.md explains each diagnosis)").format(mistakes=listed))


def play_quiz(quiz, console, ask, digits: int = 4) -> bool:
    """Run a quiz: ``ask(prompt)`` returns the typed line or None at the end of input.

    Returns True when every question was answered, False when the student stopped it
    (``q``, end of input, Ctrl-C); the summary is printed either way.
    """
    from ..errors import BackpropError

    screen = QuizScreen(quiz, console, digits)
    screen.intro()
    stopped = False
    try:
        while not quiz.done:
            screen.before_question()
            line = ask(screen.prompt())
            if line is None:
                stopped = True
                break
            text = line.strip()
            if text.lower() in ("q", "quit", "exit"):
                stopped = True
                break
            if not text:
                continue
            if text == "?":
                screen.hint(quiz.hint())
                continue
            try:
                attempt = quiz.answer(text)
            except BackpropError as error:
                screen.not_a_number(error.message)
                continue
            screen.feedback(attempt)
    except KeyboardInterrupt:
        console.print()
        stopped = True
    screen.summary(stopped)
    return not stopped


def terminal_ask(console):
    """Read answers from a terminal, with line editing; None at end of input."""

    def ask(prompt: str) -> str | None:
        from rich.text import Text

        try:
            return console.input(Text(prompt))
        except EOFError:
            return None

    return ask


def line_ask(console, stream):
    """Read answers line by line from a pipe or file, echoing each one after its prompt."""

    def ask(prompt: str) -> str | None:
        line = stream.readline()
        if not line:
            console.print(prompt.rstrip(), markup=False, highlight=False)
            return None
        console.print(prompt + line.rstrip("\n"), markup=False, highlight=False)
        return line

    return ask


# --------------------------------------------------------------------------- worksheets


def worksheet_markdown(exercises: list, results: list, *, level: int, seed: int, key: bool = False) -> str:
    """The worksheet (blank answer column) or its answer key, as Markdown."""
    from ..numeric import fmt
    from ..tutor import DIGITS, questions

    count = len(exercises)
    command = f"backprop worksheet --count {count} --level {level} --seed {seed}"
    title = _("Backprop worksheet: answer key") if key else _("Backprop worksheet")
    lines = [f"# {title}", ""]
    lines.append(
        _("Level {level} ({what}), {count} exercise(s), seed {seed}: `{command}` prints this sheet again.").format(
            level=level, what=level_name(level), count=count, seed=seed, command=command
        )
    )
    lines.append("")
    if not key:
        lines.append(
            _(
                "For each exercise, do the forward pass (the value of every node, in order), then the backward pass "
                "(the gradient of the output with respect to every node, from the output down). "
                "Give {digits} significant digits; fractions such as 11/5 are fine."
            ).format(digits=DIGITS)
        )
        lines.append("")
        lines.append(
            _(
                "To hand in your answers, save the answer file with `{command} --json > answers.jsonl`, replace every "
                '"?" in it by your number, and check it with `backprop check --batch answers.jsonl`.'
            ).format(command=command)
        )
        lines.append("")
    for exercise, result in zip(exercises, results):
        values = ", ".join(f"{name} = {value}" for name, value in exercise.values.items())
        lines.append(f"## {exercise.id}: `{shown_expression(result)}`")
        lines.append("")
        lines.append(_("Values: {values}. The expression reads `{parsed}`.").format(values=values, parsed=result.parsed))
        lines.append("")
        answer = _("answer") if key else _("your answer")
        lines.append(f"| # | {_('compute')} | {answer} |")
        lines.append("|---|---|---|")
        for number, question in enumerate(questions(result), 1):
            shown = fmt(question.expected, DIGITS) if key else ""
            lines.append(f"| {number} | `{question_label(result, question)}` | {shown} |")
        lines.append("")
    if key:
        lines.append(
            _("The same key in the format of `backprop check --batch`: `{command} --key --json`.").format(command=command)
        )
        lines.append("")
    return "\n".join(lines)


def level_name(level: int) -> str:
    """What a quiz or worksheet level holds, in words."""
    return {
        1: _("one gate"),
        2: _("a small circuit"),
        3: _("a sigmoid neuron or a staged program with fan-out"),
    }[level]
