"""Nothing a submission sends or assigns can crash or stall the grader.

Rows of lines a student's code can write into the sandbox's result pipe (read_run gives a Run, the
honest lines beside them still count), of worker replies that are not what a worker sends, and of
hostile values for every kind of question (grade_answer gives a verdict, within its time bound);
then the pool and the batch, where one job or one marking that fails costs only that submission.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder import demo, grade_answer
from autograder.classroom import batch
from autograder.derivation.references import locate, question_ids
from autograder.judging import deadline, grading
from autograder.judging.grading import Outputs
from autograder.model.spec import Kind
from autograder.samples import answered, submit
from autograder.sandbox import plain, protocol
from autograder.sandbox.execution import Asked, Cell, Job, Limits, Run, Worker, read_run
from autograder.sandbox.pool import Pool

ROOT = Path(__file__).resolve().parents[1]

# A job of three cells asking for a number and for a function on two probes.
JOB = Job(
    (Cell("x = 1"), Cell("z_hat = 0.5", "z_hat", 0), Cell("def f(a):\n    return a", "f", 1)),
    (Asked("z_hat"), Asked("f", ((1.0,), (2.0,)))),
)


def line(message: Any) -> str:
    return json.dumps(message)


HONEST_START = [line({"cell": 0, "started": True}), line({"cell": 1, "started": True})]
HONEST_END = [
    line({"answer": "z_hat", "value": 0.5}),
    line({"cell": 2, "started": True}),
    line(
        {"answer": "f", "value": {"function": "f"}, "outputs": [{"result": 1.0}, {"result": 2.0}]}
    ),
    line({"done": True}),
]


def reply(*lines: str, **fields: Any) -> dict[str, Any]:
    return {"status": "finished", "signal": None, "seconds": 1.0, "lines": list(lines), **fields}


def honest_with(*forged: str) -> dict[str, Any]:
    """The honest run with the forged lines in its middle, as a cell of the student writes them."""
    return reply(*HONEST_START, *forged, *HONEST_END)


def assert_honest(run: Run) -> None:
    assert run.status == "finished" and run.completed
    assert run.answers["z_hat"].value == 0.5
    assert run.answers["f"].outputs == [("result", 1.0), ("result", 2.0)]
    assert run.cell_errors == {}


def deeply(levels: int, wrap: Any = lambda v: [v]) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = wrap(value)
    return value


# (a line the student's code writes, why the protocol refuses it)
FORGED = [
    ('{"cell": -100000, "error": "x"}', "a negative cell index"),
    ('{"cell": 100000, "started": true}', "a cell the job does not have"),
    ('{"cell": true, "error": "x"}', "a truth value for a cell (bool is an int in Python)"),
    ('{"cell": 1.0, "error": "x"}', "a float for a cell"),
    ('{"cell": "1", "error": "x"}', "a text for a cell"),
    ('{"cell": 0, "error": ["x"]}', "an error that is not text"),
    (line({"cell": 0, "error": "x" * 20_000}), "an error of 20,000 characters"),
    ('{"cell": 0, "started": 1}', "started that is not true"),
    ('{"cell": 0, "started": true, "error": "x"}', "two messages in one"),
    ('{"answer": ["x"], "value": 1}', "an unhashable answer name"),
    ('{"answer": {"a": 1}, "value": 1}', "a dict for an answer name"),
    ('{"answer": "secret", "value": 1}', "a name the job does not ask for"),
    ('{"answer": "z_hat"}', "an answer without a value"),
    ('{"answer": "z_hat", "value": 1, "extra": 2}', "a key the protocol does not have"),
    ('{"answer": "z_hat", "value": NaN}', "a NaN literal"),
    ('{"answer": "z_hat", "value": Infinity}', "an Infinity literal"),
    ('{"answer": "z_hat", "value": 1e999}', "a number beyond floats"),
    ('{"answer": "z_hat", "value": 123456789012345678901234567890}', "an integer beyond 64 bits"),
    (line({"answer": "z_hat", "value": deeply(40)}), "nesting deeper than the encoding's"),
    ("[" * 100_000, "nesting beyond the JSON parser's"),
    ('{"answer": "z_hat", "value": {"array": [1, 2], "shape": [3]}}', "a shape too large"),
    ('{"answer": "z_hat", "value": {"array": [1, 2], "shape": [true, 2]}}', "a bool in a shape"),
    ('{"answer": "z_hat", "value": {"array": [1], "shape": [-1]}}', "a negative axis"),
    ('{"answer": "z_hat", "value": {"shape": [2], "array": [1, 2]}}', "the tag after the shape"),
    ('{"answer": "z_hat", "value": {"array": ["a"], "shape": [1]}}', "text in a float array"),
    ('{"answer": "z_hat", "value": {"array": [1]}}', "an array without its shape"),
    ('{"answer": "z_hat", "value": {"dict": [[1]]}}', "a pair of one"),
    ('{"answer": "z_hat", "value": {"dict": 5}}', "a dict's body that is no list"),
    ('{"answer": "z_hat", "value": {"complex": [1]}}', "a complex number of one part"),
    ('{"answer": "z_hat", "value": {"float": "1.5"}}', "a float tag that is no special value"),
    ('{"answer": "z_hat", "value": {"missing": 1}}', "missing that is not true"),
    ('{"answer": "z_hat", "value": {}}', "an empty object"),
    ('{"answer": "z_hat", "value": {"evil": "x"}}', "a tag the encoding does not have"),
    (line({"answer": "z_hat", "value": {"formula": "x" * 20_000}}), "a formula too long"),
    (
        '{"answer": "z_hat", "value": {"table": {"columns": ["a"], "rows": [[1, 2]]}}}',
        "a ragged table",
    ),
    ('{"answer": "z_hat", "value": {"too_large": ["many"]}}', "a size that is no number"),
    ('{"answer": "z_hat", "value": 1, "outputs": []}', "outputs of a name that is no function"),
    ('{"answer": "z_hat", "value": {"missing": true}, "outputs": []}', "outputs of a missing one"),
    (line({"answer": "f", "value": 1, "outputs": [{"result": 1}] * 3}), "more outputs than probes"),
    ('{"answer": "f", "value": 1, "outputs": {"timeout": true}}', "a truth value for seconds"),
    ('{"answer": "f", "value": 1, "outputs": {"timeout": -1}}', "negative seconds"),
    (
        '{"answer": "f", "value": 1, "outputs": [{"result": 1, "raised": "x"}]}',
        "two outputs in one",
    ),
    ('{"answer": "f", "value": 1, "outputs": [5]}', "an output that is no object"),
    ('{"answer": "f", "value": 1, "outputs": "all right"}', "outputs that are no list"),
    ('{"done": true}', "done before the answers"),
    ('{"done": 1}', "done that is not true"),
    ("null", "not an object"),
    ("[]", "a list"),
    ('"done"', "a text"),
    ("", "an empty line"),
    ("\x00\xff garbage", "no JSON"),
]


@pytest.mark.parametrize(("forged", "why"), FORGED, ids=[why for _, why in FORGED])
def test_a_forged_line_is_discarded_and_the_honest_ones_count(forged: str, why: str) -> None:
    run = read_run(honest_with(forged), JOB)
    assert_honest(run)
    assert run.invalid == 1, why


def test_every_forged_line_at_once_leaves_the_honest_run() -> None:
    # a notebook of 30 cells: an honest run of it may send as many lines as the forged ones
    job = Job(JOB.cells + (Cell("pass"),) * 27, JOB.answers)
    run = read_run(honest_with(*(f for f, _ in FORGED)), job)
    assert_honest(run)
    assert run.invalid == len(FORGED)


# Lines that pass: each is a claim the student's own code could make (assign a value, return
# outputs, fail a cell), so it is believed; a later honest report replaces it like a later cell.
CLAIMS = [
    ('{"cell": 2, "error": "CellTimeout: forged"}', lambda r: r.cell_errors[2].endswith("forged")),
    ('{"answer": "z_hat", "value": [0.25]}', lambda r: r.answers["z_hat"].value == 0.5),
    (
        line({"answer": "z_hat", "value": [0.0] * (2 * plain.MAX_ELEMENTS + 1)}),
        lambda r: r.answers["z_hat"].value == 0.5,
    ),
]


@pytest.mark.parametrize(("claim", "check"), CLAIMS)
def test_a_line_that_follows_the_protocol_is_a_claim_the_students_code_could_make(
    claim: str, check: Any
) -> None:
    run = read_run(honest_with(claim), JOB)
    assert run.invalid == 0
    assert check(run)


def test_a_value_beyond_the_encodings_sizes_is_too_large_not_the_graders_problem() -> None:
    huge = line({"answer": "z_hat", "value": [[0.0] * 60_000] * 4})
    run = read_run(reply(*HONEST_START, *HONEST_END[:-1], huge, HONEST_END[-1]), JOB)
    value = run.answers["z_hat"].value
    assert isinstance(value, plain.Opaque) and value.tag == "too_large"
    verdict = grade_answer("attention_step.z_hat", value)
    assert verdict.error == "too_large"


def test_a_flood_of_lines_is_not_read_past_what_an_honest_run_sends() -> None:
    run = read_run(reply(*HONEST_START, *HONEST_END, *["{}"] * 1_000_000), JOB)
    assert_honest(run)
    assert run.unread > 900_000


HONEST_VALUES: list[tuple[str, Any]] = [
    ("lists nested 12 deep", deeply(12)),
    ("tuples nested 12 deep", deeply(12, lambda v: (v,))),
    ("dicts nested 12 deep", deeply(12, lambda v: {"key": v})),
    ("a table in lists", [[[[[[pd.DataFrame({"a": [[1, [2]]]})]]]]]]),
    ("an object array of lists", np.array([[1, 2], [3]], dtype=object)),
    ("a function", lambda x: x),
    ("a formula", sp.Symbol("w1") ** 2),
    ("a matrix of formulas", sp.Matrix([[sp.Symbol("w1"), 1]])),
    ("a long class name", type("X" * 500, (), {})()),
    ("100,000 numbers", np.zeros(10**5)),
    ("complex numbers", np.array([1j, np.nan + 1j])),
    ("text", np.array(["a", "b"])),
    ("special floats", [float("nan"), float("inf"), -float("inf"), complex(float("nan"), 1)]),
]


@pytest.mark.parametrize(("what", "value"), HONEST_VALUES, ids=[w for w, _ in HONEST_VALUES])
def test_every_value_the_sandbox_encodes_passes_the_schema(what: str, value: Any) -> None:
    data = json.loads(json.dumps(plain.encode(value), allow_nan=False))
    protocol.value_of(data)


plain_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.complex_numbers(),
        st.text(max_size=8),
        st.fractions(),
        hnp.arrays(
            st.sampled_from([np.float64, np.int8, np.bool_, np.complex128, np.str_]),
            hnp.array_shapes(max_dims=3, max_side=4),
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers()), inner, max_size=3),
    ),
    max_leaves=30,
)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(value=plain_values)
def test_any_value_the_sandbox_encodes_passes_the_schema(value: Any) -> None:
    protocol.value_of(json.loads(json.dumps(plain.encode(value), allow_nan=False)))


# (a worker reply that is not what a worker sends, the status read from it)
REPLIES = [
    ([1, 2], "worker_lost"),
    (None, "worker_lost"),
    ("finished", "worker_lost"),
    ({"status": "graded: 10/10"}, "worker_lost"),
    ({"status": ["finished"], "lines": HONEST_START}, "worker_lost"),
    (reply(*HONEST_START, signal="9", seconds="1", cpu_seconds=float("nan")), "finished"),
    (reply(signal=True, seconds=-5, max_rss_kb=2**70, output_bytes=-1), "finished"),
    (reply(seconds=float("inf"), cpu_seconds=True, max_rss_kb="lots"), "finished"),
    ({"status": "timeout", "lines": "not a list"}, "timeout"),
    ({"status": "killed", "lines": [1, None, ["x"], *HONEST_START]}, "killed"),
]


@pytest.mark.parametrize(("data", "status"), REPLIES)
def test_a_worker_reply_is_read_field_by_field(data: Any, status: str) -> None:
    run = read_run(data, JOB)
    assert run.status == status
    assert run.signal is None
    assert run.seconds >= 0 and np.isfinite(run.seconds)
    assert run.cpu_seconds >= 0 and np.isfinite(run.cpu_seconds)
    assert 0 <= run.max_rss_kb < 2**63 and 0 <= run.output_bytes < 2**63
    assert not run.completed and not run.answers


# Hostile values for every kind of question. Each gives a verdict, never an exception: refused for
# its form at once, or judged (wrong), or, past the bound, "could not be judged".
KINDS = {locate(qid)[1].kind: qid for qid in reversed(question_ids())}


w1 = sp.Symbol("w1")
# (what, the value made when its row runs: the largest take some 100 MB each)
HOSTILE: list[tuple[str, Any]] = [
    ("100,000 zeros", lambda: np.zeros(10**5)),
    ("10,000,000 zeros", lambda: np.zeros(10**7)),
    ("a list of 100,000 numbers", lambda: list(range(10**5))),
    ("a list of 10,000,000 numbers", lambda: [0.5] * 10**7),
    ("100,000 numbers as text", lambda: ["0.5"] * 10**5),
    ("100,000 rows of text", lambda: [["0.5"] * 7] * 10**5),
    ("100,000 fractions", lambda: np.array([Fraction(1, 3)] * 10**5, dtype=object)),
    ("100,000 complex numbers", lambda: np.ones(10**5, dtype=complex)),
    ("a table of 1,000,000 rows", lambda: pd.DataFrame(np.zeros((10**6, 7)))),
    ("a dict of 100,000 keys", lambda: {str(i): [i] for i in range(10**5)}),
    ("a set of 100,000 numbers", lambda: set(range(10**5))),
    ("nested 10,000 deep", lambda: deeply(10**4)),
    ("nested 60 deep", lambda: deeply(60)),
    ("'9' * 100000", lambda: "9" * 100_000),
    ("ten million characters", lambda: "x" * 10**7),
    ("ten million bytes", lambda: b"1" * 10**7),
    ("an integer of 100,000 digits", lambda: 10**100_000),
    ("exp(exp(exp(exp(exp(w1)))))", lambda: "exp(exp(exp(exp(exp(w1)))))"),
    ("x**x**x**x**x", lambda: "x**x**x**x**x"),
    ("w1**w1**w1**w1**w1", lambda: "w1**w1**w1**w1**w1"),
    ("factorial(10**9)", lambda: "factorial(10**9)"),
    ("9**9**9**9", lambda: "9**9**9**9"),
    ("exp(10**300) - exp(10**300)", lambda: "exp(10**300) - exp(10**300)"),
    ("the tower in SymPy", lambda: sp.exp(sp.exp(sp.exp(sp.exp(sp.exp(w1)))))),
    ("a SymPy sum of 3000 terms", lambda: sp.Add(*[w1**i for i in range(3000)], evaluate=False)),
    ("nested parentheses", lambda: "(" * 300 + "w1" + ")" * 300),
]


@pytest.mark.parametrize("kind", list(KINDS), ids=[k.value for k in KINDS])
@pytest.mark.parametrize(("what", "make"), HOSTILE, ids=[w for w, _ in HOSTILE])
def test_a_hostile_value_gets_a_verdict_within_the_bound(kind: Kind, what: str, make: Any) -> None:
    value = make()
    started = time.perf_counter()
    verdict = grade_answer(KINDS[kind], value, seconds=5.0)
    print(f"{kind.value} {what}: {time.perf_counter() - started:.3f} s, {verdict.error}")
    assert verdict.status in ("invalid", "wrong")
    assert verdict.score == 0.0 and verdict.feedback


FUNCTION = KINDS[Kind.FUNCTION]
PROBES = len(grading.reference(FUNCTION).probes)
# What a student's function may return (through the API it runs in a bounded child of the grader;
# through the sandbox its outputs come as plain data).
RETURNED: list[tuple[str, Any]] = [
    ("10,000,000 zeros", lambda *a: np.zeros(10**7)),
    ("nested 10,000 deep", lambda *a: deeply(10**4)),
    ("an integer of 100,000 digits", lambda *a: 10**100_000),
    ("ten million characters", lambda *a: "x" * 10**7),
    ("itself", lambda *a: a),
]


@pytest.mark.parametrize(("what", "function"), RETURNED, ids=[w for w, _ in RETURNED])
def test_a_function_returning_a_hostile_value_gets_a_verdict(what: str, function: Any) -> None:
    verdict = grade_answer(FUNCTION, function)
    assert verdict.status in ("invalid", "wrong") and verdict.score == 0.0


REPORTED: list[tuple[str, Outputs]] = [
    ("too large", Outputs((("result", plain.Opaque("too_large", [10**7])),) * PROBES)),
    ("100,000 results", Outputs((("result", 1.0),) * 10**5)),
    ("100,000 numbers each", Outputs((("result", list(range(10**5))),) * PROBES)),
    ("a raised text of a megabyte", Outputs((("raised", "x" * 10**6),) * PROBES)),
]


@pytest.mark.parametrize(("what", "outputs"), REPORTED, ids=[w for w, _ in REPORTED])
def test_outputs_reported_by_the_sandbox_get_a_verdict(what: str, outputs: Outputs) -> None:
    verdict = grade_answer(FUNCTION, outputs)
    assert verdict.status in ("invalid", "wrong") and verdict.score == 0.0
    assert len(verdict.feedback) < 2000


def test_an_answer_that_cannot_be_judged_in_time_gets_its_own_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forever(*args: Any, **kwargs: Any) -> Any:
        while True:
            pass

    monkeypatch.setattr(grading, "judge", forever)
    verdict = grade_answer("attention_step.z_hat", 4.0, lang="de", seconds=0.5)
    assert (verdict.status, verdict.score, verdict.error) == ("invalid", 0.0, "not_judged")
    assert "nicht innerhalb von 0.5 s beurteilen" in verdict.feedback
    # the alarm is off again: the next answer is judged as ever
    monkeypatch.undo()
    assert grade_answer("attention_step.z_hat", 4.0).correct


def test_the_bound_stops_a_loop_and_leaves_no_alarm_behind() -> None:
    handler = signal.getsignal(signal.SIGALRM)
    with pytest.raises(deadline.OutOfTime), deadline.within(0.2):
        while True:
            pass
    time.sleep(0.3)  # an alarm left set would ring here
    assert signal.getsignal(signal.SIGALRM) is handler


def test_the_alarm_ends_its_bound_wherever_it_interrupts() -> None:
    # the alarm may interrupt the bound's own ending; caught there, no bound may stay in force
    with deadline.within(0.1):
        try:
            while True:
                pass
        except deadline.OutOfTime:
            pass
        time.sleep(0.3)
    with deadline.within(5.0):
        time.sleep(0.3)


def test_time_the_grader_spends_on_its_own_work_is_not_counted() -> None:
    with deadline.within(2.0), deadline.excluded():
        time.sleep(2.5)


def test_an_inner_bound_ends_at_the_outer_one() -> None:
    started = time.monotonic()
    with pytest.raises(deadline.OutOfTime), deadline.within(0.2), deadline.within(30):
        while True:
            pass
    assert time.monotonic() - started < 20  # the inner bound's 30 s never came into force


def test_off_the_main_thread_the_bound_is_the_sizes_only() -> None:
    seen: list[BaseException] = []

    def judge() -> None:
        try:
            with deadline.within(0.05):
                time.sleep(0.2)
        except deadline.OutOfTime as problem:
            seen.append(problem)

    thread = threading.Thread(target=judge)
    thread.start()
    thread.join()
    assert seen == []


# The pool: a job whose run raises in the grader, or whose worker is lost, costs that job only.
LIMITS = Limits(wall_seconds=8, cell_seconds=2, function_seconds=2, cpu_seconds=6)


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with Pool(2, LIMITS) as p:
        yield p


def answer_job(value: int) -> Job:
    return Job((Cell(f"answer = {value}", "answer"),), (Asked("answer"),))


def test_a_job_that_fails_in_the_grader_is_a_fault_and_the_others_are_graded(pool: Pool) -> None:
    # a cell whose source cannot even be sent: Worker.run fails for real, before the worker
    broken = Job((Cell(object()),), (Asked("answer"),))  # type: ignore[arg-type]
    jobs = [(i, answer_job(i)) for i in range(3)]
    jobs.insert(1, ("broken", broken))
    jobs.append((99, answer_job(99)))
    runs: dict[Any, Run | None] = {}
    pool.map(jobs, lambda key, run: runs.__setitem__(key, run))
    assert set(runs) == {0, 1, 2, 99, "broken"}
    broken_run = runs["broken"]
    assert broken_run is not None and broken_run.status == "fault"
    assert "TypeError" in (broken_run.fault or "")
    for i in (0, 1, 2, 99):
        run = runs[i]
        assert run is not None and run.status == "finished" and run.answers["answer"].value == i


def test_a_lost_worker_is_replaced_and_its_job_runs_again(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost: list[int] = []
    real_run = Worker.run

    def lose_once(self: Worker, job: Job, limits: Limits) -> dict[str, Any]:
        if job.cells[0].source == "answer = 7" and not lost:
            lost.append(self.process.pid)
            self.process.kill()  # the worker dies under its job
        return real_run(self, job, limits)

    monkeypatch.setattr(Worker, "run", lose_once)
    runs: dict[Any, Run | None] = {}
    pool.map([(i, answer_job(i)) for i in (6, 7, 8)], lambda k, r: runs.__setitem__(k, r))
    assert lost
    for i in (6, 7, 8):
        run = runs[i]
        assert run is not None and run.status == "finished" and run.answers["answer"].value == i
    assert lost[0] not in [w.process.pid for w in pool.all]


def test_forged_lines_from_a_real_submission_cost_only_its_own_answers(pool: Pool) -> None:
    forge = (
        "import os\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        '        os.write(fd, b\'{"cell": -100000, "error": "x"}\\n{"answer": ["x"], "value": 1}\\n\')\n'
        "    except OSError:\n"
        "        pass\n"
        "answer = 3"
    )
    job = Job((Cell(forge, "answer"),), (Asked("answer"),))
    runs: dict[Any, Run | None] = {}
    pool.map([("forge", job), ("honest", answer_job(4))], lambda k, r: runs.__setitem__(k, r))
    forged, honest = runs["forge"], runs["honest"]
    assert forged is not None and forged.invalid >= 2 and forged.answers["answer"].value == 3
    assert honest is not None and honest.invalid == 0 and honest.answers["answer"].value == 4


def test_a_submission_whose_marking_fails_is_that_submissions_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = tmp_path / "course"
    released = ROOT / "release" / "de" / "attention_step.ipynb"
    for student in ("anna", "bert", "cara"):
        right = answered(released, demo.answers("attention_step", "anna"))
        submit(course, student, "attention_step", right, "2026-11-20 10:00:00.000000 UTC")
    real_mark = batch.mark

    def failing_for_bert(submission: Any, *args: Any) -> Any:
        if submission.student == "bert":
            raise IndexError("list index out of range")
        return real_mark(submission, *args)

    monkeypatch.setattr(batch, "mark", failing_for_bert)
    graded = batch.grade([course / "submitted"], batch.Options(workers=1, limits=LIMITS))
    results = {r.student: r for r in graded.results}
    assert set(results) == {"anna", "bert", "cara"}
    assert results["anna"].score == results["cara"].score == 10.0
    assert results["bert"].score == 0.0
    assert "Fehlers der Bewertung" in results["bert"].errors[0]
    assert all(m.verdict.error == "grader_error" for m in results["bert"].questions)
