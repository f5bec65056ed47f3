"""Where the project's files and generated artefacts live, in one place."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = PROJECT_ROOT / "build"
VAR_DIR = PROJECT_ROOT / "var"
MODELS_DIR = PROJECT_ROOT / "models"
SPACY_PIPELINE_DIR = BUILD_DIR / "spacy_pipeline"
ENTITY_PATTERNS_FILE = PROJECT_ROOT / "bot" / "nlp" / "entity_patterns.jsonl"
CARDS_DIR = PROJECT_ROOT / "knowledge" / "cards"  # one card per topic: the single source of a topic
DOMAIN_DIR = PROJECT_ROOT / "domain"  # the hand-written domain parts (Rasa merges every .yml file)
DATA_DIR = PROJECT_ROOT / "data"  # the hand-written NLU data, rules and stories
RASA_BUILD_DIR = BUILD_DIR / "rasa"  # what Rasa trains on: domain/ and data/ plus the parts derived from the cards
RASA_DOMAIN_DIR = RASA_BUILD_DIR / "domain"
RASA_DATA_DIR = RASA_BUILD_DIR / "data"

