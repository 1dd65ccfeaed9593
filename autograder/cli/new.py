"""`autograder new NAME`: a new exercise's spec and texts, ready to release and grade as written
and to be changed into the teacher's own (docs/authoring.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from autograder.model.catalogue import FOLDERS_VARIABLE, PACKAGE_FOLDER


def new_parser(commands: argparse._SubParsersAction) -> None:
    new = commands.add_parser(
        "new",
        help="write a new exercise: NAME.py (the spec) and NAME.yaml (its texts in de/en/ru)",
        description="The skeleton has a question of each common kind (a number, a vector, a "
        "function, a formula) and a mistake of its own; it releases and grades as it is written. "
        "Check it, and every change to it, with `autograder lint NAME`.",
    )
    new.add_argument("name", metavar="NAME", help="the assignment's name, a Python name: momentum")
    new.add_argument(
        "--exercises",
        type=Path,
        metavar="DIR",
        help="the course's own folder of exercises to write into (default: the package's "
        f"exercises/); give it, or set {FOLDERS_VARIABLE}, to the later commands too",
    )
    new.set_defaults(run=_new)


def _new(args: argparse.Namespace) -> int:
    from autograder.release.skeleton import write_skeleton

    folder = args.exercises
    spec, texts = write_skeleton(args.name, folder or PACKAGE_FOLDER)
    print(f"{spec}\n{texts}")
    given = f" --exercises {folder}" if folder else ""
    print(f"next: autograder lint {args.name}{given}; autograder release {args.name}{given}")
    return 0
