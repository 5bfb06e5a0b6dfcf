"""Translations with the standard gettext approach: one message catalog per language.

Every text a user reads goes through ``_()``. Catalogs live in
``backprop_cli/locale/<lang>/LC_MESSAGES/backprop.mo`` (compiled from the ``.po`` beside them);
a language without a catalog falls back to English.
"""

from __future__ import annotations

import os
from pathlib import Path

DOMAIN = "backprop"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "pt", "zh")

#: the gettext catalog of the language, None for English (the messages are English already:
#: gettext is not even imported then, which start-up time notices)
_translation = None
_language = "en"


def language_from_environment() -> str:
    """The language asked for by LANGUAGE / LC_ALL / LC_MESSAGES / LANG, else English."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for value in os.environ.get(variable, "").split(":"):
            code = value.split(".")[0].split("_")[0].lower()
            if code in LANGUAGES:
                return code
    return "en"


def set_language(language: str | None = None) -> str:
    """Switch every later ``_()`` to ``language`` (None: from the environment).

    An unknown language asked for explicitly is an InputError; one from the environment
    (LANG=fr_FR) quietly falls back to English, as gettext programs do.
    """
    global _translation, _language
    if language is not None and language not in LANGUAGES:
        from .errors import InputError

        raise InputError(f"--lang: unknown language {language!r} (available: {', '.join(LANGUAGES)})")
    _language = language or language_from_environment()
    if _language == "en":
        _translation = None
    else:
        import gettext

        _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)
    return _language


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate a message (use ``_("... {name} ...").format(name=...)`` for values)."""
    return message if _translation is None else _translation.gettext(message)
