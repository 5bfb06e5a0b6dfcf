"""Keep the examples in the docs true: run every ```console block and compare its output.

A console block holds one or more commands, each a line starting with "$ ", followed by what
that command prints (standard output, then standard error). Run

    python scripts/doc_examples.py --update     # rewrite the outputs in README.md and docs/*.md
    python scripts/doc_examples.py              # check them (the test suite does this too)

Commands run with NO_COLOR=1 and COLUMNS=120, from the repository root, through the installed
`backprop` entry point.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def executable() -> list[str]:
    found = shutil.which("backprop", path=str(Path(sys.executable).parent)) or shutil.which("backprop")
    return [found] if found else [sys.executable, "-m", "backprop_cli"]


def run(command: str) -> str:
    """What a user sees for one `$ backprop ...` line (stdout, then stderr)."""
    words = shlex.split(command)
    stdin = None
    if "<" in words:  # `$ backprop grad - < file` reads the file as standard input
        at = words.index("<")
        stdin = (ROOT / words[at + 1]).read_text()
        words = words[:at]
    assert words[0] == "backprop", f"only backprop commands run in console blocks: {command}"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "LANG": "C.UTF-8"}
    env.pop("LANGUAGE", None)
    done = subprocess.run(
        [*executable(), *words[1:]], input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    text = done.stdout + done.stderr
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def examples(text: str):
    """Yield (command, shown output, span of the output in text) for every console block."""
    for block in BLOCK.finditer(text):
        body = block.group(1)
        start = block.start(1)
        pieces = re.split(r"^(\$ .*\n)", body, flags=re.MULTILINE)
        offset = start + len(pieces[0])
        for command_line, shown in zip(pieces[1::2], pieces[2::2]):
            offset += len(command_line)
            yield command_line[2:].strip(), shown, (offset, offset + len(shown))
            offset += len(shown)


def update(path: Path) -> bool:
    text = path.read_text()
    changed = text
    for command, _shown, (begin, end) in reversed(list(examples(text))):
        changed = changed[:begin] + run(command) + changed[end:]
    if changed != text:
        path.write_text(changed)
    return changed != text


def main() -> int:
    stale = []
    for path in documents():
        if "--update" in sys.argv:
            if update(path):
                print(f"updated {path.relative_to(ROOT)}")
            continue
        for command, shown, _ in examples(path.read_text()):
            if run(command) != shown:
                stale.append(f"{path.relative_to(ROOT)}: {command}")
    for item in stale:
        print(f"stale: {item}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
