"""Escalation actions: immediate advice, the escalation record, the contact offer and the contact form."""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer import latest_entity
from actions.localised import language_of, say
from actions.render import send_answer
from bot.contact_details import check_contact, clean_name, clinic_region, example_phone
from bot.topics import card_for_intent
from bot.triage import advice
from bot.triage.cancel import is_cancel
from bot.triage.escalate import merge_with_history, open_escalation, save_contact
from knowledge.answers import answer_for_topic

CONTACT_SLOTS = ("contact_name", "contact_details", "contact_consent")
# `soon` (book an assessment) does not hide the answer: the classifier's best topic, if at least this sure, is
# answered after the booking advice. same_day and emergency override what the message asks.
TOPIC_MIN_CONFIDENCE = 0.4
NOT_TOPICS = {"red_flag", "nlu_fallback"}
FOCUS_PROPERTY = "question_focus"  # bot.nlp.question_focus.FOCUS_PROPERTY (not imported: it loads Rasa's engine)
MESSAGE_TRIAGE_SLOTS = ("triage_level", "triage_flag")


def yes_no_buttons(language: str | None) -> list[dict[str, str]]:
    """The contact offer's buttons in the visitor's language (offer_yes / offer_no of bot/triage/advice*.yml)."""
    return [{"title": advice.line("offer_yes", language=language), "payload": "/affirm"},
            {"title": advice.line("offer_no", language=language), "payload": "/deny"}]


def _earlier_flags(tracker: Tracker) -> set[str]:
    """Flags and signals of the earlier user messages of this conversation (from their parse data)."""
    seen: set[str] = set()
    user_events = [e for e in tracker.events if e.get("event") == "user"]
    for event in user_events[:-1]:
        red_flags = (event.get("parse_data") or {}).get("red_flags") or {}
        seen.update(red_flags.get("flags") or [])
        seen.update(red_flags.get("signals") or [])
    return seen


def asked_topic(latest: dict) -> str | None:
    """The topic card the message asks about: the question of a long story, when the question-focus component
    found one it is sure of ("... six weeks, not improving. What am I doing wrong?"); else, from the classifier's
    ranking (the detector put red_flag first and kept the rest), its best intent but red_flag/nlu_fallback, if it
    is a topic with confidence >= 0.4."""
    focus = latest.get(FOCUS_PROPERTY) or {}
    if focus.get("sentence") and (focus.get("confidence") or 0.0) >= TOPIC_MIN_CONFIDENCE:
        topic = card_for_intent(focus.get("intent"))
        if topic:
            return topic
    for entry in latest.get("intent_ranking") or []:
        name = entry.get("name")
        if name in NOT_TOPICS:
            continue
        if (entry.get("confidence") or 0.0) < TOPIC_MIN_CONFIDENCE:
            return None
        return card_for_intent(name)
    return None


def _escalation_id(tracker: Tracker) -> int | None:
    try:
        return int(tracker.get_slot("escalation_id"))
    except (TypeError, ValueError):
        return None


def advice_sent_by_rasa(tracker: Tracker) -> dict | None:
    """The triage metadata of the advice Rasa itself sent for the latest message (utter_red_flag_<level>,
    domain/red_flag_advice.yml), or None when it sent none (an older model, or a story without it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return None
        if event.get("event") == "bot":
            metadata = event.get("metadata") or {}
            triage = (metadata.get("metadata") or {}).get("triage") or metadata.get("triage")
            if isinstance(triage, dict) and triage.get("level"):
                return triage
    return None


class ActionEscalate(Action):
    """Rasa has already sent the advice for the message's level (it never depends on this server). This action
    adds what only the conversation shows (a more severe level from earlier turns, other flags' own lines), then
    the record (committed), staff notification (in the background), and the offer to be contacted. At level soon
    the question the message asked is answered too (after the advice, before the offer)."""

    def name(self) -> str:
        return "action_escalate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        latest = tracker.latest_message or {}
        text = latest.get("text") or ""
        red_flags = latest.get("red_flags") or {}
        level, flags = merge_with_history(red_flags, _earlier_flags(tracker))
        sent = advice_sent_by_rasa(tracker)
        language = language_of(tracker)
        if sent is None:  # Rasa sent no advice: this action gives all of it
            extra = advice.advice_text(level, flags, language=language)
        else:
            extra = advice.complement_text(sent["level"], (sent.get("flags") or [None])[0], level, flags,
                                           language=language)
        if extra:
            dispatcher.utter_message(text=extra, triage={"level": level, "flags": flags})
        channel = latest.get("input_channel") or tracker.get_latest_input_channel()
        open_id = _escalation_id(tracker) if tracker.get_slot("escalation_open") else None
        # the database write and the notifier wait in a worker thread: this server keeps serving other conversations
        result = await asyncio.to_thread(open_escalation, tracker.sender_id, channel, level, flags, text,
                                         open_escalation_id=open_id)
        events: list[EventType] = []
        # the level shown (an open, more severe escalation stays in force): only `soon` also answers the topic
        topic = asked_topic(latest) if (result.level or level) == "soon" else None
        if topic is not None:
            severity = latest_entity(tracker, "severity") or tracker.get_slot("severity")
            tendinopathy_type = tracker.get_slot("tendinopathy_type")
            answer = answer_for_topic(topic, tendinopathy_type=tendinopathy_type, severity=severity)
            send_answer(dispatcher, answer)
            events.append(SlotSet("last_topic", topic))
        # Always closes the contact form: a red flag interrupts it (and the rules expect the same events each time).
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        # triage_level/triage_flag describe this message only (domain/red_flags.yml): a later one is judged alone
        events += [SlotSet(slot, None) for slot in MESSAGE_TRIAGE_SLOTS]
        shown_level = result.level
        events += [SlotSet("escalation_open", True), SlotSet("escalation_level", shown_level)]
        if result.escalation_id is not None:
            events.append(SlotSet("escalation_id", str(result.escalation_id)))
        if result.stored and result.new:
            dispatcher.utter_message(text=advice.line("offer_contact", language=language),
                                     buttons=yes_no_buttons(language))
        elif result.stored:
            dispatcher.utter_message(text=say("added_to_earlier", language))
        else:
            dispatcher.utter_message(text=advice.line("offer_contact_unavailable", language=language))
        return events


class ActionEscalationDeclined(Action):
    """No to the contact offer: polite, and the key advice once more."""

    def name(self) -> str:
        return "action_escalation_declined"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        level = tracker.get_slot("escalation_level") or "same_day"
        # the advice again, with its triage metadata: channels show the red alert / ⚠️ from that, never from text
        language = language_of(tracker)
        dispatcher.utter_message(text=advice.line("declined", language=language,
                                                  advice=advice.level_advice(level, language=language)),
                                 triage={"level": level, "flags": []})
        return []


class ValidateContactForm(FormValidationAction):
    """Name, then phone or email, then consent. "stop", "cancel" or "no" (or "取消", "cancelar", ...: the words of
    bot/triage/cancel.py) ends the form politely."""

    def name(self) -> str:
        return "validate_contact_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        text = (tracker.latest_message or {}).get("text")
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if requested in ("contact_name", "contact_details") and (intent == "deny"
                                                                  or is_cancel(text, language_of(tracker))):
            # ending the form: action_submit_contact sees no consent and says so politely
            return [SlotSet("contact_cancelled", True), *[SlotSet(s, None) for s in CONTACT_SLOTS],
                    SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    def validate_contact_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        name = clean_name(value if isinstance(value, str) else None)
        if name is None:
            dispatcher.utter_message(text=say("name_not_caught", language_of(tracker)))
            return {"contact_name": None}
        return {"contact_name": name}

    def validate_contact_details(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        """A phone number (read in the clinic's region, stored in E.164) or an email address; else a re-ask
        that says what was wrong with it."""
        region = clinic_region()
        check = check_contact(value if isinstance(value, str) else None, region)
        if check.value is not None:
            return {"contact_details": check.value}
        example = example_phone(region)
        language = language_of(tracker)
        problem_key = {"phone": "phone_incomplete", "email": "email_wrong"}.get(check.kind, "not_contact")
        problem = say(problem_key, language, example=example)
        dispatcher.utter_message(text=say("contact_problem", language, problem=problem, example=example))
        return {"contact_details": None}

    def validate_contact_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"contact_consent": None}
        return {"contact_consent": bool(value)}


class ActionSubmitContact(Action):
    """Store consent and (with consent) the details, COMMITTED, before saying the clinic will get in touch."""

    def name(self) -> str:
        return "action_submit_contact"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        level = tracker.get_slot("escalation_level") or "same_day"
        language = language_of(tracker)

        def with_reminder(key: str, **extra: str) -> str:
            return advice.line(key, language=language, **extra) + "\n" + advice.reminder_text(level, language)

        clear = [SlotSet(s, None) for s in CONTACT_SLOTS] + [SlotSet("contact_cancelled", None)]
        name, details = tracker.get_slot("contact_name"), tracker.get_slot("contact_details")
        consent = tracker.get_slot("contact_consent")
        if tracker.get_slot("contact_cancelled") or not (name and details) and consent is None:
            dispatcher.utter_message(text=with_reminder("cancelled"))
            return clear
        if consent is not True:
            save_contact(_escalation_id(tracker), None, None, False, tracker.sender_id, level)
            dispatcher.utter_message(text=with_reminder("no_consent"))
            return clear
        stored = save_contact(_escalation_id(tracker), name, details, True, tracker.sender_id, level,
                              (tracker.latest_message or {}).get("text") or "")
        if stored:
            dispatcher.utter_message(text=with_reminder("contact_saved", contact_name=name, contact_details=details))
        else:
            dispatcher.utter_message(text=with_reminder("contact_failed"))
        return clear
