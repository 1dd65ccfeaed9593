"""Auto-graded exercises on how neural networks learn: SymPy-derived references, named mistakes.

The Python API: `reference(qid, variant=None)` and `grade_answer(qid, answer, variant=None, lang="en")`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

# nbformat validates notebooks through jsonschema, whose format checker builds the IRI grammars of
# `rfc3987_syntax` when it is imported (4 s). A notebook's schema has no IRI field, so the checker is
# left out; where jsonschema is already loaded (a Jupyter server importing us) nothing changes.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from autograder.derivation.references import Reference, question_ids, reference
    from autograder.judging.grading import Verdict, grade_answer

__all__ = ["Reference", "Verdict", "grade_answer", "question_ids", "reference"]

# the API is imported on first use, so that `autograder --help` does not load SymPy
_HOME = {
    "Reference": "autograder.derivation.references",
    "question_ids": "autograder.derivation.references",
    "reference": "autograder.derivation.references",
    "Verdict": "autograder.judging.grading",
    "grade_answer": "autograder.judging.grading",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'autograder' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
