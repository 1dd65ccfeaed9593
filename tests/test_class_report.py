"""The class report: its statistics recomputed here without NumPy, a crafted class whose questions
discriminate as they should, bad classes that still make a clear page, and a graded course read
back from nbgrader's gradebook (a teacher's override counts), its exports, and the page in a real
browser."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import random
import re
import statistics
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from autograder.derivation.references import exercise
from autograder.reports.class_report import class_report
from autograder.reports.statistics import (
    OUTCOMES,
    Answer,
    AssignmentStats,
    Question,
    Sheet,
    assignment_stats,
)

pytest_plugins = ("browser",)

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = str(ROOT / ".venv" / "bin" / "autograder")
MISTAKES = ("sign", "factor_two", "chain_factor")


def drawn_class(seed: int, students: int) -> tuple[list[Question], list[Sheet]]:
    """A class with scores and mistakes drawn from a fixed seed."""
    rng = random.Random(seed)
    questions = [Question(f"q{i}", points) for i, points in enumerate((1, 2, 2, 3, 0.5))]
    sheets = []
    for k in range(students):
        ability = rng.random()
        answers = {}
        for q in questions:
            roll = rng.random()
            if roll < ability:
                answers[q.name] = Answer(q.points, "correct")
            elif roll < ability + 0.15:
                answers[q.name] = Answer(round(q.points * rng.choice((0.25, 0.5)), 6), "partial")
            elif roll < ability + 0.3:
                answers[q.name] = Answer(0.0, "unanswered")
            else:
                answers[q.name] = Answer(0.0, "wrong", rng.choice((*MISTAKES, None)))
        sheets.append(Sheet(f"s{k:02d}", answers))
    return questions, sheets


def pearson(x: list[float], y: list[float]) -> float:
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


@pytest.mark.parametrize("seed", range(6))
def test_the_statistics_are_the_definitions_recomputed(seed: int) -> None:
    questions, sheets = drawn_class(seed, 12 + 7 * seed)
    found = assignment_stats("drawn", questions, sheets, [s.student for s in sheets] + ["absent"])
    totals = [sum(a.score or 0 for a in s.answers.values()) for s in sheets]
    assert found.submitted == len(sheets) and found.missing == ("absent",)
    assert found.mean == pytest.approx(statistics.fmean(totals))
    assert found.median == pytest.approx(statistics.median(totals))
    assert found.sd == pytest.approx(statistics.stdev(totals))
    assert sum(c for *_, c in found.histogram) == len(sheets)
    for q, got in zip(questions, found.questions, strict=True):
        own = [s.answers[q.name].score or 0.0 for s in sheets]
        shares = [x / q.points for x in own]
        rest = [t - x for t, x in zip(totals, own, strict=True)]
        assert got.facility == pytest.approx(statistics.fmean(shares))
        assert got.sd == pytest.approx(statistics.stdev(shares))
        assert got.discrimination == pytest.approx(pearson(own, rest))
        counted = Counter(s.answers[q.name].outcome for s in sheets)
        assert got.outcomes == pytest.approx({o: counted[o] / len(sheets) for o in OUTCOMES})
        named = Counter(s.answers[q.name].mistake for s in sheets if s.answers[q.name].mistake)
        not_right = counted["wrong"] + counted["partial"]
        assert [(m.name, m.count) for m in got.mistakes] == sorted(
            named.items(), key=lambda item: (-item[1], item[0])
        )
        for m in got.mistakes:
            assert m.share == pytest.approx(m.count / not_right)
            assert len(m.students) == m.count


def crafted() -> AssignmentStats:
    """Ten students by strength: `hard` only the two strongest get right, `all` everyone gets
    right, `inverse` only the weakest get right; `base` sets the strength."""
    questions = [Question("base", 10.0)] + [Question(n, 2.0) for n in ("hard", "all", "inverse")]
    sheets = []
    for k in range(10):
        answers = {
            "base": Answer(10.0 * k / 9, "partial"),
            "hard": Answer(2.0, "correct") if k >= 8 else Answer(0.0, "wrong", "sign"),
            "all": Answer(2.0, "correct"),
            "inverse": Answer(2.0, "correct") if k < 3 else Answer(0.0, "wrong"),
        }
        sheets.append(Sheet(f"s{k}", answers))
    return assignment_stats("crafted", questions, sheets)


def test_discrimination_has_the_expected_sign_and_flag() -> None:
    by = {q.question.name: q for q in crafted().questions}
    assert by["hard"].discrimination is not None and by["hard"].discrimination > 0.5
    assert by["hard"].flags == ("too_hard",)
    assert by["all"].facility == 1.0 and by["all"].discrimination is None
    assert by["all"].undefined == "spread" and by["all"].flags == ("too_easy",)
    assert by["inverse"].discrimination is not None and by["inverse"].discrimination < 0
    assert by["inverse"].flags == ("too_hard", "weak_discrimination")
    assert by["hard"].mistakes[0].name == "sign" and by["hard"].mistakes[0].count == 8


def no_nan(page: str) -> None:
    assert not re.search(r"\bnan\b|\binf\b", page, re.I), "a number the page cannot show"


@pytest.mark.parametrize("lang", ["de", "en", "ru"])
def test_bad_classes_make_a_clear_page(lang: str) -> None:
    q = [Question("a", 1.0), Question("b", 2.0), Question("w", 2.0, by_teacher=True)]
    invalid = {
        "a": Answer(0.0, "invalid"),
        "b": Answer(0.0, "invalid"),
        "w": Answer(None, "waiting"),
    }
    classes = {
        "empty": [],
        "nobody": [
            assignment_stats("nobody", q, [], ["anna"]),
            assignment_stats("one", q, [Sheet("anna", invalid)], ["anna"]),
        ],
        "one": [assignment_stats("one", q, [Sheet("anna", invalid)], ["anna"])],
        "invalid": [assignment_stats("invalid", q, [Sheet(s, invalid) for s in ("a", "b", "c")])],
    }
    pages = {name: class_report("kurs", stats, ["anna"], lang) for name, stats in classes.items()}
    for page in pages.values():
        no_nan(page)
        assert page.count("<svg") == page.count("</svg>")
    from autograder.judging import feedback

    def said(key: str) -> str:
        return feedback.message("class_report", key, lang)

    assert said("empty") in pages["empty"] and "<svg" not in pages["empty"]
    assert said("nobody") in pages["nobody"]
    assert said("undefined_one") in pages["one"] and said("undefined") in pages["one"]
    assert said("undefined_spread") in pages["invalid"]
    assert said("not_scored") in pages["invalid"]  # the answer in words waits for everyone


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AUTOGRADER, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """minima released and handed in by the demo's class, graded, and one score overridden by
    the teacher through nbgrader's API (as formgrader saves it)."""
    from nbgrader.api import Gradebook

    from autograder import demo
    from autograder.samples import answered, submit

    course = tmp_path_factory.mktemp("report") / "course"
    assert run("release", "minima", "--course", str(course)).returncode == 0
    released = course / "release" / "minima" / "minima.ipynb"
    for student in demo.STUDENTS:
        notebook = answered(released, demo.answers("minima", student))
        submit(course, student, "minima", notebook, "2026-11-20 10:00:00.000000 UTC")
    out = course / "results.json"
    done = run("grade", str(course / "submitted"), "--json", str(out))
    assert done.returncode == 0, done.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("dL1_test", "minima", "minima", "dora")
        grade.manual_score = 1.5
        gradebook.db.commit()
    stats = course / "stats.json"
    report = run("report", "--course", str(course), "--json", str(stats), "--lang", "en")
    assert report.returncode == 0, report.stderr
    return {
        "course": course,
        "summary": done.stdout,
        "results": json.loads(out.read_text(encoding="utf-8")),
        "stats": json.loads(stats.read_text(encoding="utf-8")),
        "page": course / "reports" / "report.html",
    }


def test_a_grade_run_writes_the_report_and_says_where(graded: dict[str, Any]) -> None:
    assert f"class report: {graded['page']}" in graded["summary"]
    no_nan(graded["page"].read_text(encoding="utf-8"))


def test_the_report_reads_the_gradebook_and_the_mistakes_of_the_run(graded: dict[str, Any]) -> None:
    (minima,) = graded["stats"]
    results = {r["student"]: r for r in graded["results"]}
    scores = {
        (s, q["id"].partition(".")[2]): q["score"]
        for s, r in results.items()
        for q in r["questions"]
    }
    scores[("dora", "dL1")] = 1.5  # the teacher's override, from the gradebook
    by_student = {row["student"]: row["score"] for row in minima["sheets"]}
    for student in results:
        own = [v for (s, _), v in scores.items() if s == student]
        assert by_student[student] == pytest.approx(sum(own))
    points = {q.name: q.points for q in exercise("minima").questions}
    for q in minima["questions"]:
        name = q["question"]["name"]
        shares = [scores[(s, name)] / points[name] for s in results]
        assert q["facility"] == pytest.approx(statistics.fmean(shares))
        named = Counter(
            m["mistake"]
            for r in graded["results"]
            for m in r["questions"]
            if m["id"] == f"minima.{name}" and m["mistake"] and m["status"] in ("wrong", "partial")
        )
        assert {m["name"]: m["count"] for m in q["mistakes"]} == dict(named)


def test_the_exports_per_question_and_for_canvas(graded: dict[str, Any]) -> None:
    course = graded["course"]
    rows = list(
        csv.DictReader(
            io.StringIO(run("export", "--course", str(course), "--format", "questions").stdout)
        )
    )
    questions = exercise("minima").questions
    assert len(rows) == 4 * len(questions)
    dora = {r["question"]: r for r in rows if r["student"] == "dora"}
    assert dora["dL1"]["score"] == "1.5"
    canvas = run("export", "--course", str(course), "--format", "canvas").stdout.splitlines()
    assert canvas[0] == "Student,ID,SIS User ID,SIS Login ID,Section,minima"
    assert canvas[1] == f"Points Possible,,,,,{sum(q.points for q in questions):g}"
    assert canvas[2].startswith("anna,,,anna,,")


@pytest.mark.slow
def test_the_report_in_a_real_browser(
    graded: dict[str, Any], chromium: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    (minima,) = graded["stats"]
    chromium.set_window_size(1280, 800)
    chromium.get(graded["page"].as_uri())
    errors = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    shot = tmp_path / "report.png"
    assert chromium.save_screenshot(str(shot))
    print(f"the report at 1280×800: {shot}")
    figures = chromium.find_elements(By.CSS_SELECTOR, "figure svg")
    # the class's means, then per assignment its histogram and its questions' facility
    expected = [1, len(minima["histogram"]), len(minima["questions"])]
    assert [len(f.find_elements(By.CSS_SELECTOR, "g[id^='bar-']")) for f in figures] == expected
    for figure in figures:
        size = figure.size
        assert size["width"] > 100 and size["height"] > 50
    # the most frequent mistake first (of the earliest question where several are as frequent)
    top = min(
        (-m["count"], i, q["question"]["name"], m["name"])
        for i, q in enumerate(minima["questions"])
        for m in q["mistakes"]
    )
    first = chromium.find_element(By.CSS_SELECTOR, "table.mistakes tbody tr")
    assert first.text.startswith(f"{top[2]} {top[3]}")
    # a click on the points column sorts the students by them
    students = chromium.find_element(By.CSS_SELECTOR, "table.students")
    students.find_elements(By.CSS_SELECTOR, "th")[1].click()
    shown = [
        float(r.find_elements(By.CSS_SELECTOR, "td")[1].text)
        for r in students.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert shown == sorted(shown)


def test_copies_and_late_submissions_are_named() -> None:
    q = [Question("a", 1.0)]
    sheets = [
        Sheet("anna", {"a": Answer(1.0, "correct")}),
        Sheet("ben", {"a": Answer(0.0, "wrong", None, copied_from="anna")}, 0.5, late=True),
    ]
    stats = assignment_stats("minima", q, sheets, ["anna", "ben", "cleo"])
    assert stats.late == 1 and stats.missing == ("cleo",)
    assert [(c.student, c.question, c.whose) for c in stats.copies] == [("ben", "a", "anna")]
    page = class_report("kurs", [stats], ["anna", "ben", "cleo"], "en")
    assert "ben: a with anna&#x27;s numbers" in page
    assert "late: 1 · missing: 1 (cleo)" in page


def test_a_course_with_nothing_handed_in_gets_a_clear_report(tmp_path: Path) -> None:
    course = tmp_path / "course"
    missing = run("report", "--course", str(course))
    assert missing.returncode == 2 and "no gradebook" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run("release", "minima", "--course", str(course)).returncode == 0
    done = run("report", "--course", str(course), "--json", str(tmp_path / "stats.json"))
    assert done.returncode == 0, done.stderr
    page = (course / "reports" / "report.html").read_text(encoding="utf-8")
    assert "Noch nichts bewertet" in page
    no_nan(page)
    (minima,) = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    assert minima["submitted"] == 0 and minima["mean"] is None and minima["histogram"] == []


# --- the plots -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "most", "whole"),
    [(0, 20, 8, False), (0, 1, 5, True), (0, 7, 5, True), (0, 100, 5, False), (0, 0.5, 8, False),
     (0, 97, 8, False), (0, 1000, 5, True), (3, 19, 8, False)],
)  # fmt: skip
def test_axis_ticks_are_round_and_cover_the_range(
    low: float, high: float, most: int, whole: bool
) -> None:
    from autograder.reports.plots import ticks

    found = ticks(low, high, most, whole)
    steps = {round(b - a, 9) for a, b in itertools.pairwise(found)}
    assert len(steps) == 1 and 2 <= len(found) <= most + 2, found
    (step,) = steps
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5), found
    assert found[0] >= low and found[0] - low < step and high - found[-1] < step, found
    assert not whole or all(t == int(t) for t in found)


def test_a_plot_is_svg_with_a_bar_per_value_and_its_labels_as_text() -> None:
    import xml.etree.ElementTree as ET

    from autograder.reports.plots import bar_count, facility_svg, histogram_svg, means_svg

    names = ["a<b", "mse & mae", "x" * 30]
    drawn = [
        (histogram_svg([(0, 2, 1), (2, 4, 0), (4, 6, 3)], "Punkte", "Anzahl", "h"), 3),
        (facility_svg(names, [0.5, None, 1.0], [False, True, False], "Quote (%)", "f"), 3),
        (means_svg(names, [0.25, 0.0, 1.0], "Mittelwert (%)", "m"), 3),
    ]
    for svg, bars in drawn:
        root = ET.fromstring(svg)  # well formed, the names escaped
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert bar_count(svg) == bars
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        for rect in root.iter("{http://www.w3.org/2000/svg}rect"):
            x, w = float(rect.get("x", 0)), float(rect.get("width", 0))
            assert x >= 0 and w >= 0 and x + w <= float(root.get("width", 0))
        if svg is not drawn[0][0]:
            assert set(names) <= set(texts), texts
    # the facility bars are in proportion: a half of the whole one, and none for no facility
    widths = [
        float(r.get("width", 0))
        for r in ET.fromstring(drawn[1][0]).iter()
        if r.tag.endswith("rect")
    ]
    assert widths[1] == 0 and widths[0] == pytest.approx(widths[2] / 2, abs=0.1)
