"""Faults with real processes on loopback: the action server hung (SIGSTOP), killed, answering 500; the staff
notifier hanging; the Rasa server killed under load. One supervised bot (bot.launcher) for the module, with its
own ports, database and logs. Each test asserts what the person receives (text, level, time to reply) and what
the database holds afterwards."""
from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.faults import (
    FAULT_ACTION_TIMEOUT,
    RED_FLAG_MESSAGE,
    TOPIC_QUESTION,
    answers_normally,
    conversation_id,
    hung_action_server,
    restart_under_load,
    signal_service,
    start_fault_bot,
    timed_say,
    wait_for,
)
from bot.clinic_profile import clinic_profile
from bot.triage.advice import level_advice, line
from tests.rest import new_sender, reply_text

pytestmark = pytest.mark.faults

ACTION_TIMEOUT = float(FAULT_ACTION_TIMEOUT)  # CLINIC_ACTION_TIMEOUT of the fault bot
PROFILE = clinic_profile()
SAME_DAY_LINE = level_advice("same_day").splitlines()[0]
APOLOGY = line("action_unavailable")
ESCALATION_APOLOGY = line("escalation_recorded")  # the Rasa server recorded it itself (bot/server/action_timeout.py)
OFFER = line("offer_contact")


@pytest.fixture(scope="module")
def hanging_webhook():
    """A staff webhook that accepts connections and never answers (the notifier hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    server.close()


@pytest.fixture(scope="module")
def fault_bot(tmp_path_factory, hanging_webhook):
    scratch = Path(tmp_path_factory.mktemp("faults"))
    bot, database_url = start_fault_bot(scratch, CLINIC_STAFF_WEBHOOK_URL=hanging_webhook,
                                        CLINIC_NOTIFY_TIMEOUT="30")
    bot.database_url = database_url  # type: ignore[attr-defined]
    try:
        yield bot
    finally:
        bot.stop()


def rows(database_url: str, sql: str, **params) -> list:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).fetchall()
    finally:
        engine.dispose()


def triage_of_bot_messages(database_url: str, sender: str) -> list[dict]:
    """The triage metadata of each bot message of a conversation, as the tracker store holds it."""
    found = []
    for (data,) in rows(database_url, "SELECT data FROM events WHERE sender_id = :s AND type_name = 'bot' "
                                      "ORDER BY id", s=conversation_id(sender)):
        metadata = json.loads(data).get("metadata") or {}
        triage = (metadata.get("metadata") or {}).get("triage") or metadata.get("triage")
        if triage:
            found.append(triage)
    return found


def escalations_of(database_url: str, sender: str) -> list:
    return rows(database_url, "SELECT level, flags, notified, recorded_by FROM escalations "
                              "WHERE conversation_id = :s", s=conversation_id(sender))


def assert_same_day_advice(reply: str) -> None:
    assert SAME_DAY_LINE in reply and PROFILE.phone in reply and "111" in reply, reply


def test_action_server_hung_red_flag_advice_and_apology_arrive_fast(fault_bot):
    result = hung_action_server(fault_bot)
    red = reply_text(result.red_flag_reply)
    assert result.red_flag_seconds < ACTION_TIMEOUT + 2.5, result.red_flag_seconds
    assert_same_day_advice(red)
    assert ESCALATION_APOLOGY in red and OFFER not in red  # no promise the record cannot keep
    assert red.index(SAME_DAY_LINE) < red.index(ESCALATION_APOLOGY)  # the advice first
    assert {"level": "same_day", "flags": ["rupture_pop_snap"], "source": "rasa"} in \
        triage_of_bot_messages(fault_bot.database_url, result.red_flag_sender)

    topic = reply_text(result.topic_reply)
    assert result.topic_seconds < ACTION_TIMEOUT + 2.5, result.topic_seconds
    assert topic == APOLOGY and PROFILE.phone in topic and "Sources:" not in topic

    # SIGCONT: normal again, the same conversation goes on; the stopped server, answering late about the same
    # message, adopts the record the Rasa server made instead of writing a second one
    assert result.recovered_seconds < 30
    _, again = timed_say(fault_bot.rasa_url, result.red_flag_sender, TOPIC_QUESTION)
    assert "Sources:" in reply_text(again)
    wait_for(lambda: [row.recorded_by for row in escalations_of(fault_bot.database_url, result.red_flag_sender)]
             == ["rasa,adopted"], timeout=20)


def test_action_server_killed_advice_arrives_and_the_supervisor_restarts_it(fault_bot):
    actions = fault_bot.service("action")
    restarts = actions.restarts
    signal_service(actions, signal.SIGKILL)
    actions.process.wait(timeout=10)
    sender = new_sender("killed")  # a new conversation: its session start cannot reach the action server either
    seconds, reply = timed_say(fault_bot.rasa_url, sender, RED_FLAG_MESSAGE)
    assert seconds < ACTION_TIMEOUT, seconds  # a refused connection fails at once
    assert_same_day_advice(reply_text(reply))
    assert ESCALATION_APOLOGY in reply_text(reply) and OFFER not in reply_text(reply)
    # recorded all the same, by the Rasa server, while the action server was dead
    [record] = escalations_of(fault_bot.database_url, sender)
    assert (record.level, record.recorded_by) == ("same_day", "rasa") and "rupture_pop_snap" in record.flags

    wait_for(lambda: actions.restarts == restarts + 1 and actions.is_ready(), timeout=60)
    wait_for(lambda: answers_normally(fault_bot.rasa_url), timeout=30)
    _, reply = timed_say(fault_bot.rasa_url, sender, "I also can't stand on tiptoe on that leg")
    assert_same_day_advice(reply_text(reply))
    assert OFFER in reply_text(reply)  # the action server takes the record over and makes the offer now
    [record] = escalations_of(fault_bot.database_url, sender)
    assert record.level == "same_day" and record.recorded_by == "rasa,adopted"
    assert "cannot_push_off_or_tiptoe" in record.flags


def test_action_server_answering_500_gets_the_apology(fault_bot, tmp_path):
    actions = fault_bot.service("action")
    real_command = list(actions.command)
    actions.command = [sys.executable, "-m", "tests.faults.fake_action_server", "--port", str(fault_bot.action_port)]
    try:
        signal_service(actions, signal.SIGKILL)
        wait_for(lambda: actions.command[2] in " ".join(actions.process.args) and actions.is_ready(), timeout=30)
        sender = new_sender("http500")
        seconds, reply = timed_say(fault_bot.rasa_url, sender, TOPIC_QUESTION)
        assert seconds < ACTION_TIMEOUT and reply_text(reply) == APOLOGY
        seconds, reply = timed_say(fault_bot.rasa_url, sender, RED_FLAG_MESSAGE)
        assert seconds < ACTION_TIMEOUT
        assert_same_day_advice(reply_text(reply))
        assert ESCALATION_APOLOGY in reply_text(reply)
        called = [json.loads(line_)["called"] for line_ in actions.log_tail(200).splitlines()
                  if line_.startswith('{"called"')]
        assert "action_answer_topic" in called and "action_escalate" in called  # Rasa did try, and got 500s
    finally:
        actions.command = real_command
        signal_service(actions, signal.SIGKILL)
        wait_for(lambda: "rasa_sdk" in actions.process.args and actions.is_ready(), timeout=60)
    wait_for(lambda: answers_normally(fault_bot.rasa_url), timeout=30)


def test_a_hanging_notifier_holds_up_nothing(fault_bot):
    red_sender, topic_sender = new_sender("notify-rf"), new_sender("notify-topic")
    timed_say(fault_bot.rasa_url, topic_sender, "hello")
    red: dict = {}

    def report_red_flag() -> None:
        red["seconds"], red["reply"] = timed_say(fault_bot.rasa_url, red_sender, RED_FLAG_MESSAGE)

    thread = threading.Thread(target=report_red_flag)
    thread.start()
    time.sleep(0.3)  # the escalation is being recorded and the webhook is hanging
    topic_seconds, topic_reply = timed_say(fault_bot.rasa_url, topic_sender, TOPIC_QUESTION)
    thread.join(timeout=30)
    assert "Sources:" in reply_text(topic_reply) and topic_seconds < 3.0, topic_seconds
    assert red["seconds"] < 4.0, red["seconds"]
    assert_same_day_advice(reply_text(red["reply"]))
    assert OFFER in reply_text(red["reply"])  # stored, so the offer is made although nobody was paged yet
    [record] = escalations_of(fault_bot.database_url, red_sender)
    assert record.level == "same_day" and not record.notified


def test_rasa_killed_under_load_loses_and_doubles_nothing(fault_bot):
    rasa = fault_bot.service("rasa")
    result = restart_under_load(fault_bot, fault_bot.database_url, conversations=50, messages=3)
    assert rasa.restarts == 1
    assert result.lost == [] and result.duplicated == []
    assert all(c.resumed for c in result.conversations), [c.sender for c in result.conversations if not c.resumed]
    assert any(c.unanswered for c in result.conversations)  # the kill really hit the run
    assert result.replied >= 50
    for conversation in result.conversations:  # the log has every replied message, once
        assert all(result.logged[conversation.sender][m] == 1 for m in conversation.replied)
