"""The words of an escalation (advice.yml): immediate advice per level, reminders, the contact-offer lines, and the
generated domain file through which Rasa sends the advice itself.

In the visitor's language (language="zh-Hant", "zh-Hans", "es"): the lines, reminders and opening-hours sentences
come from advice_<language>.yml beside advice.yml; the level advice and the lines Rasa also sends itself
(`in_domain:` of advice.yml) from their translated responses in domain/lang_<suffix>.yml, so each translation
exists once. A missing or unreadable translation gives the English line, never an error."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import yaml

from bot.clinic_profile import ClinicProfile, clinic_profile, profile_path
from bot.translation_files import is_foreign, read_translation, read_yaml
from bot.triage.flags import CLASSIFIER_FLAG, LEVELS, load_flag_file

logger = logging.getLogger(__name__)

ADVICE_FILE = Path(__file__).with_name("advice.yml")
DOMAIN_DIR = Path(__file__).resolve().parents[2] / "domain"


@lru_cache(maxsize=2)
def _advice(path: Path = ADVICE_FILE) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [level for level in LEVELS if level not in (data.get("levels") or {})
               or level not in (data.get("reminders") or {})]
    if missing:
        raise ValueError(f"{path}: add advice and a reminder for level(s) {', '.join(missing)}")
    return data


def open_status(profile: ClinicProfile, now: datetime | None = None) -> str:
    """'The clinic is closed now; it opens at 8:00 on Monday.' (or open until ...), from the opening hours."""
    if profile.opening_hours is None:
        return ""
    return profile.opening_hours.status_sentence(now or datetime.now(timezone.utc))


def open_status_in(profile: ClinicProfile, language: str | None, now: datetime | None = None) -> str:
    """open_status in the visitor's language (the `opening_hours:` phrases of advice_<language>.yml)."""
    phrases = translation(language).get("opening_hours")
    if not phrases or profile.opening_hours is None:
        return open_status(profile, now)
    return profile.opening_hours.status_sentence(now or datetime.now(timezone.utc), phrases)


def translation_file(language: str) -> Path:
    return ADVICE_FILE.with_name(f"advice_{language}.yml")


@lru_cache(maxsize=8)
def _translation(language: str) -> dict:
    return read_translation(translation_file(language))


def translation(language: str | None) -> dict:
    """advice_<language>.yml, {} for English, an unknown language or a missing file."""
    return _translation(language) if is_foreign(language) else {}


@lru_cache(maxsize=8)
def _domain_texts(language: str) -> dict[str, str]:
    suffix = language.lower().replace("-", "_")
    responses = read_yaml(DOMAIN_DIR / f"lang_{suffix}.yml").get("responses") or {}
    texts = {}
    for name, variants in responses.items():
        first = variants[0] if isinstance(variants, list) and variants else None
        if str(name).endswith("_" + suffix) and isinstance(first, dict) and first.get("text"):
            texts[str(name)[:-len(suffix) - 1]] = str(first["text"])
    return texts


def domain_text(response: str, language: str | None) -> str | None:
    """The text of the translated response `<response>_<suffix>` of domain/lang_<suffix>.yml, if any."""
    return _domain_texts(language).get(response) if is_foreign(language) else None


@lru_cache(maxsize=4)
def _clinic_translations(path: str) -> dict:
    return read_yaml(Path(path)).get("translations") or {}


def hours_in(profile: ClinicProfile, language: str | None) -> str:
    """The hours text {hours} ("Mon-Fri 8:00-19:00, ...") in the visitor's language (the `opening_hours:` phrases
    of advice_<language>.yml); the English text when there are none or the profile gives free-text hours."""
    phrases = translation(language).get("opening_hours")
    if not phrases or profile.opening_hours is None:
        return profile.hours
    return profile.opening_hours.summary(phrases)


def clinic_values(profile: ClinicProfile | None = None, language: str | None = None) -> dict[str, str]:
    """The clinic's details for placeholders, in `language`: the hours text from the opening hours and the
    clinic's own wording (clinic.yml `translations:`, which wins, e.g. its own `hours:`)."""
    profile = profile or clinic_profile()
    values = {k: v for k, v in asdict(profile).items() if isinstance(v, str)}
    if is_foreign(language):
        values["hours"] = hours_in(profile, language)
        own = _clinic_translations(str(profile_path())).get(language) or {}
        values.update({str(k): str(v) for k, v in own.items() if v})
    return values


def _fill(template: str, profile: ClinicProfile | None = None, language: str | None = None, **extra: str) -> str:
    profile = profile or clinic_profile()
    values = {**asdict(profile), **clinic_values(profile, language)}
    if "{open_status}" in template:  # only lines sent by the action server: said at the time they are sent
        values["open_status"] = open_status_in(profile, language)
    values.update(extra)
    return re.sub(r"[ \t]{2,}", " ", template.format(**values)).strip()


def _localised(english: str, translated: str | None, profile: ClinicProfile | None, language: str | None,
               **extra: str) -> str:
    """The translated template filled in; the English one when there is none or it does not fill."""
    if translated:
        try:
            return _fill(translated, profile, language, **extra)
        except (KeyError, IndexError, ValueError):
            logger.exception("translated advice line (%s) does not fill; sending the English one", language)
    return _fill(english, profile, None, **extra)


def _level(level: str | None) -> str:
    return level if level in LEVELS else "same_day"  # an unknown level is treated as urgent, never ignored


def _reason(flags: Iterable[str]) -> tuple[str, str]:
    """(flag id, English reason line) of the most relevant flag (flags come most severe first)."""
    flag_file = load_flag_file()
    for flag_id in flags:
        try:
            return flag_id, flag_file.flag(flag_id).reason
        except KeyError:
            reason = (_advice().get("reasons") or {}).get(flag_id)
            if reason:
                return flag_id, reason
    return CLASSIFIER_FLAG, (_advice().get("reasons") or {}).get("classifier", "")


def reason_text(flags: Iterable[str], language: str | None = None) -> str:
    """The reason line of the most relevant flag, in `language` when domain/lang_*.yml translates it."""
    flag_id, english = _reason(flags)
    if not english or not is_foreign(language):
        return english
    return _localised(english, domain_text(f"{RESPONSE_PREFIX}reason_{flag_id}", language), None, language)


def level_advice(level: str | None, profile: ClinicProfile | None = None, language: str | None = None) -> str:
    """What to do now, for the level (without the reason line); translated as Rasa sends it (domain/lang_*.yml)."""
    translated = domain_text(response_name(level), language) if language else None
    return _localised(_advice()["levels"][_level(level)], translated, profile, language)


def advice_text(level: str | None, flags: Iterable[str] = (), profile: ClinicProfile | None = None,
                language: str | None = None) -> str:
    """The immediate advice: the reason (no diagnosis), what to do now, and any flag-specific line."""
    flags = list(flags)
    parts = [reason_text(flags, language), level_advice(level, profile, language)]
    extras = _advice().get("flags") or {}
    parts += [_localised(extras[f], domain_text(f"{RESPONSE_PREFIX}extra_{f}", language), profile, language)
              for f in flags if f in extras]
    return "\n".join(p for p in parts if p)


def reminder_text(level: str, language: str | None = None) -> str:
    """One short line to put before later answers while an escalation is open."""
    translated = (translation(language).get("reminders") or {}).get(_level(level))
    return _localised(_advice()["reminders"][_level(level)], translated, None, language)


def line(key: str, profile: ClinicProfile | None = None, language: str | None = None, **extra: str) -> str:
    """Another line of advice.yml (offer_contact, declined, contact_saved, ...), filled in, in `language` when
    advice_<language>.yml (or, for the `in_domain:` lines, domain/lang_<suffix>.yml) has it."""
    template = _advice().get(key)
    if not template or not isinstance(template, str):
        raise KeyError(f"{ADVICE_FILE}: no line {key!r}")
    translated = translation(language).get(key)
    in_domain = (_advice().get("in_domain") or {}).get(key)
    if not translated and in_domain and language:
        translated = domain_text(in_domain, language)
    return _localised(template, translated if isinstance(translated, str) else None, profile, language, **extra)


# --- the advice Rasa sends itself (domain/red_flag_advice.yml, generated by `python -m bot build`) ---------------
RESPONSE_PREFIX = "utter_red_flag_"
GENERATED_DOMAIN_FILE = Path(__file__).resolve().parents[2] / "domain" / "red_flag_advice.yml"
_HEADER = """\
# GENERATED by `python -m bot build` (bot/triage/advice.py, red_flag_domain) - do not edit by hand.
# From bot/triage/advice.yml (wording), bot/triage/red_flags.yml (flags, levels, reasons) and clinic.yml
# (numbers). Edit those and run `python -m bot build`: the file is rewritten and the model retrained.
#
# Rasa sends this advice itself, so it arrives even when the action server is down, hung or failing:
# the red-flag detector puts the entities triage_level and triage_flag on the message, the slots of
# domain/red_flags.yml take them, the rules of data/rules/red_flags.yml pick the response of the level and
# the response's variation matches the most severe flag. The metadata (level, flags) lets the widget show
# the red alert and Telegram/WhatsApp put a warning sign in front (bot/channels/messages.py).
"""


def response_name(level: str | None) -> str:
    """The domain response Rasa sends for a level: utter_red_flag_emergency, _same_day or _soon."""
    return RESPONSE_PREFIX + _level(level)


def primary_advice_text(level: str | None, flag: str | None, profile: ClinicProfile | None = None,
                        language: str | None = None) -> str:
    """The advice Rasa itself sends for a message: its level and its most severe flag only."""
    return advice_text(level, [flag] if flag else [], profile, language)


def complement_text(sent_level: str | None, sent_flag: str | None, level: str, flags: Iterable[str],
                    profile: ClinicProfile | None = None, language: str | None = None) -> str | None:
    """What the action server adds to the advice Rasa already sent: the full advice when the conversation's
    history made it more severe, else the flag-specific lines of the other flags; None when nothing is missing."""
    full = advice_text(level, flags, profile, language)
    if _level(sent_level) != _level(level):
        return full
    sent = set(primary_advice_text(sent_level, sent_flag, profile, language).splitlines())
    missing = [line_ for line_ in full.splitlines() if line_ not in sent]
    return "\n".join(missing) or None


def red_flag_domain(profile: ClinicProfile | None = None) -> dict:
    """The responses of domain/red_flag_advice.yml: per level, one variation per flag of that level (and the
    classifier's), each with its triage metadata, a default for an unknown flag, and the apologies."""
    profile = profile or clinic_profile()
    flag_file = load_flag_file()
    responses: dict[str, list[dict]] = {}
    for level in LEVELS:
        flag_ids = [flag.id for flag in flag_file.flags if flag.level == level] + [CLASSIFIER_FLAG]
        variations = [{
            "condition": [{"type": "slot", "name": "triage_flag", "value": flag_id}],
            "text": primary_advice_text(level, flag_id, profile),
            "metadata": {"triage": {"level": level, "flags": [flag_id], "source": "rasa"}},
        } for flag_id in flag_ids]
        variations.append({"text": primary_advice_text(level, None, profile),
                           "metadata": {"triage": {"level": level, "flags": [], "source": "rasa"}}})
        responses[response_name(level)] = variations
    responses["utter_action_unavailable"] = [{"text": line("action_unavailable", profile)}]
    responses["utter_action_escalate_unavailable"] = [{"text": line("escalation_unavailable", profile)}]
    responses["utter_action_escalate_recorded"] = [{"text": line("escalation_recorded", profile)}]
    return {"version": "3.1", "responses": responses}


def render_domain_file(profile: ClinicProfile | None = None) -> str:
    """The text of domain/red_flag_advice.yml."""
    body = yaml.dump(red_flag_domain(profile), Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=1000)
    return _HEADER + body


class _BlockDumper(yaml.SafeDumper):
    """Multi-line texts as YAML literal blocks, so the generated file reads like the advice itself."""


_BlockDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def write_domain_file(path: Path = GENERATED_DOMAIN_FILE) -> bool:
    """Rewrite the generated domain file if its inputs changed. Returns True if it wrote."""
    wanted = render_domain_file()
    if path.is_file() and path.read_text(encoding="utf-8") == wanted:
        return False
    path.write_text(wanted, encoding="utf-8")
    return True
