"""The lines the action server writes itself, in the visitor's language (the `language` slot): the templates are
data, actions/texts/en.yml and its translations actions/texts/<language>.yml (same keys). A language without a
file, a key a translation lacks or a translation that does not fill in gives the English line, never an error."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
ENGLISH = "en"
LANGUAGE_SLOT = "language"
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,8})?")
REVIEW_MARKS = ("pending clinical review", "reviewed by")

logger = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def texts(language: str, directory: Path | None = None) -> dict[str, str]:
    """key -> template of one language's file; {} when it is missing, unreadable or not marked as reviewed."""
    path = (directory or TEXTS_DIR) / f"{language}.yml"
    if not LANGUAGE_CODE.fullmatch(language) or not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        logger.exception("could not read %s; replying in English", path)
        return {}
    if not isinstance(data, dict):
        return {}
    if language != ENGLISH and not any(mark in str(data.get("translation")) for mark in REVIEW_MARKS):
        logger.error("%s: no 'translation: pending clinical review ...' line; replying in English", path)
        return {}
    return {str(k): str(v) for k, v in data.items() if k != "translation" and isinstance(v, str)}


def language_of(tracker: Any) -> str | None:
    """The conversation's language (the `language` slot: en, zh-Hant, zh-Hans, es, ...)."""
    value = tracker.get_slot(LANGUAGE_SLOT)
    return value if isinstance(value, str) else None


def clinic_values(language: str | None) -> dict[str, str]:
    """The clinic's details for the placeholders, with its own wording in that language (clinic.yml)."""
    from bot.triage.advice import clinic_values as values

    return values(language=language)


def say(key: str, language: str | None = None, **values: Any) -> str:
    """The line `key` in `language`, its placeholders filled from `values` and the clinic's details."""
    english = texts(ENGLISH)[key]  # a key without English is a programming error
    translated = texts(language).get(key) if language and language != ENGLISH else None
    filled = {**clinic_values(language if translated else None), **values}
    if translated:
        try:
            return translated.format(**filled)
        except (KeyError, IndexError, ValueError):
            logger.exception("line %s (%s) does not fill in; sending the English one", key, language)
            filled = {**clinic_values(None), **values}
    return english.format(**filled)
