"""docs/settings.md is the catalogue (bot/settings.py) rendered, and every CLINIC_* variable the code names is in
the catalogue, so a new variable cannot be read without being typed, defaulted and documented."""
from __future__ import annotations

import re

from bot.paths import PROJECT_ROOT
from bot.settings import TEST_SUITE_VARIABLES, VARIABLES
from bot.settings_docs import render

NAMED = re.compile(r"""(?<=["'])CLINIC_[A-Z0-9_]+""")  # a string naming a variable (or, ending in _, a family)


def test_the_settings_page_is_the_catalogue_rendered():
    page = (PROJECT_ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert page == render(), "docs/settings.md is stale: run .venv/bin/python -m bot.settings_docs > docs/settings.md"
    for name in VARIABLES:
        assert f"`{name}`" in page


def test_every_variable_the_code_names_is_in_the_catalogue():
    named = set()
    for folder in ("bot", "actions", "knowledge"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            named |= set(NAMED.findall(path.read_text(encoding="utf-8")))
    known = set(VARIABLES) | set(TEST_SUITE_VARIABLES)
    unknown = sorted(name for name in named - known - {"CLINIC_"}
                     if not (name.endswith("_") and any(v.startswith(name) for v in known)))
    assert unknown == []


def test_a_variable_missing_from_the_catalogue_would_be_caught():
    assert NAMED.findall('os.environ.get("CLINIC_SOMETHING_NEW")') == ["CLINIC_SOMETHING_NEW"]
    assert "CLINIC_SOMETHING_NEW" not in VARIABLES
