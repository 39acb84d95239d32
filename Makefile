# Two ways in on a fresh machine: `make run` and `make test`. Both build the same
# virtual environment from pyproject.toml; nothing is downloaded at run time.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EVAL ?= ../shared/eval

.PHONY: run test venv lint typecheck eval browser bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/discretion serve

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: browser tests will skip (run 'sudo apt-get install chromium')"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy bot adapters recognizers --explicit-package-bases

# The detection gate: the whole labelled dev corpus, then our own multi-message threads
# (thread and author fields), where only the combination of messages identifies.
eval: $(STAMP)
	@if [ -f $(EVAL)/score.py ]; then \
	  PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python $(EVAL)/score.py --cmd "discretion scan" \
	    --min-recall 0.97 --max-false-alarm 0.08 --max-leak 0.02 $(EVAL)/dev.jsonl && \
	  PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python $(EVAL)/score.py --cmd "discretion scan" \
	    --min-recall 1.0 --max-false-alarm 0.0 tests/data/threads.jsonl; \
	else echo "no $(EVAL)/score.py beside this checkout: detection gate skipped"; fi

test: $(STAMP) browser
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory eval

bench: $(STAMP)
	$(BIN)/python bench/scan_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info var
