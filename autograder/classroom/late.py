"""Late submissions: how late, from nbgrader's due date of the assignment and the student's
extension, and the penalty that nbgrader's late-submission plugin gives, as the course configures
it (`c.LateSubmissionPlugin.penalty_method`, or a plugin of the teacher's in
`c.AssignLatePenalties.plugin_class`), loaded as nbgrader's autograde loads it.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

CONFIG_FILE = "nbgrader_config.py"


@dataclass(frozen=True)
class Lateness:
    """How late a submission came, and the points it loses for it."""

    seconds: float
    penalty: float


class Plugin(Protocol):
    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float | None: ...


def course_config(course: Path) -> Any:
    """The course's `nbgrader_config.py` as traitlets config (empty where there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if not (course / CONFIG_FILE).is_file():
        return Config()
    with _importable(course):
        return PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()


@contextmanager
def _importable(course: Path) -> Any:
    """The course folder on the import path, as when nbgrader runs there: a teacher's plugin
    module sits beside the config."""
    sys.path.insert(0, str(course))
    try:
        yield
    finally:
        sys.path.remove(str(course))


def penalty_plugin(course: Path) -> Plugin:
    """nbgrader's plugin for late penalties, built from the course's config."""
    from nbgrader.preprocessors import AssignLatePenalties

    with _importable(course):
        step = AssignLatePenalties(config=course_config(course))
        step.init_plugin()
    plugin: Plugin = step.plugin_inst
    return plugin


def seconds_late(
    timestamp: datetime | None, due: datetime | None, extension: timedelta | None
) -> float:
    """Seconds after the due date (and the student's extension); 0 when on time or undated."""
    if timestamp is None or due is None:
        return 0.0
    deadline = naive_utc(due) + (extension or timedelta())
    return max(0.0, (naive_utc(timestamp) - deadline).total_seconds())


def lateness(plugin: Plugin, student: str, score: float, late: float) -> Lateness | None:
    """The penalty of a submission `late` seconds late, kept within [0, score] as nbgrader does."""
    if late <= 0:
        return None
    penalty = plugin.late_submission_penalty(student, score, late)
    kept = min(max(float(penalty or 0.0), 0.0), score)
    return Lateness(late, kept)


def naive_utc(moment: datetime) -> datetime:
    """nbgrader keeps times as naive UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def spoken(seconds: float) -> str:
    """A duration as a teacher reads it: 2 d 3 h, 5 h 12 min, 40 min, 12 s."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"
