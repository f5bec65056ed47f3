"""The triage data a model was trained with, kept inside the model so that a model is self-contained.

At training, the red-flag NLU component (bot/nlp/red_flag_detector.py) writes a snapshot into Rasa's model
storage: the flag file (red_flags.yml), the word lists and per-language lexicons (lexicon/), and the detector's
spaCy pipeline (tokenizer and lemmatizer). When the model loads, the detector is compiled from that snapshot, not
from the checkout, so editing bot/triage/ after training changes nothing until the next `python -m bot build`
(which retrains, since bot/triage is part of the model fingerprint). Everything is read into memory at load."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import spacy

from bot.triage.english_words import load_english_words
from bot.triage.flags import RED_FLAGS_FILE, load_flag_file
from bot.triage.multilingual_lexicon import LEXICON_DIR, LEXICON_LANGUAGES, Lexicon, load_lexicon, read_lexicon

FLAGS_NAME, LEXICON_NAME, SPACY_NAME = "red_flags.yml", "lexicon", "spacy_pipeline"


@dataclass
class TriageData:
    """A compiled red-flag detector and the lexicons of the other languages."""
    engine: object                                   # bot.triage.detect.RedFlagEngine
    lexicons: dict[str, Lexicon] = field(default_factory=dict)
    origin: str = "checkout"                         # "checkout" or "model"


def write_snapshot(directory: Path) -> None:
    """Copy this checkout's triage data (and the detector's spaCy pipeline) into `directory`."""
    from bot.triage.detect import engine

    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(RED_FLAGS_FILE, directory / FLAGS_NAME)
    shutil.copytree(LEXICON_DIR, directory / LEXICON_NAME, dirs_exist_ok=True)
    engine().nlp.to_disk(directory / SPACY_NAME)


def read_snapshot(directory: Path) -> TriageData:
    """Compile the detector from a snapshot. A missing or broken file raises (the caller decides what to do)."""
    from bot.triage.detect import RedFlagEngine

    flags_path = directory / FLAGS_NAME
    lexicon_dir = directory / LEXICON_NAME
    if not flags_path.is_file() or not (directory / SPACY_NAME / "meta.json").is_file():
        raise FileNotFoundError(f"{directory}: no triage snapshot (a model trained before snapshots were stored)")
    flag_file = load_flag_file.__wrapped__(flags_path)   # uncached: the directory is temporary
    words = load_english_words(lexicon_dir / "en.yml")
    nlp = spacy.load(directory / SPACY_NAME)
    engine = RedFlagEngine(flag_file, nlp, words)
    engine.detect("warm up")  # compile the Matcher and fill the caches now, not on the first message
    lexicons = {language: read_lexicon(language, lexicon_dir, flags_path) for language in LEXICON_LANGUAGES}
    return TriageData(engine, lexicons, origin="model")


def checkout_data() -> TriageData:
    """The checkout's detector and lexicons (tests, and a model trained before snapshots were stored)."""
    from bot.triage.detect import engine

    return TriageData(engine(), {language: load_lexicon(language) for language in LEXICON_LANGUAGES})
