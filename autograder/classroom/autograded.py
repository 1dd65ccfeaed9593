"""The autograded notebook of a submission, as nbgrader's autograde leaves it for formgrader and
generate_feedback: the student's notebook with its run's outputs and the released cells restored.

Like nbgrader's sanitizing steps: outputs cleared, repeated grade_ids dropped, locked cells and
nbgrader metadata restored, missing grade cells added back with a note. Then the outputs of the
sandbox run, and the grader's verdict beneath each grade cell. Test cells hold what was released
(the visible checks): nbgrader restores the hidden tests, which its feedback would show students.
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
import stat
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import nbformat

from autograder.classroom.jobs import SpecCell, spec_cells
from autograder.classroom.marking import Result
from autograder.classroom.submissions import (
    TIMESTAMP,
    TREE,
    Submission,
    grade_id_of,
    notebook_name,
    printable,
)
from autograder.derivation.references import freeze_variant
from autograder.judging import feedback
from autograder.release.files import write_whole
from autograder.sandbox.execution import Job, Run

# nbgrader's folder of autograded notebooks in a course, beside submitted/
FOLDER = "autograded"
# of the other files in a submission's folder, how many are copied beside it, and how large
MAX_FILES_BESIDE = 100
MAX_FILE_BESIDE = 16 * 1024**2
# what nbgrader's converters leave behind (CourseDirectory.ignore)
NBGRADER_IGNORED = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")


def autograded_notebook(
    submission: Submission,
    notebook: nbformat.NotebookNode,
    job: Job,
    run: Run,
    result: Result,
    variant: Mapping[str, Any] | None = None,
) -> nbformat.NotebookNode:
    """The submitted notebook as nbgrader's autograde would leave it, with this run's outputs."""
    lang = result.lang
    spec = spec_cells(submission.assignment, lang, freeze_variant(variant) if variant else None)
    by_id = {c.grade_id: c for c in spec}
    nb = copy.deepcopy(notebook)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    seen: set[str] = set()
    for cell in nb.cells:
        _cleared(cell)
        grade_id = grade_id_of(cell)
        if grade_id is None or grade_id in seen or grade_id not in by_id:
            cell.metadata.pop("nbgrader", None)  # a repeated or unknown grade_id is not graded
            continue
        seen.add(grade_id)
        _restored(cell, by_id[grade_id])
    _outputs(nb, job, run, lang)
    _missing_added(nb, spec, seen, lang)
    _verdicts(nb, result)
    return nb


def _cleared(cell: nbformat.NotebookNode) -> None:
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None


def _restored(cell: nbformat.NotebookNode, spec: SpecCell) -> None:
    """nbgrader's metadata of the cell as released; a locked cell's type and source too."""
    if spec.role != "solution" and not spec.nbgrader.get("solution"):
        if cell.get("cell_type") != spec.cell_type:
            kept = {k: cell[k] for k in ("id", "metadata") if k in cell}
            cell.clear()
            cell.update(_new_cell(spec.cell_type, spec.released, {}) | kept)
        cell["source"] = spec.released
    cell.setdefault("metadata", {})["nbgrader"] = dict(spec.nbgrader)


def _new_cell(cell_type: str, source: str, metadata: dict[str, Any]) -> nbformat.NotebookNode:
    cell: dict[str, Any] = {"cell_type": cell_type, "metadata": metadata, "source": source}
    if cell_type == "code":
        cell |= {"execution_count": None, "outputs": []}
    return nbformat.from_dict(cell)


def _outputs(nb: nbformat.NotebookNode, job: Job, run: Run, lang: str) -> None:
    """Each cell's outputs in the run, numbered in the order the cells ran."""
    at = {grade_id_of(c): i for i, c in enumerate(nb.cells) if grade_id_of(c) is not None}
    ran = len(job.cells) if run.stopped_in is None else run.stopped_in + 1
    for count, (index, cell) in enumerate(list(enumerate(job.cells))[:ran], start=1):
        place = cell.position if cell.position is not None else at.get(cell.grade_id)
        if place is None or place >= len(nb.cells) or nb.cells[place].cell_type != "code":
            continue
        target = nb.cells[place]
        target["execution_count"] = count
        target["outputs"] = [
            _output(item, count, lang, run.cell_errors.get(index))
            for item in run.shown.get(index, ())
        ]


def _output(
    item: Mapping[str, Any], count: int, lang: str, error: str | None
) -> nbformat.NotebookNode:
    if "printed" in item:
        text = item["printed"]
        if item["cut"]:
            text += "\n" + feedback.message("autograded", "cut", lang, count=item["cut"])
        return _output_of("stream", name="stdout", text=text)
    if "error" in item:
        name, value, trace = item["error"]
        shown = trace.splitlines() or [error or f"{name}: {value}"]
        return _output_of("error", ename=name, evalue=value, traceback=shown)
    kind = "execute_result" if "result" in item else "display_data"
    data = dict(item.get("result") or item["display"])
    if item["cut"] and "text/plain" in data:
        cut = feedback.message("autograded", "cut_text", lang, count=item["cut"])
        data["text/plain"] += "\n" + cut
    if kind == "execute_result":
        return _output_of(kind, data=data, execution_count=count)
    return _output_of(kind, data=data)


def _output_of(output_type: str, **fields: Any) -> nbformat.NotebookNode:
    """An output as nbformat's new_output makes it, without validating each one on its own (the
    notebook is whole and valid; tests validate it)."""
    output: dict[str, Any] = {"output_type": output_type, **fields}
    if output_type in ("execute_result", "display_data"):
        output.setdefault("metadata", {})
    return nbformat.from_dict(output)


def _verdicts(nb: nbformat.NotebookNode, result: Result) -> None:
    """Beneath each question's grade cell, the grader's verdict, where formgrader shows outputs."""
    marks = {m.verdict.qid.partition(".")[2]: m for m in result.questions}
    for cell in nb.cells:
        grade_id = grade_id_of(cell) or ""
        marked = marks.get(grade_id.removesuffix("_test"))
        if cell.get("cell_type") != "code" or not grade_id.endswith("_test") or marked is None:
            continue
        said = feedback.message(
            "autograded",
            "verdict",
            result.lang,
            score=f"{marked.score:g}",
            points=f"{marked.points:g}",
            feedback=marked.verdict.feedback,
        )
        cell["outputs"] = [_output_of("stream", name="stdout", text=said + "\n")]


def _missing_added(
    nb: nbformat.NotebookNode, spec: tuple[SpecCell, ...], seen: set[str], lang: str
) -> None:
    """Grade cells the submission lacks, added back after the released cell before them, with a
    note (nbgrader's add_missing_cells): formgrader shows every question of the assignment."""
    order = [c.grade_id for c in spec]
    for position, cell in enumerate(spec):
        if cell.grade_id in seen or not cell.nbgrader.get("grade"):
            continue
        note = feedback.message("autograded", "missing_cell", lang, cell=cell.grade_id)
        if cell.cell_type == "code":
            source = "\n".join(f"# {line}" for line in note.splitlines()) + "\n" + cell.released
        else:
            source = f"{note}\n\n{cell.released}"
        added = _new_cell(cell.cell_type, source, {"nbgrader": dict(cell.nbgrader)})
        if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
            ids = {c.get("id") for c in nb.cells}
            added["id"] = next(i for i in _ids(cell.grade_id) if i not in ids)
        before = {c: i for i, c in enumerate(grade_id_of(x) for x in nb.cells) if c is not None}
        after = max((before[g] for g in order[:position] if g in before), default=-1)
        nb.cells.insert(after + 1, added)
        seen.add(cell.grade_id)


def _ids(grade_id: str) -> Iterator[str]:
    """Cell ids for a cell added back: its grade_id, then numbered (nbformat: at most 64 of
    letters, digits, - and _)."""
    base = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in grade_id)[:50]
    yield base
    yield from (f"{base}-{n}" for n in itertools.count(1))


def nbgrader_time(moment: datetime) -> str:
    """A time as nbgrader writes it into timestamp.txt."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def autograded_path(course: Path, submission: Submission) -> Path:
    """Where nbgrader keeps a submission's autograded notebook."""
    folder = course / FOLDER / submission.student / submission.assignment
    return folder / notebook_name(submission.assignment)


def write_autograded(course: Path, submission: Submission, notebook: nbformat.NotebookNode) -> Path:
    """`course/autograded/STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb`, and `timestamp.txt` beside it."""
    path = autograded_path(course, submission)
    folder = path.parent
    # nbformat's own layout of a notebook file, without validating it again for each submission;
    # a lone surrogate of a student's text, which no UTF-8 file holds, shown as �
    text = printable(json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False)) + "\n"
    write_whole(path, text)
    _beside(submission, folder)
    if submission.timestamp is not None and not (folder / TIMESTAMP).is_file():
        write_whole(folder / TIMESTAMP, nbgrader_time(submission.timestamp))
    return path


def _beside(submission: Submission, folder: Path) -> None:
    """The other files of the submission's folder, as nbgrader's converters copy them (its
    submission_secret.txt is what release_feedback needs): regular files only, never a link, a few
    of bounded size, and nothing nbgrader itself ignores."""
    home = submission.path.parent
    if (home.name, home.parent.name, home.parent.parent.name) != (
        submission.assignment,
        submission.student,
        TREE,
    ):
        return  # a loose notebook: its folder is not the submission's own
    copied = 0
    for entry in sorted(home.iterdir()):
        if copied >= MAX_FILES_BESIDE or entry.name.endswith(".ipynb") or _ignored(entry.name):
            continue
        try:
            status = entry.lstat()
            if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BESIDE:
                continue
            shutil.copyfile(entry, folder / entry.name, follow_symlinks=False)
            copied += 1
        except OSError:
            continue  # a file that went away or cannot be read stays behind


def _ignored(name: str) -> bool:
    return name.startswith(".") or any(fnmatch(name, p) for p in NBGRADER_IGNORED)
