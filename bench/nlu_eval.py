"""NLU cross-validation: run `rasa test nlu --cross-validation` and write reports/nlu/REPORT.md.

Two runs on the same folds: the classifier alone (the pipeline without the deterministic red-flag detector,
which measures the training data) and the full pipeline of config.yml (what the bot actually does).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
CONFIG = PROJECT_ROOT / "config.yml"
REPORT_DIR = PROJECT_ROOT / "reports" / "nlu"
RUN_DIR = REPORT_DIR / "tmp"
RED_FLAG_DETECTOR = "bot.nlp.red_flag_detector.RedFlagDetector"
REPORT_FILE = REPORT_DIR / "REPORT.md"
AVERAGES = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def _importable(component: str) -> bool:
    """True when a custom component named by its dotted path can be imported."""
    module_name, _, class_name = component.rpartition(".")
    if not module_name:
        return True  # a built-in Rasa component, named without a module
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return hasattr(module, class_name)


def evaluation_config(epochs: int | None, without: tuple[str, ...] = ()) -> tuple[Path, list[str]]:
    """A copy of config.yml for the evaluation, and notes on what differs from it.

    Components named in `without` and custom components that cannot be imported yet are left out
    (and said so in the report); `epochs` overrides DIET's epochs to make the run quicker.
    """
    config = yaml.safe_load(CONFIG.read_text())
    notes: list[str] = []
    pipeline = []
    for component in config["pipeline"]:
        name = component["name"]
        if name in without:
            notes.append(f"`{name}` left out: this run measures the classifier and the training data.")
            continue
        if not _importable(name):
            notes.append(f"`{name}` could not be imported and was left out of the evaluated pipeline.")
            continue
        if name == "DIETClassifier" and epochs is not None:
            notes.append(f"DIETClassifier epochs: {epochs} (config.yml: {component.get('epochs')}).")
            component = {**component, "epochs": epochs}
        pipeline.append(component)
    config["pipeline"] = pipeline
    handle = tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="config_nlu_eval_", delete=False)
    with handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    return Path(handle.name), notes


FOLD_SEED = 42  # Rasa shuffles the folds with numpy's global generator: seeding it makes runs comparable


def run_cross_validation(config: Path, folds: int, out: Path) -> None:
    """Run Rasa's NLU cross-validation on seeded folds; its reports land in `out`."""
    rasa_args = [
        "test", "nlu", "--nlu", str(NLU_DATA), "--config", str(config),
        "--cross-validation", "--folds", str(folds), "--out", str(out),
    ]
    launcher = (
        "import sys, numpy; numpy.random.seed(int(sys.argv[1])); "
        "from rasa.__main__ import main; sys.argv = ['rasa'] + sys.argv[2:]; main()"
    )
    command = [sys.executable, "-c", launcher, str(FOLD_SEED), *rasa_args]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"rasa test nlu failed (exit {result.returncode}); see its output above.")


def _load_json(path: Path) -> object:
    if not path.is_file():
        raise SystemExit(f"{path} is missing: did the cross-validation run finish? Re-run bench/nlu_eval.py.")
    return json.loads(path.read_text())


def confusion_pairs(report: dict) -> list[tuple[str, str, int]]:
    """(true intent, predicted intent, count) for every confusion, most frequent first."""
    pairs = []
    for intent, scores in report.items():
        if intent in AVERAGES or not isinstance(scores, dict):
            continue
        for predicted, count in scores.get("confused_with", {}).items():
            pairs.append((intent, predicted, int(count)))
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _error_rows(errors: list[dict]) -> list[str]:
    rows = ["| text | true intent | predicted (confidence) |", "| --- | --- | --- |"]
    for error in sorted(errors, key=lambda e: (e["intent"], e["text"])):
        prediction = error.get("intent_prediction") or {}
        rows.append(
            f"| {_cell(error['text'])} | {error['intent']} |"
            f" {prediction.get('name')} ({prediction.get('confidence') or 0:.2f}) |"
        )
    return rows


def _summary_row(label: str, report: dict) -> str:
    macro, red = report["macro avg"], report.get("red_flag", {})
    return (
        f"| {label} | {macro['f1-score']:.3f} | {report.get('accuracy', float('nan')):.3f} |"
        f" {red.get('precision', float('nan')):.3f} | {red.get('recall', float('nan')):.3f} |"
    )


def _run_section(title: str, report: dict, errors: list[dict], notes: list[str], all_errors: bool,
                 top: int) -> list[str]:
    intents = sorted(name for name in report if name not in AVERAGES)
    lines = [f"## {title}", ""]
    if notes:
        lines += [f"- {note}" for note in notes] + [""]
    macro = report["macro avg"]
    lines += [
        f"Macro-F1 {macro['f1-score']:.3f}"
        f" (precision {macro['precision']:.3f}, recall {macro['recall']:.3f}).",
        "",
        "| intent | precision | recall | F1 | support |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for intent in sorted(intents, key=lambda name: (report[name]["f1-score"], name)):
        scores = report[intent]
        lines.append(
            f"| {intent} | {scores['precision']:.3f} | {scores['recall']:.3f} | {scores['f1-score']:.3f}"
            f" | {int(scores['support'])} |"
        )
    pairs = confusion_pairs(report)
    lines += ["", f"Top confusion pairs ({sum(count for _, _, count in pairs)} errors in all):", ""]
    if pairs:
        lines += ["| true intent | predicted as | count |", "| --- | --- | ---: |"]
        lines += [f"| {true} | {predicted} | {count} |" for true, predicted, count in pairs[:top]]
    else:
        lines.append("None.")
    if all_errors:
        lines += ["", "Misclassified examples:", ""]
        lines += _error_rows(errors) if errors else ["None."]
    else:
        red = [e for e in errors
               if "red_flag" in (e["intent"], (e.get("intent_prediction") or {}).get("name"))]
        lines += ["", "Red-flag errors (false alarms and misses):", ""]
        lines += _error_rows(red) if red else ["None."]
    return lines + [""]


def write_report(runs: list[tuple[str, Path, list[str]]], folds: int, seconds: float, top: int = 15) -> str:
    """Write REPORT.md from each run's intent_report.json and intent_errors.json; return a summary line."""
    loaded = []
    for title, out, notes in runs:
        report = _load_json(out / "intent_report.json")
        errors = _load_json(out / "intent_errors.json") if (out / "intent_errors.json").is_file() else []
        loaded.append((title, report, errors, notes))
    first = loaded[0][1]
    n_intents = len([name for name in first if name not in AVERAGES])
    lines = [
        "# NLU cross-validation report",
        "",
        f"Generated by `bench/nlu_eval.py` ({seconds / 60:.0f} min):"
        f" `rasa test nlu --cross-validation --folds {folds}`"
        f" on `data/nlu/` ({int(first['macro avg']['support'])} examples, {n_intents} intents), folds seeded"
        f" ({FOLD_SEED}). Every example is scored by a model trained on the other folds.",
        "",
        "| run | macro-F1 | accuracy | red_flag precision | red_flag recall |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [_summary_row(title, report) for title, report, _, _ in loaded] + [""]
    for index, (title, report, errors, notes) in enumerate(loaded):
        lines += _run_section(title, report, errors, notes, all_errors=index == 0, top=top)
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    REPORT_FILE.write_text("\n".join(lines))
    return "; ".join(
        f"{title}: macro-F1 {report['macro avg']['f1-score']:.3f}" for title, report, _, _ in loaded
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None, help="override DIET epochs (quicker, less exact)")
    parser.add_argument("--out", type=Path, default=RUN_DIR, help="where Rasa writes its raw reports")
    parser.add_argument("--classifier-only", action="store_true", help="skip the full-pipeline run")
    parser.add_argument("--report-only", action="store_true", help="rewrite REPORT.md from an earlier run")
    args = parser.parse_args(argv)

    plans = [("Classifier (training data)", args.out / "classifier", (RED_FLAG_DETECTOR,))]
    if not args.classifier_only:
        plans.append(("Full pipeline (config.yml)", args.out / "pipeline", ()))
    runs = []
    started = time.monotonic()
    for title, out, without in plans:
        config, notes = evaluation_config(args.epochs, without)
        try:
            if not args.report_only:
                run_cross_validation(config, args.folds, out)
        finally:
            config.unlink(missing_ok=True)
        runs.append((title, out, notes))
    summary = write_report(runs, args.folds, time.monotonic() - started)
    print(f"NLU cross-validation: {summary}; report in {REPORT_FILE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
