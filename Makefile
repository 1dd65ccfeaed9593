# Everything runs inside .venv at the repository root; the first target that needs it builds it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-exercise lint clean

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

# the tests of one exercise only: make test-exercise NAME=minima (its lint, release, notebooks,
# forms, mistakes, variants)
test-exercise: $(STAMP)
	@test -n "$(NAME)" || { echo "make test-exercise NAME=<exercise>"; exit 2; }
	$(BIN)/autograder lint $(NAME)
	$(BIN)/python -m pytest -n 2 -q --exercise $(NAME)

clean:
	rm -rf $(VENV)
