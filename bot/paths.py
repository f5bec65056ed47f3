"""Where the project's files and generated artefacts live, in one place."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = PROJECT_ROOT / "build"
VAR_DIR = PROJECT_ROOT / "var"
MODELS_DIR = PROJECT_ROOT / "models"
SPACY_PIPELINE_DIR = BUILD_DIR / "spacy_pipeline"
ENTITY_PATTERNS_FILE = PROJECT_ROOT / "bot" / "nlp" / "entity_patterns.jsonl"
