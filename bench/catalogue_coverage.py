"""What the grader accepts and names, per assignment: the right forms of `tests/forms.py` tried and
graded right, and every mistake (alone and two at once) tried and named as itself.

    .venv/bin/python bench/catalogue_coverage.py

A form counts as accepted when `grade_answer` grades it right; a mistake's answer counts as named
when the verdict names that mistake (alone, or together with others that fit alike).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from forms import answer_in_form, forms_of  # noqa: E402

from autograder import grade_answer  # noqa: E402
from autograder.derivation.references import ASSIGNMENTS, exercise, mistake_targets  # noqa: E402
from autograder.judging.grading import named_pairs  # noqa: E402
from autograder.samples import answer_for  # noqa: E402


def named(qid: str, mistake: str, answer: object) -> bool:
    verdict = grade_answer(qid, answer)
    return verdict.status == "wrong" and mistake in (verdict.mistake or "").split("|")


def main() -> None:
    print(f"{'assignment':<18} {'right forms':<16}{'single mistakes':<16}{'two at once':<16}")
    totals = [0] * 6
    for assignment in ASSIGNMENTS:
        counts = [0] * 6
        for q in exercise(assignment).autograded:
            qid = f"{assignment}.{q.name}"
            for form in forms_of(assignment, q):
                counts[0] += 1
                counts[1] += grade_answer(qid, answer_in_form(assignment, q, form)).correct
            for mistake, t in mistake_targets(qid):
                counts[2] += 1
                counts[3] += named(qid, mistake, answer_for(q, t))
            for pair, t in named_pairs(qid):
                counts[4] += 1
                counts[5] += named(qid, pair, answer_for(q, t))
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        print(f"{assignment:<18} " + " ".join(_ratio(counts[k], counts[k + 1]) for k in (0, 2, 4)))
    print(f"{'all':<18} " + " ".join(_ratio(totals[k], totals[k + 1]) for k in (0, 2, 4)))
    print("(accepted or named of tried; repeat: .venv/bin/python bench/catalogue_coverage.py)")


def _ratio(tried: int, good: int) -> str:
    return f"{good:>5} of {tried:<7}"


if __name__ == "__main__":
    main()
