"""The `autograder` command as a user runs it, and the README's promises about it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.cli import main
from autograder.derivation.references import exercises, question_ids
from autograder.judging.feedback import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "exercises" / "published" / "seeds.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user calls it."""
    exe = Path(sys.executable).with_name("autograder")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=600, check=False
    )


def test_answers_json_prints_the_key_of_every_question() -> None:
    result = run("answers", "--json")
    assert result.returncode == 0, result.stderr
    key = json.loads(result.stdout)
    every = [f"{ex.name}.{q.name}" for ex in exercises() for q in ex.questions]
    assert [item["id"] for item in key] == every
    by_id = {item["id"]: item for item in key}
    assert by_id["attention_step.z_hat"]["reference"] == pytest.approx(4.0)
    assert by_id["minima.argmin_L1"]["reference"]["condition"] == "4*w1 + 7*w2 - 20 = 0"
    graded = [item for item in key if item["kind"] != "manual"]
    assert [item["id"] for item in graded] == question_ids()
    assert all(item["mistakes"] for item in graded)
    # a question the teacher grades: its key is the model answer and the rubric, in every language
    for item in (item for item in key if item["kind"] == "manual"):
        assert item["graded_by"] == "teacher" and "reference" not in item
        for part in ("model_answer", "rubric"):
            assert set(item[part]) == set(LANGUAGES) and all(item[part].values()), item["id"]


def test_answers_of_one_assignment_as_text() -> None:
    result = run("answers", "gradient_descent")
    assert result.returncode == 0
    assert "iterates" in result.stdout and "1.5, 2.25, 2.625" in result.stdout
    assert "softmax" not in result.stdout
    assert "numerical_pitfalls   manual          3 pt  graded by the teacher" in result.stdout
    assert "Local minimum" in result.stdout  # the model answer, for the teacher


def test_answers_with_mistakes_lists_every_named_mistake_alone_and_in_pairs() -> None:
    result = run("answers", "gradient_descent", "--mistakes", "--json")
    assert result.returncode == 0, result.stderr
    for item in (item for item in json.loads(result.stdout) if item["kind"] != "manual"):
        named = [m["id"] for m in item["mistake_answers"]]
        singles = [m for m in named if "+" not in m]
        assert singles == item["mistakes"], item["id"]
        for pair in (m for m in named if "+" in m):
            first, second = pair.split("+")
            assert item["mistakes"].index(first) < item["mistakes"].index(second), pair
        assert all(m["values"] for m in item["mistake_answers"])
    text = run("answers", "gradient_descent", "--mistakes").stdout
    # the sign slip on the iterates: w ← w + η f′(w) from w0 = 0, derived here by hand
    w, stepped = 0.0, []
    for _ in range(3):
        w = w + 0.25 * 2 * (w - 3)
        stepped.append(w)
    shown = re.escape("[" + ", ".join(f"{v:.4g}" for v in stepped) + "]")
    assert re.search(rf"^\s+sign\s+{shown}$", text, re.MULTILINE)
    assert re.search(r"^\s+sign\+factor_two\s+\[", text, re.MULTILINE)


def test_an_unknown_assignment_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["answers", "nope"])
    assert stop.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_audit_of_the_seeds_names_their_errors() -> None:
    result = run("audit", str(SEEDS), "--lang", "en", "--json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)
    found = {(f["source"].split(",")[0], f["id"], tuple(f["where"])): f for f in findings}
    slide = found[("seed 000", "attention_step.table", (5, 4))]
    assert (slide["published"], slide["right"], slide["mistake"]) == (
        "0.15",
        "-0.15",
        "slide_value",
    )
    p3 = found[("seed 001", "softmax_ce.p2", (2,))]
    assert (p3["published"], p3["right"]) == ("0.066", "0.067")
    dW2 = [f for f in findings if f["id"] == "softmax_ce.dW2"]
    assert dW2 and all(f["mistake"] == "carried" for f in dW2)
    numpy_loop = [f for f in findings if f["id"] == "backprop_chain.weights"]
    assert numpy_loop and all(f["mistake"] == "chain_factor" for f in numpy_loop)
    assert {f["source"] for f in numpy_loop} == {"seed 003, NumPy loop"}
    # what the seeds print right is not listed
    assert not [
        f for f in findings if f["source"].startswith(("seed 004", "seed 002", "seed 003, PyTorch"))
    ]
    assert not [f for f in findings if f["id"] in ("softmax_ce.p1", "softmax_ce.dz1")]
    # the slide's dW1 uses the rounded p₃ = 0.0986: 0.0986 · 1.5 = 0.1479, where 0.1478 is right
    (dW1,) = [f for f in findings if f["id"] == "softmax_ce.dW1"]
    assert (dW1["where"], dW1["published"], dW1["right"]) == ([2, 0], "0.1479", "0.1478")
    assert dW1["mistake"] == "carried"


def test_audit_text_output_and_a_clean_file(tmp_path: Path) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(
        json.dumps({"attention_step.z_hat": 4.0, "attention_step.grad": [3.5, 7, 3.5, 0]})
    )
    result = run("audit", str(clean), "--lang", "en")
    assert result.returncode == 0
    assert (
        "0 published values are not supported by the derivation (2 answers checked)."
        in result.stdout
    )
    seeds = run("audit", str(SEEDS))
    assert seeds.returncode == 1
    assert "attention_step.table: 1 von 42 Werten nicht gedeckt" in seeds.stdout
    assert "[5][4]   veröffentlicht 0.15, hergeleitet -0.15" in seeds.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"minima.nope": 1}', "no question 'minima.nope'"),
        ('{"minima.grad_f": 1}', "only numbers can be audited"),
        ('{"attention_step.z_hat": "four"}', "must be a number"),
        ("[1, 2]", "expected a mapping"),
    ],
)
def test_audit_of_a_bad_file_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "published.json"
    path.write_text(content)
    result = run("audit", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_grades_the_sample_class_end_to_end(tmp_path: Path) -> None:
    result = run("demo", "--out", str(tmp_path / "reports"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for assignment in ("attention_step", "backprop_neuron", "softmax_ce"):
        assert assignment in result.stdout
    totals = re.findall(r"(anna|ben|clara|dora): ([\d.]+)/([\d.]+)", result.stdout)
    scores = {name: float(got) / float(possible) for name, got, possible in totals}
    assert scores["anna"] == 1.0
    assert scores["dora"] == 0.0
    assert 0.0 < scores["ben"] < 0.5
    assert 0.5 < scores["clara"] < 1.0
    assert "½" in result.stdout  # partial credit, error carried forward
    assert "✗ sign" in result.stdout and "✗ bias_missing" in result.stdout
    # the answers in words of every assignment that has them, and four students hand each in
    manual = [ex for ex in exercises() if len(ex.autograded) < len(ex.questions)]
    waiting = 4 * sum(q.points for ex in manual for q in ex.questions if q.graded_by_teacher)
    assert (
        f"{waiting:g} points of {4 * len(manual)} submissions wait for the teacher" in result.stdout
    )
    # it ends with the class report, kept where it says, linking to the feedback pages beside it
    report = tmp_path / "reports" / "report.html"
    assert result.stdout.rstrip().endswith(f"Class report: {report} (open it in a browser)")
    page = report.read_text(encoding="utf-8")
    assert "Klassenbericht" in page and not re.search(r"\bnan\b", page, re.I)
    assert (tmp_path / "reports" / "feedback" / "clara" / "minima" / "minima.html").is_file()
    assert "href='feedback/clara/minima/minima.html'" in page


def quickstart() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Quickstart\s*\n.*?^```\w*\n(.*?)^```", text, re.S | re.M)
    assert block, "README has no Quickstart block"
    return [
        line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")
    ]


def test_the_quickstart_is_two_commands_and_ci_runs_the_second() -> None:
    commands = quickstart()
    assert len(commands) == 2
    assert "demo" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci


def test_every_autograder_command_in_the_readme_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^(\.venv/bin/autograder .+|printf .+)$", text, re.M)
    commands = [line.removeprefix(".venv/bin/autograder ") for line in lines]
    assert len(commands) >= 3
    for command in commands:
        if command.startswith("printf "):  # a file the next command reads, made as the README does
            subprocess.run(command, shell=True, check=True)
            continue
        result = run(*command.split())
        assert result.returncode in (0, 1), (command, result.stderr)
        assert "Traceback" not in result.stderr


def test_the_readme_python_example_holds() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code
    namespace: dict[str, object] = {}
    exec(code.group(1), namespace)  # the README's own example, run as written
    verdict = namespace["v"]
    assert verdict.mistake == "sign"


def test_pages_written_at_once_to_one_path_all_land_whole(tmp_path: Path) -> None:
    """Two grading runs may write the same feedback page at the same moment."""
    import threading

    from autograder.release.files import write_whole

    target = tmp_path / "feedback" / "s01" / "minima" / "minima.html"
    texts = [f"page {k}\n" * 2000 for k in range(16)]
    problems: list[BaseException] = []

    def write(text: str) -> None:
        try:
            for _ in range(20):
                write_whole(target, text)
        except BaseException as problem:
            problems.append(problem)

    threads = [threading.Thread(target=write, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert target.read_text(encoding="utf-8") in texts
    assert [p.name for p in target.parent.iterdir()] == ["minima.html"]


def test_a_functions_mistake_is_shown_on_a_probe_where_it_differs_from_the_reference() -> None:
    """Momentum forgotten gives the reference on the first probe (v0 = 0): its line shows the
    second probe, where it differs, with the reference's result there, computed here by hand."""
    text = run("answers", "momentum", "--exercises", str(ROOT / "docs" / "examples"), "--mistakes")
    assert text.returncode == 0, text.stderr
    line = next(
        ln for ln in text.stdout.splitlines() if ln.split()[:1] == ["no_momentum"] and "probe" in ln
    )
    found = re.search(
        r"probe (\d+): momentum_step\(\(w \+ 1\)\*\*2, ([-\d.]+), ([-\d.]+), "
        r"([-\d.]+), ([-\d.]+)\), the reference ([-\d.]+), ([-\d.]+)\)$",
        line,
    )
    assert found, line
    w, v, eta, mu = (float(found[k]) for k in range(2, 6))
    grad = 2 * (w + 1)
    v_new = mu * v + grad
    assert (float(found[6]), float(found[7])) == pytest.approx((w - eta * v_new, v_new), rel=1e-3)
    assert line.split()[1:3] == [f"{w - eta * grad:.4g},", f"{grad:.4g}"]


def test_two_mistakes_at_once_are_shown_on_a_probe_that_tells_them_from_each_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On momentum_step's first probe (v0 = 0) the sign slip alone and with momentum forgotten
    give the same result: the pair's line shows a probe where the two differ."""
    text = run("answers", "momentum", "--exercises", str(ROOT / "docs" / "examples"), "--mistakes")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.split("momentum_step", 1)[1].splitlines()[1:]
    shown = {}
    for ln in lines:
        if not ln.startswith("      ") or "(probe" not in ln:
            break
        name, rest = ln.split(None, 1)
        result, _, probe = rest.partition("  (probe ")
        shown[name] = (result.strip(), int(probe.split(":")[0]))
    single = {k: v for k, v in shown.items() if "+" not in k}
    pairs = {k: v for k, v in shown.items() if "+" in k}
    assert set(pairs) >= {"sign+no_momentum", "sign+updates_swapped"}, shown
    for result, probe in pairs.values():
        assert probe > 1  # the first probe tells none of them apart
        for other, at in single.values():
            assert (other, at) != (result, probe)
    # the mistake alone on the same probe, by the API: another result
    from autograder.derivation.references import mistake_targets
    from autograder.judging.grading import named_pairs
    from autograder.model.catalogue import FOLDERS_VARIABLE

    monkeypatch.setenv(FOLDERS_VARIABLE, str(ROOT / "docs" / "examples"))
    pair = dict(named_pairs("momentum.momentum_step"))["sign+no_momentum"]
    singles = dict(mistake_targets("momentum.momentum_step"))
    k = pairs["sign+no_momentum"][1] - 1
    for alone in ("sign", "no_momentum"):
        assert not np.allclose(np.ravel(pair.value[k]), np.ravel(singles[alone].value[k]))


def test_the_readme_table_of_named_mistakes_is_the_specs() -> None:
    from autograder.reports.key import mistakes_markdown

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- mistakes:[^\n]*-->\n(.*?)\n<!-- end of mistakes -->", text, re.DOTALL)
    assert found, "README has no table of named mistakes"
    assert found.group(1) == mistakes_markdown(), (
        "the README's table of mistakes is out of date; print the new one with\n"
        '.venv/bin/python -c "from autograder.reports.key import mistakes_markdown; '
        'print(mistakes_markdown())"'
    )
