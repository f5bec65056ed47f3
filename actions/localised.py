"""The lines the action server writes itself, in the visitor's language (the `language` slot): the templates are
data, actions/texts/en.yml and its translations actions/texts/<language>.yml (same keys). A language without a
file, a key a translation lacks or a translation that does not fill in gives the English line, never an error."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.translation_files import ENGLISH, is_foreign, read_translation, read_yaml
from bot.triage.advice import clinic_values

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
LANGUAGE_SLOT = "language"

logger = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def texts(language: str, directory: Path | None = None) -> dict[str, str]:
    """key -> template of one language's file; {} when it is missing, unreadable or not marked for review."""
    path = (directory or TEXTS_DIR) / f"{language}.yml"
    if language == ENGLISH:
        data = read_yaml(path)
    elif is_foreign(language):
        data = read_translation(path)
    else:
        return {}
    return {str(k): str(v) for k, v in data.items() if k != "translation" and isinstance(v, str)}


def language_of(tracker: Any) -> str | None:
    """The conversation's language (the `language` slot: en, zh-Hant, zh-Hans, es, ...)."""
    value = tracker.get_slot(LANGUAGE_SLOT)
    return value if isinstance(value, str) else None


def say(key: str, language: str | None = None, **values: Any) -> str:
    """The line `key` in `language`, its placeholders filled from `values` and the clinic's details."""
    english = texts(ENGLISH)[key]  # a key without English is a programming error
    translated = texts(language).get(key) if language and language != ENGLISH else None
    filled = {**clinic_values(language=language if translated else None), **values}
    if translated:
        try:
            return translated.format(**filled)
        except (KeyError, IndexError, ValueError):
            logger.exception("line %s (%s) does not fill in; sending the English one", key, language)
            filled = {**clinic_values(), **values}
    return english.format(**filled)
