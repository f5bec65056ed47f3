"""Start-up patch bot/server/event_types.py: the same event class for every type name, as Rasa's own lookup."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot.server import event_types
from bot.server.patches import PATCHES


def _rasa_first_match(type_name: str):
    for cls in all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    return None


@pytest.fixture()
def patched():
    saved = {name: Event.__dict__[name] for name in ("resolve_by_type", "__init_subclass__") if name in Event.__dict__}
    event_types._table = None
    event_types.apply()
    yield
    for name in ("resolve_by_type", "__init_subclass__"):
        if name in saved:
            setattr(Event, name, saved[name])
        elif name in Event.__dict__:
            delattr(Event, name)
    event_types._table = None


def test_registered_and_rasas_own_lookup_unchanged_without_it():
    assert "bot.server.event_types:apply" in PATCHES
    assert event_types._original_resolve("user") is UserUttered


def test_every_type_name_resolves_to_rasas_class(patched):
    names = {cls.type_name for cls in all_subclasses(Event) if isinstance(getattr(cls, "type_name", None), str)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is _rasa_first_match(name), name
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("action") is ActionExecuted


def test_unknown_names_and_defaults_as_rasa(patched):
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=ActionExecuted) is ActionExecuted
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    with pytest.raises(ValueError):
        Event.from_parameters({"event": "no_such_event"})


def test_round_trip_through_from_parameters(patched):
    event = UserUttered("do heel lifts help?", {"name": "ask_heel_lifts", "confidence": 0.9})
    again = Event.from_parameters(event.as_dict())
    assert isinstance(again, UserUttered) and again == event


def test_subclass_defined_later_is_found(patched):
    Event.resolve_by_type("user")  # the table is built now
    assert event_types._table is not None

    class ClinicTestEvent(ActionExecuted):
        type_name = "clinic_test_event_types"

    assert event_types._table is None  # dropped by the new subclass
    assert Event.resolve_by_type("clinic_test_event_types") is ClinicTestEvent
