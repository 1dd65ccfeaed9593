"""A verdict: the grade of one answer (status, score, the mistake recognised, feedback), and a
student's function as the sandbox reports its outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["correct", "partial", "wrong", "invalid", "unanswered"]


@dataclass(frozen=True)
class Outputs:
    """A student's function as the sandbox reports it: ("result", value) or ("raised", message) per probe."""

    results: tuple[tuple[str, Any], ...]
    # the bound in seconds the function ran past on the probes, if it did
    timeout: float | None = None


@dataclass(frozen=True)
class Verdict:
    """The grade of one answer: `score` in [0, 1], the recognised mistake, feedback in one language."""

    qid: str
    status: Status
    score: float
    mistake: str | None
    feedback: str
    error: str | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.qid,
            "status": self.status,
            "score": self.score,
            "correct": self.correct,
            "mistake": self.mistake,
            "feedback": self.feedback,
            "error": self.error,
        }
