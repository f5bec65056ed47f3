"""The detector on messages it was not written for: every NLU example and every e2e topic question.

red_flag examples must be detected; no other example may get a same_day or emergency flag; `soon` only for the
reviewed allow-list tests/red_flags/soon_in_topic_examples.yml (current pain lasting > 1-2 weeks or not
improving, current swelling/thickening). The corpus is read when the test runs: new NLU examples count too.
"""
from __future__ import annotations

import pytest

from bot.devtools.corpus import ALLOW_FILE, allow_list, nlu_examples, topic_questions
from bot.triage.detect import detect_red_flags

ALL_NLU = nlu_examples()
RED_FLAG = [text for intent, text in ALL_NLU if intent == "red_flag"]
UNSEEN = [(intent, text) for intent, text in ALL_NLU if intent != "red_flag"] + topic_questions()


def test_corpus_is_there():
    assert len(RED_FLAG) >= 50 and len(UNSEEN) >= 1000


def test_every_red_flag_example_is_detected():
    missed = [text for text in RED_FLAG if detect_red_flags(text).level is None]
    assert not missed, f"{len(missed)} red_flag examples not detected:\n" + "\n".join(missed)


def test_no_urgent_false_alarm_on_topic_examples():
    alarms = []
    for intent, text in UNSEEN:
        detection = detect_red_flags(text)
        if detection.level in ("emergency", "same_day"):
            alarms.append(f"{intent}: {detection.level} {detection.flags}: {text}")
    assert not alarms, f"{len(alarms)} urgent false alarms:\n" + "\n".join(alarms)


def test_soon_only_on_reviewed_examples():
    allowed = allow_list()
    unexpected = []
    for intent, text in UNSEEN:
        detection = detect_red_flags(text)
        if detection.level == "soon" and text not in allowed:
            unexpected.append(f"{intent}: {detection.flags}: {text}")
    assert not unexpected, (f"{len(unexpected)} topic examples get `soon` but are not in {ALLOW_FILE.name} "
                            "(fix the detector, or add them with a reason if they really report persistent "
                            "pain or swelling):\n" + "\n".join(unexpected))


@pytest.mark.parametrize("text", list(allow_list()), ids=lambda t: t[:40])
def test_allow_list_entries_are_current(text):
    entry = allow_list()[text]
    assert text in {t for _, t in UNSEEN}, f"no longer in the corpus, remove it from {ALLOW_FILE.name}"
    detection = detect_red_flags(text)
    assert detection.level == "soon" and entry["flag"] in detection.flags, \
        f"no longer gets soon/{entry['flag']} ({detection.level} {detection.flags}); remove it: {text}"
