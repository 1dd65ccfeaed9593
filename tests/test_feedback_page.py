"""What a student reads after grading: the feedback page in de, en and ru, its positions counted
from 1, mistakes by their names, the answer as the grader read it, and no reference value on it."""

from __future__ import annotations

import html
import json
import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest
import sympy as sp
from selenium.webdriver.common.by import By
from test_grader import ROOT, WHEN, released, run_cli

from autograder import demo
from autograder.classroom.titles import POINTS_BACK, plain_text, task_title
from autograder.derivation.references import exercise, reference
from autograder.judging import feedback
from autograder.judging.read_back import read_back
from autograder.judging.verdict import Outputs
from autograder.model.catalogue import exercises
from autograder.model.spec import exact
from autograder.model.values import Gradient
from autograder.release.notebooks import BEGIN_HIDDEN, END_HIDDEN
from autograder.samples import answered, submit

pytest_plugins = ("browser",)

LANGUAGES = ("de", "en", "ru")
# who shows what: ben's typical mistakes (softmax_ce: a decimal logarithm, a transposed gradient),
# clara's careless slips carried forward (trajectories partly right), dora's empty notebook
SUBMISSIONS = (("ben", "softmax_ce"), ("clara", "gradient_descent"), ("dora", "minima"))


@pytest.mark.parametrize(
    ("index", "lang", "columns", "said"),
    [
        ((0,), "de", (), "Eintrag 1"),
        ((4,), "en", (), "entry 5"),
        ((2,), "ru", (), "элемент № 3"),
        ((0, 1), "de", (), "Zeile 1, Spalte 2"),
        ((2, 1), "en", ("k", "w11"), "row 3, column w11"),
        ((1, 0), "ru", ("k", "w11"), "строка 2, столбец k"),
        ((0, 1, 2), "en", (), "row 1, column 2, 3"),
    ],
)
def test_positions_are_counted_from_one(
    index: tuple[int, ...], lang: str, columns: tuple[str, ...], said: str
) -> None:
    assert feedback.position(index, lang, columns) == said


def _mistakes() -> list[tuple[str, str]]:
    found = {(ex.name, m) for ex in exercises() for q in ex.questions for m in q.mistakes}
    shared = {("minima", m) for m in ("carried", "carried_forward", "copied")}
    return sorted(found | shared)


@pytest.mark.parametrize(("assignment", "mistake"), _mistakes())
def test_every_mistake_has_a_name_in_words_in_every_language(assignment: str, mistake: str) -> None:
    names = {lang: feedback.mistake_name(assignment, mistake, lang) for lang in LANGUAGES}
    own = feedback.exercise_texts(assignment).get("mistake_names", {})
    assert set(own.get(mistake) or feedback.messages()["mistake_names"][mistake]) == set(LANGUAGES)
    for lang, name in names.items():
        assert name and name != mistake and len(name) < 60, (lang, name)
    assert len(set(names.values())) > 1 or mistake.startswith(("log10", "base10")), names


def test_two_mistakes_at_once_are_named_by_both_names() -> None:
    both = feedback.mistake_name("softmax_ce", "log10+transposed", "de")
    assert both == "Zehnerlogarithmus statt ln und Matrix transponiert"
    either = feedback.mistake_name("minima", "sign|swapped|cross_term", "en")
    assert (
        either == "Gradient and its opposite swapped, Components swapped or The term xy is missing"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_question_has_a_title_in_plain_text(lang: str) -> None:
    for ex in exercises():
        for q in ex.questions:
            title = task_title(ex.name, q.name, lang)
            assert title != q.name and 15 < len(title) <= 162, (ex.name, q.name, title)
            prose = re.sub(r"`[^`]*`", "", title)  # code spans stay as the notebook has them
            # "Weise ihn `x` … zu" points back: the sentence that says what it is comes first
            assert not title.startswith(POINTS_BACK), (ex.name, q.name, title)
            assert not re.search(r"[{}$\\]|\*\*", prose), (ex.name, q.name, title)


@pytest.mark.parametrize(
    ("latex", "plain"),
    [
        (r"$\hat m_t = \frac{m_t}{1 - \beta_1^t}$", "m̂_t = m_t/(1 - β₁^t)"),
        (r"$\frac{a + b}{c}$", "(a + b)/c"),
        (r"$\frac{\partial L}{\partial z}$", "∂ L/∂ z"),
        (r"$\frac{-x}{2}$ und $\tfrac12$", "-x/2 und 1/2"),
        (r"$w_1^2$ und `w_1**2`", "w₁² und `w_1**2`"),
        (r"$g_t = f'(w_{t-1})$, $m_{t} = \beta_1 m_{t-1}$", "g_t = f'(w_(t-1)), m_t = β₁ m_(t-1)"),
        (r"$x^{n+1}$ und $w_{10}$", "x^(n+1) und w_10"),
    ],
)
def test_a_formula_in_a_title_reads_as_it_is_meant(latex: str, plain: str) -> None:
    assert plain_text(latex) == plain


@pytest.mark.parametrize(
    ("value", "probes", "shown"),
    [
        (0.123456789, (), "0.1235"),
        (7, (), "7"),
        (np.float64(2.5e-7), (), "2.5e-07"),
        (np.array([0.0900306, 0.244728, 0.665241]), (), "[0.09003, 0.2447, 0.6652]"),
        (np.array([[1.0, -2.0], [3.5, 4.25]]), (), "[[1, -2], [3.5, 4.25]]"),
        ([1, 2.0, 3.33333], (), "[1, 2, 3.333]"),
        ((np.array([1.0]), 0.5), (), "([1], 0.5)"),
        (Fraction(1, 3), (), "1/3"),
        ("2*(w1 - 3)", (), "'2*(w1 - 3)'"),
        (True, (), "True"),
        ({"a": 1.0}, (), "{'a': 1}"),
        (pd.DataFrame({"k": [0, 1], "w": [1.23456, 2.0]}), (), "[k, w] 0, 1.235; 1, 2"),
        (Outputs((("result", np.array([3.0, 4.0])),)), [(1, 1)], "(1, 1) → [3, 4]"),
        (Outputs((("result", 2.0),)), [(0.5,)], "(0.5) → 2"),
        (Outputs((("result", (0.5, 2.0)),)), [(0.25,)], "(0.25) → (0.5, 2)"),
        (Outputs((("raised", "ZeroDivisionError: x"),)), [(2,)], "(2) → ZeroDivisionError: x"),
        (Outputs(()), [(2,)], "…"),
        (
            Outputs((("result", [0.0, 1.5]),)),
            [(Gradient("(w - 3)**2", ("w",)), exact("0.0"), sp.Rational(1, 4), 1)],
            "(∇((w - 3)**2), 0, 0.25, 1) → [0, 1.5]",
        ),
        (np.arange(1000.0), (), None),
    ],
)
def test_an_answer_is_shown_back_rounded_and_short(
    value: Any, probes: list[tuple[Any, ...]], shown: str | None
) -> None:
    said = read_back(value, probes)
    assert len(said) <= 160 and "\n" not in said
    if shown is not None:
        assert said == shown


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The three submissions graded once per language, each into a feedback folder of its own."""
    course = tmp_path_factory.mktemp("feedback") / "course"
    for student, assignment in SUBMISSIONS:
        notebook = answered(released(assignment), demo.answers(assignment, student))
        submit(course, student, assignment, notebook, WHEN)
    found: dict[str, Any] = {"course": course}
    for lang in LANGUAGES:
        out, results = course / f"pages-{lang}", course / f"{lang}.json"
        run = run_cli(
            "grade", str(course / "submitted"), "--course", str(course), "--lang", lang,
            "--feedback", str(out), "--json", str(results), "--no-report", "--force",
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        found[lang] = {
            "results": {r["student"]: r for r in json.loads(results.read_text())},
            "pages": {
                student: out / student / assignment / f"{assignment}.html"
                for student, assignment in SUBMISSIONS
            },
        }
    return found


def _visible(page: Path) -> str:
    """The page's text as a reader sees it: no tags, no attributes."""
    text = page.read_text(encoding="utf-8")
    body = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_named_mistake_is_shown_by_its_name_with_the_answer_as_read(
    pages: dict[str, Any], lang: str
) -> None:
    result = pages[lang]["results"]["ben"]
    seen = _visible(pages[lang]["pages"]["ben"])
    by_name = {q["id"].partition(".")[2]: q for q in result["questions"]}
    assert by_name["loss1"]["mistake"] == "log10" and by_name["dW1"]["mistake"] == "transposed"
    for name, q in by_name.items():
        assert task_title("softmax_ce", name, lang).replace("`", "") in seen
        assert q["answer"] and html.unescape(q["answer"]) in seen, name
        if q["mistake"]:
            assert feedback.mistake_name("softmax_ce", q["mistake"], lang) in seen
    said = re.findall(
        r"<span class='mistake'>([^<]*)</span>", pages[lang]["pages"]["ben"].read_text()
    )
    label = feedback.message("report", "mistake", lang)
    named = [q["mistake"] for q in by_name.values() if q["mistake"]]
    names = [feedback.mistake_name("softmax_ce", m, lang) for m in named]
    assert said == [html.escape(f"{label}: {n}") for n in names]
    # an id that is no word of the language (log10, y_forgotten) is nowhere on the page
    assert not [m for m in named if not m.isalpha() and m in seen]
    title = feedback.pick(feedback.exercise_texts("softmax_ce")["title"], lang)
    assert title in seen


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_partial_trajectory_says_which_entries_count_and_why(
    pages: dict[str, Any], lang: str
) -> None:
    questions = pages[lang]["results"]["clara"]["questions"]
    partial = [q for q in questions if q["status"] == "partial"]
    assert partial, "clara's slips carried forward leave trajectories partly right"
    counted = feedback.message("verdict", "entries", lang, numbers="1")
    from_one = {"de": "gezählt ab 1", "en": "counting from 1", "ru": "счёт с 1"}[lang]
    for q in partial:
        assert counted in q["feedback"] and from_one in q["feedback"], q["feedback"]
        assert q["mistake"] == "carried_forward"
    wrong = [q for q in questions if q["status"] == "wrong" and not q["mistake"]]
    step = feedback.message("next_step", "number", lang).split(":")[0]
    assert wrong and all(step in q["feedback"] for q in wrong), wrong


def test_a_page_holds_no_reference_value_and_no_hidden_test(pages: dict[str, Any]) -> None:
    instructor = nbformat.read(ROOT / "solutions" / "de" / "minima.ipynb", as_version=4)
    hidden = [
        line.strip()
        for cell in instructor.cells
        if BEGIN_HIDDEN in cell.source
        for line in cell.source.split(BEGIN_HIDDEN)[1].split(END_HIDDEN)[0].splitlines()
        if len(line.strip()) > 12
    ]
    assert hidden
    for lang in LANGUAGES:
        page = pages[lang]["pages"]["dora"].read_text(encoding="utf-8")
        assert not any(line in page for line in hidden)
        for q in exercise("minima").autograded:
            ref = reference(f"minima.{q.name}")
            if q.kind.value in ("number", "vector"):
                shown = read_back(np.asarray(ref.value, dtype=float))
                # a number short enough to be any page's (0, 1) says nothing
                assert len(shown) < 4 or shown not in page, (q.name, shown)
        assert pages[lang]["results"]["dora"]["questions"][0]["answer"] is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_in_a_browser(
    pages: dict[str, Any], lang: str, chromium: Any, tmp_path: Path
) -> None:
    """Chromium opens the page: no console error, a row per question, the mistakes by name."""
    page = pages[lang]["pages"]["ben"]
    chromium.set_window_size(1280, 900)
    chromium.get(page.as_uri())
    errors = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    rows = chromium.find_elements(By.CSS_SELECTOR, "tr[data-question]")
    expected = [q.name for q in exercise("softmax_ce").questions]
    assert [r.get_attribute("data-question") for r in rows] == expected
    text = chromium.find_element(By.TAG_NAME, "body").text
    label = feedback.message("report", "mistake", lang)
    named = [e.text for e in chromium.find_elements(By.CSS_SELECTOR, ".mistake")]
    expected_names = [
        f"{label}: {feedback.mistake_name('softmax_ce', q['mistake'], lang)}"
        for q in pages[lang]["results"]["ben"]["questions"]
        if q["mistake"]
    ]
    assert named == expected_names and "log10" not in text
    shot = tmp_path / f"feedback-{lang}.png"
    assert chromium.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    # `AUTOGRADER_SCREENSHOTS=docs pytest tests/test_feedback_page.py` remakes the README's picture
    if lang == "de" and os.environ.get("AUTOGRADER_SCREENSHOTS"):
        assert chromium.save_screenshot(
            str(ROOT / os.environ["AUTOGRADER_SCREENSHOTS"] / "feedback.png")
        )
