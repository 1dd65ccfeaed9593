"""Hostile cases: crashing, values that would make the grader itself work for minutes or fail.

Huge answers are refused for their size before any entry is read; values the encoding cannot
carry (nested too deep, an integer beyond floats) are named for what they are. attention_step has
no formula question: the formula bombs are rows of tests/test_untrusted.py.
"""

from __future__ import annotations

from collections.abc import Callable

import nbformat
from kit import WRONG, Case, in_cell

HUGE = "viel zu groß"


def each(answers: dict[str, str]) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    """Replace the solution cell of each question by its code."""

    def build(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        for name, code in answers.items():
            nb = in_cell(name, code)(nb)
        return nb

    return build


FOUR = ("z_hat", "loss", "grad", "w_new")

CASES: tuple[Case, ...] = (
    Case(
        "four_times_100k_numbers",
        "crash",
        "four answers of 100,000 numbers each",
        each({n: f"import numpy as np\n{n} = np.linspace(0, 1, 100_000)" for n in FOUR}),
        dict.fromkeys(FOUR, 0.0),
        HUGE,
    ),
    Case(
        "four_times_100k_texts",
        "crash",
        "four answers of 100,000 numbers written as text",
        each({n: f"{n} = ['0,5'] * 100_000" for n in FOUR}),
        dict.fromkeys(FOUR, 0.0),
        HUGE,
    ),
    Case(
        "table_of_100k_rows",
        "crash",
        "a table of 100,000 rows of the right columns (the last cell, which reads it, fails)",
        in_cell(
            "table",
            "import pandas as pd\ntable = pd.DataFrame([[0.5] * 7] * 100_000, columns=['iteration', 'z_hat', 'error', 'w11', 'w22', 'w33', 'w44'])",
        ),
        {"table": 0.0, "slide_error": 0.0},
        HUGE,
    ),
    Case(
        "choice_of_a_megabyte",
        "crash",
        "an option repeated into a text of half a megabyte",
        in_cell("slide_error", "slide_error = '5,w22' * 100_000"),
        WRONG,
        "viel zu lang",
    ),
    Case(
        "choice_of_100k_parts",
        "crash",
        "an option as a list of 100,000 parts",
        in_cell("slide_error", "slide_error = ['5', 'w22'] * 50_000"),
        WRONG,
        HUGE,
    ),
    Case(
        "nested_5000_deep",
        "crash",
        "a gradient nested 5000 lists deep (the step that uses it fails)",
        in_cell("grad", "grad = 0.5\nfor _ in range(5000):\n    grad = [grad]"),
        {"grad": 0.0, "w_new": 0.0},
        "nested too deeply",
    ),
    Case(
        "integer_of_100k_digits",
        "crash",
        "a loss of 100,000 digits",
        in_cell("loss", "import sys\nsys.set_int_max_str_digits(0)\nloss = 10**100_000"),
        {"loss": 0.0},
        "OverflowError",
    ),
)
