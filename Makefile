# The verbs a newcomer looks for. `make run` and `make test` do every set-up step themselves.
PY := .venv/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup web-deps system-deps spacy kb train build run test test-fast lint bench eval clean

help:
	@echo "make run    - set up, build, train if needed, and start the bot (website :8000, REST :5005)"
	@echo "make test   - set up, build, and run the whole test suite (unit, Rasa, end-to-end, browser)"
	@echo "make train  - retrain the Rasa model now      make kb    - rebuild the knowledge base"
	@echo "make lint   - ruff                            make bench - benchmark table"
	@echo "make eval   - NLU cross-validation, answer and red-flag evaluation reports"
	@echo "make clean  - remove the venv, builds, models and local databases"

setup: .venv/.installed web-deps
.venv/.installed: requirements.lock pyproject.toml scripts/setup.sh
	@bash scripts/setup.sh

web-deps:
	@bash scripts/web_deps.sh

system-deps:
	@bash scripts/system_deps.sh

spacy: setup
	$(PY) -m bot spacy

kb: setup
	$(PY) -m bot kb --force

build: setup
	$(PY) -m bot build

train: setup
	$(PY) -m bot build --force

run: build
	$(PY) -m bot run

test: build system-deps
	$(PY) -m pytest

test-fast: build
	$(PY) -m pytest -m "not e2e and not browser and not postgres"

.PHONY: test-faults
test-faults: build
	$(PY) -m pytest -m faults

.PHONY: test-security
test-security: build system-deps
	$(PY) -m pytest -m security

lint: setup
	$(PY) -m ruff check bot actions knowledge tests bench

bench: build
	$(PY) -m bench.run

.PHONY: test-scaleout
test-scaleout: build system-deps
	$(PY) -m pytest -m scaleout

eval: build
	$(PY) -m bench.eval

clean:
	rm -rf .venv build models var results .pytest_cache .ruff_cache test-output bot/web/node_modules
