"""Language detection: the component stores the language in the parse data; short messages per language."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.language_detector import LanguageDetector, chinese_script, detect_language
from tests.languages.eval_detection import load_short_messages, outcome

SHORT = load_short_messages()


@pytest.fixture(scope="module")
def component():
    return LanguageDetector(LanguageDetector.get_default_config())


def parse(component: LanguageDetector, text: str) -> Message:
    message = Message(data={"text": text})
    component.process([message])
    return message


@pytest.mark.parametrize("language", ["en", "es", "zh-Hant", "zh-Hans"])
def test_short_messages_are_never_given_another_supported_language(language):
    """Undetermined is allowed (the conversation keeps its language); another supported language is not."""
    results = [(text, outcome(language, text)) for text in SHORT[language]]
    wrong = [(t, r) for t, r in results if r.startswith("wrong:") and r.split(":")[1] in ("en", "es", "zh-Hant",
                                                                                         "zh-Hans")]
    right = sum(1 for _, r in results if r in ("right", "either"))
    assert not wrong, wrong
    assert right / len(results) >= 0.8, results


def test_chinese_is_always_chinese_whatever_its_length():
    for text in SHORT["zh-Hant"] + SHORT["zh-Hans"]:
        assert detect_language(text).language.startswith("zh"), text


@pytest.mark.parametrize("text,script", [
    ("我腳踭啪一聲，而家行唔到路", "zh-Hant"),      # Cantonese forms and Traditional-only characters
    ("我的脚后跟啪的一声，现在走不了路", "zh-Hans"),
    ("跑步後腳跟痛", "zh-Hant"),
    ("跑步后脚跟疼", "zh-Hans"),
])
def test_chinese_script(text, script):
    assert chinese_script(text)[0] == script
    assert detect_language(text).language == script


def test_a_message_valid_in_both_scripts_gets_the_clinics_default():
    language, counts = chinese_script("你好")
    assert language == "zh-Hant" and counts == {"traditional_only": 0, "simplified_only": 0, "cantonese": 0}


@pytest.mark.parametrize("text", SHORT["fr"] + SHORT["de"] + SHORT["ja"] + SHORT["ko"])
def test_other_languages_are_reported_as_not_supported(text):
    result = detect_language(text)
    assert result.language not in ("en", "es", "zh-Hant", "zh-Hans") and not result.supported


@pytest.mark.parametrize("text", ["07700 900123", "name@example.com", "ok", "", "   ", "😀😀"])
def test_no_words_is_undetermined(text):
    assert detect_language(text).language == "und"


def test_the_component_stores_the_language_and_a_slot_entity(component):
    message = parse(component, "我腳踭啪一聲，而家行唔到路")
    assert message.get("language") == "zh-Hant"
    assert message.get("language_detection")["method"] == "script"
    assert {"entity": "language", "value": "zh-Hant"}.items() <= message.get("entities")[0].items()
    assert "language" in message.as_dict(only_output_properties=True)  # so it is in the logged parse data


def test_undetermined_and_unsupported_messages_leave_the_slot_alone(component):
    for text in ("07700 900123", "ich kann nicht laufen", "/affirm"):
        message = parse(component, text)
        assert message.get("language") != "en" or text == "/affirm"
        assert not [e for e in message.get("entities") or [] if e["entity"] == "language"], text


def test_spanish_with_a_spanish_only_mark_is_spanish_even_when_short():
    assert detect_language("¿sí?").language == "es"
