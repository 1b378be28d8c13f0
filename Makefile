# attunement: set-up, demo and tests. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.attune-installed
OPENAI_STAMP := $(VENV)/.attune-openai

.PHONY: demo test test-fast lint format setup system-deps test-deps benchmark clean dist

demo: setup
	$(BIN)/attune analyze samples/consultation.flac -o samples/consultation.attune

test: setup test-deps $(OPENAI_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Every test that needs no model, browser or strace (pure logic, parsers, the CLI's errors):
# under 2 minutes on 2 cores. A test here that loads a model or starts Chromium fails and
# names the marker it lacks (tests/conftest.py).
FAST_MARKERS := not models and not browser and not strace
test-fast: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "$(FAST_MARKERS)"

# ruff (lint, import order, formatting) and mypy over the whole tree
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

setup: system-deps $(STAMP)

# ffmpeg (decoding libraries for torchcodec, and the ffmpeg program the tests use to make
# mp3/m4a/ogg/webm/mp4 copies of the sample). Installed with apt when it is missing and
# apt is available; otherwise a note (PyAV, installed with pip, decodes on its own).
system-deps:
	@if command -v ffmpeg >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing ffmpeg with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	else echo "note: ffmpeg not found and apt-get unavailable; install it with your package manager"; fi

# Chromium for the report's browser test and `attune report --pdf` (Debian's package; the
# tests drive it with Playwright for Python and never download a browser of their own), and
# strace, with which the privacy tests watch every network system call of a run.
test-deps:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: chromium not found; the browser tests will be skipped"; fi
	@if command -v strace >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing strace with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; \
	else echo "note: strace not found; the privacy tests check Python-level connections only"; fi

$(STAMP): pyproject.toml requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q -e ".[base,test]" -c requirements.txt
	touch $(STAMP)

# The optional second engine, attunement[openai], for its equivalence tests. openai-whisper
# declares triton (about 1 GB of GPU compiler, unused on a CPU), so the package goes in
# without dependencies and its CPU ones (numba, tiktoken, more-itertools) are added.
$(OPENAI_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q --no-deps "openai-whisper==20250625"
	$(BIN)/python -m pip install -q numba tiktoken more-itertools -c requirements.txt
	touch $(OPENAI_STAMP)

# A wheel and an sdist in dist/ (pip install / pipx install the wheel: `attune`, `attune serve`)
dist: setup
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

benchmark: setup
	$(BIN)/python benchmarks/run_analyze.py
	$(BIN)/python benchmarks/accuracy.py

clean:
	rm -rf $(VENV) samples/consultation.attune .pytest_cache
