"""Errors of the knowledge base, each naming the file and line to fix."""

from __future__ import annotations

from pathlib import Path


class KnowledgeError(Exception):
    """A problem in a source, card or the built knowledge base; the message says where and what to do."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = f"{_display(self.path)}:{line}: " if line is not None else f"{_display(self.path)}: "
        super().__init__(where + message)


class SourceError(KnowledgeError):
    """The manifest or a source document cannot be used."""


class CardError(KnowledgeError):
    """An answer card is malformed or breaks a content rule."""


class GroundingError(CardError):
    """A card quotes text that is not in the source it names."""


class KnowledgeBaseMissing(RuntimeError):
    """The built knowledge base is not there (or is empty): run `make kb`."""


def _display(path: str) -> str:
    """The path relative to the project root when it is inside it (what a developer types)."""
    from bot.paths import PROJECT_ROOT

    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return path
