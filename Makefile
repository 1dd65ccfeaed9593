# Everything runs inside .venv at the repository root; the first target that needs it builds it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,cluster]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/autograder demo

test: $(STAMP)
	$(BIN)/ruff check autograder exercises tests bench
	$(BIN)/ruff format --check autograder exercises tests bench
	$(BIN)/mypy autograder
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV)
