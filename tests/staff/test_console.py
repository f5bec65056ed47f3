"""The console's pages and JSON API on realistic tracker-store rows: list, transcript, queue, charts."""
from __future__ import annotations

import re
import time

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.escalations import Escalation
from bot.staff.db import staff_engine
from bot.staff.models import AuditEntry, ConversationSummary
from bot.staff.summaries import refresh_summaries
from tests.staff import events as ev

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
DAY = 86400.0


def seed(engine) -> None:
    """Five conversations over three days and two channels, one escalated (with a record), one hostile."""
    now = time.time()
    ev.insert(engine, "alice", ev.heel_lift_conversation("rest"), start=now - 2 * DAY)
    ev.insert(engine, "bob", ev.red_flag_conversation(channel="socketio"), start=now - DAY)
    ev.insert(engine, "carl", ev.fallback_conversation(XSS), start=now - DAY + 60)
    ev.insert(engine, "dina", ev.low_confidence_conversation() + ev.heel_lift_conversation(), start=now - 60)
    ev.insert(engine, "emil", ev.heel_lift_conversation("socketio"), start=now - 30)
    with Session(bind=engine) as session:
        session.add(Escalation(conversation_id="bob", channel="socketio", level="emergency",
                               flags="pop_or_snap,cannot_walk",
                               message="I heard a pop in my achilles and can't walk",
                               contact_name="Bob Runner", contact_details="07700 900123", consent=True))
        session.commit()


def api(client, **params):
    response = client.get("/staff/api/conversations", query_string=params)
    assert response.status_code == 200
    return response.get_json()


def senders(client, **params) -> list[str]:
    return [c["sender_id"] for c in api(client, **params)["conversations"]]


def test_list_shows_every_column_newest_first(as_staff, staff_db):
    seed(staff_engine(staff_db))
    data = api(as_staff.client)
    assert data["total"] == 5
    rows = {c["sender_id"]: c for c in data["conversations"]}
    assert [c["sender_id"] for c in data["conversations"]] == ["emil", "dina", "carl", "bob", "alice"]
    assert rows["alice"]["channel"] == "rest" and rows["alice"]["topics"] == "heel_lifts"
    assert rows["bob"]["escalated"] and rows["bob"]["escalation_level"] == "emergency"
    assert rows["bob"]["red_flag"]
    assert rows["carl"]["fallback"] and rows["carl"]["low_confidence"]
    assert rows["dina"]["low_confidence"] and not rows["dina"]["fallback"]
    assert rows["dina"]["user_messages"] == 2 and rows["dina"]["topics"] == "causes,heel_lifts"
    assert not any(row["reviewed"] for row in rows.values())
    page = as_staff.get("/staff/conversations").get_data(as_text=True)
    assert "do heel lifts help?" in page and "1 open escalation" in page


def test_filters(as_staff, staff_db):
    seed(staff_engine(staff_db))
    client = as_staff.client
    assert sorted(senders(client, channel="socketio")) == ["bob", "emil"]
    assert senders(client, escalated="yes") == ["bob"]
    assert "bob" not in senders(client, escalated="no")
    assert senders(client, quality="fallback") == ["carl"]
    assert sorted(senders(client, quality="low_confidence")) == ["carl", "dina"]
    assert sorted(senders(client, quality="either")) == ["carl", "dina"]
    assert sorted(senders(client, quality="clean")) == ["alice", "bob", "emil"]
    assert sorted(senders(client, topic="heel_lifts")) == ["alice", "dina", "emil"]
    assert senders(client, topic="causes") == ["dina"]
    assert senders(client, min_messages="2") == ["dina"]
    assert len(senders(client, max_messages="1")) == 4
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert sorted(senders(client, date_from=today)) == ["dina", "emil"]
    two_days_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 2 * DAY))
    assert senders(client, date_to=two_days_ago) == ["alice"]
    assert senders(client, reviewed="yes") == []
    as_staff.post("/staff/review", {"sender_id": "alice", "reviewed": "1"})
    assert senders(client, reviewed="yes") == ["alice"]
    assert "alice" not in senders(client, reviewed="no")
    as_staff.post("/staff/tag", {"sender_id": "emil", "tag": "Good Answer"})
    assert senders(client, tag="good answer") == ["emil"]
    # the HTML list takes the same filters
    page = as_staff.get("/staff/conversations", query_string={"escalated": "yes"}).get_data(as_text=True)
    assert "/staff/transcript/bob" in page and "/staff/transcript/alice" not in page


def test_text_search_matches_user_messages_case_insensitively_and_literally(as_staff, staff_db):
    seed(staff_engine(staff_db))
    client = as_staff.client
    assert senders(client, q="POP in my") == ["bob"]
    assert sorted(senders(client, q="heel lifts")) == ["alice", "dina", "emil"]
    assert senders(client, q="no such words") == []
    assert senders(client, q="%") == []  # LIKE wildcards are searched for literally
    assert senders(client, q="dina") == ["dina"]  # a conversation id


def test_pagination(as_staff, staff_db):
    engine = staff_engine(staff_db)
    now = time.time()
    for n in range(120):
        ev.insert(engine, f"user-{n:03d}", ev.heel_lift_conversation(), start=now - n * 60)
    first = api(as_staff.client)
    assert first["total"] == 120 and len(first["conversations"]) == 50
    third = api(as_staff.client, page="3")
    assert [c["sender_id"] for c in third["conversations"]] == [f"user-{n:03d}" for n in range(100, 120)]
    html = as_staff.get("/staff/conversations?page=2").get_data(as_text=True)
    assert "page 2 of 3" in html and 'rel="next"' in html and 'rel="prev"' in html


def test_summaries_are_refreshed_incrementally_from_the_last_event_id(staff_db):
    engine = staff_engine(staff_db)
    ev.insert(engine, "alice", ev.heel_lift_conversation())
    assert refresh_summaries(engine) == 5
    assert refresh_summaries(engine) == 0  # nothing new: nothing read
    ev.insert(engine, "alice", ev.low_confidence_conversation())
    assert refresh_summaries(engine, batch_size=2) == 4  # several small batches
    with Session(bind=engine) as session:
        alice = session.get(ConversationSummary, "alice")
    assert alice.user_messages == 2 and alice.low_confidence and alice.topics == "causes,heel_lifts"
    # An escalation written after the events still marks the conversation escalated.
    with Session(bind=engine) as session:
        session.add(Escalation(conversation_id="alice", level="same_day", flags="night_pain", message="m"))
        session.commit()
    assert refresh_summaries(engine) == 1
    with Session(bind=engine) as session:
        alice = session.get(ConversationSummary, "alice")
    assert alice.escalated and alice.escalation_level == "same_day"


def test_transcript_shows_messages_replies_intents_entities_red_flags_and_sources(as_staff, staff_db):
    seed(staff_engine(staff_db))
    page = as_staff.get("/staff/transcript/alice").get_data(as_text=True)
    assert "do heel lifts help?" in page
    assert "Heel lifts can ease pain for a while." in page
    assert "ask_heel_lifts" in page and "97%" in page
    assert "treatment=heel lift" in page
    assert "nhs-achilles" in page and "Achilles tendinopathy" in page and "topic heel_lifts" in page
    page = as_staff.get("/staff/transcript/bob").get_data(as_text=True)
    assert "red flag emergency: pop_or_snap, cannot_walk" in page
    assert "07700 900123" in page and "Escalation 1: emergency" in page
    assert as_staff.get("/staff/transcript/nobody-at-all").status_code == 404


def test_viewing_a_transcript_is_audited(as_staff, staff_db):
    seed(staff_engine(staff_db))
    as_staff.get("/staff/transcript/alice")
    with Session(bind=staff_engine(staff_db)) as session:
        query = select(AuditEntry).where(AuditEntry.action == "view_conversation")
        entry = session.execute(query).scalar_one()
    assert entry.actor == "sam" and entry.target == "alice"


def test_stored_xss_is_shown_as_text_everywhere(as_staff, as_admin, staff_db):
    engine = staff_engine(staff_db)
    seed(engine)
    with Session(bind=engine) as session:
        session.add(Escalation(conversation_id="carl", level="soon", flags=XSS, message=XSS,
                               contact_name=XSS, contact_details=XSS, notes=XSS, assignee=XSS))
        session.commit()
    as_staff.post("/staff/tag", {"sender_id": "carl", "tag": XSS})
    pages = [as_staff.get(url).get_data(as_text=True) for url in (
        "/staff/conversations", "/staff/conversations?q=script", "/staff/transcript/carl",
        "/staff/escalations?status=all", "/staff/escalations/2", "/staff/labels", "/staff/analytics")]
    pages.append(as_admin.get("/staff/erase/carl").get_data(as_text=True))
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in pages[2]
    # The JSON API hands the text back verbatim (the queue's script writes it with textContent).
    data = as_staff.get("/staff/api/escalations?status=all").get_json()
    assert any(e["message"] == XSS for e in data["escalations"])
    script = as_staff.get("/staff/static/escalations.js").get_data(as_text=True)
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script and "textContent" in script


def test_escalation_queue_lists_open_escalations_and_updates_them(as_staff, staff_db):
    seed(staff_engine(staff_db))
    page = as_staff.get("/staff/escalations").get_data(as_text=True)
    assert "Bob Runner 07700 900123" in page and "/staff/transcript/bob" in page
    assert "escalations.js" in page
    data = as_staff.get("/staff/api/escalations").get_json()
    assert data["counts"] == {"open": 1}
    [row] = data["escalations"]
    assert row["transcript_url"] == "/staff/transcript/bob" and row["contact_details"] == "07700 900123"
    # form post
    response = as_staff.post("/staff/escalations/1", {"status": "contacted", "assignee": "sam",
                                                      "notes": "Called, going to A&E."})
    assert response.status_code == 302
    assert as_staff.get("/staff/api/escalations").get_json()["escalations"] == []
    contacted = as_staff.get("/staff/api/escalations?status=contacted").get_json()["escalations"]
    assert contacted[0]["assignee"] == "sam" and contacted[0]["notes"] == "Called, going to A&E."
    # JSON post
    response = as_staff.post_json("/staff/api/escalations/1", {"status": "closed"})
    assert response.status_code == 200 and response.get_json()["escalation"]["status"] == "closed"
    assert as_staff.post_json("/staff/api/escalations/1", {"status": "bogus"}).status_code == 400
    assert as_staff.post("/staff/escalations/1", {"status": "bogus"}).status_code == 400
    assert as_staff.post("/staff/escalations/99", {"status": "closed"}).status_code == 404
    assert as_staff.get("/staff/escalations/1").status_code == 200
    with Session(bind=staff_engine(staff_db)) as session:
        actions = [e.action for e in session.execute(select(AuditEntry)).scalars()]
    assert actions.count("update_escalation") == 2 and "view_escalations" in actions


def test_new_escalations_appear_in_the_polled_endpoint(as_staff, staff_db):
    engine = staff_engine(staff_db)
    assert as_staff.get("/staff/api/escalations").get_json()["escalations"] == []
    with Session(bind=engine) as session:
        session.add(Escalation(conversation_id="zoe", level="same_day", flags="night_pain", message="m"))
        session.commit()
    assert len(as_staff.get("/staff/api/escalations").get_json()["escalations"]) == 1


def test_escalation_queue_filters_by_the_day_raised(app, as_staff, staff_db):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    yesterday = (now - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    with Session(bind=staff_engine(staff_db)) as session:
        session.add_all([
            Escalation(conversation_id="yday", level="emergency", flags="pop_or_snap", message=XSS,
                       created_at=yesterday),
            Escalation(conversation_id="yday-late", level="soon", flags="night_pain", message="late",
                       created_at=yesterday.replace(hour=23, minute=59, second=59), status="contacted"),
            Escalation(conversation_id="today", level="same_day", flags="night_pain", message="now",
                       created_at=now),
            Escalation(conversation_id="older", level="soon", flags="night_pain", message="old",
                       created_at=now - timedelta(days=5)),
        ])
        session.commit()
    day = yesterday.strftime("%Y-%m-%d")

    def ids(**params) -> list[str]:
        response = as_staff.get("/staff/api/escalations", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [e["conversation_id"] for e in response.get_json()["escalations"]]

    assert ids(date_from=day, date_to=day) == ["yday"]  # open ones by default
    assert ids(status="all", date_from=day, date_to=day) == ["yday-late", "yday"]
    assert ids(status="all", date_from=day) == ["today", "yday-late", "yday"]
    assert ids(status="all", date_to=day) == ["yday-late", "yday", "older"]
    assert ids(status="all", date_from=" ", date_to="") == ["today", "yday-late", "yday", "older"]
    data = as_staff.get(f"/staff/api/escalations?status=all&date_from={day}&date_to={day}").get_json()
    assert data["counts"] == {"open": 1, "contacted": 1} and data["date_from"] == data["date_to"] == day
    # The page: only yesterday's row; the tabs and the polled API keep the filter; user text is escaped.
    page = as_staff.get(f"/staff/escalations?date_from={day}&date_to={day}").get_data(as_text=True)
    assert "/staff/transcript/yday" in page and "/staff/transcript/today" not in page
    assert f"/staff/api/escalations?status=open&amp;date_from={day}&amp;date_to={day}" in page
    assert f"status=contacted&amp;date_from={day}&amp;date_to={day}" in page
    assert XSS not in page and "&lt;script&gt;" in page
    # Bad dates are refused, and never echoed back unescaped.
    for params in ({"date_from": "yesterday"}, {"date_to": "2024-02-30"}, {"date_from": "2024-1-1"},
                   {"date_from": day, "date_to": "2000-01-01"}, {"date_from": "<script>x</script>"}):
        response = as_staff.get("/staff/api/escalations", query_string=params)
        assert response.status_code == 400 and "error" in response.get_json(), params
        response = as_staff.get("/staff/escalations", query_string=params)
        body = response.get_data(as_text=True)
        assert response.status_code == 400 and "<script>x" not in body and "escalations.js" not in body, params
        assert "YYYY-MM-DD" in body or "after" in body
    # Anonymous: refused, filter or not.
    anonymous = app.test_client()
    response = anonymous.get(f"/staff/api/escalations?date_from={day}&date_to={day}")
    assert response.status_code == 401 and response.get_json() == {"error": "login required"}
    response = anonymous.get(f"/staff/escalations?date_from={day}&date_to={day}")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_review_and_tags(as_staff, staff_db):
    seed(staff_engine(staff_db))
    as_staff.post("/staff/review", {"sender_id": "alice", "reviewed": "1", "note": "fine"})
    page = as_staff.get("/staff/transcript/alice").get_data(as_text=True)
    assert "Reviewed by sam" in page and "Mark not reviewed" in page
    as_staff.post("/staff/review", {"sender_id": "alice", "reviewed": "0"})
    assert api(as_staff.client, reviewed="yes")["total"] == 0
    as_staff.post("/staff/tag", {"sender_id": "alice", "tag": "needs card"})
    as_staff.post("/staff/tag", {"sender_id": "alice", "tag": "needs card"})  # idempotent
    assert api(as_staff.client, tag="needs card")["total"] == 1
    as_staff.post("/staff/tag", {"sender_id": "alice", "tag": "needs card", "op": "remove"})
    assert api(as_staff.client, tag="needs card")["total"] == 0


def test_label_misunderstood_messages_and_export_parses_as_rasa_nlu(as_staff, as_admin, staff_db, tmp_path):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
    from rasa.shared.nlu.training_data.loading import load_data

    engine = staff_engine(staff_db)
    seed(engine)
    as_staff.get("/staff/labels")  # summaries refreshed: the low-confidence queue is filled
    page = as_staff.get("/staff/labels").get_data(as_text=True)
    assert "achilles sore after long run shoes?" in page
    [event_id] = [i["id"] for i in _user_items(engine, "dina") if i["text"].startswith("achilles sore")]
    [carl_event] = [i["id"] for i in _user_items(engine, "carl")]
    response = as_staff.post("/staff/label", {"event_id": event_id, "correct_intent": "ask_footwear"})
    assert response.status_code == 302
    as_staff.post("/staff/label", {"event_id": carl_event, "correct_intent": "out_of_scope"})
    response = as_staff.post("/staff/label", {"event_id": event_id, "correct_intent": "not_an_intent"})
    assert response.status_code == 400
    page = as_staff.get("/staff/transcript/dina").get_data(as_text=True)
    assert "misunderstood → ask_footwear" in page
    assert as_staff.get("/staff/labels/export.yml").status_code == 403  # export is for admins
    response = as_admin.get("/staff/labels/export.yml")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith('version: "3.1"')
    parsed = yaml.safe_load(body)
    assert {"intent": "ask_footwear", "examples": "- achilles sore after long run shoes?\n"} in parsed["nlu"]
    training = RasaYAMLReader().reads(body)
    examples = {(m.get("intent"), m.get("text")) for m in training.intent_examples}
    assert ("ask_footwear", "achilles sore after long run shoes?") in examples
    assert ("out_of_scope", XSS) in examples
    path = tmp_path / "misunderstood.yml"
    path.write_text(body)
    assert len(load_data(str(path)).intent_examples) == 2


def test_empty_nlu_export_still_parses(as_admin):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    body = as_admin.get("/staff/labels/export.yml").get_data(as_text=True)
    assert RasaYAMLReader().reads(body).intent_examples == []


def test_label_can_be_removed(as_staff, staff_db):
    engine = staff_engine(staff_db)
    seed(engine)
    [event_id] = [i["id"] for i in _user_items(engine, "alice")]
    as_staff.post("/staff/label", {"event_id": event_id, "correct_intent": "ask_footwear", "back": "labels"})
    from bot.staff.models import MessageLabel

    with Session(bind=engine) as session:
        label = session.execute(select(MessageLabel)).scalar_one()
    assert as_staff.post("/staff/label/delete", {"label_id": label.id, "back": "labels"}).status_code == 302
    with Session(bind=engine) as session:
        assert session.execute(select(MessageLabel)).first() is None


def test_analytics_draws_server_side_svg_charts(as_staff, staff_db):
    seed(staff_engine(staff_db))
    page = as_staff.get("/staff/analytics").get_data(as_text=True)
    assert page.count("<svg") == 5
    # no charting library in the browser, no CDN: the only script is the console's own alert stream client
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == ['<script src="/staff/static/alerts.js">'], scripts
    for words in ("Conversations per day", "Conversations per channel", "Top topics", "Escalations by level",
                  "fallback", "socketio", "heel_lifts", "emergency"):
        assert words in page, words
    assert "5 conversations" in page and "achilles sore after long run shoes?" in page


def test_chart_labels_are_escaped_by_matplotlib():
    from bot.staff.charts import bar_chart

    svg = bar_chart(["<script>x</script>"], [1], "t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def _user_items(engine, sender_id):
    from bot.staff.queries import transcript

    with engine.connect() as conn:
        return [i for i in transcript(conn, sender_id) if i["type"] == "user"]
