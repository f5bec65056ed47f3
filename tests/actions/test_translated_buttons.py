"""Issue #15: the contact offer's Yes/No buttons, the "Also: ..." button's question and the clinic's hours text
{hours} are in the visitor's language, from data: offer_yes / offer_no and opening_hours of
bot/triage/advice_<lang>.yml, and the `question:` of knowledge/translations/<lang>/<card>.yml. English, another
language or none: unchanged."""
from __future__ import annotations

import asyncio
import re

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerTopic
from actions.escalation import ActionEscalate
from actions.fallback import ActionFallbackRetrieve
from actions.translated_answer import TRANSLATIONS_DIR, card_question
from bot.clinic_profile import clinic_profile
from bot.opening_hours import OpeningHours
from bot.paths import PROJECT_ROOT
from bot.topics import intent_for_card
from bot.triage import advice
from bot.triage.detect import detect_red_flags
from knowledge.answers import known_topics, topic_question

LANGUAGES = ("zh-Hant", "zh-Hans", "es")
NOT_TRANSLATED = ("en", "fr", None)
TRIAGE = PROJECT_ROOT / "bot" / "triage"
HAN = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_HOURS = "Mon-Fri 8:00-19:00, Sat 9:00-13:00"  # clinic.yml's opening hours, as English text


def advice_file(language: str) -> dict:
    return yaml.safe_load((TRIAGE / f"advice_{language}.yml").read_text(encoding="utf-8"))


@pytest.fixture
def no_notifiers(clinic_db, monkeypatch):
    for name in ("CLINIC_SMTP_HOST", "CLINIC_STAFF_EMAIL", "CLINIC_STAFF_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)


def offer_buttons(tracker_for, domain, language: str | None) -> list[dict]:
    text = "I heard a pop in my achilles"
    tracker = tracker_for(text, "red_flag", slots={"language": language},
                          extra_parse_data={"red_flags": detect_red_flags(text).to_dict()})
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionEscalate().run(dispatcher, tracker, domain))
    [offer] = [m for m in dispatcher.messages if m.get("buttons")]
    return offer["buttons"]


# --- 1. the contact offer's buttons -------------------------------------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_contact_offer_buttons_are_in_the_visitors_language(tracker_for, domain, no_notifiers, language):
    buttons = offer_buttons(tracker_for, domain, language)
    wanted = advice_file(language)
    assert buttons == [{"title": wanted["offer_yes"], "payload": "/affirm"},
                       {"title": wanted["offer_no"], "payload": "/deny"}]
    assert not {"Yes, please", "No, thanks"} & {b["title"] for b in buttons}
    if language.startswith("zh"):
        assert all(HAN.search(b["title"]) for b in buttons)


@pytest.mark.parametrize("language", NOT_TRANSLATED)
def test_the_contact_offer_buttons_stay_english_otherwise(tracker_for, domain, no_notifiers, language):
    assert offer_buttons(tracker_for, domain, language) == [{"title": "Yes, please", "payload": "/affirm"},
                                                            {"title": "No, thanks", "payload": "/deny"}]


# --- 2. the "Also: ..." button ------------------------------------------------------------------------------------
def also_title(tracker_for, domain, language: str | None, second: str = "exercises") -> str:
    ranking = [{"name": intent_for_card("heel_lifts"), "confidence": 0.6},
               {"name": intent_for_card(second), "confidence": 0.35}]
    tracker = tracker_for("do heel lifts help and which exercises?", intent_for_card("heel_lifts"),
                          slots={"language": language}, extra_parse_data={"intent_ranking": ranking})
    dispatcher = CollectingDispatcher()
    ActionAnswerTopic().run(dispatcher, tracker, domain)
    [title] = [b["title"] for m in dispatcher.messages for b in m.get("buttons") or []
               if b["payload"] == f"/{intent_for_card(second)}"][:1]
    return title


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_also_button_asks_the_other_topic_in_the_visitors_language(tracker_for, domain, language):
    title = also_title(tracker_for, domain, language)
    translated = yaml.safe_load((TRANSLATIONS_DIR / language / "exercises.yml").read_text(encoding="utf-8"))
    assert translated["question"]["text"] in title
    assert topic_question("exercises") not in title and not title.startswith("Also")
    if language.startswith("zh"):
        assert HAN.search(title)


@pytest.mark.parametrize("language", NOT_TRANSLATED)
def test_the_also_button_stays_english_otherwise(tracker_for, domain, language):
    assert also_title(tracker_for, domain, language) == f"Also: {topic_question('exercises')}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("card", known_topics())
def test_every_cards_question_is_translated_from_its_current_english_question(card, language):
    english = topic_question(card)
    translated = card_question(card, english, language)
    assert translated and translated != english, \
        f"knowledge/translations/{language}/{card}.yml: add question: {{en: {english!r}, text: ...}}"
    assert sorted(re.findall(r"\d+", english)) == sorted(re.findall(r"\d+", translated))


def test_a_question_translated_from_an_older_english_question_is_not_used(tmp_path):
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "exercises.yml").write_text(
        "translation: pending clinical review by a native-speaking clinician (x)\ncard: exercises\nlanguage: es\n"
        "question: {en: 'Which exercises are best?', text: '¿Qué ejercicios son mejores?'}\nsentences: []\n",
        encoding="utf-8")
    english = topic_question("exercises")
    assert card_question("exercises", english, "es", directory=tmp_path) == english
    assert card_question("exercises", english, "fr") == english


# --- 3. the hours text {hours} ------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_hours_text_is_in_the_visitors_language_with_every_time(language):
    hours = advice.clinic_values(language=language)["hours"]
    phrases = advice_file(language)["opening_hours"]
    assert hours != ENGLISH_HOURS and "Mon" not in hours and "Sat" not in hours
    assert phrases["short_weekdays"][0] in hours and phrases["short_weekdays"][5] in hours
    assert re.findall(r"\d+:\d\d", hours) == re.findall(r"\d+:\d\d", ENGLISH_HOURS)
    from bot.nlp.reply_language import clinic_values  # what Rasa's own translated responses are filled with

    assert clinic_values(language)["hours"] == hours


@pytest.mark.parametrize("language", NOT_TRANSLATED)
def test_the_hours_text_stays_english_otherwise(language):
    assert clinic_profile().hours == ENGLISH_HOURS
    assert advice.clinic_values(language=language)["hours"] == ENGLISH_HOURS


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_line_with_the_hours_says_them_in_the_visitors_language(tracker_for, domain, language):
    dispatcher = CollectingDispatcher()
    tracker = tracker_for("what's a good banana bread recipe", "nlu_fallback", slots={"language": language})
    ActionFallbackRetrieve().run(dispatcher, tracker, domain)
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    assert advice.clinic_values(language=language)["hours"] in text and ENGLISH_HOURS not in text
    line = advice.line("offer_contact_unavailable", language=language)
    assert advice.clinic_values(language=language)["hours"] in line and "Mon-Fri" not in line


def test_the_summary_with_split_days_and_a_phrase_that_does_not_fill():
    hours = OpeningHours.from_data({"timezone": "Europe/Madrid", "weekly": {
        "monday": "09:00-13:00, 15:00-19:00", "tuesday": "09:00-13:00, 15:00-19:00", "friday": "09:00-14:00"}})
    phrases = advice_file("es")["opening_hours"]
    assert hours.summary(phrases) == "lun.-mar. 9:00-13:00 y 15:00-19:00, vie. 9:00-14:00"
    assert hours.summary(advice_file("zh-Hant")["opening_hours"]) == \
        "星期一至星期二 9:00-13:00、15:00-19:00，星期五 9:00-14:00"
    broken = {**phrases, "day_span": "{primero}-{ultimo}", "short_weekdays": ["lun."]}  # wrong key, wrong length
    assert hours.summary(broken) == "Mon-Tue 9:00-13:00 y 15:00-19:00, Fri 9:00-14:00"
    never = OpeningHours.from_data({"timezone": "Europe/Madrid", "weekly": {}})
    assert never.summary() == "closed" and never.summary(phrases) == phrases["never_open"]


def test_the_clinics_own_hours_wording_wins(monkeypatch):
    monkeypatch.setattr(advice, "_clinic_translations", lambda _path: {"es": {"hours": "de lunes a sábado"}})
    assert advice.clinic_values(language="es")["hours"] == "de lunes a sábado"


@pytest.mark.parametrize("language", LANGUAGES)
def test_rasas_own_translated_responses_say_the_hours_in_the_visitors_language(language):
    from bot.nlp.reply_language import ReplyLanguageGenerator
    from bot.topic_wiring import rasa_domain

    generator = ReplyLanguageGenerator(domain=rasa_domain())
    for response in ("utter_action_unavailable", "utter_red_flag_soon"):
        message = generator.generate_from_slots(response, {"language": language, "triage_flag": None}, "rest")
        assert advice.clinic_values(language=language)["hours"] in message["text"], response
        assert ENGLISH_HOURS not in message["text"]
