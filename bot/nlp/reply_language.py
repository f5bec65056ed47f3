"""Replies in the visitor's language: Rasa's response generator, picking a translated response when one exists.

Configured in endpoints.yml (`nlg: type: bot.nlp.reply_language.ReplyLanguageGenerator`), so it runs inside the
Rasa server: translated urgent advice never depends on the action server. For a response `utter_x` and the
conversation's `language` slot (set by bot/nlp/language_detector.py), it sends `utter_x_<lang>` from
domain/lang_<lang>.yml when the domain has it (Rasa's own variation conditions still apply), else the English
`utter_x`. Red-flag advice (`utter_red_flag_<level>`) is composed from the translated reason of the flag
(`utter_red_flag_reason_<flag>_<lang>`), the level's advice and the flag's extra line, with the metadata of the
English response (the widget's red alert). Placeholders {phone} {hours} {emergency_number} {urgent_care}
{booking_url} {name} {email} come from clinic.yml, with the clinic's own translations (`translations:`) if any;
{hours} is the opening-hours text in the visitor's language (bot/triage/advice.py `hours_in`).
"""
from __future__ import annotations

import logging
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from bot.triage.advice import clinic_values as advice_clinic_values
from bot.triage.flags import LEVELS

logger = logging.getLogger(__name__)

LANGUAGE_SLOT = "language"
SUFFIXES = {"zh-Hant": "zh_hant", "zh-Hans": "zh_hans", "es": "es"}
RED_FLAG_PREFIX = "utter_red_flag_"
RED_FLAG_LEVELS = LEVELS


def response_suffix(language: str | None) -> str | None:
    """The response-name suffix of a supported non-English language ("zh_hant"), None for English or unknown."""
    return SUFFIXES.get(language or "")


def clinic_values(language: str | None) -> dict[str, str]:
    """The clinic's details for placeholders in this language: the same values the action server uses (the hours
    text in the language, the clinic's own translations), bot/triage/advice.py."""
    return advice_clinic_values(language=language)


def conversation_language(events: list, slot_value: str | None) -> str | None:
    """The language to reply in: the latest user message with a sure, supported language decides; a Chinese
    message valid in both scripts ("好的") keeps the script the conversation already had."""
    chinese_guess = None
    for event in reversed(events or []):
        parse_data = getattr(event, "parse_data", None)
        if parse_data is None:
            continue
        detection = parse_data.get("language_detection") or {}
        language = parse_data.get("language")
        if not detection.get("supported"):
            continue
        if language in ("zh-Hant", "zh-Hans") and not any((detection.get("script") or {}).values()):
            chinese_guess = chinese_guess or language  # either script: look further back for the real one
            continue
        if chinese_guess and not language.startswith("zh"):
            return chinese_guess
        return language
    return chinese_guess or slot_value


class ReplyLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator, choosing the visitor's language."""

    async def generate(self, utter_action: str, tracker: Any, output_channel: str, **kwargs: Any) -> dict | None:
        filled_slots = tracker.current_slot_values()
        try:
            language = conversation_language(list(tracker.events), filled_slots.get(LANGUAGE_SLOT))
        except Exception:  # noqa: BLE001 - fall back to the slot
            logger.exception("could not read the conversation's language; using the language slot")
            language = filled_slots.get(LANGUAGE_SLOT)
        filled_slots = {**filled_slots, LANGUAGE_SLOT: language}
        return self.generate_from_slots(utter_action, filled_slots, output_channel, **kwargs)

    def __init__(self, endpoint_config: Any = None, domain: Domain | None = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    def _translated(self, name: str, suffix: str, filled_slots: dict, output_channel: str,
                    values: dict[str, str]) -> dict | None:
        translated = f"{name}_{suffix}"
        if translated not in self.responses:
            return None
        return super().generate_from_slots(translated, filled_slots, output_channel, **values)

    def generate_from_slots(self, utter_action: str, filled_slots: dict[str, Any], output_channel: str,
                            **kwargs: Any) -> dict[str, Any] | None:
        language = (filled_slots or {}).get(LANGUAGE_SLOT)
        suffix = response_suffix(language)
        if suffix is None:
            return super().generate_from_slots(utter_action, filled_slots, output_channel, **kwargs)
        try:
            values = {**clinic_values(language), **kwargs}
            if utter_action.startswith(RED_FLAG_PREFIX) and utter_action[len(RED_FLAG_PREFIX):] in RED_FLAG_LEVELS:
                composed = self._red_flag(utter_action, suffix, filled_slots, output_channel, values)
                if composed is not None:
                    return composed
            translated = self._translated(utter_action, suffix, filled_slots, output_channel, values)
            if translated is not None:
                translated.setdefault("metadata", {})["language"] = language
                return translated
        except Exception:  # noqa: BLE001 - a translation problem must never cost the reply: English is sent
            logger.exception("translated response %s (%s) failed; sending the English one", utter_action, language)
        return super().generate_from_slots(utter_action, filled_slots, output_channel, **kwargs)

    def _red_flag(self, utter_action: str, suffix: str, filled_slots: dict, output_channel: str,
                  values: dict[str, str]) -> dict | None:
        """Reason of the flag + the level's advice + the flag's extra line, all translated; the English response's
        metadata (level, flags) is kept. None when the level's translated advice is missing (English is sent)."""
        advice = self._translated(utter_action, suffix, filled_slots, output_channel, values)
        if advice is None:
            return None
        english = super().generate_from_slots(utter_action, filled_slots, output_channel, **values) or {}
        flag = (filled_slots or {}).get("triage_flag") or "classifier"
        parts = []
        for name in (f"utter_red_flag_reason_{flag}", None, f"utter_red_flag_extra_{flag}"):
            if name is None:
                parts.append(advice.get("text") or "")
                continue
            piece = self._translated(name, suffix, filled_slots, output_channel, values)
            if piece is None and name.startswith("utter_red_flag_reason_"):
                piece = self._translated("utter_red_flag_reason_classifier", suffix, filled_slots,
                                         output_channel, values)
            if piece is not None:
                parts.append(piece.get("text") or "")
        advice["text"] = "\n".join(p for p in parts if p)
        metadata = dict(english.get("metadata") or {})
        metadata["language"] = filled_slots.get(LANGUAGE_SLOT)
        advice["metadata"] = metadata
        return advice
