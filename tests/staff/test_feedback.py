"""Visitors' ratings of answers: stored with topic and sources by the action, shown per topic in analytics,
exported beside the misunderstood labels (admin), shown in the transcript, erased with the conversation."""
from __future__ import annotations

from sqlalchemy import select

from actions.feedback import ActionRecordFeedback
from bot import feedback
from bot.staff.db import staff_engine
from tests.conftest import make_tracker

HEEL_ANSWER = {"event": "bot", "text": "Heel lifts can ...", "metadata": {"grounding": {
    "topic": "heel_lifts", "sources": [{"id": "tempo_pt", "publisher": "Tempo"}, {"id": "blog", "publisher": "B"}]}}}


def rate(dispatcher, sender: str, intent: str, topic: str | None = "heel_lifts", events=None):
    entities = [{"entity": "feedback_topic", "value": topic}] if topic else []
    tracker = make_tracker(f"/{intent}", intent=intent, entities=entities, sender_id=sender,
                           events=[*(events if events is not None else [HEEL_ANSWER])])
    ActionRecordFeedback().run(dispatcher, tracker, {})


def test_a_rating_is_stored_with_the_rated_answers_topic_and_sources(staff_db, dispatcher):
    rate(dispatcher, "web:a", "feedback_helpful")
    assert dispatcher.messages[-1]["text"] == "Thanks, I'm glad that helped."
    rate(dispatcher, "web:b", "feedback_unhelpful", topic=None)  # no topic given: the latest answer
    assert "ask for a person" in dispatcher.messages[-1]["text"]
    with staff_engine().connect() as conn:
        rows = feedback.all_feedback(conn)
    assert [(r["conversation_id"], r["topic"], r["sources"], r["helpful"]) for r in rows] == [
        ("web:a", "heel_lifts", "tempo_pt,blog", True), ("web:b", "heel_lifts", "tempo_pt,blog", False)]


def test_helpfulness_per_topic_and_per_week_in_the_analytics(staff_db, as_staff, dispatcher):
    ratings = (("web:1", "feedback_helpful"), ("web:2", "feedback_helpful"), ("web:3", "feedback_unhelpful"))
    for sender, intent in ratings:
        rate(dispatcher, sender, intent)
    with staff_engine().connect() as conn:
        topics = feedback.helpfulness_by_topic(conn)
        weeks = feedback.helpfulness_by_week(conn)
    assert topics == [{"topic": "heel_lifts", "ratings": 3, "helpful": 2, "not_helpful": 1,
                       "share_helpful": 2 / 3}]
    assert len(weeks) == 1 and weeks[0]["ratings"] == 3
    page = as_staff.get("/staff/analytics").get_data(as_text=True)
    assert 'id="helpfulness"' in page and "<td>heel_lifts</td><td>3</td><td>2</td><td>1</td>" in page


def test_ratings_export_is_admin_only_and_erasure_removes_them(staff_db, as_staff, as_admin, dispatcher):
    rate(dispatcher, "web:erase-me", "feedback_helpful")
    assert as_staff.get("/staff/labels/feedback.csv").status_code in (302, 403)
    csv_body = as_admin.get("/staff/labels/feedback.csv").get_data(as_text=True)
    assert csv_body.splitlines()[0] == "created_at,conversation_id,channel,topic,sources,helpful"
    assert "web:erase-me" in csv_body and ',heel_lifts,"tempo_pt,blog",yes' in csv_body
    from bot.staff.retention import erase_conversation

    with staff_engine().begin() as conn:
        deleted = erase_conversation(conn, "web:erase-me", "secret", "ada")
        assert deleted["answer_feedback"] == 1
        assert conn.execute(select(feedback.FEEDBACK).where(
            feedback.FEEDBACK.c.conversation_id == "web:erase-me")).first() is None
