"""The student's self-check from the command line: run the notebook in a Jupyter kernel and
report what each question's visible form check printed (never whether an answer is right).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.model.errors import UserError


class NotebookError(UserError, ValueError):
    """A file that is not a notebook this package released; the message says what is wrong."""


def self_check(path: Path, timeout: float = 60) -> dict[str, list[str]]:
    """Question name → the lines its form check printed (or the error its cell stopped with)."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError) as error:
        raise NotebookError(f"{path}: cannot be read as a notebook ({error})") from None
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True)
    client.execute(cwd=str(path.parent))
    report: dict[str, list[str]] = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type != "code" or not grade_id.endswith("_test"):
            continue
        lines = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                lines += output.get("text", "").splitlines()
            elif output.get("output_type") == "error":
                lines.append(f"{output.get('ename')}: {output.get('evalue')}")
        report[grade_id.removesuffix("_test")] = lines
    return report
