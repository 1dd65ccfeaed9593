"""The demo: the main job end to end on a sample class, in a temporary nbgrader course.

Every assignment is released through nbgrader; four students answer in the released notebooks
(right, typical mistakes, careless, nothing); the class is graded into the gradebook and summarised.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from autograder.classroom.batch import Graded, Options, grade
from autograder.classroom.pages import PAGES
from autograder.derivation.references import ASSIGNMENTS, Target, exercise, mistake_targets, steps
from autograder.model.spec import Kind, Question
from autograder.reports.results import summary, waiting_for_teacher
from autograder.samples import answered, carried_forward, solution_code, submit, value_code


def answers(assignment: str, student: str) -> dict[str, str]:
    """The code each sample student writes into the solution cells of an assignment.

    anna: the worked solutions, all right. ben: the worked solutions, but every answer that is a
    value then set to its question's first typical mistake. clara: careless: one slip in each
    trajectory, carried forward rightly; text where the last answer should be; the rest right.
    dora: nothing.
    """
    ex = exercise(assignment)
    code: dict[str, str] = {}
    last = ex.autograded[-1].name
    for q in ex.autograded:
        qid = f"{ex.name}.{q.name}"
        right = solution_code(ex.name, q.name)
        if student == "anna":
            code[q.name] = right
        elif student == "ben":
            found = mistake_targets(qid)
            usable = q.kind is not Kind.FUNCTION and found
            code[q.name] = f"{right}\n{value_code(q, found[0][1])}" if usable else right
        elif student == "clara":
            code[q.name] = _careless(q, qid, right, last)
    return code


def _careless(q: Question, qid: str, right: str, last: str) -> str:
    if q.name in steps(qid.partition(".")[0]):
        trajectory = carried_forward(qid, slip_at=1 if q.kind is Kind.VECTOR else 2, by=0.25)
        return f"{right}\n{value_code(q, Target(trajectory, None))}"
    if q.name == last:
        return f'{q.name} = "?"'
    return right


STUDENTS = ("anna", "ben", "clara", "dora")
# where the demo leaves the class report and the feedback pages it links to
KEPT = Path(tempfile.gettempdir()) / "autograder-demo" / "reports"


def run(
    lang: str = "de",
    out: Callable[[str], None] = print,
    workers: int | None = None,
    kept: Path = KEPT,
) -> Graded:
    """Release every assignment into a temporary course, let the sample class submit, grade it."""
    from autograder.release.assignments import release
    from autograder.reports.class_data import report_course

    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as tmp:
        course = Path(tmp) / "course"
        out(f"Releasing {len(ASSIGNMENTS)} assignments through nbgrader into {course} …")
        release(ASSIGNMENTS, course, lang, Path(tmp) / "copies")
        for assignment in ASSIGNMENTS:
            released = course / "release" / assignment / f"{assignment}.ipynb"
            for student in STUDENTS:
                notebook = answered(released, answers(assignment, student))
                submit(course, student, assignment, notebook, "2026-11-20 10:00:00.000000 UTC")
        out(f"Grading {len(ASSIGNMENTS) * len(STUDENTS)} submitted notebooks …\n")
        options = Options(course=course, lang=lang, workers=workers or os.cpu_count() or 1)
        graded = grade([course / "submitted"], options)
        out(summary(graded.results))
        waiting = waiting_for_teacher(graded.results)
        if waiting:
            out(f"\n{waiting}")
        # of the points the grader gives: the answers in words wait for the teacher
        totals = {s: [0.0, 0.0] for s in STUDENTS}
        for r in graded.results:
            totals[r.student or "?"][0] += r.score
            totals[r.student or "?"][1] += r.max_score - r.manual_points
        out("\n" + "  ".join(f"{s}: {got:g}/{possible:g}" for s, (got, possible) in totals.items()))
        page = course / PAGES / "clara" / "minima" / "minima.html"
        out(f"\nFeedback pages as {page.relative_to(course)}; gradebook: nbgrader's gradebook.db.")
        report_course(course, lang=lang)
        # the course goes with the temporary folder; its reports stay to be opened
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(course / "reports", kept)
        out(f"Class report: {kept / 'report.html'} (open it in a browser)")
    return graded
