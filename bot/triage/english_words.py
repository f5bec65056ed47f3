"""The English word lists of the red-flag detector (bot/triage/lexicon/en.yml), loaded into one typed object.

Every list the context tests and the qualifiers read is a field here: the loader refuses a file that lacks one,
has one it does not know, or gives a list where a map is expected, and names the file and the key to fix."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

WORDS_FILE = Path(__file__).parent / "lexicon" / "en.yml"

Words = frozenset[str]
Phrases = tuple[tuple[str, ...], ...]
Numbers = dict[str, float]


@dataclass(frozen=True)
class EnglishWords:
    # context: clauses, questions, person (bot/triage/context.py)
    clause_words: Words
    clause_punct: Words
    fillers: Words
    wh_starts: Words
    aux_starts: Words
    subject_after_aux: Words
    not_a_subject: Words
    first_person: Words
    person_nouns: Words
    third_person: Words
    other_owners: Words
    now_words: Words
    now_phrases: Phrases
    other_subjects: Words
    modals: Words
    past_forms: Words
    know_verbs: Words
    embed_words: Words
    reporting_verbs: Words
    anaphora: Phrases
    history_words: Words
    history_phrases: Phrases
    before_endings: Words
    rupture_words: Words
    topic_nouns: Words
    generic_before: Words
    report_verbs: Words
    ongoing_after_subject: Words
    possibility_modals: Words
    base_rupture_verbs: Words
    reported_speech_markers: Words
    happened_followers: Words
    state_verbs: Words
    before_not_history: Words
    # qualifiers (bot/triage/qualifiers.py)
    symptoms: Words
    activity_verbs: Words
    onset_verbs: Words
    not_duration_before: Words
    frequency_before: Words
    noun_before: Words
    mild: Words
    after_exercise: Words
    thickening: Words
    swelling_words: Words
    negation_cues: Words
    pseudo_negation_next: Words
    negation_boundaries: Words
    resolution_phrases: Phrases
    uncertain_before_if: Words
    hypothetical_cues: Words
    past_report_forms: Words
    number_words: Numbers
    unit_days: Numbers
    comparatives: Words
    number_fillers: Words
    it_words: Words
    have_forms: Words
    took_verbs: Words
    ongoing_after: Words
    pain_nouns: Words
    plan_nouns: Words
    calendar_units: Words
    after_words: Words
    # the contact form's "stop" replies (bot/triage/escalate.py)
    cancel_words: Words
    # evidence of a non-report, and the pattern language (bot/triage/detect.py, bot/triage/patterns.py)
    trap_evidence_groups: Words
    trap_evidence_words: Words
    wildcard_stops: Words


_PHRASES, _NUMBERS = "Phrases", "Numbers"


def _convert(path: Path, key: str, kind: str, value: object):
    where = f"{path}: {key}"
    if kind == _NUMBERS:
        if not isinstance(value, dict) or not all(isinstance(v, (int, float)) for v in value.values()):
            raise ValueError(f"{where}: give a map of word: number")
        return {str(k).lower(): v for k, v in value.items()}
    if not isinstance(value, list):
        raise ValueError(f"{where}: give a list")
    if kind == _PHRASES:
        if not all(isinstance(p, list) and p for p in value):
            raise ValueError(f"{where}: give each phrase as a list of tokens")
        return tuple(tuple(str(w) for w in phrase) for phrase in value)
    if any(isinstance(w, (list, dict)) for w in value):
        raise ValueError(f"{where}: give single tokens")
    return frozenset(str(w) for w in value)


def load_english_words(path: Path = WORDS_FILE) -> EnglishWords:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    fields = {f.name: str(f.type) for f in dataclasses.fields(EnglishWords)}
    missing = sorted(set(fields) - set(data))
    unknown = sorted(set(data) - set(fields))
    if missing:
        raise ValueError(f"{path}: add the word list(s) {', '.join(missing)}")
    if unknown:
        raise ValueError(f"{path}: unknown word list(s) {', '.join(unknown)} (add them to EnglishWords to use them)")
    return EnglishWords(**{key: _convert(path, key, kind, data[key]) for key, kind in fields.items()})


@lru_cache(maxsize=1)
def english_words() -> EnglishWords:
    """The word lists of this checkout, loaded once per process."""
    return load_english_words()
