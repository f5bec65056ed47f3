"""Start-up patch: look an event's class up by its type name in a table, not by walking every Event subclass.

What Rasa does: `Event.resolve_by_type` (rasa/shared/core/events.py, Rasa 3.6) is called for every event
deserialised (each stored event replayed on every message, each event an action server returns). Each call
walks the whole Event class tree (`rasa.shared.utils.common.all_subclasses`, recursive, with an
`inspect.isabstract` check per class) and returns the first class whose `type_name` matches: about 0.15 ms an
event, 3 ms per message for a 20-event session (cProfile of the tracker store; see docs/scaling.md).

What the clinic needs: the same class for the same name. The table maps each type name to the first class
`all_subclasses(Event)` gives for it, the same first match as Rasa's loop; it is built on first use and
dropped whenever a new Event subclass is defined (an `__init_subclass__` hook on Event), so a custom event
imported later is found as before. Names not in the table (unknown, the old "topic" event) take Rasa's own
path, with its `default` and its ValueError.

Test: tests/unit/test_event_types.py (every type name resolves to Rasa's class, unknown names and defaults
behave as Rasa's, a subclass defined after the table was built is found).
"""
from __future__ import annotations

from typing import Any

from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

_original_resolve = Event.resolve_by_type
_table: dict[str, type[Event]] | None = None


def _build() -> dict[str, type[Event]]:
    table: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        name = getattr(cls, "type_name", None)
        if isinstance(name, str):
            table.setdefault(name, cls)  # Rasa's loop returns the first match
    return table


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's `Event.resolve_by_type`, from the table when the name is in it."""
    global _table
    table = _table
    if table is None:
        table = _table = _build()
    found = table.get(type_name)
    if found is not None:
        return found
    return _original_resolve(type_name, default)


def _drop_table(cls: Any, **kwargs: Any) -> None:
    global _table
    _table = None
    super(Event, cls).__init_subclass__(**kwargs)


def apply() -> None:
    """Replace Event.resolve_by_type; a new Event subclass drops the table."""
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
    Event.__init_subclass__ = classmethod(_drop_table)  # type: ignore[method-assign,assignment]


__all__ = ["apply", "resolve_by_type"]
