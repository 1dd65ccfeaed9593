"""Release through nbgrader: the instructor notebook into a course's source/, nbgrader's own
generate_assignment into release/, and both copied to solutions/<lang>/ and release/<lang>/.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder.derivation import store
from autograder.model.errors import UserError
from autograder.release.notebooks import CODE_STUBS, instructor_notebook

CONFIG = """\
# nbgrader configuration of a course made by `autograder release`.
c = get_config()
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.ClearSolutions.code_stub = {code_stub!r}
"""


class ReleaseError(UserError, RuntimeError):
    """nbgrader could not generate an assignment; the message carries nbgrader's own log."""


@dataclass(frozen=True)
class Released:
    assignment: str
    lang: str
    solution: Path
    student: Path


def nbgrader_commands_on_path() -> None:
    """nbgrader runs the `alembic` command of its own environment when it creates a gradebook."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(course: Path, db_url: str | None = None) -> Any:
    """nbgrader's API on a course directory (made, with its config, if it is new).

    The gradebook is the course's SQLite file unless `db_url` names another SQLAlchemy database.
    """
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    course.mkdir(parents=True, exist_ok=True)
    config_file = course / "nbgrader_config.py"
    if not config_file.exists():
        config_file.write_text(
            CONFIG.format(
                course_id=course.resolve().name, root=str(course.resolve()), code_stub=CODE_STUBS
            )
        )
    nbgrader_commands_on_path()
    config = Config()
    config.CourseDirectory.root = str(course.resolve())
    config.CourseDirectory.course_id = course.resolve().name
    config.ClearSolutions.code_stub = CODE_STUBS
    if db_url:
        config.CourseDirectory.db_url = db_url
    return NbGraderAPI(config=config)


def generate(
    api: Any, assignment: str, course: Path, lang: str, variant: Mapping[str, Any] | None = None
) -> None:
    """The instructor notebook (of a variant's numbers, or the seed's) into the course's source/,
    then nbgrader's generate_assignment.

    This also enters the assignment, its notebook and its grade cells into the gradebook.
    """
    notebook = instructor_notebook(assignment, lang, variant)
    source = course / "source" / assignment / f"{assignment}.ipynb"
    source.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, source)
    result = api.generate_assignment(assignment, force=True)
    if not result["success"]:
        raise ReleaseError(f"nbgrader could not generate {assignment}:\n{result['log']}")


def release(
    assignments: Iterable[str], course: Path, lang: str, out: Path, db_url: str | None = None
) -> list[Released]:
    """Build each assignment's instructor notebook and let nbgrader generate the student version
    (its gradebook: the course's SQLite file, or `db_url`)."""
    api = nbgrader_api(course, db_url)
    done = []
    for assignment in assignments:
        generate(api, assignment, course, lang)
        source = course / "source" / assignment / f"{assignment}.ipynb"
        solution = out / "solutions" / lang / f"{assignment}.ipynb"
        student = out / "release" / lang / f"{assignment}.ipynb"
        for path in (solution, student):
            path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, solution)
        shutil.copyfile(course / "release" / assignment / f"{assignment}.ipynb", student)
        done.append(Released(assignment, lang, solution, student))
        # the grading runs of the course read the references instead of deriving them
        store.load_or_derive(assignment, course / store.FOLDER)
    return done
