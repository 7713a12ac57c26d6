# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: setup run console test bench check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Teamflow needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create the virtual environment and install Teamflow

run: setup  ## migrate the database and start the bot (the console chat when no platform token is set)
	$(BIN)/teamflow db upgrade
	$(BIN)/teamflow run

console: setup
	$(BIN)/teamflow console

test: setup  ## run the whole test suite
	$(BIN)/pytest

bench: setup  ## benchmarks (not part of the tests)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
