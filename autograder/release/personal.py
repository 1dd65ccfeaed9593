"""Each student's notebook through nbgrader's generate_assignment preprocessors, in memory.

nbgrader's `generate_assignment` per student costs 1–2 s (its app and configuration, a scratch
gradebook, files in and out); its preprocessors on one notebook, a few milliseconds. The pipeline
is nbgrader's own: the converter's list of preprocessors, in its order, configured as the course's
`generate_assignment` would be, run by nbconvert's exporter as nbgrader runs it. Only `SaveCells`
is left out: it writes the source cells into the gradebook, and the student's numbers belong in
no gradebook (the course's keeps the one shared version, generated as nbgrader generates it).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nbformat

from autograder.derivation.variants import draw
from autograder.release.notebooks import CODE_STUBS, instructor_notebook


class Pipeline:
    """nbgrader's generate_assignment, one assignment's student notebooks at a time."""

    def __init__(self, course: Path) -> None:
        from nbconvert.exporters import NotebookExporter
        from nbgrader.converters import GenerateAssignment
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import SaveCells
        from traitlets.config import Config, PyFileConfigLoader

        config = Config()
        config_file = course / "nbgrader_config.py"
        if config_file.exists():
            config.merge(PyFileConfigLoader(config_file.name, str(course)).load_config())
        config.CourseDirectory.root = str(course.resolve())
        config.ClearSolutions.code_stub = CODE_STUBS  # a course made before it was configured too
        coursedir = CourseDirectory(config=config)
        self.converter = GenerateAssignment(coursedir=coursedir, config=config)
        self.exporter = NotebookExporter(parent=self.converter, config=self.converter.config)
        for preprocessor in self.converter.preprocessors:
            if preprocessor is not SaveCells:
                self.exporter.register_preprocessor(preprocessor, enabled=True)
        self.db_url = coursedir.db_url

    def student_notebook(self, source: nbformat.NotebookNode, assignment: str) -> str:
        """The student version of an instructor notebook, as the JSON text nbgrader writes."""
        # read back as nbgrader reads a source notebook from its file
        notebook = nbformat.reads(nbformat.writes(source), as_version=4)
        resources: dict[str, Any] = {
            "unique_key": assignment,
            "output_files_dir": f"{assignment}_files",
            "nbgrader": {
                "student": ".",
                "assignment": assignment,
                "notebook": assignment,
                "db_url": self.db_url,
            },
        }
        output, _ = self.exporter.from_notebook_node(notebook, resources=resources)
        text: str = output
        return text


# the pipeline the processes of `student_notebooks` inherit when they are forked
_inherited: list[tuple[Pipeline, str, str, bytes]] = []


def student_notebooks(
    pipeline: Pipeline, assignment: str, lang: str, students: list[str], secret: bytes
) -> Iterator[tuple[str, str]]:
    """(student, notebook text) for each student, in their order: each student's numbers drawn
    from the secret and their notebook made on every core (a draw checks that the numbers make a
    fair exercise, a derivation of its own: most of the time, with nbgrader's checks of the cells)."""
    processes = min(os.cpu_count() or 1, len(students))
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for student in students:
            yield student, _made(pipeline, assignment, lang, secret, student)
        return
    _inherited[:] = [(pipeline, assignment, lang, secret)]
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            chunk = max(1, len(students) // (4 * processes))
            yield from zip(
                students, pool.map(_made_inherited, students, chunksize=chunk), strict=True
            )
    finally:
        _inherited.clear()


def _made_inherited(student: str) -> str:
    return _made(*_inherited[0], student)


def _made(pipeline: Pipeline, assignment: str, lang: str, secret: bytes, student: str) -> str:
    source = instructor_notebook(assignment, lang, draw(assignment, student, secret))
    return pipeline.student_notebook(source, assignment)
