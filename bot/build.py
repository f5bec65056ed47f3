"""Build every artefact the bot needs, each only when its inputs changed: spaCy pipeline, knowledge base, model."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import spacy

from bot.fingerprint import fingerprint, is_current, write_stamp
from bot.locks import file_lock
from bot.paths import (
    BUILD_DIR,
    DATA_DIR,
    ENTITY_PATTERNS_FILE,
    MODELS_DIR,
    PROJECT_ROOT,
    RASA_DATA_DIR,
    RASA_DOMAIN_DIR,
    SPACY_PIPELINE_DIR,
)

MODEL_NAME = "clinic"
MODEL_FILE = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
MODEL_STAMP = MODELS_DIR / f"{MODEL_NAME}.fingerprint"
SPACY_STAMP = BUILD_DIR / "spacy_pipeline.fingerprint"


def build_lock():
    """Serialise builds: two `make` runs at once must not write the same model or pipeline."""
    return file_lock(BUILD_DIR / ".lock")


def spacy_inputs_fingerprint() -> str:
    nlp_code = PROJECT_ROOT / "bot" / "nlp"
    sources = [ENTITY_PATTERNS_FILE, nlp_code / "build_pipeline.py", nlp_code / "lemma_overrides.json",
               nlp_code / "vocabulary.yml", nlp_code / "vocabulary.py"]
    return fingerprint(sources, extra=f"spacy=={spacy.__version__}")


def build_spacy_pipeline(force: bool = False) -> bool:
    """Rebuild build/spacy_pipeline when its patterns or builder changed. Returns True if it rebuilt."""
    from bot.nlp.build_pipeline import build_pipeline, save_pipeline

    wanted = spacy_inputs_fingerprint()
    if not force and is_current(SPACY_STAMP, wanted) and (SPACY_PIPELINE_DIR / "meta.json").is_file():
        print("spaCy pipeline: up to date")
        return False
    save_pipeline(build_pipeline())
    write_stamp(SPACY_STAMP, wanted)
    print(f"spaCy pipeline: built into {SPACY_PIPELINE_DIR.relative_to(PROJECT_ROOT)}")
    return True


def build_knowledge_base(force: bool = False) -> None:
    """Build the knowledge base (knowledge/build.py) when its sources or cards changed."""
    from knowledge.build import build_if_changed

    build_if_changed(force=force)


def model_inputs_fingerprint() -> str:
    """Everything a trained model depends on, including the spaCy pipeline's *content* (Rasa ignores it).
    The domain and rules derived from the cards (build/rasa/) are covered, so a card's new intent retrains."""
    inputs = [
        PROJECT_ROOT / "config.yml",
        RASA_DOMAIN_DIR,
        RASA_DATA_DIR,
        DATA_DIR,
        SPACY_PIPELINE_DIR,
        PROJECT_ROOT / "bot" / "nlp",
        PROJECT_ROOT / "bot" / "triage",
    ]
    return fingerprint(inputs)


def train_model(force: bool = False) -> bool:
    """Train models/clinic.tar.gz when its inputs changed. Returns True if it trained."""
    wanted = model_inputs_fingerprint()
    if not force and MODEL_FILE.is_file() and is_current(MODEL_STAMP, wanted):
        print(f"model: up to date ({MODEL_FILE.relative_to(PROJECT_ROOT)})")
        return False
    print("model: training (the data, config or spaCy pipeline changed); this takes a few minutes")
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", "config.yml", "--domain", str(RASA_DOMAIN_DIR), "--data", str(DATA_DIR), str(RASA_DATA_DIR),
        "--out", str(MODELS_DIR), "--fixed-model-name", MODEL_NAME,
        "--force",  # Rasa fingerprints the spaCy pipeline's path, not its content: we decided to train
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)
    write_stamp(MODEL_STAMP, wanted)
    return True


def build_red_flag_domain() -> bool:
    """Regenerate domain/red_flag_advice.yml (the advice Rasa sends itself) from bot/triage/advice.yml,
    red_flags.yml and clinic.yml. Returns True if it changed (the model fingerprint then sees it)."""
    from bot.triage.advice import GENERATED_DOMAIN_FILE, write_domain_file

    changed = write_domain_file()
    print(f"red-flag advice responses: {'written to' if changed else 'up to date in'} "
          f"{GENERATED_DOMAIN_FILE.relative_to(PROJECT_ROOT)}")
    return changed


def build_rasa_project() -> bool:
    """Write build/rasa/: the domain and the topic rules, derived from domain/ and the cards (bot/topic_wiring.py)."""
    from bot.topic_wiring import write_rasa_project

    changed = write_rasa_project()
    where = RASA_DOMAIN_DIR.parent.relative_to(PROJECT_ROOT)
    state = "written to" if changed else "up to date in"
    print(f"Rasa project (domain and topic rules from the cards): {state} {where}")
    return changed


def build_all(force: bool = False) -> Path:
    """spaCy pipeline, knowledge base, the generated domain parts, then the model, each only when needed."""
    with build_lock():
        rebuilt = build_spacy_pipeline(force=force)
        build_knowledge_base(force=force)
        build_red_flag_domain()
        build_rasa_project()
        train_model(force=force or rebuilt)
    return MODEL_FILE
