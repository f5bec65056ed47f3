#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependencies (requirements.lock) plus this project.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  # 1. an explicit choice wins, if it really is a Python 3.10
  if [ -n "${PYTHON310:-}" ]; then
    if "$PYTHON310" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$PYTHON310"; return 0
    fi
    echo "ERROR: PYTHON310=$PYTHON310 is not a working Python 3.10 interpreter." >&2
    return 1
  fi
  # 2. python3.10 on PATH, if it really runs (a pyenv shim on PATH may exist but refuse to run)
  if candidate=$(command -v python3.10 2>/dev/null) && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    echo "$candidate"; return 0
  fi
  # 3. any 3.10 that pyenv has installed, even if it is not the active version
  local root="${PYENV_ROOT:-$HOME/.pyenv}"
  if command -v pyenv >/dev/null 2>&1; then root=$(pyenv root); fi
  for candidate in $(ls -d "$root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r); do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then echo "$candidate"; return 0; fi
  done
  return 1
}

if ! PY310=$(find_python310); then
  cat >&2 <<'MSG'
ERROR: Python 3.10 was not found.
Rasa 3.6 (the last open-source Rasa) runs on Python 3.8-3.10 only, and this project pins 3.10.
Fix: install it with pyenv (`pyenv install 3.10.13`) or your package manager,
or point PYTHON310 at an existing interpreter: `PYTHON310=/path/to/python3.10 make run`.
MSG
  exit 1
fi

stamp=.venv/.installed
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/python ]; then
  exit 0
fi
echo "setup: creating .venv with $PY310"
"$PY310" -m venv .venv
quiet_pip() {
  # pip's index configuration on some machines names local mirrors that may not exist; hide that noise only
  .venv/bin/python -m pip "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}
quiet_pip install --quiet --upgrade "pip==24.0"
echo "setup: installing the pinned dependencies from requirements.lock (about 2 minutes the first time)"
quiet_pip install --quiet --no-deps -r requirements.lock
# The project itself is used from the checkout (bot/, actions/, knowledge/): put its root on the venv's path.
site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
pwd > "$site_packages/achilles_clinic_bot.pth"
quiet_pip check
echo "$want" > "$stamp"
echo "setup: done"
