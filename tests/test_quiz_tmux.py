"""`backprop quiz` in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen.

Skipped only when tmux is not installed (CI installs it). Every wait is bounded; the tmux
server is private to the test (its own socket) and is killed at the end.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid

import pytest
from conftest import backprop_executable

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

#: Longest wait for the screen to show something (start-up imports Rich and the engine).
TIMEOUT = 20.0


class Terminal:
    """A quiz running in a detached tmux session of its own."""

    def __init__(self, *args: str) -> None:
        self.socket = f"backprop-test-{uuid.uuid4().hex[:8]}"
        command = shlex.join([*backprop_executable(), "quiz", *args])
        env = {"LANG": "C.UTF-8", "TERM": "xterm-256color", "NO_COLOR": "1"}
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        self.tmux(
            "new-session", "-d", "-s", "quiz", "-x", "140", "-y", "60",
            f"env -u LANGUAGE -u COLUMNS -u LINES {exports} {command}; echo EXIT=$?; sleep 60",
        )  # fmt: skip

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args], capture_output=True, text=True, timeout=TIMEOUT
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "quiz")

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear on the screen:\n{self.screen()}")

    def type(self, line: str) -> None:
        self.tmux("send-keys", "-t", "quiz", "-l", "--", line)
        self.tmux("send-keys", "-t", "quiz", "Enter")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=TIMEOUT)


@pytest.fixture
def terminal():
    opened: list[Terminal] = []

    def start(*args: str) -> Terminal:
        opened.append(Terminal(*args))
        return opened[-1]

    yield start
    for term in opened:
        term.close()


def test_quiz_in_a_terminal(terminal):
    # seed 1 at level 1 is x * y at x = 5, y = -4: f = -20, df/dx = y = -4, df/dy = x = 5
    term = terminal("--level", "1", "--seed", "1", "--lang", "en")
    screen = term.wait_for("[1/3] f = ")
    assert "Exercise 1 of 1 (level 1): f = x * y at x = 5, y = -4" in screen
    term.type("-20")
    term.wait_for("[2/3] df/dx = ")
    term.type("abc")  # not a number: said so, and the same question comes back
    term.wait_for("'abc' is not a number; type a number such as -4, 0.25 or 11/5, ? for a hint, q to quit\n[2/3] df/dx = ")
    term.type("?")
    screen = term.wait_for("Hint:")
    assert "mul swaps" in screen
    term.type("5")  # wrong: that is x, not the other input y
    screen = term.wait_for("[3/3] df/dy = ")
    assert "wrong: the answer is -4." in screen
    assert "Diagnosis (mul-not-swapped)" in screen
    assert "mul: other input = -4" in screen  # the row of the backward pass
    term.type("5")
    screen = term.wait_for("EXIT=")
    assert "Score: 2/3" in screen
    assert "hints used: 1" in screen
    assert "EXIT=0" in screen
    assert "Traceback" not in screen


def test_ctrl_c_ends_the_quiz_with_the_score_so_far(terminal):
    term = terminal("--level", "2", "--seed", "14", "--lang", "en")
    term.wait_for("[1/6] (x + y) = ")
    term.type("9")  # x + y = 5 + 4
    term.wait_for("[2/6] f = ")
    term.tmux("send-keys", "-t", "quiz", "C-c")
    screen = term.wait_for("EXIT=")
    assert "Quiz stopped after 1 of 6 questions." in screen
    assert "Score: 1/1" in screen
    assert "EXIT=0" in screen
    assert "Traceback" not in screen and "KeyboardInterrupt" not in screen


def test_q_ends_the_quiz_in_portuguese(terminal):
    term = terminal("--level", "1", "--seed", "1", "--lang", "pt")
    term.wait_for("[1/3] f = ")
    term.type("q")
    screen = term.wait_for("EXIT=")
    assert "Pontuação: 0/0" in screen
    assert "EXIT=0" in screen
