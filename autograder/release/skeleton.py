"""A new exercise's two files, written from the skeleton beside this module: a spec with a question
of each common kind and a mistake, and its texts in German, English and Russian."""

from __future__ import annotations

import keyword
from pathlib import Path

from autograder.model.catalogue import ASSIGNMENTS
from autograder.model.errors import UserError

SKELETON = Path(__file__).with_name("skeleton")


class BadExerciseName(UserError, ValueError):
    def __str__(self) -> str:
        name, why = self.args
        return f"cannot name an exercise {name!r}: {why}"


def write_skeleton(name: str, folder: Path) -> tuple[Path, Path]:
    """`folder/NAME.py` and `folder/NAME.yaml`, which release and grade as they are written."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise BadExerciseName(name, "use letters, digits and _, as a Python name (momentum_2d)")
    if name != name.lower():
        raise BadExerciseName(name, "use lower case, as the notebooks' file names do")
    folder.mkdir(parents=True, exist_ok=True)
    if name in ASSIGNMENTS:
        raise BadExerciseName(name, "there is an assignment of that name already")
    written = []
    for suffix in (".py", ".yaml"):
        path = folder / f"{name}{suffix}"
        if path.exists():
            raise BadExerciseName(name, f"{path} exists already")
        template = (SKELETON / f"exercise{suffix}.txt").read_text(encoding="utf-8")
        written.append((path, template.replace("__NAME__", name)))
    for path, text in written:
        path.write_text(text, encoding="utf-8")
    return written[0][0], written[1][0]
