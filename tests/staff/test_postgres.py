"""The console's core queries on PostgreSQL: the same pages and API as on SQLite, on a throwaway server."""
from __future__ import annotations

import time

import pytest
from sqlalchemy.orm import Session

from bot.escalations import Escalation
from bot.staff.auth import create_user
from bot.staff.db import forget_prepared, staff_engine
from bot.staff.retention import apply_retention
from tests.servers import postgres_server, postgres_url  # noqa: F401,F811 - pytest fixtures
from tests.staff import events as ev
from tests.staff.conftest import login
from tests.staff.test_console import XSS, seed
from tests.staff.test_privacy import rows_naming

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(postgres_url, monkeypatch):  # noqa: F811 - the fixture imported above
    from rasa.core.tracker_store import SQLTrackerStore

    from bot import db
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_DATABASE_URL", postgres_url)
    db.engine_for.cache_clear()
    forget_prepared()
    # Rasa creates the events table first, as in production; the console must read Rasa's own schema.
    SQLTrackerStore(dialect="postgresql", host=postgres_url)
    engine = staff_engine(postgres_url)
    with Session(bind=engine) as session:
        create_user(session, "sam", "sam-password-1", "staff")
        create_user(session, "ada", "ada-password-1", "admin")
        session.commit()
    seed(engine)
    yield create_app({"TESTING": True, "SECRET_KEY": "pg-secret"}), engine
    engine.dispose()
    db.engine_for.cache_clear()
    forget_prepared()


def ids(client, **params):
    return sorted(c["sender_id"] for c in client.get("/staff/api/conversations",
                                                     query_string=params).get_json()["conversations"])


def test_list_filters_search_and_pagination_on_postgres(pg_app):
    app, engine = pg_app
    staff = login(app.test_client(), "sam")
    client = staff.client
    assert ids(client) == ["alice", "bob", "carl", "dina", "emil"]
    assert ids(client, channel="socketio") == ["bob", "emil"]
    assert ids(client, escalated="yes") == ["bob"]
    assert ids(client, quality="either") == ["carl", "dina"]
    assert ids(client, topic="heel_lifts") == ["alice", "dina", "emil"]
    assert ids(client, min_messages="2") == ["dina"]
    assert ids(client, q="POP in my") == ["bob"]
    assert ids(client, q="%") == []
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert ids(client, date_from=today) == ["dina", "emil"]
    staff.post("/staff/review", {"sender_id": "alice", "reviewed": "1"})
    staff.post("/staff/tag", {"sender_id": "alice", "tag": "good"})
    assert ids(client, reviewed="yes") == ["alice"] and ids(client, tag="good") == ["alice"]
    for n in range(60):
        ev.insert(engine, f"pg-{n:02d}", ev.heel_lift_conversation(), start=time.time() - 3600 - n)
    second = client.get("/staff/api/conversations?page=2").get_json()
    assert second["total"] == 65 and len(second["conversations"]) == 15


def test_transcript_queue_labels_and_analytics_on_postgres(pg_app):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    app, engine = pg_app
    staff = login(app.test_client(), "sam")
    page = staff.get("/staff/transcript/bob").get_data(as_text=True)
    assert "red flag emergency" in page and "07700 900123" in page
    carl = staff.get("/staff/transcript/carl").get_data(as_text=True)
    assert "<script>alert" not in carl and "&lt;script&gt;" in carl
    [row] = staff.client.get("/staff/api/escalations").get_json()["escalations"]
    assert staff.post_json(f"/staff/api/escalations/{row['id']}", {"status": "contacted"}).status_code == 200
    contacted = staff.client.get("/staff/api/escalations?status=contacted").get_json()
    assert contacted["counts"] == {"contacted": 1}
    from tests.staff.test_console import _user_items

    event_id = _user_items(engine, "carl")[0]["id"]
    response = staff.post("/staff/label", {"event_id": event_id, "correct_intent": "out_of_scope"})
    assert response.status_code == 302
    admin = login(app.test_client(), "ada")
    body = admin.get("/staff/labels/export.yml").get_data(as_text=True)
    assert [(m.get("intent"), m.get("text")) for m in RasaYAMLReader().reads(body).intent_examples] == [
        ("out_of_scope", XSS)]
    analytics = staff.get("/staff/analytics").get_data(as_text=True)
    assert analytics.count("<svg") == 5 and "5 conversations" in analytics


def test_erasure_and_retention_on_postgres(pg_app):
    app, engine = pg_app
    admin = login(app.test_client(), "ada")
    admin.get("/staff/transcript/bob")
    assert admin.post("/staff/erase", {"sender_id": "bob", "confirm": "bob"}).status_code == 302
    assert rows_naming(engine, "bob") == {} and rows_naming(engine, "07700 900123") == {}
    ev.insert(engine, "ancient", ev.heel_lift_conversation(), start=time.time() - 400 * 86400)
    report = apply_retention(engine, "pg-secret", days=365)
    assert report.conversations == 1 and rows_naming(engine, "ancient") == {}
    assert rows_naming(engine, "alice")["events"] == 5


def test_new_escalation_is_counted_on_postgres(pg_app):
    app, engine = pg_app
    staff = login(app.test_client(), "sam")
    with Session(bind=engine) as session:
        session.add(Escalation(conversation_id="alice", level="same_day", flags="night_pain", message="m"))
        session.commit()
    assert staff.client.get("/staff/api/escalations").get_json()["counts"]["open"] == 2
    assert ids(staff.client, escalated="yes") == ["alice", "bob"]
