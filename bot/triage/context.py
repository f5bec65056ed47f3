"""Is a red-flag mention the user's own current symptom? Clauses, person, questions, history, durations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# The word lists live in a data file, each with a comment on what it is for.
WORDS_FILE = Path(__file__).with_name("context_words.yml")


def _load_words(path: Path = WORDS_FILE) -> dict[str, frozenset[str] | list[tuple[str, ...]]]:
    """The word lists (sets of tokens; phrases as token tuples), checked for the keys this module reads."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = sorted(_KEYS - set(data))
    if missing:
        raise ValueError(f"{path}: add the word list(s) {', '.join(missing)}")
    return {
        key: [tuple(str(w) for w in phrase) for phrase in value]
        if key in _PHRASE_KEYS
        else frozenset(str(w) for w in value)
        for key, value in data.items()
    }


_PHRASE_KEYS = {"now_phrases", "anaphora", "history_phrases"}
_KEYS = {
    "clause_words",
    "clause_punct",
    "fillers",
    "wh_starts",
    "aux_starts",
    "subject_after_aux",
    "not_a_subject",
    "first_person",
    "person_nouns",
    "third_person",
    "other_owners",
    "now_words",
    "now_phrases",
    "other_subjects",
    "modals",
    "past_forms",
    "know_verbs",
    "embed_words",
    "reporting_verbs",
    "anaphora",
    "history_words",
    "history_phrases",
    "before_endings",
    "rupture_words",
    "topic_nouns",
    "generic_before",
    "report_verbs",
    "symptoms",
    "activity_verbs",
    "onset_verbs",
    "not_duration_before",
    "frequency_before",
    "mild",
    "after_exercise",
    "thickening",
    "swelling_words",
}
W = _load_words()
CLAUSE_WORDS, CLAUSE_PUNCT, FILLERS = W["clause_words"], W["clause_punct"], W["fillers"]
WH_STARTS, AUX_STARTS, SUBJECT_AFTER_AUX = W["wh_starts"], W["aux_starts"], W["subject_after_aux"]
NOT_A_SUBJECT = W["not_a_subject"]
FIRST_PERSON, PERSON_NOUNS = W["first_person"], W["person_nouns"]
THIRD_PERSON = W["third_person"] | PERSON_NOUNS
OTHER_OWNERS, NOW_WORDS, NOW_PHRASES = W["other_owners"], W["now_words"], W["now_phrases"]
OTHER_SUBJECTS, MODALS, PAST_FORMS = W["other_subjects"], W["modals"], W["past_forms"]
KNOW_VERBS, EMBED_WORDS, REPORTING_VERBS = W["know_verbs"], W["embed_words"], W["reporting_verbs"]
ANAPHORA, HISTORY_WORDS, HISTORY_PHRASES = W["anaphora"], W["history_words"], W["history_phrases"]
BEFORE_ENDINGS, RUPTURE_WORDS, TOPIC_NOUNS = W["before_endings"], W["rupture_words"], W["topic_nouns"]
GENERIC_BEFORE, REPORT_VERBS = W["generic_before"], W["report_verbs"]
SYMPTOMS, ACTIVITY_VERBS, ONSET_VERBS = W["symptoms"], W["activity_verbs"], W["onset_verbs"]
NOT_DURATION_BEFORE, FREQUENCY_BEFORE = W["not_duration_before"], W["frequency_before"]
MILD, AFTER_EXERCISE, THICKENING, SWELLING_WORDS = (
    W["mild"],
    W["after_exercise"],
    W["thickening"],
    W["swelling_words"],
)


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    interrogative: bool
    person: str | None  # "first", "third" or None (said in the clause itself)


class MessageContext:
    """Clauses and sentences of one message (tokens lower-cased), and the tests on a red-flag mention."""

    def __init__(self, words: list[str], lemmas: list[str]) -> None:
        self.words = words
        self.lemmas = lemmas
        self.clauses: list[Clause] = []
        self.clause_of = [0] * len(words)
        self.sentence_start = [0] * len(words)
        self._split()
        self.now = self._now_cue()
        self.owned_question = self._owned_question()

    # ------------------------------------------------------------------ segmentation
    def _split(self) -> None:
        start = 0
        sentence = 0
        for i, word in enumerate(self.words):
            self.sentence_start[i] = sentence
            boundary = word in CLAUSE_PUNCT or word in CLAUSE_WORDS or "?" in word or "!" in word
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
        self.clauses.append(Clause(start, end, _interrogative(words, asks), _person(words)))

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
        for i, word in enumerate(words):
            if word in NOW_WORDS:
                return True
            if any(tuple(words[i : i + len(p)]) == p for p in NOW_PHRASES):
                return True
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if word in MODALS and nxt in OTHER_SUBJECTS:  # "what should he do", "can she walk"
                return True
            if word in OTHER_SUBJECTS and nxt in ONGOING_AFTER_SUBJECT:  # "he can't walk", "she's limping"
                return True
            if word == "just" and (nxt in PAST_FORMS or nxt.endswith("ed")):
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
                        and words[i + 1] in NOW_WORDS | {"on", "during", "at", "this", "in"}
                    )
                )
            ):
                return True
        for clause in self.clauses:
            if clause.person != "first":
                continue
            part = words[clause.start : clause.end]
            if any(tuple(part[k : k + len(p)]) == p for k in range(len(part)) for p in ANAPHORA):
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
            if _person(embedded) != "first":  # "my mate said you can tear it without knowing"
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
        first = next((w for w in self.words[clause.start : clause.end] if w not in FILLERS), "")
        if first not in POSSIBILITY_MODALS:
            return False
        return any(self.words[j] in BASE_RUPTURE_VERBS for j in range(start, end))

    def _topic_of_next_question(self, clause: Clause, start: int, end: int) -> bool:
        """'partial achilles tear, what is it': a verbless rupture noun phrase that the next clause asks about."""
        words = self.words[clause.start : clause.end]
        if _person(words) or not any(w in RUPTURE_WORDS for w in self.words[start:end]):
            return False
        if set(words) & (REPORT_VERBS | {"is", "'s", "was", "has", "have", "been"}):
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
            if words[i] in EMBED_WORDS and i > clause_start:
                before = words[clause_start:i]
                if (
                    words[i] in {"if", "whether"}
                    and (set(before) & KNOW_VERBS)
                    and (set(before) & {"how", "way", "what", "wat"})
                ):
                    return i + 1
                if words[i] == "that" and set(before) & REPORTING_VERBS:
                    return i + 1
        for i in range(start - 1, clause_start - 1, -1):
            if words[i] in {"said", "says", "reckons", "reckoned", "claims", "claimed", "apparently"}:
                return i + 1 if i + 1 <= start else None
        return None

    def _other_owner(self, start: int, end: int) -> bool:
        """The tendon is someone else's: "rupture their achilles", "tear your achilles", "his heel"."""
        window = self.words[max(start - 1, 0) : end]
        return any(w in OTHER_OWNERS for w in window) and not any(w in FIRST_PERSON for w in window)

    def _generic_rupture(self, start: int, end: int, clause_words: list[str]) -> bool:
        words = self.words
        hits = [j for j in range(start, end) if words[j] in RUPTURE_WORDS or self.lemmas[j] in {"rupture"}]
        if not hits:
            return False
        if set(clause_words) & REPORT_VERBS:
            return False
        if any(w in {"ruptures", "tears"} for w in words[start:end]):
            return True
        before = words[max(start - 2, 0) : hits[0]]
        after = words[end : end + 2]
        return bool(
            set(before) & GENERIC_BEFORE
            or set(after) & TOPIC_NOUNS
            or any(w in {"a", "an"} for w in words[start : hits[0]])
        )

    def history(self, start: int, end: int) -> bool:
        words = self.words[start:end]
        if set(words) & HISTORY_WORDS:
            return True
        for i in range(len(words)):
            if any(tuple(words[i : i + len(p)]) == p for p in HISTORY_PHRASES):
                return True
            if words[i] == "before" and not set(words) & {"not", "n't", "nt", "never", "new"}:
                # "had a calf tear before", but not "a dent that wasn't there before"
                nxt = (
                    words[i + 1]
                    if i + 1 < len(words)
                    else (self.words[start + i + 1] if start + i + 1 < len(self.words) else "")
                )
                if nxt in BEFORE_ENDINGS or nxt == "":
                    return True
            if re.fullmatch(r"(19|20)\d\d", words[i]) and i > 0 and words[i - 1] in {"in", "back", "since"}:
                return True
            if re.fullmatch(r"\d{1,2}", words[i]) and (
                words[max(i - 3, 0) : i] == ["when", "i", "was"] or i > 0 and words[i - 1] in {"aged", "age"}
            ):
                return True  # "when i was 20 i snapped my achilles", "aged 19"; not "when i was running"
        return False

    # ------------------------------------------------------------------ soon-level validators
    def sentence_range(self, i: int) -> tuple[int, int]:
        start = self.sentence_start[i]
        end = start
        while end < len(self.words) and self.sentence_start[end] == start:
            end += 1
        return start, end

    def persistent_ok(self, start: int, end: int, days: float | None, unit: int | None) -> bool:
        """persistent_pain: the duration (or "not getting better") is the user's pain lasting until now."""
        words, lemmas = self.words, self.lemmas
        s_start, s_end = self.sentence_range(start)
        if self.history(s_start, s_end):
            return False
        clause = self.clause(start)
        c_start, c_end = clause.start, max(clause.end, self.clause(end - 1).end, end)
        if unit is None:  # "not getting better", "getting worse", "no better"
            return True
        if days is not None and days < 7:
            return False
        before = words[max(start - 3, 0) : unit]
        number_at = unit - 1
        while number_at > start and words[number_at] in {"few", "couple", "of", "odd", "+", "or", "so"}:
            number_at -= 1
        prev = words[number_at - 1] if number_at - 1 >= 0 else ""
        prev2 = words[number_at - 2] if number_at - 2 >= 0 else ""
        after = words[unit + 1] if unit + 1 < len(words) else ""
        after2 = words[unit + 2] if unit + 2 < len(words) else ""
        # a point in time, the future, a frequency or a plan: not a duration of pain
        if (
            set(before) & NOT_DURATION_BEFORE
            or prev in {"in", "within"}
            and prev2 not in {"pain", "sore"}
        ):
            return False
        if words[unit] in {"week", "wk"} and re.fullmatch(r"\d+", after):
            return False  # "week 10 of my plan"
        if prev in {"a", "per", "an"} and (prev2 in FREQUENCY_BEFORE or re.fullmatch(r"\d+", prev2 or "")):
            return False  # "35 miles a week", "twice a week"
        if (
            words[unit] in {"year", "month", "week", "season"}
            and prev == "last"
            and prev2 not in {"the", "this"}
        ):
            return False  # "last year", "last month"
        if after in {"later"} or (after == "plan" or after2 in {"plan", "programme", "program", "block"}):
            return False
        if (
            after == "of"
            and set(words[unit + 2 : unit + 5]) & (ACTIVITY_VERBS | AFTER_EXERCISE)
            and not set(words[unit + 2 : unit + 5]) & SYMPTOMS
            and "still" not in words[s_start:s_end]
        ):
            return False  # "got sore over a few weeks of hills": the duration is the training's
        if after == "ago" or (after in {"or", "and"} and "ago" in words[unit + 1 : unit + 5]):
            # "started hurting three weeks ago" is a duration; "prescribed naproxen three weeks ago" is not
            onset = [j for j in range(c_start, unit) if words[j] in ONSET_VERBS]
            return bool(onset) and any(
                words[j] in SYMPTOMS for j in range(max(onset[0] - 3, c_start), min(onset[0] + 3, unit))
            )
        # the clause; if it names neither a symptom nor an activity, the sentence up to it
        for c_from in (c_start, s_start):
            span = range(c_from, c_end)
            clause_words = [words[j] for j in span]
            symptom_at = [j for j in span if (words[j] in SYMPTOMS or lemmas[j] in SYMPTOMS)
                          and not (j + 1 < len(words) and words[j + 1] in {"free", "-free"})]
            activity_at = [
                j for j in span if j < unit and (words[j] in ACTIVITY_VERBS) and not _noun_use(words, j)
            ]
            if symptom_at or activity_at:
                break
        c_start = span.start
        if {"took", "take", "takes", "lasted", "lasts"} & set(clause_words):
            return False  # "took about two months to settle"
        if activity_at and (
            not symptom_at or max(activity_at) > max((j for j in symptom_at if j < unit), default=-1)
        ):
            return False  # "been running for 10 years"
        it_been = (
            any(words[j] in {"it", "its", "it's", "this", "that"} for j in range(c_start, unit))
            and "been" in clause_words[: unit - c_start]
        )
        ongoing = (
            "been" in clause_words
            or ("had" in clause_words and any(w in {"'ve", "ve", "have", "has", "'s"} for w in clause_words))
            or after in {"now", "plus", "+"}
            or "still" in words[s_start:s_end]
            or any(lemmas[j] == "have" and j + 1 < len(words) and words[j + 1] in SYMPTOMS for j in span)
            or "since" in before
            or prev in {"for", "past", "last", "over"}
            and symptom_at
            or after == "of"
            and bool(set(words[unit + 2 : unit + 5]) & SYMPTOMS)
            or (prev in {"pain", "ache", "soreness", "niggle"} or prev2 in {"pain", "ache"})
        )
        if not ongoing:
            return False
        if symptom_at:
            return True
        # "it's been 5 months": the symptom is named elsewhere in the sentence or message
        return it_been and any(w in SYMPTOMS for w in words)

    def swelling_ok(self, start: int, end: int) -> bool:
        """swelling_or_thickening: not a mild puffiness after a run ("a bit puffy after long runs")."""
        words = self.words
        if any(w in THICKENING for w in words[start:end]):
            return True
        swell = [j for j in range(start, end) if words[j] in SWELLING_WORDS or self.lemmas[j] == "swell"]
        at = swell[0] if swell else start
        mild = any(w in MILD for w in words[max(at - 3, 0) : at])
        s_start, s_end = self.sentence_range(start)
        sentence = words[s_start:s_end]
        after_exercise = any(
            w in {"after", "post", "following"} and set(sentence[k + 1 : k + 4]) & AFTER_EXERCISE
            for k, w in enumerate(sentence)
        )
        return not (mild and after_exercise)


NOUN_BEFORE = {"a", "the", "my", "of", "your", "this", "that", "long", "insertional", "its"}
ONGOING_AFTER_SUBJECT = {"ca", "can", "cannot", "cant", "is", "'s", "are", "'re", "has"}


POSSIBILITY_MODALS = {"could", "would", "will", "might", "can", "may"}
BASE_RUPTURE_VERBS = {"snap", "rupture", "tear", "pop", "rip", "break", "go"}


def _noun_use(words: list[str], j: int) -> bool:
    """'my rest', 'a run', 'the rehab': a noun, not the verb the duration belongs to."""
    if words[j] == "off" and words[j - 2 : j] == ["on", "and"]:  # "on and off for months"
        return True
    return j > 0 and words[j - 1] in NOUN_BEFORE


def _interrogative(words: list[str], asks: bool = False) -> bool:
    """The clause asks: a wh-word first, or an auxiliary and a subject ("is a rupture ...", "can you ...");
    with a final "?" (asks): an auxiliary and anything but a negation or symptom ("can cipro cause ...?")."""
    content = [w for w in words if not w.isspace()]
    k = 0
    while k < len(content) and content[k] in FILLERS:
        k += 1
    if k >= len(content):
        return False
    first = content[k]
    if first in WH_STARTS:
        return True
    nxt = content[k + 1] if k + 1 < len(content) else ""
    if first not in AUX_STARTS:
        return False
    return nxt in SUBJECT_AFTER_AUX or (
        asks and bool(nxt) and nxt not in NOT_A_SUBJECT and not nxt.endswith(("ing", "ed"))
    )


def _person(words: list[str]) -> str | None:
    """'first' if the clause speaks of the user, 'third' if only of others (or generic you), else None."""
    first = third = False
    for k, word in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if word in FIRST_PERSON:
            if word in {"my", "our"} and nxt in PERSON_NOUNS:
                third = True
            elif word in {"my", "our"} and nxt == "age":  # "people my age"
                continue
            else:
                first = True
        elif word in THIRD_PERSON:
            third = True
    if first:
        return "first"
    return "third" if third else None
