"""The long tail: BM25 over the clinic's passages, with a calibrated threshold for "not in the notes"."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi

from knowledge.grounding import normalise

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
STOPWORDS_FILE = PACKAGE_DIR / "stopwords.txt"
THRESHOLD_FILE = PACKAGE_DIR / "retrieval_threshold.yml"
DEFAULT_THRESHOLD = (
    1.0  # used only if retrieval_threshold.yml is missing; run `python -m knowledge.calibrate`
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Spelling variants runners type that the documents spell one way.
_SPELLINGS = {
    "tendonitis": "tendinitis",
    "tendonosis": "tendinosis",
    "tendonopathy": "tendinopathy",
    "achille": "achilles",
    "physiotherapy": "physio",
    "physiotherapist": "physio",
    "insole": "insert",
    "orthotics": "orthotic",
    "shoe": "shoe",
    "sneaker": "shoe",
    "trainers": "shoe",
    "mri": "imaging",
    "scan": "imaging",
    "xray": "imaging",
}


@dataclass(frozen=True)
class IndexedPassage:
    """What retrieval needs of a stored passage."""

    id: str
    source_id: str
    heading: str
    text: str


@dataclass(frozen=True)
class Hit:
    passage: IndexedPassage
    score: float  # normalised: see PassageIndex.search


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    words: set[str] = set()
    for line in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


@lru_cache(maxsize=1)
def _lemma_table():  # -> spacy.lookups.Table | None
    """The lemma lookup table of the project's own spaCy pipeline (build/spacy_pipeline: spaCy's English lookup
    table with the domain's corrections, bot/nlp/lemma_overrides.json), or None when it is not built yet."""
    from bot.paths import SPACY_PIPELINE_DIR

    if not (SPACY_PIPELINE_DIR / "meta.json").is_file():
        log.warning("spaCy pipeline %s missing (python -m bot spacy): retrieval folds words with its fallback "
                    "suffix stripper", SPACY_PIPELINE_DIR)
        return None
    import spacy

    nlp = spacy.load(SPACY_PIPELINE_DIR)
    return nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


def stem(word: str) -> str:
    """The word's lemma from the project's spaCy pipeline (ruptured/rupture -> rupture, calves -> calf,
    icing -> ice, running -> run); the suffix stripper below only for words the table lacks (or no pipeline)."""
    table = _lemma_table()
    lemma = table.get(word) if table is not None else None
    if lemma:
        return lemma
    return _strip_suffix(word)


def _strip_suffix(word: str) -> str:
    """A small suffix stripper: running/runs -> run, stretches/stretching -> stretch, injuries -> injury."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in (
        ("ies", "y"),
        ("ied", "y"),
        ("ness", ""),
        ("ings", ""),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stemmed = word[: -len(suffix)] + replacement
            if (
                suffix in ("ing", "ings", "ed")
                and len(stemmed) >= 4
                and stemmed[-1] == stemmed[-2]
                and stemmed[-1] not in "lsz"
            ):
                stemmed = stemmed[:-1]  # running -> runn -> run
            return stemmed
    if re.search(r"(ss|sh|ch|x|z)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lowercased content words, stop words removed, lightly stemmed."""
    words = _WORD.findall(normalise(text).lower())
    stop = stopwords()
    tokens = []
    for word in words:
        word = word.split("'")[0] if word.endswith(("'s", "'t", "'re", "'ve", "'ll", "'d", "'m")) else word
        if word in stop or len(word) < 2:
            continue
        word = _SPELLINGS.get(word, word)
        token = stem(word)
        tokens.append(_SPELLINGS.get(token, token))
    return tokens


class PassageIndex:
    """BM25Okapi over passages (heading + text) with a score normalised so one threshold fits all questions.

    Raw BM25 grows with the length of the question, so it is divided by the number of content words in the
    question, then multiplied by the share of those words the passage contains. A question whose words
    are mostly unknown to the clinic's documents ("my knee hurts when cycling": only "knee" matches)
    scores low even if one word matches strongly.
    """

    def __init__(self, passages: Sequence[IndexedPassage]) -> None:
        if not passages:
            raise ValueError("no passages to index: build the knowledge base first (`make kb`)")
        self.passages = list(passages)
        self.tokens = [tokenize(f"{p.heading} {p.text}") for p in self.passages]
        self.bm25 = BM25Okapi(self.tokens)
        self.vocabulary = [set(tokens) for tokens in self.tokens]

    def search(self, question: str, k: int = 2) -> list[Hit]:
        """The k best passages for question, best first, with normalised scores (0 = nothing matched)."""
        terms = tokenize(question)
        if not terms:
            return []
        raw = self.bm25.get_scores(terms)
        scores = []
        for index, value in enumerate(raw):
            coverage = sum(term in self.vocabulary[index] for term in terms) / len(terms)
            scores.append(float(value) / len(terms) * coverage)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], self.passages[i].id))[:k]
        return [Hit(self.passages[i], scores[i]) for i in ranked if scores[i] > 0]


def load_threshold(path: Path = THRESHOLD_FILE) -> float:
    """The calibrated threshold written by `python -m knowledge.calibrate`."""
    if not path.is_file():
        log.warning("%s is missing: using %.2f; run `python -m knowledge.calibrate`", path, DEFAULT_THRESHOLD)
        return DEFAULT_THRESHOLD
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    value = data.get("threshold")
    if not isinstance(value, (int, float)):
        raise ValueError(f"{path}: `threshold:` must be a number; rerun `python -m knowledge.calibrate`")
    return float(value)
