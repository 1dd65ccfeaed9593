"""An exercise's generated notebooks, where the tests read them.

The package's exercises have theirs committed in `release/` and `solutions/` (kept in sync with
the specs by tests/test_notebooks.py). An exercise of a course's own folder (`--exercises DIR`,
`AUTOGRADER_EXERCISES`) has nothing committed here: its notebooks are made once per test process,
as `autograder release` makes them.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from autograder.model.catalogue import PACKAGE_FOLDER, spec_file
from autograder.release.assignments import release

ROOT = Path(__file__).resolve().parents[1]


def of_the_package(assignment: str) -> bool:
    return spec_file(assignment).parent.resolve() == PACKAGE_FOLDER.resolve()


@functools.cache
def _made(assignment: str) -> Path:
    out = Path(tempfile.mkdtemp(prefix=f"notebooks-{assignment}-"))
    atexit.register(shutil.rmtree, out, True)
    release([assignment], out / "course", "de", out)
    return out


def notebook(folder: str, assignment: str) -> Path:
    """The German notebook of `folder` ("release": the student's, "solutions": the worked one)."""
    if of_the_package(assignment):
        return ROOT / folder / "de" / f"{assignment}.ipynb"
    return _made(assignment) / folder / "de" / f"{assignment}.ipynb"
