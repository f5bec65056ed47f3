"""A topic is one card, one NLU file and its test questions: a throwaway topic added to a temporary copy of the
project, with no other file touched, is built, trained and answered end to end over REST."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from bot.launcher import LOOPBACK, free_port
from bot.paths import PROJECT_ROOT

pytestmark = pytest.mark.e2e

NEW_TOPIC = Path(__file__).parent / "new_topic"  # taping.yml (card), topic_taping.yml (NLU), questions.yml


def copy_project(target: Path) -> None:
    """The project's files as a clone would have them (tracked and new ones, nothing ignored such as build/)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=PROJECT_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def add_topic(project: Path) -> dict[str, list[str]]:
    """What a contributor writes for a new topic, and nothing else."""
    shutil.copy(NEW_TOPIC / "taping.yml", project / "knowledge" / "cards" / "taping.yml")
    shutil.copy(NEW_TOPIC / "topic_taping.yml", project / "data" / "nlu" / "topic_taping.yml")
    questions = yaml.safe_load((NEW_TOPIC / "questions.yml").read_text(encoding="utf-8"))
    with (project / "tests" / "e2e" / "topic_questions.yml").open("a", encoding="utf-8") as out:
        out.write("\n" + yaml.safe_dump(questions, allow_unicode=True))
    return questions


def start_bot(project: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    ports = {"rasa": free_port(), "action": free_port(), "web": free_port()}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--rasa-port", str(ports["rasa"]),
         "--action-port", str(ports["action"]), "--web-port", str(ports["web"])],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, deadline = [], time.monotonic() + 600
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if "Press Ctrl-C" in line:
            return process, ports["rasa"]
    process.kill()
    raise AssertionError("the copy did not start:\n" + "".join(output)[-4000:])


def test_a_new_topic_is_one_card_one_nlu_file_and_its_questions(tmp_path):
    project = tmp_path / "project"
    copy_project(project)
    questions = add_topic(project)
    env = dict(os.environ, PYTHONPATH=str(project), PYTHONUNBUFFERED="1",
               CLINIC_DATABASE_URL=f"sqlite:///{tmp_path / 'clinic.db'}")
    env.pop("CLINIC_KB_DATABASE_URL", None)

    built = subprocess.run([sys.executable, "-m", "bot", "build"], cwd=project, env=env, capture_output=True,
                           text=True, timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    generated = yaml.safe_load((project / "build" / "rasa" / "domain" / "topics.yml").read_text())
    assert "ask_taping" in generated["intents"]  # derived from the card's intent, not written by hand
    rules = yaml.safe_load((project / "build" / "rasa" / "data" / "topic_rules.yml").read_text())["rules"]
    assert {"rule": "answer ask_taping", "steps": [{"intent": "ask_taping"}, {"action": "action_answer_topic"}]} \
        in rules

    card = yaml.safe_load((project / "knowledge" / "cards" / "taping.yml").read_text())
    process, rasa_port = start_bot(project, env)
    try:
        for question in questions["taping"]:
            replies = requests.post(f"http://{LOOPBACK}:{rasa_port}/webhooks/rest/webhook",
                                    json={"sender": "new-topic", "message": question}, timeout=60).json()
            answer = "\n".join(reply.get("text") or "" for reply in replies)
            missing = [fact for fact in card["key_facts"] if fact.lower() not in answer.lower()]
            assert not missing, f"{question!r} -> missing {missing} in:\n{answer}"
            assert "Sources:" in answer
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
