"""Build the project's spaCy pipeline from code: blank English, lookup lemmatizer, domain EntityRuler."""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import spacy
import spacy_lookups_data
import srsly
from spacy.language import Language

from bot.nlp.vocabulary import entity_patterns as vocabulary_patterns
from bot.paths import ENTITY_PATTERNS_FILE, SPACY_PIPELINE_DIR

LEMMA_OVERRIDES_FILE = Path(__file__).with_name("lemma_overrides.json")

PIPELINE_NAME = "achilles_clinic"
PIPELINE_VERSION = "1.0.0"


def load_patterns(path: Path = ENTITY_PATTERNS_FILE) -> list[dict]:
    """Read EntityRuler patterns (one JSON object a line); name the file and line of a bad one."""
    patterns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            pattern = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not valid JSON ({error.msg}); fix that pattern line") from error
        if not isinstance(pattern, dict) or "label" not in pattern or "pattern" not in pattern:
            raise ValueError(f"{path}:{number}: a pattern needs a 'label' and a 'pattern'")
        patterns.append(pattern)
    return patterns


def pattern_lemmas(patterns: list[dict]) -> set[str]:
    """Every lemma the token patterns match on."""
    lemmas: set[str] = set()
    for pattern in patterns:
        for token in pattern["pattern"] if isinstance(pattern["pattern"], list) else []:
            value = token.get("LEMMA")
            if isinstance(value, str):
                lemmas.add(value)
            elif isinstance(value, dict):
                lemmas.update(value.get("IN", []))
    return lemmas


def add_case_variants(table, lemmas: set[str], overrides: dict[str, str]) -> None:
    """The lookup table is case-sensitive ("Heel" stays "Heel"): map Title and UPPER forms of every word
    whose lemma a pattern uses, so "Heel Lifts" and "HEEL LIFTS" match like "heel lifts"."""
    raw = srsly.read_gzip_json(Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz")
    raw.update(overrides)
    words = {word: lemma for word, lemma in raw.items() if lemma in lemmas} | {lemma: lemma for lemma in lemmas}
    for word, lemma in words.items():
        for variant in (word.title(), word.upper()):
            if variant != word and variant not in table:
                table[variant] = lemma


def build_pipeline(patterns_file: Path = ENTITY_PATTERNS_FILE) -> Language:
    """Return the in-memory pipeline: tokenizer, lookup lemmatizer, then the EntityRuler: token patterns from
    entity_patterns.jsonl and phrase patterns from the synonym table (bot/nlp/vocabulary.yml)."""
    nlp = spacy.blank("en")
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["description"] = "Blank English + lookup lemmatizer + EntityRuler for Achilles tendinopathy terms"
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    nlp.initialize()  # loads the lemma lookup table from spacy-lookups-data into the pipeline
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    overrides = json.loads(LEMMA_OVERRIDES_FILE.read_text(encoding="utf-8"))
    for word, lemma in overrides.items():
        table[word] = lemma  # the general English table gets a few of the domain's words wrong
    patterns = load_patterns(patterns_file) + vocabulary_patterns()  # the synonym table's phrases (LOWER)
    add_case_variants(table, pattern_lemmas(patterns), overrides)
    ruler.add_patterns(patterns)
    return nlp


def save_pipeline(nlp: Language, output_dir: Path = SPACY_PIPELINE_DIR) -> Path:
    """Write the pipeline (with meta.json) to output_dir, replacing an older build."""
    if output_dir.exists():
        shutil.rmtree(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output_dir)
    return output_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=SPACY_PIPELINE_DIR)
    parser.add_argument("--patterns", type=Path, default=ENTITY_PATTERNS_FILE)
    args = parser.parse_args(argv)
    path = save_pipeline(build_pipeline(args.patterns), args.output)
    print(f"spaCy pipeline saved to {path}")


if __name__ == "__main__":
    main()
