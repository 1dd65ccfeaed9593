"""The released notebook as a student meets it: JupyterLab on 127.0.0.1 opens it with its locked
cells read-only, and "Run All" on a notebook with one question answered prints one line per
question, each from that question's check ("form all right" or "no answer yet"), and no traceback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from browser import WAIT, JupyterLab, running_jupyterlab
from committed import notebook
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from autograder.derivation.references import exercise
from autograder.judging import feedback

pytest_plugins = ("browser",)

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "minima"
# JupyterLab 4's own markup: its menus carry the command they run, a code cell's prompt shows the
# number of its run ("[3]:") once run, the notebook's toolbar shows the kernel's state
RUN_MENU = "//li[contains(@class, 'lm-MenuBar-item')][normalize-space(.)='Run']"
RUN_ALL = "li.lm-Menu-item[data-command='runmenu:run-all']"
KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
ALL_RUN = """
const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))
    && document.querySelector(arguments[0]) !== null;
"""


def shown(driver: webdriver.Chrome, selector: str, count: int) -> list[WebElement]:
    """The elements, once JupyterLab has rendered all `count` of them (it renders as it scrolls)."""
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found if len(found) == count else []


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[JupyterLab]:
    """JupyterLab over a student's folder holding the released notebook, as it was handed out."""
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copyfile(notebook("release", ASSIGNMENT), folder / f"{ASSIGNMENT}.ipynb")
    with running_jupyterlab(folder, tmp_path / "jupyter") as server:
        yield server


@pytest.mark.slow
def test_run_all_in_jupyterlab_says_a_line_per_question(
    lab: JupyterLab, lab_chromium: webdriver.Chrome, tmp_path: Path
) -> None:
    driver = lab_chromium
    wait = WebDriverWait(driver, WAIT)
    driver.get(lab.notebook(f"{ASSIGNMENT}.ipynb"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, KERNEL_IDLE)))
    released = nbformat.read(lab.folder / f"{ASSIGNMENT}.ipynb", as_version=4)

    # locked as nbgrader marks them: the editor of every cell but the answers' is read-only
    editors = wait.until(lambda d: shown(d, ".jp-Cell .cm-content", len(released.cells)))
    assert [e.get_attribute("aria-readonly") == "true" for e in editors] == [
        not c.metadata.get("editable", True) for c in released.cells
    ]

    # the student answers the first question in its cell, typing as they would, then runs all
    answered = exercise(ASSIGNMENT).autograded[0]
    answer_cell = [c.id for c in released.cells].index(answered.name)
    editors[answer_cell].click()
    editors[answer_cell].send_keys(Keys.END, Keys.ENTER, f"{answered.name} = [1, 2]")
    wait.until(ec.element_to_be_clickable((By.XPATH, RUN_MENU))).click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, RUN_ALL))).click()
    wait.until(lambda d: d.execute_script(ALL_RUN, KERNEL_IDLE))

    # every cell ran, and what shows is one line per question, from its check, in order
    outputs = driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-OutputArea-output")
    assert [o.get_attribute("textContent").strip() for o in outputs] == [
        feedback.message("check", "form_ok" if q == answered else "missing", "de", name=q.name)
        for q in exercise(ASSIGNMENT).autograded
    ]
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-mime-type*='error']")

    # the picture: the first question, its answer cell and what its check said
    first = next(i for i, c in enumerate(released.cells) if c.id.endswith("_task"))
    cell = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[first]
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", cell)
    shot = tmp_path / "jupyterlab.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    # `AUTOGRADER_SCREENSHOTS=docs pytest tests/test_jupyterlab.py` remakes the README's picture
    if os.environ.get("AUTOGRADER_SCREENSHOTS"):
        assert driver.save_screenshot(
            str(ROOT / os.environ["AUTOGRADER_SCREENSHOTS"] / "jupyterlab.png")
        )
