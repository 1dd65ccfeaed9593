"""The instructor notebook of an assignment, built from its spec and texts: nbgrader source cells.

Cells, in order: title and intro, the given parameters, the form checks, and per question a task,
a solution cell (grade_id NAME) and a test cell (grade_id NAME_test) with hidden reference tests;
a question the teacher grades has, after its task, one answer cell (grade_id NAME) that holds its
points, with the model answer and the rubric as the solution nbgrader clears for students.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import nbformat
import numpy as np
import sympy as sp
from nbformat.v4 import new_notebook

from autograder.derivation.references import Reference, exercise, reference
from autograder.judging import feedback
from autograder.judging.formulas import sample_points
from autograder.model.catalogue import texts_file
from autograder.model.errors import UserError
from autograder.model.spec import Exercise, Kind, Question
from autograder.model.values import Gradient, Published, SolutionSet, to_student
from autograder.release import notebook_checks


class MissingText(UserError, KeyError):
    """An exercise's yaml lacks a text the notebook needs."""

    def __str__(self) -> str:
        return f"{texts_file(self.args[0])} has no {self.args[1]}: add it (`autograder lint` lists what is missing)"


def _meta(grade_id: str, **flags: Any) -> dict[str, Any]:
    base = {
        "grade": False,
        "solution": False,
        "locked": False,
        "schema_version": 3,
        "grade_id": grade_id,
    }
    return {"nbgrader": {**base, **flags}}


def texts(ex: Exercise) -> dict[str, Any]:
    found = feedback.exercise_texts(ex.name)
    manual = any(q.graded_by_teacher for q in ex.questions)
    for part in ("intro", "setup", "tasks", "solutions", *(MANUAL_PARTS if manual else ())):
        if part not in found:
            raise MissingText(ex.name, part)
    return found


# what the teacher reads of a question answered in words: the texts of the exercise's yaml
MANUAL_PARTS = ("model_answers", "rubrics")


def grade_cell(q: Question) -> str:
    """The grade_id of the cell that holds a question's points: its hidden tests, or the answer
    itself where the teacher grades it."""
    return q.name if q.graded_by_teacher else f"{q.name}_test"


def fill(template: str, parameters: Mapping[str, Any]) -> str:
    """A text or code template with the variant's parameters written in as a reader expects them."""
    shown = {k: _Shown(v) for k, v in parameters.items() if not isinstance(v, Published)}
    return template.format_map(shown)


class _Shown(str):
    """A parameter as written into a text, its entries written the same way: `{c}` is the list
    `[1, 10]` and `{c[0]}` its first entry, `1` (not the first character of the text)."""

    entries: Any

    def __new__(cls, value: Any) -> _Shown:
        self = super().__new__(cls, _show(value))
        self.entries = value
        return self

    def __getitem__(self, key: Any) -> Any:
        if isinstance(self.entries, dict) and isinstance(key, str):
            return _Shown(self.entries[key])
        if isinstance(self.entries, list | tuple) and isinstance(key, int):
            return _Shown(self.entries[key])
        return super().__getitem__(key)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return repr(value)
        return value
    return str(value)


def new_code_cell(source: str, metadata: dict[str, Any]) -> nbformat.NotebookNode:
    """A code cell as nbformat's `new_code_cell` makes it, without validating it alone: the
    notebook is validated as a whole where it is written (35 cells validated one by one cost
    0.1 s of a grading run that only reads their sources)."""
    return nbformat.NotebookNode(
        id="", cell_type="code", metadata=metadata, execution_count=None, source=source, outputs=[]
    )


def new_markdown_cell(source: str, metadata: dict[str, Any]) -> nbformat.NotebookNode:
    """A markdown cell as nbformat's `new_markdown_cell` makes it, not validated alone."""
    return nbformat.NotebookNode(id="", cell_type="markdown", metadata=metadata, source=source)


def instructor_notebook(
    assignment: str, lang: str = "de", variant: Mapping[str, Any] | None = None
) -> nbformat.NotebookNode:
    ex = exercise(assignment)
    content = texts(ex)
    parameters = {**ex.parameters, **(variant or {})}
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    # the grader reads which assignment this is and in which language to give feedback
    nb.metadata["autograder"] = {"assignment": ex.name, "lang": lang}
    title = content.get("title", {}).get(lang, ex.title)
    intro = fill(_in(content["intro"], lang, ex.name, "intro"), parameters)
    nb.cells = [
        new_markdown_cell(f"# {title}\n\n{intro}", metadata=_meta("intro", locked=True)),
        new_code_cell(
            fill(content["setup"], parameters).rstrip(), metadata=_meta("setup", locked=True)
        ),
        new_code_cell(checks_source(lang), metadata=_meta("checks", locked=True)),
    ]
    for q in ex.questions:
        task = fill(
            _in(content["tasks"].get(q.name, {}), lang, ex.name, f"task {q.name}"), parameters
        )
        if q.graded_by_teacher:
            nb.cells += [
                new_markdown_cell(task, metadata=_meta(f"{q.name}_task", locked=True)),
                new_markdown_cell(
                    teachers_answer(ex, q, content, lang, parameters),
                    metadata=_meta(q.name, grade=True, solution=True, points=q.points),
                ),
            ]
            continue
        ref = reference(f"{ex.name}.{q.name}", variant)
        solution = content["solutions"].get(q.name)
        if solution is None:
            raise MissingText(ex.name, f"solution of {q.name}")
        nb.cells += [
            new_markdown_cell(task, metadata=_meta(f"{q.name}_task", locked=True)),
            new_code_cell(
                f"### BEGIN SOLUTION\n{solution.rstrip()}\n### END SOLUTION",
                metadata=_meta(q.name, solution=True),
            ),
            new_code_cell(
                test_source(ref),
                metadata=_meta(f"{q.name}_test", grade=True, locked=True, points=q.points),
            ),
        ]
    for cell in nb.cells:  # ids from grade_ids, so that a rebuilt notebook is the same file
        cell["id"] = cell.metadata["nbgrader"]["grade_id"]
    return nb


def teachers_answer(
    ex: Exercise, q: Question, content: Mapping[str, Any], lang: str, parameters: Mapping[str, Any]
) -> str:
    """A written answer's cell in the instructor notebook: the model answer and the rubric between
    nbgrader's solution delimiters (in HTML comments, unseen where the cell is rendered), which
    its ClearSolutions replaces by its text stub in the student's notebook."""
    parts = []
    for part, heading in zip(MANUAL_PARTS, ("model_answer", "rubric"), strict=True):
        text = _in(content[part].get(q.name, {}), lang, ex.name, f"{part} of {q.name}")
        title = feedback.message("manual", heading, lang, points=f"{q.points:g}")
        parts.append(f"**{title}**\n\n{fill(text, parameters)}")
    body = "\n\n".join(parts)
    return f"<!-- BEGIN SOLUTION -->\n{body}\n<!-- END SOLUTION -->"


def _in(texts: Mapping[str, str], lang: str, assignment: str, what: str) -> str:
    if lang not in texts:
        raise MissingText(assignment, f"{what} in {lang}")
    return texts[lang].rstrip()


def checks_source(lang: str) -> str:
    """The form checks in the notebook's language: the messages, then notebook_checks' code."""
    messages = {key: text[lang] for key, text in feedback.messages()["check"].items()}
    code = inspect.getsource(notebook_checks)
    body = code[code.index("import math") :].replace("MESSAGES: dict = {}\n\n\n", "")
    return f"MESSAGES = {messages!r}\n\n{body.strip()}"


def _literal(value: Any) -> str:
    """NumPy data as Python source, with every float at full precision."""
    if isinstance(value, tuple):
        return "(" + "".join(f"{_literal(v)}, " for v in value) + ")"
    if isinstance(value, Gradient):
        return _gradient_source(value)
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r})"
    return repr(value)


def _gradient_source(grad: Gradient) -> str:
    symbols = grad.symbols()
    parts = [sp.pycode(g, fully_qualified_modules=False) for g in grad.gradient()]
    if len(symbols) == 1:
        return f"(lambda {symbols[0]}: {parts[0]})"
    names = ", ".join(str(s) for s in symbols)
    return f"(lambda w: (lambda {names}: np.array([{', '.join(parts)}]))(*w))"


# nbgrader's delimiters of the hidden tests in a test cell (ClearHiddenTests' defaults)
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def test_source(ref: Reference) -> str:
    """The test cell: a visible form check, then the hidden tests with the reference values."""
    q = ref.question
    visible = _visible_check(q)
    hidden = "\n".join(_hidden_tests(ref))
    return f"{visible}\n{BEGIN_HIDDEN}\n{hidden}\n{END_HIDDEN}"


def without_hidden_tests(source: str) -> str:
    """A test cell's source as students get it: the lines between the delimiters left out."""
    kept, hidden = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            hidden = True
        elif line.strip() == END_HIDDEN:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).rstrip()


# the stubs nbgrader's ClearSolutions writes for a solution (every course configures the code stub,
# CODE_STUBS, its option by the kernel's language): a comment only, not nbgrader's default `raise NotImplementedError()`, which
# stops a student's "Run All" at the first unanswered question; so every question's check runs
# and says in one line that its answer is missing
CODE_STUB, TEXT_STUB = "# YOUR CODE HERE", "YOUR ANSWER HERE"
CODE_STUBS = {"python": CODE_STUB}


def without_solution(source: str, cell_type: str) -> str:
    """A solution cell's source as students get it: the lines between the solution delimiters
    (a code cell's comments, a markdown cell's HTML comments) replaced by nbgrader's stub, the whole
    source where there are none. Never the model answer or the worked solution."""
    stub = CODE_STUB if cell_type == "code" else TEXT_STUB
    kept, inside, replaced = [], False, False
    for line in source.splitlines():
        mark = line.strip().removeprefix("<!--").removesuffix("-->").strip().lstrip("#").strip()
        if mark == "BEGIN SOLUTION":
            inside, replaced = True, True
            indent = line[: len(line) - len(line.lstrip())]
            kept += [indent + part for part in stub.splitlines()]
        elif mark == "END SOLUTION":
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept) if replaced else stub


def _visible_check(q: Question) -> str:
    options = [f"{q.name!r}", f"{q.kind.value!r}"]
    if q.shape is not None:
        options.append(f"shape={q.shape!r}")
    if q.args:
        options.append(f"args={list(q.args)!r}")
    return f"check({', '.join(options)})"


def _hidden_tests(ref: Reference) -> list[str]:
    q, tol = ref.question, ref.question.tolerance
    rule = f"rtol={tol.rtol!r}, atol={tol.atol!r}"
    value = ref.value
    if isinstance(value, SolutionSet):
        normals, offsets, equal = [], [], []
        for relation in value.constraints():
            g = relation.lhs - relation.rhs
            normals.append([float(g.diff(v)) for v in value.variables])
            offsets.append(float(g.subs(dict.fromkeys(value.variables, 0))))
            equal.append(isinstance(relation, sp.Eq))
        return [f"assert_in_halfspaces({q.name}, {normals!r}, {offsets!r}, {equal!r}, {rule})"]
    if q.kind is Kind.FUNCTION:
        lines = []
        for args, expected in zip(ref.probes, value, strict=True):
            call = f"{q.name}({', '.join(_literal(to_student(a)) for a in args)})"
            if isinstance(expected, tuple):
                lines.append(f"_out = {call}")
                lines += [
                    f"assert_close(_out[{i}], {_literal(e)}, {rule})"
                    for i, e in enumerate(expected)
                ]
            else:
                lines.append(f"assert_close({call}, {_literal(expected)}, {rule})")
        return lines
    if q.kind is Kind.EXPRESSION:
        points = sample_points(q.variables, count=6)
        xs = [[float(p[v]) for v in q.variables] for p in points]
        plain = value.xreplace({s: sp.Symbol(s.name) for s in value.free_symbols})
        ys = [float(plain.subs({sp.Symbol(v): p[v] for v in q.variables})) for p in points]
        return [f"assert_formula({q.name}, {ys!r}, {list(q.variables)!r}, {xs!r}, {rule})"]
    if q.kind is Kind.CHOICE:
        labels = [label for key, label in q.options.items() if key == value]
        accepted = sorted(
            {value, *(",".join(p.strip() for p in x.lower().split(",")) for x in labels)}
        )
        return [f"assert_option({q.name}, {accepted!r})"]
    main = f"assert_close({q.name}, {_literal(value)}, {rule})"
    if not ref.alternatives:
        return [main]
    half_unit = 0.5 * 10.0 ** -(q.rounding or 0)
    alternative = f"assert_close({q.name}, {_literal(ref.alternatives[0].value)}, rtol=0.0, atol={half_unit!r})"
    return ["try:", f"    {main}", "except AssertionError:", f"    {alternative}"]
