"""The catalogue: the assignments the course has, found as spec files (`NAME.py` beside its
`NAME.yaml`) in `exercises/` and in the teacher's folders, and the ids of their questions."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, overload

from autograder.model.errors import UserError

if TYPE_CHECKING:  # a spec, and SymPy with it, is loaded only when an exercise is asked for
    from autograder.model.spec import Exercise, Question

# A course's own exercises, outside the package: folders separated by os.pathsep. `--exercises DIR`
# adds to it, so that every process the grader starts finds the same catalogue.
FOLDERS_VARIABLE = "AUTOGRADER_EXERCISES"
# the package's own folder; the spec modules of every folder are imported as `exercises.NAME`
PACKAGE_FOLDER = Path(__file__).resolve().parents[2] / "exercises"
# names in this file (one a line, `#` a comment) come first, in its order; the rest follow sorted
ORDER_FILE = "order.txt"


class NoExercisesFolder(UserError, FileNotFoundError):
    def __str__(self) -> str:
        return (
            f"no folder {self.args[0]} to find exercises in: give a folder of NAME.py and "
            f"NAME.yaml files (--exercises DIR or {FOLDERS_VARIABLE})"
        )


class TwoExercisesOfOneName(UserError, ValueError):
    def __str__(self) -> str:
        name, first, second = self.args
        return f"two exercises named {name!r}, in {first} and in {second}: rename one of them"


def folders() -> list[Path]:
    """Where exercises are found: the package's folder, then the teacher's, in the order given."""
    extra = [Path(p) for p in os.environ.get(FOLDERS_VARIABLE, "").split(os.pathsep) if p]
    return [PACKAGE_FOLDER, *extra]


def add_folders(added: Sequence[Path]) -> None:
    """Add the teacher's folders (`--exercises DIR`) for this process and those it starts."""
    known = [str(p) for p in folders()[1:]]
    for folder in added:  # a folder that is not there is refused where exercises are looked for
        if str(folder.resolve()) not in known:
            known.append(str(folder.resolve()))
    os.environ[FOLDERS_VARIABLE] = os.pathsep.join(known)


def found() -> dict[str, Path]:
    """Every assignment's spec file, by name, in the catalogue's order; files are listed, never
    imported (`autograder --help` loads no spec)."""
    specs: dict[str, Path] = {}
    for folder in folders():
        if not folder.is_dir():
            raise NoExercisesFolder(folder)
        names = sorted(
            p.stem
            for p in folder.glob("*.py")
            if p.stem.isidentifier()
            and not p.stem.startswith("_")
            and p.with_suffix(".yaml").is_file()
        )
        order = folder / ORDER_FILE
        listed = []
        if order.is_file():
            lines = (line.split("#")[0].strip() for line in order.read_text("utf-8").splitlines())
            listed = [name for name in lines if name in names]
        for name in [*listed, *(n for n in names if n not in listed)]:
            if name in specs:
                raise TwoExercisesOfOneName(name, specs[name].parent, folder)
            specs[name] = folder / f"{name}.py"
    return specs


class _Assignments(Sequence[str]):
    """The names of the assignments found now, as a sequence: a folder added (or a spec written)
    later is in it on the next look."""

    def __iter__(self) -> Iterator[str]:
        return iter(found())

    def __len__(self) -> int:
        return len(found())

    def __contains__(self, name: object) -> bool:
        return name in found()

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return tuple(found())[index]

    def __repr__(self) -> str:
        return repr(tuple(found()))


ASSIGNMENTS: Sequence[str] = _Assignments()


class UnknownQuestion(UserError, KeyError):
    """A question id that is not in the catalogue."""

    def __str__(self) -> str:
        return f"no question {self.args[0]!r}; ids look like 'minima.argmin_L1' (see `autograder answers`)"


class GradedByTeacher(UserError, ValueError):
    """A question the teacher grades: it has no reference and no automatic verdict."""

    def __str__(self) -> str:
        qid = self.args[0]
        return (
            f"{qid} is answered in words and graded by the teacher in nbgrader's formgrader: it "
            f"has no reference to compare with (`autograder answers {qid.partition('.')[0]}` "
            "shows its model answer)"
        )


class UnknownAssignment(UserError, KeyError):
    def __str__(self) -> str:
        return (
            f"no assignment {self.args[0]!r}; there are: {', '.join(ASSIGNMENTS)} (a course's own "
            f"exercises are found with --exercises DIR or {FOLDERS_VARIABLE})"
        )


class SpecDoesNotLoad(UserError, ImportError):
    """A spec module that raises when it is imported: said with its file and line, not a traceback."""

    def __init__(self, path: Path, problem: BaseException) -> None:
        super().__init__(path, problem)
        self.spec, self.problem = path, problem

    def __str__(self) -> str:
        lines = [
            frame.lineno
            for frame in traceback.extract_tb(self.problem.__traceback__)
            if Path(frame.filename) == self.spec
        ]
        if isinstance(self.problem, SyntaxError) and self.problem.lineno:
            lines.append(self.problem.lineno)
        where = f" (line {lines[-1]})" if lines else ""
        return f"{self.spec} does not load{where}: {type(self.problem).__name__}: {self.problem}"


def spec_file(name: str) -> Path:
    """The spec module of assignment `name`; its texts are in the YAML file beside it."""
    try:
        return found()[name]
    except KeyError:
        raise UnknownAssignment(name) from None


def texts_file(name: str) -> Path:
    return spec_file(name).with_suffix(".yaml")


def spec_module(name: str) -> object:
    """The module of assignment `name`, imported as `exercises.NAME` from whichever folder holds it."""
    loaded = sys.modules.get(f"exercises.{name}")
    if loaded is not None:  # found before: the grader asks for its exercise at every answer
        return loaded
    path = spec_file(name)
    package = importlib.import_module("exercises")
    if str(path.parent) not in package.__path__:
        package.__path__.append(str(path.parent))
    importlib.invalidate_caches()  # a spec written since the folder was last looked at
    try:
        return importlib.import_module(f"exercises.{name}")
    except Exception as problem:  # an author's spec: where it fails, as one line
        raise SpecDoesNotLoad(path, problem) from problem


def exercise(name: str) -> Exercise:
    found_exercise: Exercise = spec_module(name).EXERCISE  # type: ignore[attr-defined]
    return found_exercise


def exercises() -> list[Exercise]:
    return [exercise(name) for name in ASSIGNMENTS]


def locate(qid: str) -> tuple[Exercise, Question]:
    assignment, _, name = qid.partition(".")
    try:
        ex = exercise(assignment)
        return ex, ex.question(name)
    except KeyError:
        raise UnknownQuestion(qid) from None


def question_ids() -> list[str]:
    """The questions the grader marks, which `reference` and `grade_answer` take; those the teacher
    grades are left out (`locate` finds them too)."""
    return [f"{ex.name}.{q.name}" for ex in exercises() for q in ex.autograded]


def autograded(qid: str) -> tuple[Exercise, Question]:
    """The exercise and question of `qid`, which the grader marks; else why not."""
    ex, q = locate(qid)
    if q.graded_by_teacher:
        raise GradedByTeacher(qid)
    return ex, q
