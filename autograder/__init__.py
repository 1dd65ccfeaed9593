"""Auto-graded exercises on how neural networks learn: SymPy-derived references, named mistakes.

The Python API: `reference(qid, variant=None)` and `grade_answer(qid, answer, variant=None, lang="en")`.
"""

from autograder.derivation.references import Reference, question_ids, reference
from autograder.judging.grading import Verdict, grade_answer

__all__ = ["Reference", "Verdict", "grade_answer", "question_ids", "reference"]
