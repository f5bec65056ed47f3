"""Is a red-flag mention the user's own current symptom? Clauses and sentences, person, questions, history.

The message is segmented once here; the qualifiers (bot/triage/qualifiers.py) and detect.py share it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.triage.english_words import EnglishWords, Phrases, english_words

_YEAR = re.compile(r"(19|20)\d\d")
_SMALL_NUMBER = re.compile(r"\d{1,2}")
_PHRASE_INDEXES: dict[int, tuple[Phrases, dict]] = {}   # id(phrases) -> (phrases, first word -> its phrases)


def _phrase_index(phrases: Phrases) -> dict:
    """The phrases by their first word (key None: the empty phrase, found everywhere), built once per list."""
    known = _PHRASE_INDEXES.get(id(phrases))
    if known is not None and known[0] is phrases:
        return known[1]
    index: dict = {}
    for phrase in phrases:
        index.setdefault(phrase[0] if phrase else None, []).append(phrase)
    _PHRASE_INDEXES[id(phrases)] = (phrases, index)
    return index


def _phrase_at(words: list[str], i: int, index: dict) -> bool:
    """Does one of the indexed phrases start at words[i] (i < len(words))?"""
    if None in index:
        return True
    return any(tuple(words[i : i + len(p)]) == p for p in index.get(words[i], ()))


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    interrogative: bool
    person: str | None  # "first", "third" or None (said in the clause itself)


class MessageContext:
    """Clauses and sentences of one message (tokens lower-cased), and the tests on a red-flag mention."""

    def __init__(self, words: list[str], lemmas: list[str], lexicon: EnglishWords | None = None) -> None:
        self.lex = lexicon or english_words()   # the word lists (bot/triage/lexicon/en.yml, or a model's copy)
        self.words = words
        self.lemmas = lemmas
        self.clauses: list[Clause] = []
        self.clause_of = [0] * len(words)
        self.sentence_start = [0] * len(words)
        self._history: dict[tuple[int, int], bool] = {}
        self._split()
        self.now = self._now_cue()
        self.owned_question = self._owned_question()

    # ------------------------------------------------------------------ segmentation
    def _split(self) -> None:
        start = 0
        sentence = 0
        for i, word in enumerate(self.words):
            self.sentence_start[i] = sentence
            boundary = word in self.lex.clause_punct or word in self.lex.clause_words or "?" in word or "!" in word
            if boundary or i == len(self.words) - 1:
                end = i if boundary else i + 1
                self._add_clause(start, max(end, start))
                for j in range(start, i + 1):
                    self.clause_of[j] = len(self.clauses) - 1
                start = i + 1
                if word in {".", "!", "?", "\n"} or "?" in word or "!" in word:
                    sentence = i + 1
        if not self.clauses:
            self._add_clause(0, 0)

    def _add_clause(self, start: int, end: int) -> None:
        words = self.words[start:end]
        asks = end < len(self.words) and "?" in self.words[end]
        self.clauses.append(Clause(start, end, _interrogative(self.lex, words, asks), _person(self.lex, words)))

    def clause(self, i: int) -> Clause:
        if not self.clause_of:
            return Clause(0, 0, False, None)
        return self.clauses[self.clause_of[min(i, len(self.clause_of) - 1)]]

    def person(self, i: int) -> str | None:
        """The clause's person, or that of the nearest earlier clause of the sentence that has one."""
        index = self.clause_of[i]
        sentence = self.sentence_start[i]
        while index >= 0 and self.clauses[index].end >= sentence:
            if self.clauses[index].person:
                return self.clauses[index].person
            if self.clauses[index].start < sentence:
                break
            index -= 1
        return None

    def _now_cue(self) -> bool:
        words = self.words
        now_phrases = _phrase_index(self.lex.now_phrases)
        for i, word in enumerate(words):
            if word in self.lex.now_words:
                return True
            if _phrase_at(words, i, now_phrases):
                return True
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if word in self.lex.modals and nxt in self.lex.other_subjects:  # "what should he do", "can she walk"
                return True
            # "he can't walk", "she's limping"
            if word in self.lex.other_subjects and nxt in self.lex.ongoing_after_subject:
                return True
            if word == "just" and (nxt in self.lex.past_forms or nxt.endswith("ed")):
                return True
        return False

    def _owned_question(self) -> bool:
        """The user says the question is about what is happening to them: "... just happened on my run",
        "mine feels like that right now"."""
        words = self.words
        for i, word in enumerate(words):
            if (
                word == "happened"
                and i > 0
                and (
                    words[i - 1] in {"just", "it", "this", "that"}
                    or (
                        i + 1 < len(words)
                        and words[i + 1] in self.lex.now_words | self.lex.happened_followers
                    )
                )
            ):
                return True
        anaphora = _phrase_index(self.lex.anaphora)
        for clause in self.clauses:
            if clause.person != "first":
                continue
            part = words[clause.start : clause.end]
            if any(_phrase_at(part, k, anaphora) for k in range(len(part))):
                return True
        return False

    # ------------------------------------------------------------------ is a mention a report?
    def not_a_report(self, start: int, end: int) -> str | None:
        """Why a mention at tokens [start, end) is not the user's own current symptom, or None if it is."""
        clause = self.clause(start)
        words = self.words[clause.start : max(clause.end, end)]
        if self.history(clause.start, max(clause.end, end)):
            return "history"
        frame = self._frame_end(clause.start, start)
        if frame is not None:
            embedded = self.words[frame : max(clause.end, end)]
            if self.words[frame - 1] in {"if", "whether"}:  # "how do I know if it's torn?"
                return "question"
            if _person(self.lex, embedded) != "first":  # "my mate said you can tear it without knowing"
                return "reported"
        if self._other_owner(start, end) and not self.now:
            return "third_person"
        if clause.interrogative and not self.owned_question and self._possibility(clause, start, end):
            return "question"  # "could my tendon snap if ...", "can your achilles rupture?"
        if clause.person == "first":
            return None
        if clause.interrogative and not self.owned_question:  # "what's the difference between a tear ..."
            return "question"
        person = self.person(start)
        if person == "first":
            return None
        if person == "third" and not self.now:
            return "third_person"
        if self._generic_rupture(start, end, words) or self._topic_of_next_question(clause, start, end):
            return "general"
        return None

    def _possibility(self, clause: Clause, start: int, end: int) -> bool:
        """A question about what could happen: a modal first and the rupture verb in its base form."""
        first = next((w for w in self.words[clause.start : clause.end] if w not in self.lex.fillers), "")
        if first not in self.lex.possibility_modals:
            return False
        return any(self.words[j] in self.lex.base_rupture_verbs for j in range(start, end))

    def _topic_of_next_question(self, clause: Clause, start: int, end: int) -> bool:
        """'partial achilles tear, what is it': a verbless rupture noun phrase that the next clause asks about."""
        words = self.words[clause.start : clause.end]
        if _person(self.lex, words) or not any(w in self.lex.rupture_words for w in self.words[start:end]):
            return False
        if set(words) & (self.lex.report_verbs | self.lex.state_verbs):
            return False
        index = self.clauses.index(clause)
        if index + 1 >= len(self.clauses):
            return False
        following = self.clauses[index + 1]
        return following.interrogative and following.person != "first"

    def _frame_end(self, clause_start: int, start: int) -> int | None:
        """Index just after "if/whether/that" of a how-to-know or reported-speech frame before the mention."""
        words = self.words
        for i in range(start - 1, clause_start - 1, -1):
            if words[i] in self.lex.embed_words and i > clause_start:
                before = words[clause_start:i]
                if (
                    words[i] in {"if", "whether"}
                    and (set(before) & self.lex.know_verbs)
                    and (set(before) & {"how", "way", "what", "wat"})
                ):
                    return i + 1
                if words[i] == "that" and set(before) & self.lex.reporting_verbs:
                    return i + 1
        for i in range(start - 1, clause_start - 1, -1):
            if words[i] in self.lex.reported_speech_markers:
                return i + 1 if i + 1 <= start else None
        return None

    def _other_owner(self, start: int, end: int) -> bool:
        """The tendon is someone else's: "rupture their achilles", "tear your achilles", "his heel"."""
        window = self.words[max(start - 1, 0) : end]
        return any(w in self.lex.other_owners for w in window) and not any(w in self.lex.first_person for w in window)

    def _generic_rupture(self, start: int, end: int, clause_words: list[str]) -> bool:
        words = self.words
        hits = [j for j in range(start, end) if words[j] in self.lex.rupture_words or self.lemmas[j] in {"rupture"}]
        if not hits:
            return False
        if set(clause_words) & self.lex.report_verbs:
            return False
        if any(w in {"ruptures", "tears"} for w in words[start:end]):
            return True
        before = words[max(start - 2, 0) : hits[0]]
        after = words[end : end + 2]
        return bool(
            set(before) & self.lex.generic_before
            or set(after) & self.lex.topic_nouns
            or any(w in {"a", "an"} for w in words[start : hits[0]])
        )

    def history(self, start: int, end: int) -> bool:
        """The words [start, end) speak of the past ("last year", "had a calf tear before", "in 2019")."""
        known = self._history.get((start, end))
        if known is None:
            known = self._history[(start, end)] = self._past(start, end)
        return known

    def _past(self, start: int, end: int) -> bool:
        words = self.words[start:end]
        present = set(words)
        if present & self.lex.history_words:
            return True
        phrases = _phrase_index(self.lex.history_phrases)
        before_counts = not present & self.lex.before_not_history
        for i in range(len(words)):
            if _phrase_at(words, i, phrases):
                return True
            if words[i] == "before" and before_counts:
                # "had a calf tear before", but not "a dent that wasn't there before"
                nxt = (
                    words[i + 1]
                    if i + 1 < len(words)
                    else (self.words[start + i + 1] if start + i + 1 < len(self.words) else "")
                )
                if nxt in self.lex.before_endings or nxt == "":
                    return True
            if _YEAR.fullmatch(words[i]) and i > 0 and words[i - 1] in {"in", "back", "since"}:
                return True
            if _SMALL_NUMBER.fullmatch(words[i]) and (
                words[max(i - 3, 0) : i] == ["when", "i", "was"] or i > 0 and words[i - 1] in {"aged", "age"}
            ):
                return True  # "when i was 20 i snapped my achilles", "aged 19"; not "when i was running"
        return False

    # ------------------------------------------------------------------ sentences
    def sentence_range(self, i: int) -> tuple[int, int]:
        start = self.sentence_start[i]
        end = start
        while end < len(self.words) and self.sentence_start[end] == start:
            end += 1
        return start, end


def _interrogative(lex: EnglishWords, words: list[str], asks: bool = False) -> bool:
    """The clause asks: a wh-word first, or an auxiliary and a subject ("is a rupture ...", "can you ...");
    with a final "?" (asks): an auxiliary and anything but a negation or symptom ("can cipro cause ...?")."""
    content = [w for w in words if not w.isspace()]
    k = 0
    while k < len(content) and content[k] in lex.fillers:
        k += 1
    if k >= len(content):
        return False
    first = content[k]
    if first in lex.wh_starts:
        return True
    nxt = content[k + 1] if k + 1 < len(content) else ""
    if first not in lex.aux_starts:
        return False
    return nxt in lex.subject_after_aux or (
        asks and bool(nxt) and nxt not in lex.not_a_subject and not nxt.endswith(("ing", "ed"))
    )


def _person(lex: EnglishWords, words: list[str]) -> str | None:
    """'first' if the clause speaks of the user, 'third' if only of others (or generic you), else None."""
    first = third = False
    for k, word in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if word in lex.first_person:
            if word in {"my", "our"} and nxt in lex.person_nouns:
                third = True
            elif word in {"my", "our"} and nxt == "age":  # "people my age"
                continue
            else:
                first = True
        elif word in lex.third_person or word in lex.person_nouns:
            third = True
    if first:
        return "first"
    return "third" if third else None
