"""Set-up: it finds Python 3.10 or stops with a message that names the fix; a spaCy rebuild forces a retrain."""
from __future__ import annotations

import os
import shutil
import subprocess

from bot import build
from bot.paths import PROJECT_ROOT


def run_setup(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("bash"), "scripts/setup.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_a_wrong_explicit_interpreter_is_refused_with_the_fix():
    result = run_setup(PYTHON310="/usr/bin/false")
    assert result.returncode == 1
    assert "not a working Python 3.10" in result.stderr


def test_no_python_310_anywhere_names_the_fix(tmp_path):
    tools = tmp_path / "bin"  # a PATH with the shell tools the script needs, and no Python at all
    tools.mkdir()
    for tool in ("dirname", "ls", "sort", "cat"):
        (tools / tool).symlink_to(shutil.which(tool))
    result = run_setup(PATH=str(tools), PYENV_ROOT="/nonexistent", HOME="/nonexistent")
    assert result.returncode == 1
    assert "Python 3.10 was not found" in result.stderr and "pyenv install 3.10" in result.stderr


def test_model_fingerprint_follows_the_spacy_pipeline_content(tmp_path, monkeypatch):
    """Rasa fingerprints the pipeline's path only; our fingerprint must change when its content does."""
    pipeline = tmp_path / "spacy_pipeline"
    pipeline.mkdir()
    (pipeline / "meta.json").write_text('{"version": "1"}')
    monkeypatch.setattr(build, "SPACY_PIPELINE_DIR", pipeline)
    before = build.model_inputs_fingerprint()
    (pipeline / "meta.json").write_text('{"version": "2"}')
    assert build.model_inputs_fingerprint() != before
