"""`python -m bot migrate-conversation-ids`: old bare ids become channel-namespaced, in every table."""
from __future__ import annotations

from sqlalchemy import func, select

from bot.channels import store
from bot.cli import main
from bot.db import clinic_engine
from bot.escalations import Escalation
from bot.staff.summaries import EVENTS, ensure_events_table
from tests.staff import events as ev

OLD = {  # bare id before namespaces -> (channel of its messages, the id it must get)
    "918273645": ("telegram", "telegram:918273645"),
    "whatsapp:+447700900111": ("twilio", "twilio:+447700900111"),
    "447700900222": ("whatsapp", "whatsapp:+447700900222"),
    "0f" * 16: ("socketio", "web:" + "0f" * 16),
    "curl-me": ("rest", "rest:curl-me"),
    "telegram:55": ("rest", "rest:telegram:55"),  # a REST caller who named itself like a Telegram chat
}


def senders(engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(select(EVENTS.c.sender_id).distinct())}


def seed(engine) -> None:
    ensure_events_table(engine)
    for sender, (channel, _) in OLD.items():
        ev.insert(engine, sender, [ev.action("action_session_start"),
                                   ev.user("do heel lifts help?", "ask_heel_lifts", channel=channel),
                                   ev.bot("Heel lifts can help.")])
    # the hole this change closes: a REST caller wrote into a WhatsApp patient's conversation
    ev.insert(engine, "447700900333", [ev.user("a loud pop in my achilles", "red_flag", channel="whatsapp"),
                                       ev.user("my name is mallory", "inform", channel="rest")])
    with engine.begin() as conn:
        conn.execute(Escalation.__table__.insert().values(
            conversation_id="447700900333", channel="whatsapp", level="emergency", flags="rupture",
            message="a loud pop", status="open", notified=False,
            created_at=store.utcnow(), updated_at=store.utcnow()))
    store.record_outgoing("918273645", "telegram", "failed", error="HTTP 500", engine=engine)


def test_bare_ids_are_renamed_by_their_channel_everywhere(clinic_db, capsys):
    engine = clinic_engine()
    seed(engine)
    assert main(["migrate-conversation-ids", "--dry-run"]) == 0
    assert "7 conversation(s) to rename" in capsys.readouterr().out
    assert "918273645" in senders(engine), "a dry run changes nothing"

    assert main(["migrate-conversation-ids"]) == 0
    out = capsys.readouterr().out
    expected = {new for _, new in OLD.values()} | {"whatsapp:+447700900333"}
    assert senders(engine) == expected
    assert "mixed channels (rest, whatsapp): 447700900333 -> whatsapp:+447700900333" in out
    with engine.connect() as conn:
        assert conn.execute(select(Escalation.conversation_id)).scalar() == "whatsapp:+447700900333"
        assert conn.execute(select(func.count()).select_from(EVENTS)
                            .where(EVENTS.c.sender_id == "telegram:918273645")).scalar() == 3
    assert [row["status"] for row in store.outgoing_for("telegram:918273645", engine=engine)] == ["failed"]

    assert main(["migrate-conversation-ids"]) == 0  # a second run finds nothing to do
    assert "0 conversation(s) renamed" in capsys.readouterr().out
    assert senders(engine) == expected


def test_a_taken_new_id_is_left_alone(clinic_db, capsys):
    engine = clinic_engine()
    ensure_events_table(engine)
    ev.insert(engine, "42", [ev.user("hi", "greet", channel="telegram")])
    ev.insert(engine, "telegram:42", [ev.user("hello", "greet", channel="telegram")])
    assert main(["migrate-conversation-ids"]) == 0
    assert "left alone: 42: telegram:42 already exists" in capsys.readouterr().out
    assert senders(engine) == {"42", "telegram:42"}
