"""Replies that end the contact form ("stop", "取消", "唔要喇", "cancelar"): the English words of
bot/triage/lexicon/en.yml (`cancel_words`) and one data file per other language, bot/triage/cancel_words/<lang>.yml.

Only whole replies and clear phrases count, never a word inside a longer reply, so a name ("Paradis", "Stopford")
or a phone number is never read as a refusal. A reply with an @ or three digits in a row (contact details) never
cancels. Each file has four lists (see the files):
- `whole`: the whole reply is one of these (case, accents, punctuation and spacing ignored);
- `whole_in_language`: the same, but only when the conversation is in that language (the `language` slot), for
  words that also mean something else or are names elsewhere (Spanish "para" is "stop!" and "for");
- `around`: words or particles that may come before or after a whole reply of this language or of English
  ("no, gracias", "No, muchas gracias", "唔要喇，多謝", "stop 啦");
- `starts`: clear refusals that may go on ("no quiero dar mis datos", "不想提供資料")."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.translation_files import read_translation
from bot.triage.english_words import english_words
from bot.triage.multilingual_lexicon import HAN, normalise

CANCEL_DIR = Path(__file__).with_name("cancel_words")
LISTS = ("whole", "whole_in_language", "around", "starts")
CONTACT_DETAILS = re.compile(r"@|\d{3}")
MAX_STRIPS = 4  # at most this many `around` words are taken off a reply


@dataclass(frozen=True)
class CancelWords:
    language: str
    whole: frozenset[str]
    whole_in_language: frozenset[str]
    around: tuple[str, ...]
    starts: tuple[str, ...]


def clean(text: str | None) -> str:
    """Lower case, no accents, punctuation as spaces, single spaces, none between two Han characters."""
    text = normalise((text or "").replace("\u2019", "'"), "latin")
    text = re.sub(r"\s+", " ", re.sub(r"[^\w' ]+", " ", text)).strip()
    return re.sub(rf"(?<={HAN.pattern}) (?={HAN.pattern})", "", text)


def load_cancel_words(path: Path) -> CancelWords | None:
    """One language's file; None when it is missing or not marked for review (logged). A list that is not a list
    of texts is an error naming the file and the key."""
    data = read_translation(path)
    if not data:
        return None
    unknown = sorted(set(data) - set(LISTS) - {"translation"})
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}; the lists are {', '.join(LISTS)}")
    lists: dict[str, list[str]] = {}
    for key in LISTS:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and clean(v) for v in value):
            raise ValueError(f"{path}: {key} must be a list of words or phrases (text, not empty)")
        lists[key] = [clean(v) for v in value]
    around = tuple(sorted(set(lists["around"]), key=len, reverse=True))  # longest first: "muchas gracias"
    return CancelWords(path.stem, frozenset(lists["whole"]), frozenset(lists["whole_in_language"]), around,
                       tuple(lists["starts"]))


@lru_cache(maxsize=1)
def cancel_words() -> tuple[CancelWords, ...]:
    """Every language's cancel words of this checkout, loaded once per process."""
    loaded = (load_cancel_words(path) for path in sorted(CANCEL_DIR.glob("*.yml")))
    return tuple(words for words in loaded if words is not None)


def _apart(left: str, right: str) -> bool:
    """`left` + `right` are two pieces: a space between them, or a Han character on either side (Chinese has no
    spaces: "唔要" + "喇"); never the middle of a Latin word ("no" is not in "nogales")."""
    return left.endswith(" ") or right.startswith(" ") or bool(HAN.match(left[-1:]) or HAN.match(right[:1]))


def _without_around(text: str, around: tuple[str, ...]) -> set[str]:
    """The reply and what is left of it after taking `around` words off either end, a few times."""
    forms, frontier = {text}, {text}
    for _ in range(MAX_STRIPS):
        found: set[str] = set()
        for form in frontier:
            for word in around:
                if form.startswith(word) and _apart(word, form[len(word):]):
                    found.add(form[len(word):].strip())
                if form.endswith(word) and _apart(form[:-len(word)], word):
                    found.add(form[:-len(word)].strip())
        frontier = {form for form in found if form} - forms
        forms |= frontier
    return forms


def _starts_with(text: str, start: str) -> bool:
    return text == start or (text.startswith(start) and _apart(start, text[len(start):]))


def is_cancel(text: str | None, language: str | None = None) -> bool:
    """The person wants out of the contact form: the whole reply (or a clear refusal) in English or in any of the
    languages of bot/triage/cancel_words/, and its `whole_in_language` words when `language` is theirs."""
    if not text or CONTACT_DETAILS.search(text):
        return False
    cleaned = clean(text)
    if not cleaned:
        return False
    english = english_words().cancel_words
    if cleaned in english:
        return True
    for words in cancel_words():
        whole = english | words.whole | (words.whole_in_language if words.language == language else frozenset())
        if any(form in whole for form in _without_around(cleaned, words.around)):
            return True
        if any(_starts_with(cleaned, start) for start in words.starts):
            return True
    return False
