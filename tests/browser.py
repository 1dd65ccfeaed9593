"""Both sides in a real browser: a Jupyter server with nbgrader's formgrader over a course (the
teacher's), JupyterLab over a folder of released notebooks (the student's), and Debian's headless
Chromium driven by Selenium (the installed browser, never a download).

A test module takes the fixtures with `pytest_plugins = ("browser",)` and gives a `course`
fixture (an nbgrader course directory): `formgrader` serves it, `chromium` is the browser and
`teacher` drives formgrader's pages in it; `running_jupyterlab` and `lab_chromium` are the
student's. Without chromium and chromedriver the tests skip,
saying how to install them; in CI (`CI=true`) they fail instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.selenium_manager import SeleniumManager
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install -y chromium chromium-driver"
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
T = TypeVar("T")
WINDOW = (1280, 900)
# generous, for a loaded machine: a wait ends as soon as what it waits for is there
WAIT = 60.0
# a Jupyter install enables these in the environment's config; formgrader needs none of them
UNNEEDED = (
    "jupyterlab",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "notebook",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.validate_assignment",
)


@dataclass(frozen=True)
class Formgrader:
    """A running formgrader: where it answers, its token, the course it serves and its log."""

    url: str
    token: str
    course: Path
    log: Path

    def page(self, path: str) -> str:
        """The address of a formgrader page, logged in by the token (the browser keeps the cookie)."""
        return f"{self.url}/formgrader/{path.lstrip('/')}?token={self.token}"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and its driver are installed."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if not missing:
        return None
    return f"{' and '.join(missing)} not installed; as root: apt-get update && {INSTALL}"


def require_browser() -> None:
    """Skip without a browser; in CI, where .ci/run installs it, its absence is a failure."""
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def end_with_parent() -> None:
    """In the server's process before it starts: Linux sends it SIGTERM when the test process
    dies, even by SIGKILL, so that no server outlives the run that started it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")


# a port found free can be taken by another process before the server binds it: tried again
PORT_TAKEN = "already in use"
ATTEMPTS = 5


@contextlib.contextmanager
def running_formgrader(course: Path, home: Path) -> Iterator[Formgrader]:
    """A Jupyter server on 127.0.0.1 serving `course` with formgrader, in a session of its own.

    Its configuration, data, runtime and home are under `home`, so that nothing of the user's
    Jupyter setup is read or written; nbgrader reads the course's `nbgrader_config.py` from the
    server's working directory, the course itself.
    """
    options = ["--ServerApp.jpserver_extensions", "nbgrader.server_extensions.formgrader=True"]
    for name in UNNEEDED:
        options += ["--ServerApp.jpserver_extensions", f"{name}=False"]
    with running_server("jupyter_server", course, home, options) as (url, token, log):
        server = Formgrader(url, token, course, log)
        yield server


@dataclass(frozen=True)
class JupyterLab:
    """A running JupyterLab: where it answers, its token, the folder it serves and its log."""

    url: str
    token: str
    folder: Path
    log: Path

    def notebook(self, name: str) -> str:
        """The address that opens a notebook of the folder in JupyterLab, logged in by the token."""
        return f"{self.url}/lab/tree/{name}?token={self.token}"


@contextlib.contextmanager
def running_jupyterlab(folder: Path, home: Path) -> Iterator[JupyterLab]:
    """JupyterLab on 127.0.0.1 over `folder`, as a student starts it (the environment's extensions,
    nbgrader's among them), with its home and settings under `home`; no news or update check asks
    the internet."""
    # asked once whether to fetch Jupyter's news, a student answers; here the settings answer no
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    options = [
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]
    with running_server("jupyterlab", folder, home, options, ready="lab") as (url, token, log):
        yield JupyterLab(url, token, folder, log)


@contextlib.contextmanager
def running_server(
    module: str,
    root: Path,
    home: Path,
    options: list[str],
    ready: str = "formgrader/api/assignments",
) -> Iterator[tuple[str, str, Path]]:
    """A Jupyter server application (`python -m MODULE`) on 127.0.0.1 over `root`, in a session of
    its own, yielding its address, token and log once the page `ready` answers."""
    for folder in ("config", "data", "runtime", "exchange"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    log = home / "jupyter.log"
    for _ in range(ATTEMPTS):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(module, root, home, port, token, log, options)
        try:
            if answered_in_time(server, f"{url}/{ready}?token={token}", log):
                yield url, token, log
                return
            if PORT_TAKEN not in log.read_text():
                raise RuntimeError(f"the Jupyter server ended:\n{log.read_text()}")
        finally:
            stop(server)
    raise RuntimeError(f"every port tried was taken:\n{log.read_text()}")


def start_server(
    module: str, root: Path, home: Path, port: int, token: str, log: Path, options: list[str]
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    command = [
        sys.executable,
        "-m",
        module,
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--Exchange.root={home / 'exchange'}",  # nbgrader's default is a system folder
        *options,
    ]
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=end_with_parent,
        )


def answered_in_time(server: subprocess.Popen[bytes], page: str, log: Path) -> bool:
    """True once the page answers; False if the server ended first; an error after WAIT."""
    deadline = time.monotonic() + WAIT
    while not answers(page):
        if server.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Jupyter server did not answer in time:\n{log.read_text()}")
        time.sleep(0.1)  # polling for the port to answer, not a wait for something to happen
    return True


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server and anything it started: SIGTERM to its session, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def formgrader(course: Path, tmp_path: Path) -> Iterator[Formgrader]:
    """Formgrader over the test module's `course` fixture, stopped at the test's end."""
    with running_formgrader(course, tmp_path / "jupyter") as server:
        yield server


# Formgrader's submission page loads MathJax 2 from a CDN, and formgrade.js starts (binds its
# keys, marks itself loaded) only once MathJax is there. No CDN is reached from here, so every page
# gets this stand-in first: MathJax's startup signal says "End" and nothing is typeset (the tests
# read scores and comments, not rendered formulas).
MATHJAX = """
window.MathJax = {
  Hub: {
    Config: function () {},
    Queue: function () {},
    Startup: {signal: {Interest: function (hear) { setTimeout(function () { hear("End"); }, 0); }}}
  }
};
"""


def no_download(*args: object, **kwargs: object) -> dict[str, str]:
    raise AssertionError("Selenium Manager was asked for a browser: nothing may be downloaded")


@pytest.fixture
def chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    """Headless Chromium for formgrader's pages: the MathJax stand-in on every page."""
    with headless_chromium(tmp_path, monkeypatch) as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MATHJAX})
        yield driver


@pytest.fixture
def lab_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    """Headless Chromium for JupyterLab, which brings its own MathJax."""
    with headless_chromium(tmp_path, monkeypatch) as driver:
        yield driver


@contextlib.contextmanager
def headless_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[webdriver.Chrome]:
    """Headless Chromium, 1280×900, with a profile of its own; Debian's binaries, named explicitly."""
    require_browser()
    # given both paths Selenium never starts its manager; should that change, this says so
    monkeypatch.setattr(SeleniumManager, "binary_paths", no_download)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console
    for argument in (
        "--headless=new",
        "--no-sandbox",  # Chromium's own sandbox refuses to run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        # only the server here answers: formgrader's pages ask a CDN for MathJax, which must
        # fail at once rather than hold the page's load event until a time-out
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    service = Service(
        executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log")
    )
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


# Formgrader's pages, by the selectors its own templates and scripts give them (nbgrader 0.9).
SUBMISSIONS_LINK = "td.num-submissions a[href$='/formgrader/manage_submissions/{assignment}']"
STUDENT_ROW = "//tr[td[contains(@class, 'student-id')][normalize-space(.)='{student}']]"
NOTEBOOK_LINK = "td.name a[href*='/formgrader/submissions/']"
# formgrade.js makes `formgrader`; it has loaded once every grade and comment box is bound, and
# has settled once MathJax said "End" and it focused the first box (MathJax.loaded is its mark)
SUBMISSION_READY = (
    "return typeof formgrader !== 'undefined' && formgrader.loaded === true"
    " && formgrader.grades.loaded === true && formgrader.comments.loaded === true"
    " && MathJax.loaded === true;"
)
# formgrader scrolls to the box in focus with a jQuery animation; a click waits until it is over
STILL = "return $(':animated').length === 0;"
CENTRED = "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});"
# formgrade_models.js triggers `finished_saving` on the document once the server took a change
COUNT_SAVES = (
    "window.savesFinished = 0;"
    " $(document).on('finished_saving', function () { window.savesFinished += 1; });"
)


@dataclass(frozen=True)
class Teacher:
    """A teacher at formgrader in the browser: the pages they open, what they see, what they enter."""

    driver: webdriver.Chrome
    server: Formgrader

    def until(self, condition: Callable[[webdriver.Chrome], T]) -> T:
        return WebDriverWait(self.driver, WAIT).until(condition)

    def shown(self, where: str, by: str = By.CSS_SELECTOR) -> WebElement:
        """The element once it is on the page and visible (formgrader draws its tables by script)."""
        element = self.until(ec.visibility_of_element_located((by, where)))
        assert isinstance(element, WebElement)  # a wait that ends returns what it waited for
        return element

    def open_submission(self, assignment: str, student: str) -> str:
        """Go the way a teacher goes: Manage Assignments → the assignment's submissions → the
        student → the notebook; returns the text of the student's row in Manage Submissions.
        """
        self.driver.get(self.server.page(""))
        self.shown(SUBMISSIONS_LINK.format(assignment=assignment)).click()
        row = self.shown(STUDENT_ROW.format(student=student), By.XPATH)
        summary = str(row.text)
        row.find_element(By.CSS_SELECTOR, "td.student-name a").click()
        self.shown(NOTEBOOK_LINK).click()
        self.until(lambda d: d.execute_script(SUBMISSION_READY))
        return summary

    def reload(self) -> None:
        """Load the page again and wait until its grades and comments are shown."""
        self.driver.refresh()
        self.until(lambda d: d.execute_script(SUBMISSION_READY))

    def score_box(self, grade_id: str) -> WebElement:
        """A grade cell's score input: its placeholder is the auto score, its value the manual one."""
        return self.shown(f"input.score#{grade_id}")

    def comment_box(self, grade_id: str) -> WebElement:
        """A solution cell's comment box: its placeholder is the auto comment, its value the
        teacher's."""
        return self.shown(f"textarea.comment#{grade_id}-comment")

    def enter_score(self, grade_id: str, score: str) -> None:
        """Type a manual score, leave the box with Escape (formgrader's key for "defocus and
        save"), and wait until the server has taken it.
        """
        self.driver.execute_script(COUNT_SAVES)
        box = self.score_box(grade_id)
        self.until(lambda d: d.execute_script(STILL))
        # in the middle of the window, clear of formgrader's fixed bar at the top
        self.driver.execute_script(CENTRED, box)
        box.click()
        box.clear()
        box.send_keys(score, Keys.ESCAPE)
        self.until(lambda d: d.execute_script("return window.savesFinished") >= 1)

    def screenshot(self, path: Path, at: str | None = None) -> Path:
        """The window as the teacher sees it, scrolled to a grade cell's score box if named."""
        if at is not None:
            self.driver.execute_script(CENTRED, self.score_box(at))
            self.until(lambda d: d.execute_script(STILL))
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def teacher(chromium: webdriver.Chrome, formgrader: Formgrader) -> Teacher:
    return Teacher(chromium, formgrader)
