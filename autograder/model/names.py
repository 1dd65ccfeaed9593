"""The names a question cannot take: the variable or function a student writes under that name
would replace something the grader needs."""

from __future__ import annotations

import keyword

# Names a question cannot take, since the student's answer under that name would replace them:
# the worksheet's own methods (`r.step(...)` read back a question named `step` as the method), and
# what the released notebook's checks cell defines, which the student's cells share a kernel with.
SHEET_NAMES = frozenset({"step", "steps", "values"})
NOTEBOOK_NAMES = frozenset(
    {"np", "math", "MESSAGES", "check", "assert_close", "assert_in_halfspaces", "assert_option",
     "assert_formula"}
)  # fmt: skip


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a question's name (the variable or function the student writes), or None."""
    if not name.isidentifier() or keyword.iskeyword(name):
        return "it must be a Python name, as the student assigns it (letters, digits and _)"
    if name.startswith("_"):
        return "names starting with _ are the notebook's own"
    if name in SHEET_NAMES:
        return f"the worksheet's r.{name} is a method of its own; choose another name"
    if name in NOTEBOOK_NAMES:
        return "the notebook's checks use that name; choose another name"
    return None
