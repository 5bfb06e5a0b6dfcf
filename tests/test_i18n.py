"""Translations: every message has one in each language, the .mo files match their .po, and
the commands speak the language asked for (--lang, else the environment)."""

from __future__ import annotations

import gettext
import sys

import pytest
from conftest import ROOT

from backprop_cli.i18n import LOCALE_DIR, _, language_from_environment, set_language

sys.path.insert(0, str(ROOT / "scripts"))
import i18n as catalogs  # noqa: E402

MESSAGES = catalogs.extract()


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("en")


# --------------------------------------------------------------------------- the catalogs


@pytest.mark.parametrize("language", catalogs.LANGUAGES)
def test_every_message_has_a_translation(language):
    catalog = catalogs.read_po(catalogs.po_path(language))
    missing = [message for message in MESSAGES if not catalog.get(message, "").strip()]
    assert not missing, f"{len(missing)} messages without a {language} translation (run python scripts/i18n.py, then translate):\n" + "\n".join(missing[:20])


@pytest.mark.parametrize("language", catalogs.LANGUAGES)
def test_translations_keep_the_fields(language):
    catalog = catalogs.read_po(catalogs.po_path(language))
    broken = [
        message
        for message in MESSAGES
        if catalog.get(message) and catalogs.placeholders(catalog[message]) != catalogs.placeholders(message)
    ]
    assert not broken, "a translation must keep every {field} of its message: " + repr(broken[:5])


@pytest.mark.parametrize("language", catalogs.LANGUAGES)
def test_mo_files_are_compiled_from_the_current_po(language):
    assert catalogs.mo_path(language).read_bytes() == catalogs.compiled(language), "run python scripts/i18n.py"


def test_the_check_script_agrees():
    assert all(not catalogs.problems(language, MESSAGES) for language in catalogs.LANGUAGES)


def test_a_missing_translation_is_caught(tmp_path, monkeypatch):
    # the check reports a message the catalog does not translate, and a stale .mo
    po = tmp_path / "pt" / "LC_MESSAGES" / "backprop.po"
    po.parent.mkdir(parents=True)
    po.write_text(catalogs.po_text({"hello": ["x.py"], "bye {name}": ["x.py"]}, "pt", {"hello": "olá"}), encoding="utf-8")
    monkeypatch.setattr(catalogs, "po_path", lambda language: po)
    monkeypatch.setattr(catalogs, "mo_path", lambda language: po.with_suffix(".mo"))
    monkeypatch.setattr(catalogs, "ROOT", tmp_path)
    found = catalogs.problems("pt", {"hello": ["x.py"], "bye {name}": ["x.py"]})
    assert "pt: no translation for 'bye {name}'" in found
    assert any("is stale" in problem for problem in found)


def test_extraction_reads_calls_of_underscore_with_a_constant():
    source = 'x = _("one {n}")\ny = _("two " "parts")\nz = other("no")\nw = _(name)\nv = _("")\n'
    tree_messages = catalogs.messages_in(source)
    assert tree_messages == ["one {n}", "two parts"]


def test_the_gate_registry_prose_is_extracted():
    assert "mul swaps: each input's gradient is the upstream gradient times the other input" in MESSAGES
    assert "other input" in MESSAGES


def test_field_terms_of_each_language():
    pt = catalogs.po_path("pt").read_text(encoding="utf-8")
    zh = catalogs.po_path("zh").read_text(encoding="utf-8")
    for term in ("gradiente", "regra da cadeia", "retropropagação"):
        assert term in pt
    for term in ("梯度", "链式法则", "反向传播"):
        assert term in zh


def test_mo_writer_round_trips_through_gettext(tmp_path):
    mo = tmp_path / "test.mo"
    header = catalogs.header("pt")
    mo.write_bytes(catalogs.mo_bytes({"": header, "gradient": "gradiente", "chain rule": "regra da cadeia", "untranslated": ""}))
    with mo.open("rb") as handle:
        translation = gettext.GNUTranslations(handle)
    assert translation.gettext("gradient") == "gradiente"
    assert translation.gettext("chain rule") == "regra da cadeia"
    assert translation.gettext("untranslated") == "untranslated"  # an empty msgstr falls back to English
    assert translation.info()["language"] == "pt"


def test_po_strings_with_quotes_and_newlines_round_trip(tmp_path):
    text = 'say "hi"\\ then\na new line'
    po = tmp_path / "x.po"
    po.write_text(catalogs.po_text({text: ["x.py"]}, "zh", {text: "说 \"你好\"\n新行"}), encoding="utf-8")
    assert catalogs.read_po(po)[text] == "说 \"你好\"\n新行"


# --------------------------------------------------------------------------- at run time


def test_catalogs_are_found_in_the_package():
    for language in catalogs.LANGUAGES:
        assert (LOCALE_DIR / language / "LC_MESSAGES" / "backprop.mo").exists()


def test_set_language_switches_messages():
    set_language("pt")
    assert _("Forward pass") == "Passagem direta"
    set_language("zh")
    assert _("Forward pass") == "前向传播"
    set_language("en")
    assert _("Forward pass") == "Forward pass"
    set_language("fr")  # no catalog: English
    assert _("Forward pass") == "Forward pass"


@pytest.mark.parametrize(
    "environment, expected",
    [
        ({"LANG": "pt_BR.UTF-8"}, "pt"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8", "LANGUAGE": "fr:pt"}, "pt"),
        ({}, "en"),
    ],
)
def test_language_from_the_environment(monkeypatch, environment, expected):
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert language_from_environment() == expected


CIRCUIT = ("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--explain", "--summary", "--no-check")


def test_explain_in_portuguese(cli):
    out = cli(*CIRCUIT, "--lang", "pt").stdout
    assert "Explicação" in out
    assert "A porta add calcula (x + y) = -2 + 5 = 3." in out
    assert "df/dx = -4" in out and "regra da cadeia" in out


def test_explain_in_chinese(cli):
    out = cli(*CIRCUIT, "--lang", "zh").stdout
    assert "讲解" in out
    assert "add 门计算 (x + y) = -2 + 5 = 3。" in out
    assert "链式法则" in out and "df/dz = 3" in out


def test_language_from_lang_when_no_option(cli):
    out = cli(*CIRCUIT, env={"LANG": "pt_BR.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}).stdout
    assert "Explicação" in out


@pytest.mark.parametrize("language, word", [("pt", "Pontuação"), ("zh", "得分")])
def test_quiz_in_each_language(cli, language, word):
    out = cli("quiz", "--level", "1", "--seed", "1", "--lang", language, input="-20\n").stdout
    assert word in out


@pytest.mark.parametrize("language, title", [("pt", "# Folha de exercícios de retropropagação"), ("zh", "# 反向传播练习")])
def test_worksheet_in_each_language(cli, language, title):
    out = cli("worksheet", "--count", "1", "--level", "1", "--seed", "1", "--lang", language).stdout
    assert out.startswith(title)


@pytest.mark.parametrize("language, word", [("pt", "troca"), ("zh", "交换")])
def test_gates_in_each_language(cli, language, word):
    out = cli("gates", "mul", "--lang", language).stdout
    assert word in out
