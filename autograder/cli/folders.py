"""`--exercises DIR`, a course's own folder of exercises: the option every command that takes an
assignment has, read before the commands are built so that their choices hold that folder's too."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from autograder.model.catalogue import FOLDERS_VARIABLE, add_folders

HELP = (
    "a folder of the course's own exercises (NAME.py and NAME.yaml each), found beside the "
    f"package's; may be given more than once; also read from {FOLDERS_VARIABLE} (folders "
    "separated by ':')"
)


def exercises_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exercises", action="append", type=Path, metavar="DIR", help=HELP)


def take_folders(argv: Sequence[str]) -> None:
    """Add the folders that `--exercises` names in `argv` to the catalogue, before the parser is
    built: the assignments they hold are then choices like the package's."""
    early = argparse.ArgumentParser(add_help=False)
    exercises_option(early)
    known, _ = early.parse_known_args(argv)
    if list(argv[:1]) == ["new"]:  # the folder a new exercise is written into may be new too
        for folder in known.exercises or []:
            folder.mkdir(parents=True, exist_ok=True)
    add_folders(known.exercises or [])
