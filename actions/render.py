"""Turn a knowledge-base Answer into the messages a channel shows: text, differences, sources, the clinic's
advice, buttons."""
from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from knowledge.answers import CLINIC_ADVICE, Answer

TELL_ME_MORE = ("Tell me more", "/tell_me_more")


def sources_line(answer: Answer) -> str:
    """'Sources: Publisher, "Title"; ...' — exactly the documents behind the sentences shown."""
    cited = "; ".join(f'{source.publisher}, "{source.title}"' for source in answer.sources)
    return f"Sources: {cited}"


def clinic_advice_line(answer: Answer) -> str | None:
    """"The clinic's advice: ..." — the clinic's own instructions, after the sources line so that no document
    is ever read as giving them."""
    return f"{CLINIC_ADVICE}{' '.join(answer.clinic_advice)}" if answer.clinic_advice else None


def answer_payload(answer: Answer) -> dict[str, Any]:
    """Machine-readable grounding for the widget and the staff console (sent as the message's custom data)."""
    return {
        "topic": answer.topic,
        "sources": [{"id": s.id, "publisher": s.publisher, "title": s.title} for s in answer.sources],
        "disagreement": answer.disagreement,
        "clinic_advice": list(answer.clinic_advice),
        "sentences": [{"text": s.text, "sources": list(s.sources), "clinic_policy": s.clinic_policy}
                      for s in answer.sentences],
    }


def send_answer(dispatcher: CollectingDispatcher, answer: Answer, preface: str | None = None,
                offer_more: bool = True, extra_buttons: list[tuple[str, str]] | None = None) -> None:
    """Dispatch one answer as one message: [preface] answer, differences note, sources, the clinic's advice,
    follow-up buttons.

    extra_buttons (e.g. a second question the same message asked) come first, before "Tell me more".
    """
    parts = [preface] if preface else []
    if answer.text:
        parts.append(answer.text)
    if answer.disagreement:
        parts.append(answer.disagreement)  # the note starts "The clinic's sources differ here: ..."
    if answer.sources or not answer.clinic_advice:
        parts.append(sources_line(answer))
    advice = clinic_advice_line(answer)
    if advice:
        parts.append(advice)
    buttons = [{"title": title, "payload": payload} for title, payload in answer.follow_ups[:2]]
    if offer_more and answer.has_more:
        buttons.insert(0, {"title": TELL_ME_MORE[0], "payload": TELL_ME_MORE[1]})
    extra = [{"title": title, "payload": payload} for title, payload in extra_buttons or []]
    buttons = extra + [button for button in buttons if button["payload"] not in {b["payload"] for b in extra}]
    dispatcher.utter_message(text="\n\n".join(parts), buttons=buttons,
                             grounding=answer_payload(answer))
