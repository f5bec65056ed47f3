"""Where the project's files and generated artefacts live, in one place."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = PROJECT_ROOT / "build"
VAR_DIR = PROJECT_ROOT / "var"
MODELS_DIR = PROJECT_ROOT / "models"
SPACY_PIPELINE_DIR = BUILD_DIR / "spacy_pipeline"
ENTITY_PATTERNS_FILE = PROJECT_ROOT / "bot" / "nlp" / "entity_patterns.jsonl"
DOMAIN_DIR = PROJECT_ROOT / "domain"  # Rasa merges every .yml file in it into one domain


def domain_dict() -> dict:
    """The merged domain as plain data (intents, slots, responses, ...), for code that is not Rasa."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(DOMAIN_DIR)).as_dict()
