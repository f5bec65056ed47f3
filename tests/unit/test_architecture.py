"""The import rules of docs/architecture.md: each part imports only the parts below it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_MAY_IMPORT = ("bot.paths", "bot.settings", "bot.db", "bot.locks", "bot.fingerprint", "bot.topics",
                        "bot.nlp.vocabulary", "bot.nlp.build_pipeline")


def imports(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every project import under folder."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.module))
            elif isinstance(node, ast.Import):
                found.extend((str(path.relative_to(ROOT)), alias.name) for alias in node.names)
    return [(file, name) for file, name in found if name.split(".")[0] in {"bot", "actions", "knowledge", "tests",
                                                                            "bench"}]


def under(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_knowledge_imports_only_the_foundations():
    wrong = [(f, n) for f, n in imports("knowledge") if not under(n, "knowledge", *KNOWLEDGE_MAY_IMPORT)]
    assert wrong == []


@pytest.mark.parametrize("folder", ["bot/triage", "bot/nlp"])
def test_detection_works_in_the_rasa_process_alone(folder):
    wrong = [(f, n) for f, n in imports(folder)
             if under(n, "actions", "knowledge", "bot.channels", "bot.staff", "bot.web")]
    assert wrong == []


def test_actions_never_import_the_console_or_web_app():
    assert [(f, n) for f, n in imports("actions") if under(n, "bot.staff", "bot.web")] == []


@pytest.mark.parametrize("folder", ["bot", "knowledge", "actions", "bench"])
def test_nothing_imports_the_tests_and_bot_never_imports_actions(folder):
    forbidden = ("tests", "actions") if folder == "bot" else ("tests",)
    assert [(f, n) for f, n in imports(folder) if under(n, *forbidden)] == []
