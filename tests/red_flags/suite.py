"""The red-flag suite (tests/red_flags/suite.yml) as Case objects: the loader lives in bot/devtools/corpus.py
(shared with bench/ and the e2e runs)."""
from __future__ import annotations

from bot.devtools.corpus import SUITE_FILE, VALID_LEVELS, Case, load_suite

__all__ = ["SUITE_FILE", "VALID_LEVELS", "Case", "load_suite"]
