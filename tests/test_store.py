"""The references stored with a course: what is read back is what a fresh derivation gives, a
changed key derives anew, and a file anybody else could have written is never read."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from autograder.derivation import store
from autograder.derivation.derived import Target
from autograder.derivation.references import ASSIGNMENTS, Seed, exercise, reference
from autograder.judging.grading import grade_answer
from autograder.model.values import Rule, SolutionSet, numeric


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return bool(np.array_equal(x, y, equal_nan=True))  # a mistake may overflow to NaN
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, SolutionSet) and isinstance(b, SolutionSet):
        return (
            a.variables == b.variables and a.condition == b.condition and same(a.member, b.member)
        )
    if isinstance(a, sp.Basic) and isinstance(b, sp.Basic):
        return a == b or sp.simplify(a - b) == 0
    if isinstance(a, Rule) and isinstance(b, Rule):
        # the stored rule derives itself again: on every probe it gives what the spec's rule gives
        return (a.probes, a.parts) == (b.probes, b.parts) and all(
            same(_numbers(a.rule(*p)), _numbers(b.rule(*p))) for p in a.probes
        )
    return bool(a == b)


def _numbers(value: Any) -> Any:
    if isinstance(value, tuple):
        return [np.asarray(numeric(v), dtype=float) for v in value]
    return np.asarray(numeric(value), dtype=float)


def same_target(a: Target, b: Target) -> bool:
    return same(a.value, b.value) and same(a.exact, b.exact)


def same_seed(a: Seed, b: Seed) -> bool:
    return (
        same_target(a.reference, b.reference)
        and len(a.alternatives) == len(b.alternatives)
        and all(same_target(x, y) for x, y in zip(a.alternatives, b.alternatives, strict=True))
        and [(m, s) for m, s, _ in a.mistakes] == [(m, s) for m, s, _ in b.mistakes]
        and all(same_target(x, y) for (*_, x), (*_, y) in zip(a.mistakes, b.mistakes, strict=True))
        and [(m, s) for m, s, _ in a.pairs] == [(m, s) for m, s, _ in b.pairs]
        and all(same_target(x, y) for (*_, x), (*_, y) in zip(a.pairs, b.pairs, strict=True))
    )


def path_of(place: Path, assignment: str) -> Path:
    return place / f"{assignment}-{store.key(assignment)[:16]}.pickle"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_what_is_read_back_is_what_a_fresh_derivation_gives(
    assignment: str, tmp_path: Path
) -> None:
    written = store.load_or_derive(assignment, tmp_path)
    read = store.read(path_of(tmp_path, assignment), assignment)
    assert read is not None
    fresh = store.derived(assignment)
    assert set(read) == set(fresh) == set(written)
    for qid in fresh:
        assert same_seed(read[qid], fresh[qid]), qid


@pytest.mark.parametrize("assignment", ["minima", "gradient_descent"])
def test_grading_reads_the_store_and_gives_the_verdicts_of_the_derivation(
    assignment: str, tmp_path: Path
) -> None:
    course = tmp_path / "course"
    with store.reading(course):  # derives and writes
        exercise(assignment)
    with store.reading(course):  # reads the file
        stored = {
            q.name: reference(f"{assignment}.{q.name}") for q in exercise(assignment).autograded
        }
        for q in exercise(assignment).autograded:
            qid = f"{assignment}.{q.name}"
            ref = stored[q.name]
            answer = ref.function() if isinstance(ref.target.exact, Rule) else ref.value
            if isinstance(answer, SolutionSet):
                answer = ref.member
            within = grade_answer(qid, answer)
            with store.reading(tmp_path / "elsewhere"):  # derived, not read
                derived = grade_answer(qid, answer)
            assert (within.correct, within.score) == (derived.correct, derived.score)
            assert within.correct, qid
    assert path_of(course / store.FOLDER, assignment).is_file()


def test_a_changed_key_derives_anew_and_the_old_file_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.load_or_derive("gradient_descent", tmp_path)
    old = path_of(tmp_path, "gradient_descent")
    assert old.is_file()
    monkeypatch.setattr(store, "key", lambda assignment: "f" * 64)
    store.load_or_derive("gradient_descent", tmp_path)
    assert not old.exists()
    assert (tmp_path / f"gradient_descent-{'f' * 16}.pickle").is_file()
    # a file whose contents name another key is not believed
    renamed = tmp_path / f"gradient_descent-{'f' * 16}.pickle"
    monkeypatch.setattr(store, "key", lambda assignment: "f" * 16 + "0" * 48)
    assert store.read(renamed, "gradient_descent") is None


class Planted:
    """A pickle that would leave a mark if it were ever loaded."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.mark, "loaded"))


def _writable_by_others(path: Path) -> None:
    path.chmod(0o666)


def _folder_writable_by_others(path: Path) -> None:
    path.parent.chmod(0o777)


def _owned_by_another(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    os.chown(path, 12345, 12345)


def _a_link(path: Path) -> None:
    target = path.with_name("elsewhere.pickle")
    path.rename(target)
    path.symlink_to(target)


@pytest.mark.parametrize(
    "spoil", [_writable_by_others, _folder_writable_by_others, _owned_by_another, _a_link]
)
def test_a_file_anybody_else_could_have_written_is_never_loaded(spoil: Any, tmp_path: Path) -> None:
    place = tmp_path / "references"
    place.mkdir(mode=0o755)
    place.chmod(0o755)
    path = path_of(place, "gradient_descent")
    mark = tmp_path / "mark"
    path.write_bytes(pickle.dumps(Planted(mark)))
    path.chmod(0o644)
    spoil(path)
    assert not store.trusted(path)
    assert store.read(path, "gradient_descent") is None
    assert not mark.exists()


def test_a_broken_file_is_derived_and_written_again(tmp_path: Path) -> None:
    path = path_of(tmp_path, "gradient_descent")
    path.write_bytes(b"\x80\x05 not a pickle at all")
    path.chmod(0o644)
    assert store.read(path, "gradient_descent") is None
    seeds = store.load_or_derive("gradient_descent", tmp_path)
    assert store.read(path, "gradient_descent") is not None
    assert set(seeds) == {
        f"gradient_descent.{q.name}" for q in exercise("gradient_descent").autograded
    }


def test_a_place_that_cannot_be_written_costs_only_the_speed(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    seeds = store.load_or_derive("gradient_descent", blocked / "references")
    assert seeds and not (blocked / "references").exists()
