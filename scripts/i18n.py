"""Message catalogs: extract the messages, merge them into each language's .po, compile the .mo.

    python scripts/i18n.py           # extract, merge and compile (run after changing any _("...") text)
    python scripts/i18n.py --check   # exit 1 if a catalog is out of date or a translation is missing

The test suite (tests/test_i18n.py) fails on a missing or empty translation, a translation that
lost a {field} of its message, and a .mo file that was not compiled from its .po; it leaves
translations of removed messages alone (the next update drops them).

The messages are every call ``_("...")`` with a string constant in backprop_cli/**/*.py (found
with the ast module, so nothing is imported or run), plus the prose of the gate registry
(each gate's intuition, rules and convention, which explain.py and `backprop gates` translate
with ``_(gate.intuition)``). They go to backprop_cli/locale/backprop.pot; each language's
backprop_cli/locale/<lang>/LC_MESSAGES/backprop.po keeps its translations, gains the new
messages with an empty msgstr (for a translator to fill in) and loses the ones no longer used.
The .mo files are compiled here in pure Python (no gettext tools needed) and committed, so a
fresh clone and the wheel have them.
"""

from __future__ import annotations

import ast
import re
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "backprop_cli"
LOCALE = PACKAGE / "locale"
TEMPLATE = LOCALE / "backprop.pot"
#: Languages with a catalog (English is the source language: the msgids themselves).
LANGUAGES = ("pt", "zh")
NAMES = {"pt": "Portuguese", "zh": "Chinese"}
PLURALS = {"pt": "nplurals=2; plural=(n != 1);", "zh": "nplurals=1; plural=0;"}
#: Fields of the gate registry that users read.
GATE_FIELDS = ("intuition", "rules", "convention")


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "backprop.po"


def mo_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "backprop.mo"


# --------------------------------------------------------------------------- extraction


def extract() -> dict[str, list[str]]:
    """Every message -> the files that use it, in order of first appearance."""
    messages: dict[str, list[str]] = {}

    def add(message: str, where: str) -> None:
        places = messages.setdefault(message, [])
        if where not in places:
            places.append(where)

    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        for message in messages_in(path.read_text(encoding="utf-8"), str(path)):
            add(message, where)
    for message in gate_messages():
        add(message, "backprop_cli/gates.py (GATES)")
    return messages


def messages_in(source: str, filename: str = "<source>") -> list[str]:
    """The string constants passed to ``_(...)`` in Python source, in order of appearance."""
    tree = ast.parse(source, filename=filename)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    found = []
    for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
        if (
            isinstance(call.func, ast.Name)
            and call.func.id == "_"
            and len(call.args) == 1
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and call.args[0].value
        ):
            found.append(call.args[0].value)
    return found


def gate_messages() -> list[str]:
    """The prose of the gate registry, read from the Gate(...) entries of gates.py."""
    sys.path.insert(0, str(ROOT))
    try:
        from backprop_cli.gates import GATES
    finally:
        sys.path.remove(str(ROOT))
    found: list[str] = []
    for gate in GATES.values():
        for field in GATE_FIELDS:
            value = getattr(gate, field)
            for text in value if isinstance(value, tuple) else (value,):
                if text and text not in found:
                    found.append(text)
    return found


# --------------------------------------------------------------------------- .po files


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted .po string: {text!r}")
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(1)), text[1:-1])


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header is the entry with msgid "")."""
    entries: dict[str, str] = {}
    msgid: str | None = None
    msgstr: str | None = None
    field = None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if line.startswith("msgid "):
            if msgid is not None and msgstr is not None:
                entries[msgid] = msgstr
            msgid, msgstr, field = unquote(line[6:]), None, "msgid"
        elif line.startswith("msgstr "):
            msgstr, field = unquote(line[7:]), "msgstr"
        elif line.startswith('"'):
            if field == "msgid":
                msgid = (msgid or "") + unquote(line)
            elif field == "msgstr":
                msgstr = (msgstr or "") + unquote(line)
        else:  # a comment or a blank line ends the entry's strings
            field = None
    if msgid is not None and msgstr is not None:
        entries[msgid] = msgstr
    return entries


def header(language: str | None) -> str:
    lines = [
        "Project-Id-Version: backprop",
        f"Language: {language or ''}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if language:
        lines.append(f"Plural-Forms: {PLURALS[language]}")
    return "".join(line + "\n" for line in lines)


def po_text(messages: dict[str, list[str]], language: str | None, translations: dict[str, str]) -> str:
    """A whole .po (or, with language None, the .pot template)."""
    title = f"{NAMES[language]} translations of backprop." if language else "Messages of backprop (template)."
    out = [f"# {title}", "# Updated by scripts/i18n.py; translators edit the msgstr lines only.", ""]
    out += ['msgid ""', 'msgstr ""']
    out += [quote(line + "\n") for line in header(language).splitlines()]
    for message, places in messages.items():
        out.append("")
        out += [f"#: {place}" for place in places]
        if "{" in message:
            out.append("#, python-brace-format")
        out.append(f"msgid {quote(message)}")
        out.append(f"msgstr {quote(translations.get(message, '') if language else '')}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- .mo files


def mo_bytes(catalog: dict[str, str]) -> bytes:
    """A GNU .mo file (what gettext reads) for the translated entries of a catalog."""
    entries = sorted(
        ((key.encode("utf-8"), value.encode("utf-8")) for key, value in catalog.items() if value),
        key=lambda pair: pair[0],
    )
    ids = strs = b""
    spans = []
    for key, value in entries:
        spans.append((len(ids), len(key), len(strs), len(value)))
        ids += key + b"\0"
        strs += value + b"\0"
    count = len(entries)
    key_start = 7 * 4 + 16 * count
    value_start = key_start + len(ids)
    key_table: list[int] = []
    value_table: list[int] = []
    for key_offset, key_length, value_offset, value_length in spans:
        key_table += [key_length, key_start + key_offset]
        value_table += [value_length, value_start + value_offset]
    magic = 0x950412DE
    head = struct.pack("<7I", magic, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, 7 * 4 + 16 * count)
    return head + struct.pack(f"<{4 * count}I", *key_table, *value_table) + ids + strs


def compiled(language: str) -> bytes:
    return mo_bytes(read_po(po_path(language)))


# --------------------------------------------------------------------------- checks


FIELD = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


def placeholders(text: str) -> list[str]:
    """The ``{name!r:,}`` fields of a message (sorted), which a translation must keep."""
    return sorted(FIELD.findall(text))


def problems(language: str, messages: dict[str, list[str]]) -> list[str]:
    """What is wrong with one language's catalog: missing or empty translations, broken fields, a stale .mo."""
    found: list[str] = []
    if not po_path(language).exists():
        return [f"{language}: {po_path(language).relative_to(ROOT)} is missing"]
    catalog = read_po(po_path(language))
    for message in messages:
        translation = catalog.get(message)
        if translation is None:
            found.append(f"{language}: not in the catalog: {message!r}")
        elif not translation.strip():
            found.append(f"{language}: no translation for {message!r}")
        elif placeholders(translation) != placeholders(message):
            found.append(f"{language}: the fields {{...}} differ from the message in the translation of {message!r}")
    mo = mo_path(language)
    if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
        found.append(f"{language}: {mo.relative_to(ROOT)} is stale: run python scripts/i18n.py")
    return found


def update() -> None:
    messages = extract()
    LOCALE.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_text(po_text(messages, None, {}), encoding="utf-8")
    for language in LANGUAGES:
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        old = read_po(path) if path.exists() else {}
        path.write_text(po_text(messages, language, old), encoding="utf-8")
        mo_path(language).write_bytes(compiled(language))
        missing = sum(1 for message in messages if not old.get(message, "").strip())
        print(f"{path.relative_to(ROOT)}: {len(messages)} messages, {missing} to translate")


def obsolete(language: str, messages: dict[str, list[str]]) -> list[str]:
    """Translations of messages the code no longer uses (the next update drops them)."""
    catalog = read_po(po_path(language))
    return [f"{language}: no longer used: {message!r}" for message in catalog if message and message not in messages]


def main() -> int:
    if "--check" in sys.argv:
        messages = extract()
        found = [problem for language in LANGUAGES for problem in problems(language, messages)]
        found += [problem for language in LANGUAGES for problem in obsolete(language, messages)]
        if TEMPLATE.read_text(encoding="utf-8") != po_text(messages, None, {}):
            found.append(f"{TEMPLATE.relative_to(ROOT)} is stale: run python scripts/i18n.py")
        for problem in found:
            print(problem)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
