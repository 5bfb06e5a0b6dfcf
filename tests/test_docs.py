"""Every example in README.md and docs/ runs, and shows what the program really prints."""

from __future__ import annotations

import re
import shlex
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import doc_examples  # noqa: E402
import make_cli_docs  # noqa: E402

CONSOLE = [
    pytest.param(command, shown, id=f"{path.name}: {command[:60]}")
    for path in doc_examples.documents()
    for command, shown, _ in doc_examples.examples(path.read_text())
]


@pytest.mark.parametrize("command, shown", CONSOLE)
def test_console_examples_are_current(command, shown):
    assert doc_examples.run(command) == shown, "run: python scripts/doc_examples.py --update"


def readme_commands() -> list[tuple[str, int]]:
    """Each `backprop ...` line of the README's sh blocks, with the exit code its comment names."""
    text = (ROOT / "README.md").read_text()
    lines = [line for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL) for line in block.splitlines()]
    commands = []
    for line in lines:
        if line.startswith("backprop "):
            command, _, comment = line.partition("  #")
            code = re.search(r"exit (\d)", comment)
            commands.append((command.strip(), int(code.group(1)) if code else 0))
    return commands


@pytest.mark.parametrize("command, exit_code", readme_commands())
def test_readme_examples_run(command, exit_code, run_backprop, tmp_path):
    done = run_backprop(*shlex.split(command)[1:], cwd=ROOT)
    assert done.returncode == exit_code, done.stderr
    assert done.stdout


def test_readme_starts_with_install_and_test_commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    assert "pip install ." in blocks[0] and "backprop grad" in blocks[0]
    assert 'pip install -e ".[test]"' in blocks[1] and "pytest" in blocks[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert blocks[1].strip() in ci  # CI runs exactly the README's test command


def test_readme_python_example():
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own documentation, not user input
    assert namespace["r"].value == -12.0
    assert namespace["r"].gradients == {"x": -4.0, "y": -4.0, "z": 3.0}


def test_cli_reference_is_generated_from_help():
    assert make_cli_docs.TARGET.read_text() == make_cli_docs.render(), "run: python scripts/make_cli_docs.py"
