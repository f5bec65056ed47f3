"""Reading the project's translation files: the one rule for which language codes are foreign, the review mark
every translation file must carry ("translation: pending clinical review ..." or "reviewed by ..."), and a YAML
reader that gives {} instead of an error, so that a broken translation falls back to English."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

ENGLISH = "en"
REVIEW_MARKS = ("pending clinical review", "reviewed by")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,8})?")


def is_foreign(language: str | None) -> bool:
    """A well-formed language code other than English (never a path or anything else a slot might hold)."""
    return bool(language) and language != ENGLISH and LANGUAGE_CODE.fullmatch(language) is not None


def marked_for_review(data: dict) -> bool:
    """The file says who must review, or who reviewed, the translation."""
    return any(mark in str(data.get("translation")) for mark in REVIEW_MARKS)


def read_yaml(path: Path) -> dict:
    """A YAML mapping; {} when the file is missing, unreadable or not a mapping (logged)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, yaml.YAMLError):
        logger.exception("could not read %s; replying in English", path)
        return {}
    return data if isinstance(data, dict) else {}


def read_translation(path: Path) -> dict:
    """A translation file's mapping; {} (English is used) when it is missing, unreadable or not marked for review."""
    data = read_yaml(path)
    if data and not marked_for_review(data):
        logger.error("%s: no 'translation: pending clinical review ...' line; replying in English", path)
        return {}
    return data
