"""Qualifiers: small named tests that decide what a red-flag mention means once the patterns have found it.

- `negated`: "no pop", "didn't hear a snap", "the swelling has gone down" (flags with post_resolution);
- `hypothetical`: "if I ever felt a pop", "in case it snaps";
- the validators a flag chooses by name in red_flags.yml (`validator: persistent`): the registry VALIDATORS.
  `persistent` — a duration is the user's pain lasting until now ("sore for three weeks", not "ran for three
  weeks", "35 miles a week", "last year"); `swelling` — not a mild puffiness after a run.
Whether a mention is the user's own current symptom (questions, someone else, history) is bot/triage/context.py.
Word lists: bot/triage/lexicon/en.yml."""
from __future__ import annotations

import re
from collections.abc import Callable

from bot.triage.context import MessageContext
from bot.triage.english_words import EnglishWords

Validator = Callable[[MessageContext, int, int], bool]
VALIDATORS: dict[str, Validator] = {}


def validator(name: str) -> Callable[[Validator], Validator]:
    """Register a validator under the name red_flags.yml uses for it."""
    def register(function: Validator) -> Validator:
        VALIDATORS[name] = function
        return function
    return register


# ---------------------------------------------------------------------------------------------------- negation
def is_negation_cue(ctx: MessageContext, i: int) -> bool:
    lex = ctx.lex
    words = ctx.words
    if ctx.lemmas[i] not in lex.negation_cues and words[i] not in lex.negation_cues:
        return False
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if nxt in lex.pseudo_negation_next or nxt in {",", "!", "."}:
        return False
    return not (words[i] == "no" and nxt == "way")


NEGATION_WINDOW = 5  # tokens a negation cue may stand before the mention


def negated(ctx: MessageContext, start: int, end: int, wild: list[int], post_resolution: bool) -> bool:
    """A cue shortly before the mention within its clause, a cue inside its wildcards, or (post_resolution)
    a resolution just after it."""
    lex = ctx.lex
    words = ctx.words
    i, steps = start - 1, 0
    while i >= 0 and steps < NEGATION_WINDOW:
        if words[i] in lex.negation_boundaries or ctx.lemmas[i] == "but":
            break
        if is_negation_cue(ctx, i):
            return True
        i, steps = i - 1, steps + 1
    if any(is_negation_cue(ctx, j) for j in wild):
        return True
    if post_resolution:
        tail = words[end:end + 5]
        for n in range(len(tail)):
            if tail[n] in lex.negation_boundaries - {"now"}:
                break
            if any(tuple(tail[n:n + len(phrase)]) == phrase for phrase in lex.resolution_phrases):
                return True
    return False


# ---------------------------------------------------------------------------------------------- hypotheticals
def hypothetical(ctx: MessageContext, start: int, content: list[int]) -> bool:
    """'if I ever felt a pop', 'in case it snaps' — unless the mention is in the past tense ("if anything, I
    heard a pop") or the 'if' follows uncertainty ("not sure if it popped")."""
    lex = ctx.lex
    words, lemmas = ctx.words, ctx.lemmas
    sentence_start = ctx.sentence_start[start] if words else 0
    past = any(words[j] in lex.past_report_forms or (words[j].endswith("ed") and words[j] != lemmas[j])
               for j in content)
    i = start - 1
    while i >= max(sentence_start, start - 12):
        word = words[i]
        if word in lex.hypothetical_cues:
            if word == "if" and i > 0 and words[i - 1] in lex.uncertain_before_if:
                return False
            if word == "ever" and "if" not in words[sentence_start:start]:
                return False
            return not past
        if word == "case" and i > 0 and words[i - 1] == "in":
            return True
        i -= 1
    return False


# ------------------------------------------------------------------------------------------------- validators
def duration_days(ctx: MessageContext, start: int, end: int) -> tuple[float | None, int | None]:
    """The longest duration the mention names, in days, and the token of its unit ("three weeks" -> 21)."""
    lex = ctx.lex
    words = ctx.words[start:end]
    days, unit = None, None
    for k, word in enumerate(words):
        lemma = ctx.lemmas[start + k]
        if word in lex.unit_days or lemma in lex.unit_days:
            size = lex.unit_days.get(word, lex.unit_days.get(lemma, 7))
            number = 2 if word.endswith("s") else 1
            if k > 0:
                prev = words[k - 1]
                if prev in lex.number_words:
                    number = lex.number_words[prev]
                else:
                    digits = re.findall(r"\d+(?:\.\d+)?", prev)
                    if digits:
                        number = max(float(d) for d in digits)
            days, unit = number * size, start + k
        elif word == "ages":
            days, unit = 60, start + k
    return days, unit


def _still_lasting(lex: EnglishWords, words: list[str], c_start: int, unit: int, s_end: int) -> bool:
    """'has lasted ...', 'it's lasted ... already': the pain is still going on, not a past episode."""
    took = [j for j in range(c_start, unit) if words[j] in lex.took_verbs]
    if not took:
        return False
    after = words[unit + 1:s_end]
    return words[took[0] - 1] in lex.have_forms or any(w in lex.ongoing_after for w in after[:3])


@validator("persistent")
def pain_lasting(ctx: MessageContext, start: int, end: int) -> bool:
    """persistent_pain: at least two weeks (one with "over", "more than"), and the user's pain lasting until now."""
    lex = ctx.lex
    days, unit = duration_days(ctx, start, end)
    if days is not None:
        comparative = bool(lex.comparatives.intersection(ctx.words[start:end]))
        if days < 7 or (days < 14 and not comparative):
            return False
    return _lasting_until_now(ctx, start, end, days, unit)


def _lasting_until_now(ctx: MessageContext, start: int, end: int, days: float | None, unit: int | None) -> bool:
    lex = ctx.lex
    words, lemmas = ctx.words, ctx.lemmas
    s_start, s_end = ctx.sentence_range(start)
    if ctx.history(s_start, s_end):
        return False
    clause = ctx.clause(start)
    c_start, c_end = clause.start, max(clause.end, ctx.clause(end - 1).end, end)
    if unit is None:  # "not getting better", "getting worse", "no better"
        return True
    if days is not None and days < 7:
        return False
    before = words[max(start - 3, 0):unit]
    number_at = unit - 1
    while number_at > start and words[number_at] in lex.number_fillers:
        number_at -= 1
    prev = words[number_at - 1] if number_at - 1 >= 0 else ""
    prev2 = words[number_at - 2] if number_at - 2 >= 0 else ""
    after = words[unit + 1] if unit + 1 < len(words) else ""
    after2 = words[unit + 2] if unit + 2 < len(words) else ""
    # a point in time, the future, a frequency or a plan: not a duration of pain
    if set(before) & lex.not_duration_before or prev in {"in", "within"} and prev2 not in {"pain", "sore"}:
        return False
    if words[unit] in {"week", "wk"} and re.fullmatch(r"\d+", after):
        return False  # "week 10 of my plan"
    if prev in {"a", "per", "an"} and (prev2 in lex.frequency_before or re.fullmatch(r"\d+", prev2 or "")):
        return False  # "35 miles a week", "twice a week"
    if words[unit] in lex.calendar_units and prev == "last" and prev2 not in {"the", "this"}:
        return False  # "last year", "last month"
    if after == "later" or (after == "plan" or after2 in lex.plan_nouns):
        return False
    if (after == "of" and set(words[unit + 2:unit + 5]) & (lex.activity_verbs | lex.after_exercise)
            and not set(words[unit + 2:unit + 5]) & lex.symptoms and "still" not in words[s_start:s_end]):
        return False  # "got sore over a few weeks of hills": the duration is the training's
    if after == "ago" or (after in {"or", "and"} and "ago" in words[unit + 1:unit + 5]):
        # "started hurting three weeks ago" is a duration; "prescribed naproxen three weeks ago" is not
        onset = [j for j in range(c_start, unit) if words[j] in lex.onset_verbs]
        return bool(onset) and any(
            words[j] in lex.symptoms for j in range(max(onset[0] - 3, c_start), min(onset[0] + 3, unit)))
    # the clause; if it names neither a symptom nor an activity, the sentence up to it
    for c_from in (c_start, s_start):
        span = range(c_from, c_end)
        clause_words = [words[j] for j in span]
        symptom_at = [j for j in span if (words[j] in lex.symptoms or lemmas[j] in lex.symptoms)
                      and not (j + 1 < len(words) and words[j + 1] in {"free", "-free"})]
        activity_at = [j for j in span if j < unit and words[j] in lex.activity_verbs and not _noun_use(lex, words, j)]
        if symptom_at or activity_at:
            break
    c_start = span.start
    if lex.took_verbs & set(clause_words) and not _still_lasting(lex, words, c_start, unit, s_end):
        return False  # "took about two months to settle" (but "it's lasted 4 weeks already")
    if activity_at and (not symptom_at or max(activity_at) > max((j for j in symptom_at if j < unit), default=-1)):
        return False  # "been running for 10 years"
    it_been = (any(words[j] in lex.it_words for j in range(c_start, unit))
               and "been" in clause_words[:unit - c_start])
    ongoing = (
        "been" in clause_words
        or ("had" in clause_words and any(w in lex.have_forms for w in clause_words))
        or after in lex.ongoing_after or after in {"plus", "+"}
        or "still" in words[s_start:s_end]
        or any(lemmas[j] == "have" and j + 1 < len(words) and words[j + 1] in lex.symptoms for j in span)
        or "since" in before
        or prev in {"for", "past", "last", "over"} and symptom_at
        or after == "of" and bool(set(words[unit + 2:unit + 5]) & lex.symptoms)
        or (prev in lex.pain_nouns or prev2 in {"pain", "ache"})
    )
    if not ongoing:
        return False
    if symptom_at:
        return True
    # "it's been 5 months": the symptom is named elsewhere in the sentence or message
    return it_been and any(w in lex.symptoms for w in words)


def _noun_use(lex: EnglishWords, words: list[str], j: int) -> bool:
    """'my rest', 'a run', 'the rehab': a noun, not the verb the duration belongs to."""
    if words[j] == "off" and words[j - 2:j] == ["on", "and"]:  # "on and off for months"
        return True
    return j > 0 and words[j - 1] in lex.noun_before


@validator("swelling")
def not_mild_swelling(ctx: MessageContext, start: int, end: int) -> bool:
    """swelling_or_thickening: not a mild puffiness after a run ("a bit puffy after long runs")."""
    lex = ctx.lex
    words = ctx.words
    if any(w in lex.thickening for w in words[start:end]):
        return True
    swell = [j for j in range(start, end) if words[j] in lex.swelling_words or ctx.lemmas[j] == "swell"]
    at = swell[0] if swell else start
    mild = any(w in lex.mild for w in words[max(at - 3, 0):at])
    s_start, s_end = ctx.sentence_range(start)
    sentence = words[s_start:s_end]
    after_exercise = any(w in lex.after_words and set(sentence[k + 1:k + 4]) & lex.after_exercise
                         for k, w in enumerate(sentence))
    return not (mild and after_exercise)


def check_validators(names: set[str], where: str) -> None:
    """Every validator the flag file names must be registered here."""
    unknown = sorted(names - set(VALIDATORS))
    if unknown:
        raise ValueError(f"{where}: unknown validator(s) {', '.join(unknown)}; known: {', '.join(sorted(VALIDATORS))}")
