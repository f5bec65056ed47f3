"""Issue 12's structural checks: modules stay readable, and triage word lists live in data files, not code."""
from __future__ import annotations

import ast

from bot.paths import PROJECT_ROOT

MAX_LINES = 420  # "about 400"
NOT_WORD_LISTS = {"__all__", "CONTEXT_KEYS"}  # names of keys and exports, not vocabulary


def test_no_module_of_the_bot_is_much_over_400_lines():
    long = []
    for folder in ("bot", "actions", "knowledge"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                long.append(f"{path.relative_to(PROJECT_ROOT)}: {lines} lines")
    assert not long, long


def string_collections(tree: ast.AST):
    """(name or line, size) of every list, set or tuple literal of five or more strings, outside NOT_WORD_LISTS."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in NOT_WORD_LISTS
                                                for t in node.targets):
            skipped.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Set, ast.Tuple)) and id(node) not in skipped:
            strings = [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(strings) >= 5:
                yield node.lineno, len(strings)


def test_no_word_lists_in_the_triage_code():
    found = []
    for path in sorted((PROJECT_ROOT / "bot" / "triage").glob("*.py")):
        for line, size in string_collections(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{path.name}:{line}: {size} words (move them to bot/triage/lexicon/en.yml)")
    assert not found, found


def test_the_word_list_check_finds_a_word_list():
    code = 'NEGATION = {"no", "not", "never", "none", "nothing"}\n__all__ = ["a", "b", "c", "d", "e"]\n'
    assert list(string_collections(ast.parse(code))) == [(1, 5)]
