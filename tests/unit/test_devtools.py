"""Shared helpers live in bot/devtools/: nothing outside tests/ imports tests/, and the moved helpers still work."""
from __future__ import annotations

import ast

from bot.devtools.corpus import allow_list, load_suite, nlu_examples, topic_questions
from bot.paths import PROJECT_ROOT

OUTSIDE_TESTS = ["bot", "bench", "actions", "knowledge", "scripts"]


def _imports(path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_nothing_outside_tests_imports_tests():
    offenders = []
    for folder in OUTSIDE_TESTS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            offenders += [f"{path.relative_to(PROJECT_ROOT)}: {name}" for name in _imports(path)
                          if name == "tests" or name.startswith("tests.")]
    assert not offenders, "import these from bot/devtools/ instead:\n" + "\n".join(offenders)


def test_corpus_readers_find_their_data():
    cases = load_suite()
    assert any(case.positive for case in cases) and any(not case.positive for case in cases)
    intents = {intent for intent, _text in nlu_examples()}
    assert "red_flag" in intents and len(intents) > 10
    assert all(intent.startswith("topic_questions:") for intent, _q in topic_questions())
    assert all(entry["reason"].strip() for entry in allow_list().values())
