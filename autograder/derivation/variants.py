"""Per-student variants: the course secret, and the reproducible draw of a student's own numbers.

A variant is drawn from the ranges an exercise declares (`Exercise.vary`) and redrawn until it is well posed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.derivation.references import exercise
from autograder.model.errors import UserError
from autograder.model.spec import Between, Exercise, OneOf, Range

# In the course directory, beside nbgrader's folders, never in `source/` or `release/`: nbgrader
# releases an assignment's folder only, so the secret never reaches a student's notebook.
SECRET_FILE = Path(".autograder") / "secret"
SECRET_BYTES = 32
# Every range of the shipped exercises is well posed for most draws; this many failures means a
# range and its rule contradict each other.
MAX_DRAWS = 1000


class MissingSecret(UserError, FileNotFoundError):
    """The course has no secret yet, and none was to be created."""

    def __str__(self) -> str:
        return (
            f"no course secret at {self.args[0]}: it is created when variants are first released "
            "(course_secret(course, create=True)); without it no student's variant can be redrawn"
        )


class BadSecret(UserError, ValueError):
    """The secret file exists but does not hold 32 bytes written as hex."""

    def __str__(self) -> str:
        return (
            f"the course secret at {self.args[0]} is not {SECRET_BYTES} bytes of hex; restore it "
            "from a backup (a new secret would give every student other numbers)"
        )


class NoWellPosedVariant(RuntimeError):
    """An exercise's ranges gave no well-posed variant in MAX_DRAWS draws."""

    def __str__(self) -> str:
        assignment, reason = self.args
        return (
            f"{assignment}: no well-posed variant in {MAX_DRAWS} draws (the last: {reason}); "
            "widen its `vary` ranges or loosen its `well_posed` rule"
        )


def course_secret(course: Path, create: bool = False) -> bytes:
    """The course's secret from COURSE/.autograder/secret (32 random bytes, hex, mode 0600).

    With `create`, a course without one gets a new secret; two processes creating it at once
    agree on the one written first. Without `create`, a missing secret is `MissingSecret`.
    """
    path = Path(course) / SECRET_FILE
    if create and not path.exists():
        _write_once(path, secrets.token_hex(SECRET_BYTES) + "\n")
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise MissingSecret(path) from None
    except UnicodeDecodeError:
        raise BadSecret(path) from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise BadSecret(path) from None
    if len(secret) != SECRET_BYTES:
        raise BadSecret(path)
    return secret


def _write_once(path: Path, text: str) -> None:
    """Write `path` (mode 0600) unless it exists; whole or not at all, so that a reader at the same
    moment never sees half a secret: written aside, then linked in, which fails if one is there."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}-{os.getpid()}-{secrets.token_hex(4)}")
    handle = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w", encoding="ascii") as file:
            file.write(text)
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()


def draw(assignment: str, student: str, secret: bytes) -> dict[str, Any]:
    """The variant of one student for one assignment: the same for the same secret, always.

    HMAC-SHA256(secret, assignment NUL student) seeds the draw, so a student's numbers follow
    from the course secret alone, and nobody without it can tell which numbers another student has.
    """
    message = f"{assignment}\0{student}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return random_variant(assignment, random.Random(int.from_bytes(digest, "big")))


def random_variant(assignment: str, rng: random.Random) -> dict[str, Any]:
    """A well-posed variant drawn with `rng`, written as the exercise's PARAMETERS are (decimal
    strings, ints, lists); {} for an exercise whose numbers stay the seed's."""
    ex = exercise(assignment)
    reason = ""
    for _ in range(MAX_DRAWS):
        variant = {name: _draw(ex, name, spread, rng) for name, spread in ex.vary.items()}
        verdict = ex.well_posed(ex.params(variant)) if ex.well_posed else None
        if verdict is None:
            return variant
        reason = verdict
    raise NoWellPosedVariant(assignment, reason)


def _draw(ex: Exercise, name: str, spread: Range | Sequence[Range], rng: random.Random) -> Any:
    """One parameter: a value, or for a list parameter one value per entry (one range for all of
    them, or one range per entry); a OneOf of lists draws the whole list."""
    if isinstance(spread, Between) and isinstance(ex.parameters[name], list):
        return [spread.draw(rng) for _ in ex.parameters[name]]
    if isinstance(spread, Between | OneOf):
        return spread.draw(rng)
    return [entry.draw(rng) for entry in spread]
