"""Rasa's own checks: the training data validates cleanly and the test stories pass without a wrong prediction."""
from __future__ import annotations

import subprocess
import sys

from bot.build import MODEL_FILE
from bot.paths import DATA_DIR, PROJECT_ROOT, RASA_DATA_DIR, RASA_DOMAIN_DIR
from bot.topic_wiring import write_rasa_project


def run_rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_rasa_data_validate_has_no_warnings():
    write_rasa_project()  # the domain and topic rules derived from the cards, as `bot build` trains them
    result = run_rasa("data", "validate", "--domain", str(RASA_DOMAIN_DIR), "--data", str(DATA_DIR),
                      str(RASA_DATA_DIR), "--config", "config.yml", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_rasa_test_stories_have_no_prediction_errors(tmp_path):
    assert MODEL_FILE.is_file(), "run `make build` first (make test does)"
    result = run_rasa("test", "core", "--model", str(MODEL_FILE), "--stories", "tests/test_stories.yml",
                      "--fail-on-prediction-errors", "--out", str(tmp_path / "results"))
    failed = (tmp_path / "results" / "failed_test_stories.yml")
    details = failed.read_text() if failed.is_file() else ""
    assert result.returncode == 0, details + result.stdout[-3000:] + result.stderr[-3000:]
