"""docs/settings.md, written from the settings catalogue (bot/settings.py) so the two cannot drift apart.

Run: .venv/bin/python -m bot.settings_docs > docs/settings.md   (tests/unit/test_settings_docs.py checks it)
"""
from __future__ import annotations

from pathlib import Path

from bot.paths import PROJECT_ROOT
from bot.settings import FIELDS, TEST_SUITE_VARIABLES, variable

INTRO = """# Settings

Every `CLINIC_*` environment variable the bot reads, by area: its type, default and meaning. The catalogue is
`bot/settings.py` (pydantic); this page is generated from it (`.venv/bin/python -m bot.settings_docs >
docs/settings.md`) and a test fails when the two differ. A blank value means "unset" (the default applies),
except for the rate limits where an empty string switches the limit off. An invalid value stops the program at
start-up with a message naming the variable. The clinic's own details (name, phone, opening hours, emergency
numbers) are not variables: they are in `clinic.yml`.
"""


def _shown(value: object) -> str:
    if value is None or value == () or value == "":
        return "unset"
    text = str(value)
    if isinstance(value, Path) or text.startswith(("sqlite:///" + str(PROJECT_ROOT), str(PROJECT_ROOT))):
        text = text.replace(str(PROJECT_ROOT) + "/", "").replace(str(PROJECT_ROOT), ".")
    return f"`{text}`"


def _type(field) -> str:  # noqa: ANN001 - a pydantic ModelField
    extra = field.field_info.extra
    if extra.get("kind"):
        return str(extra["kind"])
    name = getattr(field.outer_type_, "__name__", str(field.outer_type_))
    return {"SecretStr": "secret", "str": "text", "int": "whole number", "float": "number", "bool": "yes/no",
            "Path": "file path"}.get(name, name) + (f" ({extra['unit']})" if extra.get("unit") else "")


def render() -> str:
    areas: dict[str, list[str]] = {}
    for name, field in FIELDS.items():
        default = field.default_factory() if field.default_factory else field.default
        description = str(field.field_info.description or "").replace("|", "/")
        areas.setdefault(str(field.field_info.extra.get("area", "Other")), []).append(
            f"| `{variable(name)}` | {_type(field)} | {_shown(default)} | {description} |")
    lines = [INTRO]
    for area, rows in areas.items():
        lines += [f"## {area}", "", "| variable | type | default | meaning |", "| --- | --- | --- | --- |", *rows, ""]
    lines += ["## Read by the test suite only", "",
              *[f"- `{name}`" for name in TEST_SUITE_VARIABLES], ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
