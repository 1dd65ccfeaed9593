"""Each graded submission's result kept with the course, `COURSE/.autograder/results/ASSIGNMENT/
STUDENT.json`, so that its feedback page can be written again once the teacher has graded by hand
(the gradebook holds the scores and comments, not the mistakes named or the run's problems)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.classroom.late import Lateness
from autograder.classroom.marking import Marked, Result
from autograder.judging.verdict import Verdict
from autograder.release.files import write_whole

RESULTS = Path(".autograder") / "results"


def keep(course: Path, result: Result) -> Path | None:
    """Write the result whole; one without a student or assignment has no place."""
    if result.student is None or result.assignment is None:
        return None
    path = course / RESULTS / result.assignment / f"{result.student}.json"
    data = result.as_dict() | {
        "lang": result.lang,
        "timestamp": result.timestamp.isoformat() if result.timestamp else None,
    }
    write_whole(path, json.dumps(data, ensure_ascii=False))
    return path


def kept(course: Path) -> list[Result]:
    """Every result kept in the course, by assignment and student; unreadable files left out."""
    found = []
    for path in sorted((course / RESULTS).glob("*/*.json")):
        try:
            found.append(result_of(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def result_of(data: dict[str, Any]) -> Result:
    """A result from its JSON form (`Result.as_dict` with its language and timestamp)."""
    questions = tuple(
        Marked(
            Verdict(
                q["id"],
                q["status"],
                float(q["score"]) / float(q["max_score"]) if q["max_score"] else 0.0,
                q["mistake"],
                q["feedback"],
                q["error"],
            ),
            float(q["max_score"]),
            q.get("copied_from"),
            q.get("answer"),
        )
        for q in data["questions"]
    )
    late = data.get("late_seconds") or 0.0
    stamp = data.get("timestamp")
    return Result(
        student=data["student"],
        assignment=data["assignment"],
        path=data["path"],
        timestamp=datetime.fromisoformat(stamp) if stamp else None,
        lang=data["lang"],
        questions=questions,
        errors=tuple(data["errors"]),
        seconds=float(data.get("seconds", 0.0)),
        late=Lateness(float(late), float(data["late_penalty"])) if late else None,
    )
