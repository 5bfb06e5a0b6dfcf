"""Translations: every message has one in each language, the .mo files match their .po, and
the commands speak the language asked for (--lang, else the environment)."""

from __future__ import annotations

import gettext
import re
import sys

import pytest
from conftest import ROOT

from backprop_cli.errors import InputError
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


def test_set_language_switches_messages(monkeypatch):
    set_language("pt")
    assert _("Forward pass") == "Passagem direta"
    set_language("zh")
    assert _("Forward pass") == "前向传播"
    set_language("en")
    assert _("Forward pass") == "Forward pass"
    with pytest.raises(InputError, match="unknown language 'fr'"):  # asked for explicitly: an error
        set_language("fr")
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # from the environment: English, quietly
    assert set_language() == "en"
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


# --------------------------------------------------------------------------- errors and tables through the CLI
# The translated words below are the field's terms this project chose (docs/tutorial.md, section 9);
# the numbers are the CS231n circuit worked by hand: q = x + y = 3, f = q * z = -12,
# df/dz = q = 3, df/dq = z = -4, df/dx = df/dy = -4 (MISSION.md).


@pytest.mark.parametrize(
    "language, expected",
    [
        ("pt", "erro: esperava um número, um nome ou '(' mas encontrou fim da entrada depois de '+' na coluna 3"),
        ("zh", "错误：应为数、名称或 '('，但在 '+' 之后遇到了 输入结尾（第 3 列）"),
    ],
)
def test_parse_error_in_each_language(cli, language, expected, monkeypatch):
    result = cli("grad", "x+", "--lang", language)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [expected]
    monkeypatch.setattr("backprop_cli.cli.stderr_is_terminal", lambda: True)
    result = cli("grad", "x+", "--lang", language)
    assert result.stderr.splitlines() == [expected, "  x+", "    ^"]  # the caret stays under the column
    assert result.stdout == ""


@pytest.mark.parametrize(
    "language, words",
    [("pt", ("erro:", "'(' nunca é fechado", "linha 2, coluna 5")), ("zh", ("错误：", "'(' 没有闭合", "第 2 行第 5 列"))],
)
def test_parse_error_on_a_later_line(cli, language, words):
    result = cli("grad", "q = x + y\nf = (q * z", "--lang", language)
    assert result.exit_code == 2
    assert all(word in result.stderr.splitlines()[0] for word in words)


@pytest.mark.parametrize(
    "language, expression, values, expected",
    [
        ("pt", "log(x)", ("x=-1",), "erro: log no nó 'log(x)': log precisa de uma entrada positiva (entradas: x = -1)"),
        ("zh", "log(x)", ("x=-1",), "错误：节点 'log(x)' 处的 log：log 需要正的输入（输入：x = -1）"),
        ("pt", "x/y", ("x=1", "y=0"), "erro: div no nó '(x / y)': divisão por zero (entradas: x = 1, y = 0)"),
        ("zh", "x/y", ("x=1", "y=0"), "错误：节点 '(x / y)' 处的 div：除以零（输入：x = 1, y = 0）"),
        ("pt", "sqrt(x)", ("x=0",), "erro: sqrt no nó 'sqrt(x)': sqrt tem inclinação infinita em 0 (sem gradiente) (entradas: x = 0)"),
    ],
)
def test_domain_error_in_each_language(cli, language, expression, values, expected):
    result = cli("grad", expression, *values, "--lang", language)
    assert result.exit_code == 2
    assert result.stderr == expected + "\n"


@pytest.mark.parametrize(
    "language, expected",
    [
        ("pt", "erro: falta o valor de z (usado pela primeira vez na coluna 7); passe z=VALOR"),
        ("zh", "错误：缺少 z 的值（首次使用于第 7 列）；请传入 z=值"),
    ],
)
def test_input_error_in_each_language(cli, language, expected):
    result = cli("grad", "(x+y)*z", "x=1", "y=2", "--lang", language)
    assert result.exit_code == 2 and result.stderr == expected + "\n"


def test_value_error_in_portuguese(cli):
    result = cli("grad", "x*2", "x=abc", "--lang", "pt")
    assert result.exit_code == 2
    assert result.stderr.startswith("erro: o valor de 'x' 'abc' não é um número")


def _numbers(text: str) -> list[str]:
    """Every number in the output, in order (labels such as df/dx and (x + y) are left out)."""
    return re.findall(r"(?<![\w/(])-?\d+(?:\.\d+)?(?![\w)])", text)


def _gradient_rows(out: str) -> dict[str, str]:
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells and cells[0] in ("df/dx", "df/dy", "df/dz"):
            rows[cells[0]] = cells[1]
    return rows


@pytest.mark.parametrize(
    "language, headers",
    [
        ("pt", ("Passagem direta", "Passagem reversa", "gradiente local", "a montante", "Gradientes de f = -12", "| entrada | gradiente |")),
        ("zh", ("前向传播", "反向传播", "局部梯度", "上游", "f = -12 的梯度", "| 输入  | 梯度 |")),
    ],
)
def test_grad_tables_in_each_language(cli, language, headers):
    english = cli("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--no-check")
    translated = cli("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--no-check", "--lang", language)
    assert translated.exit_code == 0
    for header in headers:
        assert header in translated.stdout
    for word in ("Forward pass", "Backward pass", "local gradient", "Gradients of"):
        assert word not in translated.stdout
    # the numbers are the hand-worked ones, in every language
    assert _gradient_rows(translated.stdout) == {"df/dx": "-4", "df/dy": "-4", "df/dz": "3"}
    assert _numbers(translated.stdout) == _numbers(english.stdout)
    assert {"-2", "5", "3", "-4", "-12"} <= set(_numbers(translated.stdout))


@pytest.mark.parametrize("language, words", [("pt", ("verificação: sympy: concorda", "derivada (SymPy)")), ("zh", ("验证", "SymPy 导数"))])
def test_cross_check_in_each_language(cli, language, words):
    out = cli("grad", "(x+y)*z", "x=-2", "y=5", "z=-4", "--lang", language).stdout
    assert all(word in out for word in words)
    assert _gradient_rows(out) == {"df/dx": "-4", "df/dy": "-4", "df/dz": "3"}


@pytest.mark.parametrize(
    "language, note",
    [
        ("pt", "diferenças centrais ao longo de 3 direções aleatórias concordam"),
        ("zh", "沿 3 个随机方向的中心差分一致"),
    ],
)
def test_finite_difference_note_in_each_language(cli, language, note):
    out = cli("grad", "x*y", "x=2", "y=3", "--check-method", "finite-difference", "--lang", language).stdout
    assert note in out


def test_english_messages_stay_english_without_a_language(cli):
    result = cli("grad", "x+", env={"LANG": "C.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""})
    assert result.stderr.startswith("error: expected a number, a name or '(' but found end of input after '+' at column 3")


def test_parse_errors_follow_the_language_of_the_environment(cli):
    result = cli("grad", "2x", env={"LANG": "pt_BR.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""})
    assert result.stderr.startswith("erro: falta um operador antes de 'x' (escreva 2*x para multiplicar) na coluna 2")


def test_domain_error_in_chinese_from_the_real_entry_point(run_backprop):
    done = run_backprop("grad", "x**y", "x=0", "y=-1", env={"LANG": "zh_CN.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""})
    assert done.returncode == 2
    assert done.stderr == "错误：节点 '(x ** y)' 处的 pow：零的负数次幂（输入：x = 0, y = -1）\n"
    assert done.stdout == ""


def test_every_wrapped_module_has_translations_of_its_messages():
    # the engine's own messages are in the catalog (a regression check for the wrapping itself)
    for message in ("division by zero", "{message} at {where}", "column {column}", "line {line}, column {column}",
                    "central differences along {count} random directions agree",
                    "{gate} at node {label!r}: {message} (inputs: {inputs})"):
        assert message in MESSAGES
