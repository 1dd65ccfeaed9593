"""A teacher's own exercise: `autograder new` in a folder outside the package, then lint, release
through nbgrader and grade through the CLI with `--exercises DIR`; and lint of every exercise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.model.catalogue import ASSIGNMENTS, FOLDERS_VARIABLE, found
from autograder.release.lint import lint


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograder")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=600, check=False, env=env
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_passes_lint(assignment: str) -> None:
    assert lint(assignment).problems == []


def test_the_lecture_order_comes_first_then_the_rest_sorted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("zeta", "alpha"):
        (tmp_path / f"{name}.py").write_text("")
        (tmp_path / f"{name}.yaml").write_text("")
    (tmp_path / "no_texts.py").write_text("")  # a module without its texts is no exercise
    monkeypatch.setenv(FOLDERS_VARIABLE, str(tmp_path))
    assert list(found())[:2] == ["loss_functions", "minima"]
    assert list(found())[-2:] == ["alpha", "zeta"]


@pytest.mark.slow
def test_a_new_exercise_in_a_folder_of_its_own_lints_releases_and_grades(tmp_path: Path) -> None:
    folder, course, out = tmp_path / "mine", tmp_path / "course", tmp_path / "out"
    made = run_cli("new", "momentum", "--exercises", str(folder))
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["momentum.py", "momentum.yaml"]
    again = run_cli("new", "momentum", "--exercises", str(folder))
    assert again.returncode == 2 and "an assignment of that name already" in again.stderr
    given = ("--exercises", str(folder))
    checked = run_cli("lint", "momentum", *given)
    assert (checked.returncode, checked.stdout.splitlines()[0]) == (0, "momentum: ok"), checked
    # an "ok" says what it stands for: the skeleton has its independent check
    assert "  ✓ the worked solution passes its hidden tests" in checked.stdout
    assert "  ✓ the references agree with the spec's independent(p)" in checked.stdout
    assert "note: no independent check" not in checked.stdout
    released = run_cli(
        "release", "momentum", "--course", str(course), "--lang", "en", "--out", str(out), *given
    )
    assert released.returncode == 0, released.stderr
    for who, folder_name, score in (("anna", "solutions", 7.0), ("nobody", "release", 0.0)):
        results = tmp_path / f"{who}.json"
        notebook = out / folder_name / "en" / "momentum.ipynb"
        graded = run_cli(
            "grade", str(notebook), "--student", who, "--course", str(course),
            "--json", str(results), "--workers", "1", "--no-report", *given,
        )  # fmt: skip
        assert graded.returncode == 0, graded.stderr
        (result,) = json.loads(results.read_text())
        assert (result["score"], result["max_score"]) == (score, 7.0), result
    # without the folder the exercise is not known; with the variable it is
    unknown = run_cli("answers", "momentum")
    assert unknown.returncode == 2 and "momentum" in unknown.stderr
    env = {**__import__("os").environ, FOLDERS_VARIABLE: str(folder)}
    assert run_cli("answers", "momentum", env=env).returncode == 0


def test_lint_says_what_is_wrong_in_a_broken_exercise(tmp_path: Path) -> None:
    assert run_cli("new", "broken", "--exercises", str(tmp_path)).returncode == 0
    texts = tmp_path / "broken.yaml"
    lines = texts.read_text(encoding="utf-8").splitlines()
    # the Russian text of the exercise's own mistake is gone: no silent fall back to English
    texts.write_text("\n".join(ln for ln in lines if "Пропущена" not in ln), encoding="utf-8")
    spec = tmp_path / "broken.py"
    # the sign slip now leaves the gradient as it is: right on every question it is listed on
    spec.write_text(spec.read_text().replace("grad = s.sign * grad", "grad = grad"))
    checked = run_cli("lint", "broken", "--exercises", str(tmp_path))
    assert checked.returncode == 1, checked
    assert "mistakes.target_dropped: no text in ru" in checked.stdout
    assert "broken.grad0: the mistake 'sign' gives the right answer" in checked.stdout
    assert "broken.grad: the mistake 'sign' gives the right answer" in checked.stdout
    assert "Traceback" not in checked.stdout + checked.stderr


def test_help_with_a_folder_of_exercises_loads_no_spec_and_no_sympy(tmp_path: Path) -> None:
    assert run_cli("new", "mine", "--exercises", str(tmp_path)).returncode == 0
    probe = (
        "import sys\nfrom autograder.cli import main\n"
        f"try:\n    main(['answers', '--exercises', {str(tmp_path)!r}, '--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sympy', 'exercises.'))))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "mine" in shown  # a choice of `answers`, found by its file
    assert shown.splitlines()[-1] == "[]"


def test_lint_of_an_unknown_exercise_says_which_there_are() -> None:
    checked = run_cli("lint", "nope")
    assert checked.returncode == 2
    assert "no assignment 'nope'; there are: loss_functions" in checked.stderr


def _checks_cell_names() -> set[str]:
    """The names the released notebook's checks cell defines for the student's kernel."""
    import ast
    import inspect

    from autograder.release import notebook_checks

    tree = ast.parse(inspect.getsource(notebook_checks))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).partition(".")[0] for a in node.names}
    return {n for n in names if not n.startswith("_")}


def test_a_question_cannot_take_a_name_the_notebook_or_the_sheet_uses() -> None:
    from autograder.model.names import NOTEBOOK_NAMES, SHEET_NAMES
    from autograder.model.spec import Sheet, number, vector

    assert _checks_cell_names() == NOTEBOOK_NAMES
    assert {n for n in vars(Sheet) if not n.startswith("_")} == SHEET_NAMES
    for name in [*NOTEBOOK_NAMES, *SHEET_NAMES, "_hidden", "class", "2w", "w-1", ""]:
        with pytest.raises(ValueError, match=f"may not be named {name!r}"):
            vector(name, 2)
    assert number("w_1").name == "w_1"


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (('vector("w1", 2', 'vector("step", 2'), "ValueError: a question may not be named 'step'"),
        (("def derive(", "def derive(("), "SyntaxError"),
        (
            ("import sympy as sp", "import sympy as sp\nimport no_such_module"),
            "ModuleNotFoundError",
        ),
    ],
)
def test_a_spec_that_does_not_load_is_one_line_with_its_file(
    tmp_path: Path, edit: tuple[str, str], said: str
) -> None:
    assert run_cli("new", "mine", "--exercises", str(tmp_path)).returncode == 0
    spec = tmp_path / "mine.py"
    assert edit[0] in spec.read_text()
    spec.write_text(spec.read_text().replace(edit[0], edit[1], 1))
    course = tmp_path / "course"
    for command in ("answers", "lint", "release"):
        where = () if command == "lint" else ("--course", str(course))
        shown = run_cli(command, "mine", "--exercises", str(tmp_path), *where)
        out = shown.stdout + shown.stderr
        assert shown.returncode in (1, 2), out
        assert f"{spec} does not load (line " in out and said in out, out
        assert "Traceback" not in out
    assert not course.exists()  # the release stopped before it made the course


def test_lint_says_how_to_start_a_sum_that_may_be_a_vector(tmp_path: Path) -> None:
    """SymPy's 0 + Matrix raises a TypeError that names no fix: lint names one."""
    examples = Path(__file__).resolve().parents[1] / "docs" / "examples"
    for suffix in (".py", ".yaml"):
        text = (examples / f"adagrad{suffix}").read_text(encoding="utf-8")
        if suffix == ".py":
            assert "here, G, iterates, squares = p.w0, sp.zeros(2, 1), [], []" in text
            text = text.replace("p.w0, sp.zeros(2, 1), [], []", "p.w0, 0, [], []")
        (tmp_path / f"adagrad{suffix}").write_text(text, encoding="utf-8")
    checked = run_cli("lint", "adagrad", "--exercises", str(tmp_path))
    assert checked.returncode == 1
    assert "the seed's numbers: TypeError: unsupported operand" in checked.stdout
    assert "as 0 * w, the zero of w's shape, or sp.zeros(n, 1)" in checked.stdout
    assert "Traceback" not in checked.stdout + checked.stderr
