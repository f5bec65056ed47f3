"""Issue #15: the lines the action server writes itself are in the visitor's language (the `language` slot).

Every scenario runs an action (or the function an action calls) once per language and once in English. The
reply must use the translation's own words (every fixed piece of the translated template appears), have no
placeholder left, keep every number of the English reply, and be English for en, an unsupported language or no
language. The translations are data: actions/texts/<lang>.yml, bot/triage/advice_<lang>.yml and, for the lines
Rasa sends itself too, domain/lang_<suffix>.yml."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from actions.answer import ActionAnswerFollowup, ActionAnswerTopic, ActionTellMore
from actions.escalation import ActionEscalate, ActionEscalationDeclined, ActionSubmitContact, ValidateContactForm
from actions.fallback import ActionFallbackRetrieve, ActionOfferHuman, human_offer_text
from actions.feedback import ActionRecordFeedback
from bot.opening_hours import ENGLISH_PHRASES, OpeningHours
from bot.paths import PROJECT_ROOT
from bot.topics import intent_for_card
from bot.triage import advice
from bot.triage.detect import detect_red_flags

LANGUAGES = ("zh-Hant", "zh-Hans", "es")
NOT_TRANSLATED = ("en", "fr", None)  # English, an unsupported language, no language yet
TEXTS = PROJECT_ROOT / "actions" / "texts"
TRIAGE = PROJECT_ROOT / "bot" / "triage"
OPEN = datetime(2026, 12, 2, 11, 0, tzinfo=timezone.utc)      # Wednesday 11:00 in London
CLOSED = datetime(2026, 12, 5, 15, 0, tzinfo=timezone.utc)    # Saturday after 13:00: opens Monday 8:00
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
NUMBER = re.compile(r"\d+")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def nested(data, dotted: str):
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, (list, tuple)) else data[part]
    return data


def template(source: str, key: str, language: str) -> str:
    """The template a reply should be built from: ("actions", key), ("advice", dotted key) or
    ("domain", "<response>|<advice.yml key>") for the lines translated once in domain/lang_<suffix>.yml."""
    english = language not in LANGUAGES
    if source == "actions":
        return str(load(TEXTS / f"{'en' if english else language}.yml")[key])
    if source == "advice":
        if english:
            return str(nested({**load(TRIAGE / "advice.yml"), "opening_hours": ENGLISH_PHRASES}, key))
        return str(nested(load(TRIAGE / f"advice_{language}.yml"), key))
    response, english_key = key.split("|")
    if english:
        return str(nested(load(TRIAGE / "advice.yml"), english_key))
    suffix = language.lower().replace("-", "_")
    return str(load(PROJECT_ROOT / "domain" / f"lang_{suffix}.yml")["responses"][f"{response}_{suffix}"][0]["text"])


def pieces(text: str) -> list[str]:
    return [piece.strip() for piece in PLACEHOLDER.split(text) if piece.strip()]


def assert_built_from(reply: str, templates: list[str]) -> None:
    for text in templates:
        for piece in pieces(text):
            assert piece in reply, f"{piece!r} (from {text!r}) is not in {reply!r}"


def texts(dispatcher) -> list[str]:
    return [m.get("text") or "" for m in dispatcher.messages]


def buttons(dispatcher) -> list[str]:
    return [b["title"] for m in dispatcher.messages for b in m.get("buttons") or []]


@pytest.fixture
def no_notifiers(clinic_db, monkeypatch):
    for name in ("CLINIC_SMTP_HOST", "CLINIC_STAFF_EMAIL", "CLINIC_STAFF_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)


# --- the scenarios: (name, fixtures needed, run(language, ctx) -> the reply strings, templates) ----------------
def fallback_empty(lang, c):
    ActionFallbackRetrieve().run(c.dispatcher, c.tracker_for("", slots={"language": lang}), c.domain)
    return texts(c.dispatcher), [("actions", "empty_message")]


def fallback_not_covered(lang, c):
    tracker = c.tracker_for("what's a good banana bread recipe", "nlu_fallback", slots={"language": lang})
    ActionFallbackRetrieve().run(c.dispatcher, tracker, c.domain)
    return texts(c.dispatcher) + buttons(c.dispatcher), [("actions", "not_covered"), ("actions", "team_button")]


def fallback_with_reminder(lang, c):
    tracker = c.tracker_for("what's a good banana bread recipe", "nlu_fallback",
                            slots={"language": lang, "escalation_open": True, "escalation_level": "soon"})
    ActionFallbackRetrieve().run(c.dispatcher, tracker, c.domain)
    return texts(c.dispatcher), [("advice", "reminders.soon"), ("actions", "not_covered")]


def tell_more_without_topic(lang, c):
    ActionTellMore().run(c.dispatcher, c.tracker_for("tell me more", "tell_me_more", slots={"language": lang}),
                         c.domain)
    return texts(c.dispatcher), [("actions", "tell_more_which_topic")]


def followup_without_topic(lang, c):
    ActionAnswerFollowup().run(c.dispatcher, c.tracker_for("and then?", "followup", slots={"language": lang}),
                               c.domain)
    return texts(c.dispatcher), [("actions", "followup_which_topic")]


def also_button(lang, c):
    ranking = [{"name": intent_for_card("heel_lifts"), "confidence": 0.6},
               {"name": intent_for_card("exercises"), "confidence": 0.35}]
    tracker = c.tracker_for("do heel lifts help and which exercises?", intent_for_card("heel_lifts"),
                            slots={"language": lang}, extra_parse_data={"intent_ranking": ranking})
    ActionAnswerTopic().run(c.dispatcher, tracker, c.domain)
    also = [b["title"] for m in c.dispatcher.messages for b in m.get("buttons") or []
            if b["payload"] == f"/{intent_for_card('exercises')}"]
    return also[:1], [("actions", "also_button")]


def human_open(lang, c):
    return [human_offer_text("web:open", now=OPEN, language=lang)], [
        ("actions", "human_open"), ("actions", "human_urgent"), ("advice", "opening_hours.open_until")]


def human_closed(lang, c):
    return [human_offer_text("web:closed", now=CLOSED, language=lang)], [
        ("actions", "human_closed"), ("actions", "human_urgent"), ("advice", "opening_hours.closed_opens"),
        ("advice", "opening_hours.on_weekday"), ("advice", "opening_hours.weekdays.0")]


def human_not_queued(lang, c):
    from bot.handoff import store

    def broken(_conversation_id):
        raise RuntimeError("database is down")

    c.monkeypatch.setattr(store, "request_person", broken)
    return [human_offer_text("web:down", now=OPEN, language=lang)], [
        ("actions", "human_not_queued"), ("actions", "human_urgent")]


def offer_human_action(lang, c):
    ActionOfferHuman().run(c.dispatcher, c.tracker_for("can I talk to someone", "request_human",
                                                       slots={"language": lang}), c.domain)
    return texts(c.dispatcher), [("actions", "human_urgent")]


def feedback(helpful: bool):
    def run(lang, c):
        intent = "feedback_helpful" if helpful else "feedback_unhelpful"
        ActionRecordFeedback().run(c.dispatcher, c.tracker_for("👍", intent, slots={"language": lang}), c.domain)
        return texts(c.dispatcher), [("actions", "thanks_helpful" if helpful else "thanks_unhelpful")]
    return run


def _escalate(c, lang, **slots):
    text = "I heard a pop in my achilles"
    tracker = c.tracker_for(text, "red_flag", slots={"language": lang, **slots},
                            extra_parse_data={"red_flags": detect_red_flags(text).to_dict()})
    events = asyncio.run(ActionEscalate().run(c.dispatcher, tracker, c.domain))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def escalate_offer(lang, c):
    _escalate(c, lang)
    return texts(c.dispatcher), [("advice", "offer_contact"),
                                 ("domain", "utter_red_flag_same_day|levels.same_day"),
                                 ("domain", "utter_red_flag_reason_rupture_pop_snap|levels.same_day")]


def escalate_again(lang, c):
    from rasa_sdk.executor import CollectingDispatcher

    first = _escalate(type(c)(c, dispatcher=CollectingDispatcher()), lang)
    _escalate(c, lang, escalation_open=True, escalation_id=first["escalation_id"], escalation_level="same_day")
    return texts(c.dispatcher)[-1:], [("actions", "added_to_earlier")]


def escalate_not_stored(lang, c):
    import actions.escalation as module
    from bot.triage.escalate import EscalationResult

    c.monkeypatch.setattr(module, "open_escalation", lambda *a, **k: EscalationResult(
        escalation_id=None, level="same_day", flags=["rupture_pop_snap"], stored=False, notified=False, new=True))
    _escalate(c, lang)
    return texts(c.dispatcher)[-1:], [("advice", "offer_contact_unavailable")]


def declined(lang, c):
    tracker = c.tracker_for("no thanks", "deny", slots={"language": lang, "escalation_level": "soon"})
    ActionEscalationDeclined().run(c.dispatcher, tracker, c.domain)
    return texts(c.dispatcher), [("advice", "declined"), ("domain", "utter_red_flag_soon|levels.soon")]


def submit(key: str, slots: dict, save=None):
    def run(lang, c):
        if save is not None:
            import actions.escalation as module

            c.monkeypatch.setattr(module, "save_contact", lambda *a, **k: save)
        tracker = c.tracker_for("yes", "affirm", slots={"language": lang, "escalation_level": "same_day", **slots})
        ActionSubmitContact().run(c.dispatcher, tracker, c.domain)
        return texts(c.dispatcher), [("advice", key), ("advice", "reminders.same_day")]
    return run


def validate_name(lang, c):
    tracker = c.tracker_for("12345", slots={"language": lang})
    ValidateContactForm().validate_contact_name("12345", c.dispatcher, tracker, c.domain)
    return texts(c.dispatcher), [("actions", "name_not_caught")]


def validate_details(value: str, problem: str):
    def run(lang, c):
        tracker = c.tracker_for(value, slots={"language": lang})
        ValidateContactForm().validate_contact_details(value, c.dispatcher, tracker, c.domain)
        return texts(c.dispatcher), [("actions", problem), ("actions", "contact_problem")]
    return run


def rasa_lines(lang, c):
    keys = {"action_unavailable": "utter_action_unavailable",
            "escalation_unavailable": "utter_action_escalate_unavailable",
            "escalation_recorded": "utter_action_escalate_recorded"}
    return [advice.line(key, language=lang) for key in keys], [("domain", f"{r}|{k}") for k, r in keys.items()]


def reminders(lang, c):
    levels = ("emergency", "same_day", "soon")
    return [advice.reminder_text(level, lang) for level in levels], [("advice", f"reminders.{lv}") for lv in levels]


def status_far_ahead(lang, c):
    """Closed for more than a week: the date with the weekday and month names."""
    hours = OpeningHours.from_data({"timezone": "Europe/London", "weekly": {"monday": "08:00-12:00"}})
    monday_afternoon = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
    phrases = advice.translation(lang).get("opening_hours")
    return [hours.status_sentence(monday_afternoon, phrases)], [
        ("advice", "opening_hours.closed_opens"), ("advice", "opening_hours.weekdays.0"),
        ("advice", "opening_hours.months.11")]


SCENARIOS = {
    "fallback: empty message": fallback_empty,
    "fallback: not covered + team button": fallback_not_covered,
    "fallback: reminder of an open escalation": fallback_with_reminder,
    "tell me more without a topic": tell_more_without_topic,
    "follow-up without a topic": followup_without_topic,
    "the 'Also:' button": also_button,
    "talk to a person, open": human_open,
    "talk to a person, closed": human_closed,
    "talk to a person, database down": human_not_queued,
    "talk to a person, the action": offer_human_action,
    "feedback helpful": feedback(True),
    "feedback unhelpful": feedback(False),
    "escalation: the contact offer": escalate_offer,
    "escalation: added to the earlier one": escalate_again,
    "escalation: not stored": escalate_not_stored,
    "contact offer declined": declined,
    "contact form cancelled": submit("cancelled", {"contact_cancelled": True}),
    "contact form without consent": submit("no_consent", {"contact_name": "Sam", "contact_details": "sam@example.com",
                                                          "contact_consent": False}),
    "contact saved": submit("contact_saved", {"contact_name": "Sam", "contact_details": "+447700900123",
                                              "contact_consent": True}, save=True),
    "contact not saved": submit("contact_failed", {"contact_name": "Sam", "contact_details": "+447700900123",
                                                   "contact_consent": True}, save=False),
    "contact form: no name": validate_name,
    "contact form: short phone": validate_details("0770", "phone_incomplete"),
    "contact form: bad email": validate_details("sam@", "email_wrong"),
    "contact form: neither": validate_details("hello there", "not_contact"),
    "lines Rasa also sends (in_domain)": rasa_lines,
    "reminders": reminders,
    "opening hours more than a week ahead": status_far_ahead,
}


class Context:
    def __init__(self, base=None, **override):
        for name in ("dispatcher", "tracker_for", "domain", "monkeypatch"):
            setattr(self, name, override.get(name, getattr(base, name, None)))


@pytest.fixture
def run_scenario(dispatcher, tracker_for, domain, monkeypatch, no_notifiers):
    from rasa_sdk.executor import CollectingDispatcher

    def run(name: str, language: str | None):
        context = Context(dispatcher=CollectingDispatcher(), tracker_for=tracker_for, domain=domain,
                          monkeypatch=monkeypatch)
        replies, sources = SCENARIOS[name](language, context)
        assert replies and all(replies), f"{name}: no reply"
        return "\n".join(replies), [template(source, key, language) for source, key in sources]
    return run


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SCENARIOS)
def test_the_line_is_in_the_visitors_language(run_scenario, name, language):
    reply, templates = run_scenario(name, language)
    english, english_templates = run_scenario(name, "en")
    assert_built_from(reply, templates)
    assert "{" not in reply and "}" not in reply
    missing = set(NUMBER.findall(english)) - set(NUMBER.findall(reply))
    assert not missing, f"numbers of the English reply missing: {missing}\n{reply}"
    assert reply != english
    if language.startswith("zh"):
        assert re.search(r"[\u4e00-\u9fff]", reply)


@pytest.mark.parametrize("language", NOT_TRANSLATED)
@pytest.mark.parametrize("name", SCENARIOS)
def test_english_for_english_and_unknown_languages(run_scenario, name, language):
    reply, templates = run_scenario(name, language)
    assert_built_from(reply, templates)
    assert "{" not in reply
    assert not re.search(r"[\u4e00-\u9fff]", reply)


# --- the translation files themselves ----------------------------------------------------------------------------
def flat(data: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        if key == "translation":
            continue
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        elif isinstance(value, (list, tuple)):
            out.update({f"{prefix}{key}.{i}": str(v) for i, v in enumerate(value)})
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def english_advice() -> dict[str, str]:
    return flat({**load(TRIAGE / "advice.yml"), "opening_hours": ENGLISH_PHRASES})


FILES = {"actions/texts": (lambda lang: flat(load(TEXTS / f"{lang}.yml")), lambda: flat(load(TEXTS / "en.yml"))),
         "bot/triage/advice": (lambda lang: flat(load(TRIAGE / f"advice_{lang}.yml")), english_advice)}


@pytest.mark.parametrize("kind", FILES)
def test_every_key_translated_in_one_language_is_in_all_three_and_in_english(kind):
    translated, english = FILES[kind]
    keys = {lang: set(translated(lang)) for lang in LANGUAGES}
    every = set().union(*keys.values())
    for lang in LANGUAGES:
        assert every - keys[lang] == set(), f"{kind}: {lang} lacks {sorted(every - keys[lang])}"
    assert every - set(english()) == set(), f"{kind}: no English for {sorted(every - set(english()))}"
    if kind == "actions/texts":
        assert set(english()) == every, f"untranslated: {sorted(set(english()) - every)}"


@pytest.mark.parametrize("kind", FILES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_same_placeholders_and_numbers_as_english_and_marked_for_review(kind, language):
    translated, english = FILES[kind]
    source = TEXTS / f"{language}.yml" if kind == "actions/texts" else TRIAGE / f"advice_{language}.yml"
    first = source.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("translation: pending clinical review by a native-speaking clinician (")
    english_lines = english()
    for key, text in translated(language).items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english_lines[key])), key
        assert set(NUMBER.findall(english_lines[key])) <= set(NUMBER.findall(text)), key


def test_a_missing_or_broken_translation_falls_back_to_english(tmp_path, monkeypatch):
    import actions.localised as localised

    (tmp_path / "en.yml").write_text((TEXTS / "en.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "es.yml").write_text("translation: pending clinical review by a native-speaking clinician (x)\n"
                                     "thanks_helpful: 'Gracias {missing_placeholder}'\n", encoding="utf-8")
    (tmp_path / "zh-Hant.yml").write_text("not: [valid", encoding="utf-8")
    monkeypatch.setattr(localised, "TEXTS_DIR", tmp_path)
    localised.texts.cache_clear()
    try:
        english = localised.say("thanks_helpful", "en")
        assert localised.say("thanks_helpful", "es") == english       # does not fill in
        assert localised.say("thanks_unhelpful", "es") == localised.say("thanks_unhelpful", "en")  # key missing
        assert localised.say("thanks_helpful", "zh-Hant") == english  # unreadable file
        assert localised.say("thanks_helpful", "../../etc") == english
    finally:
        localised.texts.cache_clear()
    assert advice.line("offer_contact", language="xx-Nope") == advice.line("offer_contact")
    assert advice.reminder_text("soon", "../x") == advice.reminder_text("soon")
