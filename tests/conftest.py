"""Shared helpers: drive the CLI as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backprop_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli():
    """Run `backprop ARGS` in-process; returns the Click result (stdout, stderr, exit_code)."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict | None = None):
        # a wide virtual terminal, whatever the test runner's own COLUMNS says
        return runner.invoke(app, list(args), input=input, env={"COLUMNS": "200", **(env or {})}, catch_exceptions=False)

    return run


def backprop_executable() -> list[str]:
    """The installed console script (falls back to `python -m backprop_cli`)."""
    found = shutil.which("backprop", path=str(Path(sys.executable).parent)) or shutil.which("backprop")
    return [found] if found else [sys.executable, "-m", "backprop_cli"]


@pytest.fixture
def run_backprop():
    """Run the real entry point in a subprocess, as from a shell."""

    def run(*args: str, input: str | None = None, env: dict | None = None, timeout: float = 60, cwd=None):
        full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
        return subprocess.run(
            [*backprop_executable(), *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=cwd,
        )

    return run
