"""The held-out and field evaluation sets stay out of training data and are well formed."""
from __future__ import annotations

import yaml

from bench import field_eval, heldout_eval
from bot.paths import PROJECT_ROOT

CARDS = {path.stem for path in (PROJECT_ROOT / "knowledge" / "cards").glob("*.yml")}


def _field() -> dict:
    return yaml.safe_load(field_eval.FIELD.read_text())


def test_field_messages_are_not_in_training_data():
    assert field_eval.check_not_copied(_field()) == []


def test_heldout_messages_are_not_in_training_data():
    assert heldout_eval.check_not_copied(yaml.safe_load(heldout_eval.HELDOUT.read_text())) == []


def test_guard_covers_every_training_file():
    guarded = set(heldout_eval.GUARDED)
    for path in (PROJECT_ROOT / "data").rglob("*.yml"):
        assert path in guarded, f"{path} is training data but not guarded"


def test_guard_catches_a_copied_field_message(monkeypatch):
    data = _field()
    copied = data["messages"][0]["text"]
    monkeypatch.setattr(field_eval, "guarded_text", lambda: heldout_eval.normalise(f"- {copied}"))
    assert field_eval.check_not_copied(data) == [copied]


def test_field_set_is_well_formed():
    data = _field()
    messages = data["messages"]
    assert len(messages) >= 150
    assert len({m["id"] for m in messages}) == len(messages)
    levels = {"answer": {"none"}, "booking": {"soon"}, "red_flag": {"same_day", "emergency"}}
    for message in messages:
        assert message["level"] in levels[message["kind"]], message["id"]
        assert message.get("card") is None or message["card"] in CARDS, message["id"]
    for follow in data["followups"]:
        cards = [follow["card"]] if isinstance(follow["card"], str) else follow["card"]
        assert set(cards) <= CARDS, follow["id"]


def test_scoring_flags_over_triage_and_wrong_card():
    markers = heldout_eval.escalation_markers()
    cards = heldout_eval.load_cards()
    case = {"id": "x", "kind": "answer", "level": "none", "card": "heel_lifts", "text": "t"}
    urgent = f"{markers['same_day']} now"
    row = field_eval.score_message(case, urgent, markers, cards)
    assert row["over"] and not row["ok"] and not row["right_card"]
    facts = " ".join(cards["heel_lifts"])
    row = field_eval.score_message(case, f"{facts}\nSources: x", markers, cards)
    assert row["ok"] and not row["over"] and row["right_card"]
    booking = {"id": "y", "kind": "booking", "level": "soon", "card": None, "text": "t"}
    assert field_eval.score_message(booking, "fine", markers, cards)["under"]
