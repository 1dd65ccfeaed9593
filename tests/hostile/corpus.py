"""The hostile corpus: submissions that try to fool, rob, stall or kill the grader, or are broken.

Every case starts from the released `attention_step` notebook answered with the worked solutions
(10 points: z_hat 1, loss 1, grad 2, w_new 2, table 3, slide_error 1) and changes one thing. Most
attacks sit in the last solution cell (`slide_error`), which nothing else reads, so that a case
costs exactly what it attacks. Each case states its expected points per question (the rest full)
and a phrase the feedback or the errors must contain.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import crashing
import escape
import forged
import nbformat
import paths
from kit import (
    ASSIGNMENT,
    BOUNDS,  # noqa: F401  (read from here by the tests and side_by_side.py)
    POINTS,
    ROOT,
    WHEN,
    WRONG,
    WRONG_OPTION,
    Case,
    cells_where,
    grade_id,
    in_cell,
    last,
    right_notebook,
)

from autograder import demo
from autograder.samples import answered

FIND_HIDDEN_TESTS = """\
import glob, re
found = 0.0
for path in glob.glob('/tmp/**/source/attention_step/*.ipynb', recursive=True)[:5]:
    text = open(path).read()
    hit = re.search(r"assert_close\\(z_hat, (?:np\\.array\\()?([0-9.e+-]+)", text)
    if hit:
        found = float(hit.group(1))
z_hat = found
"""
IMPORT_THE_GRADER = """\
import glob, importlib, site, sys
for path in glob.glob(site.getsitepackages()[0] + '/__editable__*finder.py'):
    finder = importlib.import_module(path.rsplit('/', 1)[1][:-3])
    finder.install()
from autograder import reference
z_hat = float(reference('attention_step.z_hat').value)
"""


def _broken_bytes(data: bytes) -> Callable[[nbformat.NotebookNode], bytes]:
    return lambda nb: data


def _truncated(nb: nbformat.NotebookNode) -> bytes:
    text = nbformat.writes(nb).encode()
    return text[: len(text) // 2]


def _as_v3(nb: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(nbformat.convert(nb, 3), version=3).encode()


def _with_markdown_of(size: int, as_output: bool) -> Callable[[nbformat.NotebookNode], Any]:
    def build(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        filler = "x" * size
        if as_output:
            for cell in nb.cells:
                if grade_id(cell) == "setup":
                    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=filler)]
        else:
            nb.cells.append(nbformat.v4.new_markdown_cell(filler))
        return nb

    return build


def _other_assignment(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    released = ROOT / "release" / "de" / "minima.ipynb"
    return answered(released, demo.answers("minima", "anna"))


def _duplicate_answer_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = []
    for cell in nb.cells:
        if grade_id(cell) == "slide_error":
            wrong = copy.deepcopy(cell)
            wrong.source = WRONG_OPTION
            wrong["id"] = "slide_error-first"
            cells.append(wrong)
        cells.append(cell)
    nb.cells = cells
    return nb


def _reordered(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tests = [c for c in nb.cells if (grade_id(c) or "").endswith("_test")]
    others = [c for c in nb.cells if c not in tests]
    nb.cells = tests[::-1] + others
    return nb


def _same_ids(nb: nbformat.NotebookNode) -> bytes:
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        cell["id"] = "same"
    return json.dumps(data).encode()


def _points_edited(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if grade_id(cell) == "slide_error_test":
            cell.metadata["nbgrader"]["points"] = 100
    return in_cell("slide_error", WRONG_OPTION)(nb)


def _renamed_answer_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if grade_id(cell) == "slide_error":
            cell.metadata["nbgrader"]["grade_id"] = "my_answer"
    return nb


FIRST: tuple[Case, ...] = (
    # fooling the checks
    Case(
        "patch_allclose",
        "fool",
        "numpy.allclose always True",
        last("import numpy as np\nnp.allclose = lambda *a, **k: True"),
        WRONG,
    ),
    Case(
        "patch_isclose",
        "fool",
        "numpy.isclose always True",
        last("import numpy as np\nnp.isclose = lambda *a, **k: np.True_"),
        WRONG,
    ),
    Case(
        "patch_testing",
        "fool",
        "numpy.testing asserts nothing",
        last(
            "import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\nnp.testing.assert_array_almost_equal = lambda *a, **k: None"
        ),
        WRONG,
    ),
    Case(
        "patch_math_isclose",
        "fool",
        "math.isclose always True",
        last("import math\nmath.isclose = lambda *a, **k: True"),
        WRONG,
    ),
    Case(
        "patch_builtins",
        "fool",
        "builtins abs, isinstance, float replaced",
        last(
            "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\nbuiltins.float = lambda *a: 0.0"
        ),
        WRONG,
    ),
    Case(
        "patch_assertion_error",
        "fool",
        "AssertionError replaced by a harmless class",
        last("import builtins\nbuiltins.AssertionError = type('Harmless', (BaseException,), {})"),
        WRONG,
    ),
    Case(
        "patch_sys_modules",
        "fool",
        "sys.modules entries of numpy and math replaced",
        last(
            "import sys, types\nsys.modules['numpy'] = types.ModuleType('numpy')\nsys.modules['math'] = types.ModuleType('math')"
        ),
        WRONG,
    ),
    Case(
        "redefine_checks",
        "fool",
        "check, assert_close and friends redefined to pass",
        last(
            "def check(*a, **k):\n    return True\n\ndef assert_close(*a, **k):\n    pass\n\nassert_option = assert_in_halfspaces = assert_close"
        ),
        WRONG,
    ),
    Case(
        "print_passed",
        "fool",
        'prints "All tests passed"',
        last('print("All tests passed!")\nprint("Score: 10/10")'),
        WRONG,
    ),
    Case(
        "liar_eq",
        "fool",
        "an object whose __eq__ is always True and __float__ right",
        in_cell(
            "slide_error",
            "class Liar:\n    def __eq__(self, other):\n        return True\n    def __float__(self):\n        return 4.0\n    def __str__(self):\n        return '5,w22'\nslide_error = Liar()",
        ),
        WRONG,
        "Typ Liar",
    ),
    Case(
        "liar_array",
        "fool",
        "__array__, __len__, __iter__ that lie or raise",
        in_cell(
            "table",
            "class Table:\n    def __array__(self, *a, **k):\n        raise RuntimeError('no')\n    def __len__(self):\n        raise RuntimeError('no')\n    def __iter__(self):\n        raise RuntimeError('no')\ntable = Table()",
        ),
        {"table": 0.0, "slide_error": 0.0},
        "Typ Table",
    ),
    Case(
        "float_equal_to_anything",
        "fool",
        "a float subclass equal to anything",
        in_cell(
            "z_hat",
            "class Any(float):\n    def __eq__(self, other):\n        return True\n    __hash__ = float.__hash__\nz_hat = Any(0.0)",
        ),
        {"z_hat": 0.0, "loss": 0.0, "grad": 0.0, "w_new": 0.0},
        "falsch",
    ),
    Case(
        "ndarray_equal_to_anything",
        "fool",
        "an ndarray subclass equal to anything",
        in_cell(
            "grad",
            "import numpy as np\nclass Any(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(np.shape(self), bool)\ngrad = np.zeros(4).view(Any)",
        ),
        {"grad": 0.0, "w_new": 0.0},
        "falsch",
    ),
    # looking for answers
    Case(
        "read_course_files",
        "rob",
        "searches /tmp for the course's instructor notebook",
        in_cell("z_hat", FIND_HIDDEN_TESTS),
        {"z_hat": 0.0, "loss": 0.0, "grad": 0.0, "w_new": 0.0},
        "",
    ),
    Case(
        "import_the_grader",
        "rob",
        "activates the editable install and imports the grader",
        in_cell("z_hat", IMPORT_THE_GRADER),
        {"z_hat": 0.0, "loss": 0.0, "grad": 0.0, "w_new": 0.0},
        "No module named 'autograder'",
    ),
    Case(
        "walk_gc_and_frames",
        "rob",
        "walks gc.get_objects() and the stack frames for answers",
        last(
            "import gc, sys\nseen = [o for o in gc.get_objects() if isinstance(o, dict) and 'slide_error' in o and o is not globals()]\nframe = sys._getframe()\nwhile frame is not None:\n    seen.append(frame.f_locals.get('reference'))\n    frame = frame.f_back"
        ),
        WRONG,
    ),
    Case(
        "environment",
        "rob",
        "reads the environment",
        last(
            "import os\nsecrets = {k: v for k, v in os.environ.items() if 'KEY' in k or 'TOKEN' in k or 'DB' in k}"
        ),
        WRONG,
    ),
    # denial of service
    Case(
        "while_true",
        "stall",
        "a cell that never ends",
        last("while True:\n    pass"),
        WRONG,
        "länger als 3 s",
    ),
    Case(
        "sleep",
        "stall",
        "sleeps far past the bound",
        last("import time\ntime.sleep(10**6)"),
        WRONG,
        "länger als 3 s",
    ),
    Case(
        "memory_bomb",
        "stall",
        "allocates without end",
        last("blocks = []\nwhile True:\n    blocks.append(bytearray(256 * 1024**2))"),
        WRONG,
        "MemoryError",
    ),
    Case(
        "fork_bomb",
        "stall",
        "forks without end",
        last("import os\nwhile True:\n    os.fork()"),
        WRONG,
        "BlockingIOError",
    ),
    Case(
        "output_flood",
        "stall",
        "prints without end",
        last("while True:\n    print('x' * 100_000)"),
        WRONG,
        "slide_error",
    ),
    Case(
        "deep_recursion",
        "stall",
        "recursion past the C stack",
        last(
            "import sys\nsys.setrecursionlimit(10**8)\ndef down(n):\n    return down(n + 1) + 1\ndown(0)"
        ),
        WRONG,
        "abgebrochen | beendet | MemoryError",
    ),
    Case(
        "ignore_signals",
        "stall",
        "ignores SIGALRM and SIGTERM, then loops",
        last(
            "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"
        ),
        WRONG,
        "länger als 12 s | Rechenzeitgrenze von 12 s",
    ),
    Case(
        "close_stdout",
        "stall",
        "closes stdout and stderr",
        last("import os, sys\nsys.stdout.close()\nos.close(1)\nos.close(2)"),
        WRONG,
    ),
    Case(
        "threads_left_running",
        "stall",
        "leaves busy threads behind",
        last(
            "import threading\nfor _ in range(4):\n    threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=False).start()"
        ),
        WRONG,
    ),
    # killing the run
    Case("os_exit", "kill", "os._exit(0)", last("import os\nos._exit(0)"), WRONG, "selbst beendet"),
    Case("sys_exit", "kill", "sys.exit()", last("import sys\nsys.exit()"), WRONG),
    Case("raise_system_exit", "kill", "raise SystemExit", last("raise SystemExit(3)"), WRONG),
    Case(
        "raise_keyboard_interrupt",
        "kill",
        "raise KeyboardInterrupt",
        last("raise KeyboardInterrupt"),
        WRONG,
    ),
    Case(
        "kill_parent",
        "kill",
        "os.kill(os.getppid(), 9)",
        last("import os\nos.kill(os.getppid(), 9)"),
        WRONG,
        "PermissionError",
    ),
    Case("kill_group", "kill", "os.kill(0, 9)", last("import os\nos.kill(0, 9)"), WRONG, "beendet"),
    # tampering with the notebook
    Case(
        "deleted_answer_cells",
        "tamper",
        "the last question's cells deleted",
        cells_where(lambda c: (grade_id(c) or "").startswith("slide_error"), lambda c: None),
        WRONG,
        "Nicht beantwortet",
    ),
    Case(
        "edited_test_cells",
        "tamper",
        "every test cell replaced by `pass`",
        cells_where(
            lambda c: (grade_id(c) or "").endswith("_test"), lambda c: _set_source(c, "pass")
        ),
        {},
    ),
    Case(
        "edited_points",
        "tamper",
        "points of a test cell set to 100 in the metadata",
        _points_edited,
        WRONG,
    ),
    Case(
        "renamed_grade_id", "tamper", "the answer cell's grade_id renamed", _renamed_answer_cell, {}
    ),
    Case(
        "duplicated_answer_cell",
        "tamper",
        "the answer cell twice: wrong, then right",
        _duplicate_answer_cell,
        {},
    ),
    Case("reordered_cells", "tamper", "test cells moved to the top, reversed", _reordered, {}),
    Case(
        "answer_in_markdown",
        "tamper",
        "the answer written into a markdown cell",
        cells_where(
            lambda c: grade_id(c) == "slide_error",
            lambda c: nbformat.v4.new_markdown_cell("slide_error = (5, 'w22')"),
        ),
        WRONG,
        "Nicht beantwortet",
    ),
    Case(
        "other_assignment",
        "tamper",
        "minima's notebook handed in as attention_step",
        _other_assignment,
        dict.fromkeys(POINTS, 0.0),
        "Nicht beantwortet",
    ),
    Case("nbformat_3", "tamper", "saved as nbformat 3", _as_v3, {}),
    Case("duplicate_cell_ids", "tamper", "every cell with the same id", _same_ids, {}),
    # broken files
    Case(
        "not_json",
        "broken",
        "text that is not JSON",
        _broken_bytes(b"this is not a notebook\n"),
        None,
        "kein gültiges JSON",
    ),
    Case(
        "truncated_json", "broken", "a notebook cut off halfway", _truncated, None, "abgeschnitten"
    ),
    Case("empty_file", "broken", "an empty file", _broken_bytes(b""), None, "leer"),
    Case(
        "binary_file",
        "broken",
        "binary bytes",
        _broken_bytes(bytes(range(256)) * 64),
        None,
        "kein Text",
    ),
    Case(
        "notebook_50mb",
        "broken",
        "a 50 MB notebook (a huge markdown cell)",
        _with_markdown_of(50 * 1024**2, as_output=False),
        {},
    ),
    Case(
        "output_20mb",
        "broken",
        "a 20 MB output already in the notebook",
        _with_markdown_of(20 * 1024**2, as_output=True),
        {},
    ),
    # awkward answers
    Case(
        "nan",
        "awkward",
        "NaN for a number",
        in_cell("z_hat", "z_hat = float('nan')"),
        {"z_hat": 0.0, "loss": 0.0, "grad": 0.0, "w_new": 0.0},
        "NaN",
    ),
    Case(
        "inf",
        "awkward",
        "inf in a vector",
        in_cell("grad", "import numpy as np\ngrad = np.array([np.inf, 7.0, 3.5, 0.0])"),
        {"grad": 0.0, "w_new": 0.0},
        "endlich",
    ),
    Case(
        "complex",
        "awkward",
        "a complex number",
        in_cell("loss", "loss = 6.125 + 1j"),
        {"loss": 0.0},
        "komplex",
    ),
    Case(
        "string",
        "awkward",
        "a string for a number",
        in_cell("loss", "loss = 'six'"),
        {"loss": 0.0},
        "Text",
    ),
    Case(
        "none",
        "awkward",
        "None",
        in_cell("loss", "loss = None"),
        {"loss": 0.0},
        "Nicht beantwortet",
    ),
    Case(
        "wrong_shape",
        "awkward",
        "a 2×2 matrix for a vector of 4",
        in_cell("w_new", "import numpy as np\nw_new = np.ones((2, 2))"),
        {"w_new": 0.0},
        "Form",
    ),
    Case(
        "huge_array",
        "awkward",
        "an array of 10⁷ numbers",
        in_cell("w_new", "import numpy as np\nw_new = np.zeros(10**7)"),
        {"w_new": 0.0},
        "groß",
    ),
    Case(
        "dtype_object",
        "awkward",
        "an object array holding the right numbers",
        in_cell(
            "w_new",
            "import numpy as np\nw_new = np.array(list(w_start - eta * grad), dtype=object)",
        ),
        {},
    ),
    Case(
        "torch_requires_grad",
        "awkward",
        "a torch tensor that requires grad (a float where torch is absent)",
        in_cell(
            "loss",
            "try:\n    import torch\n    loss = torch.tensor(0.5 * (z_hat - z) ** 2, requires_grad=True)\nexcept ImportError:\n    loss = 0.5 * (z_hat - z) ** 2",
        ),
        {},
    ),
)


CASES: tuple[Case, ...] = FIRST + escape.CASES + forged.CASES + crashing.CASES + paths.CASES


def _set_source(cell: Any, source: str) -> Any:
    cell.source = source
    return cell


NON_UTF8_STUDENT = b"stud\xffent"


def write(submitted: Path) -> dict[str, Case]:
    """Write every case as submitted/CASE/attention_step/attention_step.ipynb (and one bad name)."""
    base = right_notebook()
    cases = {}
    for case in CASES:
        folder = submitted / case.name / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        built = case.build(copy.deepcopy(base))
        data = built if isinstance(built, bytes) else nbformat.writes(built).encode()
        (folder / f"{ASSIGNMENT}.ipynb").write_bytes(data)
        (folder / "timestamp.txt").write_text(WHEN + "\n")
        cases[case.name] = case
    for case in CASES:
        if case.place is not None:
            case.place(submitted)
    odd = submitted / os.fsdecode(NON_UTF8_STUDENT) / ASSIGNMENT
    odd.mkdir(parents=True, exist_ok=True)
    (odd / f"{ASSIGNMENT}.ipynb").write_bytes(nbformat.writes(base).encode())
    return cases
