"""What the commands that read a course's gradebook share: the refusal where there is none."""

from __future__ import annotations

import sys
from pathlib import Path


def gradebook_missing(course: Path, db_url: str | None) -> bool:
    """True, having said so on stderr, when no --db is given and the course has no gradebook."""
    if db_url is not None or (course / "gradebook.db").exists():
        return False
    print(f"autograder: no gradebook in {course} (grade first, or give --db)", file=sys.stderr)
    return True
