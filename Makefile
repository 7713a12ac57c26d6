# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: setup run console test bench check clean i18n

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

KEYWORDS = -k N_ -k Refusal -k BadInput -k NotFound -k Forbidden -k UnknownPerson
i18n: setup  ## extract strings and merge them into the Russian catalog
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --sort-output -o core/locale/teamflow.pot .
	test -f core/locale/ru/LC_MESSAGES/teamflow.po || $(BIN)/pybabel init -i core/locale/teamflow.pot -d core/locale -D teamflow -l ru
	$(BIN)/pybabel update -i core/locale/teamflow.pot -d core/locale -D teamflow --no-fuzzy-matching --ignore-obsolete
