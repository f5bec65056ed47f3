"""Fault table: replies with the action server hung, messages lost or doubled across a Rasa restart under load,
restart time. The scenarios are functions so that tests/faults/ asserts on the same runs `make bench` prints.

Run alone: `python -m bench.faults` (starts its own bot on free loopback ports, with a scratch database).
"""
from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bot.build import MODEL_FILE
from bot.devtools.rest import new_sender, reply_text
from bot.launcher import BotProcesses, Service, start_bot

TOPIC_QUESTION = "do heel lifts help?"
RED_FLAG_MESSAGE = "I heard a loud pop in my achilles and now I can't walk"
FAULT_ACTION_TIMEOUT = "3"  # CLINIC_ACTION_TIMEOUT of the fault bot (seconds)
LOAD_QUESTIONS = ("do heel lifts help", "can i keep running with achilles pain", "which exercises should i do",
                  "how long does recovery take", "hi", "what causes achilles pain")


def timed_say(rasa_url: str, sender: str, message: str, timeout: float = 60) -> tuple[float, list[dict]]:
    """Seconds to the REST reply, and the reply."""
    start = time.monotonic()
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=timeout)
    response.raise_for_status()
    return time.monotonic() - start, response.json()


def signal_service(service: Service, signum: int) -> None:
    """Send a signal to a service's whole process group (what a hung or killed process looks like)."""
    os.killpg(service.process.pid, signum)


def wait_for(condition, timeout: float, interval: float = 0.5) -> float:
    """Poll until condition() is true; return the seconds it took, or raise TimeoutError."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(interval)
    raise TimeoutError(f"not true after {timeout:.0f} s: {getattr(condition, '__name__', condition)}")


def answers_normally(rasa_url: str) -> bool:
    """A topic question gets its sourced answer (the action server works)."""
    try:
        return "Sources:" in reply_text(timed_say(rasa_url, new_sender("probe"), TOPIC_QUESTION, timeout=20)[1])
    except requests.RequestException:
        return False


# --- the action server hung (SIGSTOP) -------------------------------------------------------------------------
@dataclass
class HungResult:
    red_flag_seconds: float
    red_flag_reply: list[dict]
    topic_seconds: float
    topic_reply: list[dict]
    red_flag_sender: str
    recovered_seconds: float


def hung_action_server(bot: BotProcesses) -> HungResult:
    """Stop the action server with SIGSTOP; time a red flag and a topic question in conversations that already
    started; SIGCONT; time until topic questions are answered normally again."""
    red_sender, topic_sender = new_sender("hung-rf"), new_sender("hung-topic")
    for sender in (red_sender, topic_sender):  # sessions started while everything works
        timed_say(bot.rasa_url, sender, "hello")
    actions = bot.service("action")
    signal_service(actions, signal.SIGSTOP)
    try:
        red_seconds, red_reply = timed_say(bot.rasa_url, red_sender, RED_FLAG_MESSAGE)
        topic_seconds, topic_reply = timed_say(bot.rasa_url, topic_sender, TOPIC_QUESTION)
    finally:
        signal_service(actions, signal.SIGCONT)
    recovered = wait_for(lambda: answers_normally(bot.rasa_url), timeout=60)
    return HungResult(red_seconds, red_reply, topic_seconds, topic_reply, red_sender, recovered)


# --- the Rasa server killed and restarted under load ----------------------------------------------------------
@dataclass
class Conversation:
    sender: str
    replied: list[str] = field(default_factory=list)    # messages that got a reply
    unanswered: list[str] = field(default_factory=list)  # sent, but the connection failed (server down)
    resumed: bool = False                                # a message after the restart got a reply


@dataclass
class RestartResult:
    conversations: list[Conversation]
    logged: dict[str, Counter]       # sender -> user texts in the conversation log (tracker store)
    restart_seconds: float           # from the kill until the restarted Rasa server answers
    lost: list[str]                  # replied, but not in the log
    duplicated: list[str]            # in the log more than once

    @property
    def replied(self) -> int:
        return sum(len(c.replied) for c in self.conversations)


def _talk(rasa_url: str, conversation: Conversation, messages: int, index: int, started: threading.Event,
          resume_deadline: float) -> None:
    for number in range(messages):
        message = f"{LOAD_QUESTIONS[(index + number) % len(LOAD_QUESTIONS)]} (conversation {index}, message {number})"
        try:
            timed_say(rasa_url, conversation.sender, message, timeout=60)
            conversation.replied.append(message)
        except requests.RequestException:
            conversation.unanswered.append(message)
            time.sleep(1.0)
        started.set()
    final = f"thanks (conversation {index}, after the restart)"
    while time.monotonic() < resume_deadline and not conversation.resumed:
        try:
            timed_say(rasa_url, conversation.sender, final, timeout=60)
            conversation.replied.append(final)
            conversation.resumed = True
        except requests.RequestException:
            conversation.unanswered.append(final)
            final = f"{final}, again {len(conversation.unanswered)}"  # each attempt its own text, to count
            time.sleep(1.0)


def conversation_id(sender: str) -> str:
    """The conversation id the REST channel gives a sender (bot/channels/rest.py namespaces it)."""
    return f"rest:{sender}"


def logged_user_texts(database_url: str, senders: list[str]) -> dict[str, Counter]:
    """The user messages of each conversation (by REST sender) in the tracker store's events table."""
    engine = create_engine(database_url)
    by_id = {conversation_id(sender): sender for sender in senders}
    found: dict[str, Counter] = {sender: Counter() for sender in senders}
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sender_id, data FROM events WHERE type_name = 'user'")).fetchall()
    engine.dispose()
    for sender_id, data in rows:
        if sender_id in by_id:
            found[by_id[sender_id]][json.loads(data).get("text")] += 1
    return found


def restart_under_load(bot: BotProcesses, database_url: str, conversations: int = 50, messages: int = 3,
                       resume_within: float = 240) -> RestartResult:
    """`conversations` conversations send at once; the Rasa server is killed (SIGKILL) once they are under way
    and the supervisor restarts it; each conversation then sends one more message."""
    rasa = bot.service("rasa")
    talks = [Conversation(new_sender(f"load{i}")) for i in range(conversations)]
    started = threading.Event()
    deadline = time.monotonic() + resume_within
    with ThreadPoolExecutor(conversations) as pool:
        futures = [pool.submit(_talk, bot.rasa_url, talk, messages, i, started, deadline)
                   for i, talk in enumerate(talks)]
        started.wait(timeout=120)
        time.sleep(1.0)  # well under way: some replied, others in flight
        killed_at = time.monotonic()
        signal_service(rasa, signal.SIGKILL)
        wait_for(lambda: rasa.restart_at is None and rasa.restarts > 0 and rasa.is_ready(), timeout=resume_within)
        restart_seconds = time.monotonic() - killed_at
        for future in futures:
            future.result()
    logged = logged_user_texts(database_url, [t.sender for t in talks])
    lost = [m for t in talks for m in t.replied if logged[t.sender][m] == 0]
    duplicated = [m for t in talks for m, count in logged[t.sender].items() if count > 1]
    return RestartResult(talks, logged, restart_seconds, lost, duplicated)


# --- the table ------------------------------------------------------------------------------------------------
def fault_rows(bot: BotProcesses, database_url: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    hung = hung_action_server(bot)
    rows.append((f"action server hung: red-flag advice reply (timeout {FAULT_ACTION_TIMEOUT} s)",
                 f"{hung.red_flag_seconds:.1f} s"))
    rows.append(("action server hung: topic question -> apology", f"{hung.topic_seconds:.1f} s"))
    rows.append(("action server resumed: normal answers again after", f"{hung.recovered_seconds:.1f} s"))
    load = restart_under_load(bot, database_url)
    rows.append(("Rasa killed under load (50 conversations): replies", str(load.replied)))
    rows.append(("  messages lost (replied, not in the log)", str(len(load.lost))))
    rows.append(("  messages duplicated in the log", str(len(load.duplicated))))
    rows.append(("  conversations going on after the restart",
                 f"{sum(c.resumed for c in load.conversations)}/{len(load.conversations)}"))
    rows.append(("  restart time (kill -> answering)", f"{load.restart_seconds:.1f} s"))
    return rows


def start_fault_bot(scratch: Path, **env_overrides: str) -> tuple[BotProcesses, str]:
    """A supervised bot on free ports with its own database and logs (no website)."""
    database_url = f"sqlite:///{scratch}/faults.db"
    env = dict(os.environ, CLINIC_DATABASE_URL=database_url, CLINIC_ACTION_TIMEOUT=FAULT_ACTION_TIMEOUT,
               CLINIC_ACTION_RETRY_AFTER="2", **env_overrides)
    bot = start_bot(MODEL_FILE, env=env, log_dir=scratch / "logs", with_web=False)
    bot.supervise()
    bot.wait_until_ready(timeout=240)
    return bot, database_url


def fault_table() -> list[tuple[str, str]]:
    """Start a bot, run the fault scenarios, stop it; the rows for `make bench`."""
    with tempfile.TemporaryDirectory() as scratch:
        bot, database_url = start_fault_bot(Path(scratch))
        try:
            return fault_rows(bot, database_url)
        finally:
            bot.stop()


def add_fault_section(report) -> None:
    """The fault table as a section of bench/run.py's report (`make bench`)."""
    try:
        rows = fault_table()
    except Exception as error:  # noqa: BLE001 - the rest of the benchmark report is still written
        rows = [("fault scenarios failed", f"{type(error).__name__}: {error}")]
    report.add("Faults (bench/faults.py)", ["| measure | value |", "|---|---|",
                                             *(f"| {name.strip()} | {value} |" for name, value in rows)])


def print_table(rows: list[tuple[str, str]], title: str = "faults") -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title.ljust(width)} | value\n{'-' * width}-|-{'-' * 12}")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")


def main() -> None:
    print_table(fault_table())


if __name__ == "__main__":
    main()
