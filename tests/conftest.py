"""`pytest --exercise NAME`: the tests of one exercise only, as `make test-exercise NAME=…` runs
them: its own test file and every test parametrised with the exercise or one of its question ids."""

from __future__ import annotations

from typing import Any

import pytest

from autograder.model.catalogue import ASSIGNMENTS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--exercise",
        metavar="NAME",
        help="only the tests of this exercise (release, grading through a notebook, forms, "
        "mistakes, variants)",
    )


def concerns(value: Any, name: str) -> bool:
    """A parameter that names the exercise or one of its questions ("minima", "minima.dL1")."""
    return isinstance(value, str) and (value == name or value.startswith(f"{name}."))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    name = config.getoption("--exercise")
    if not name:
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        own_file = item.path.name == f"test_{name}.py"
        mentioned = callspec is not None and any(
            concerns(v, name) for v in callspec.params.values()
        )
        (kept if own_file or mentioned else dropped).append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept


@pytest.fixture(scope="session")
def under_test(request: pytest.FixtureRequest) -> list[str]:
    """The assignments a module-wide fixture prepares: all, or the one of `--exercise`."""
    name = request.config.getoption("--exercise")
    return [name] if name else list(ASSIGNMENTS)
