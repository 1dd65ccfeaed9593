"""The seed's derivations stored with the course: derived once, read by every later run.

One file per assignment, named by a key that hashes what its numbers follow from (the exercise's
source, the derivation's and the model's code, the SymPy, NumPy and Python versions): a change to
any of them is a new key, and the file is derived and written anew. A file is read only where
nobody else could have written it (owned by this user, writable by nobody else, not a link), so
that a student-writable folder never feeds the grader.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from autograder.derivation.derived import NO_SLIP, Target, derive
from autograder.derivation.references import Seed, exercise, read_seeds_from, seed
from autograder.model.spec import Slip
from autograder.model.values import Rule

PACKAGE = Path(__file__).resolve().parents[1]
# what the numbers of every exercise follow from, besides its own source
CODE = (
    sorted((PACKAGE / "model").glob("*.py"))
    + sorted((PACKAGE / "derivation").glob("*.py"))
    + [PACKAGE / "sandbox" / "oracles.py"]
)
FOLDER = Path(".autograder") / "references"
FORMAT = 1


@dataclass(frozen=True)
class Rederived:
    """A function question's rule as stored: the spec's rule is a closure of its derivation, so the
    store keeps which derivation it came from, and derives it again if it is ever called."""

    assignment: str
    question: str
    slip: Slip

    def __call__(self, *args: Any) -> Any:
        rule: Rule = derive(exercise(self.assignment), None, self.slip)[self.question]
        return rule.rule(*args)


@contextmanager
def reading(course: Path | None) -> Iterator[None]:
    """Within: the seed's derivations of each assignment are read from the course's store (the
    user's cache without a course), and derived and stored there where they are not."""
    place = course / FOLDER if course is not None else user_cache()
    before = read_seeds_from(lambda assignment: load_or_derive(assignment, place))
    try:
        yield
    finally:
        read_seeds_from(before)


def user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nn-autograder" / "references"


def load_or_derive(assignment: str, place: Path) -> dict[str, Seed]:
    """The assignment's seeds: from `place` where a trusted file of the current key is there, else
    derived and written (a place that cannot be written costs only the speed)."""
    path = place / f"{assignment}-{key(assignment)[:16]}.pickle"
    stored = read(path, assignment)
    if stored is not None:
        return stored
    seeds = derived(assignment)
    write(path, assignment, seeds)
    return seeds


def derived(assignment: str) -> dict[str, Seed]:
    """Every seed of the assignment, derived now, in the form the store keeps."""
    seeds = {}
    for q in exercise(assignment).autograded:
        qid = f"{assignment}.{q.name}"
        found = seed(qid)
        alternative = Slip(rounding=q.rounding)
        seeds[qid] = Seed(
            _storable(assignment, q.name, NO_SLIP, found.reference),
            tuple(_storable(assignment, q.name, alternative, t) for t in found.alternatives),
            tuple((m, s, _storable(assignment, q.name, s, t)) for m, s, t in found.mistakes),
            tuple((m, s, _storable(assignment, q.name, s, t)) for m, s, t in found.pairs),
        )
    return seeds


def _storable(assignment: str, question: str, slip: Slip, target: Target) -> Target:
    if isinstance(target.exact, Rule):
        return replace(
            target, exact=replace(target.exact, rule=Rederived(assignment, question, slip))
        )
    return target


@cache
def key(assignment: str) -> str:
    """The hash of everything the assignment's numbers follow from."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    for part in (sys.version, np.__version__, sp.__version__):
        digest.update(part.encode() + b"\n")
    exercise(assignment)  # its module is loaded: its source is hashed as found
    spec = Path(sys.modules[f"exercises.{assignment}"].__file__ or "")
    # a teacher's folder of exercises need not be a package: no __init__.py to hash there
    package = [init] if (init := spec.with_name("__init__.py")).is_file() else []
    for path in (*CODE, *package, spec):
        digest.update(path.name.encode() + b"\n" + path.read_bytes())
    return digest.hexdigest()


def trusted(path: Path) -> bool:
    """A regular file and a folder that only the current user could have written."""
    me = os.geteuid()
    for where, kind in ((path, stat.S_ISREG), (path.parent, stat.S_ISDIR)):
        try:
            info = os.lstat(where)
        except OSError:
            return False
        if not kind(info.st_mode) or info.st_uid != me or info.st_mode & 0o022:
            return False
    return True


def read(path: Path, assignment: str) -> dict[str, Seed] | None:
    """The stored seeds, or None where the file is missing, untrusted, or not what it should be."""
    if not trusted(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as file:
            stored = pickle.load(file)
    except Exception:  # a broken file is derived and written again, whatever it raised
        return None
    if not isinstance(stored, dict) or stored.get("key") != key(assignment):
        return None
    seeds = stored.get("seeds")
    expected = {f"{assignment}.{q.name}" for q in exercise(assignment).autograded}
    if not isinstance(seeds, Mapping) or set(seeds) != expected:
        return None
    if not all(isinstance(s, Seed) for s in seeds.values()):
        return None
    return dict(seeds)


def write(path: Path, assignment: str, seeds: Mapping[str, Seed]) -> bool:
    """Written whole (a reader never sees half a file); the assignment's files of other keys go.
    A folder that is not this user's alone is left as it is."""
    data = pickle.dumps({"key": key(assignment), "seeds": dict(seeds)}, pickle.HIGHEST_PROTOCOL)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        if not _ours(path.parent):
            return False
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
        for old in path.parent.glob(f"{assignment}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _ours(folder: Path) -> bool:
    info = os.lstat(folder)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022
