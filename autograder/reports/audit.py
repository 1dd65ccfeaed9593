"""Audit of published numbers: which values on a slide or worksheet the derivation does not support.

A value printed with d decimals is supported when the reference lies within half a unit of its last
place; an unsupported one is listed with the right value and, where one fits, the mistake behind it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
import yaml

from autograder.derivation.references import (
    UnknownQuestion,
    derive,
    locate,
    mistake_targets,
    reference,
    target,
)
from autograder.judging import feedback
from autograder.judging.compare import nearest_member
from autograder.judging.forms import FormError
from autograder.model.errors import UserError
from autograder.model.spec import Kind
from autograder.model.values import SolutionSet


class PublishedFileError(UserError, ValueError):
    """A published-values file that cannot be read; the message says what to fix."""


@dataclass(frozen=True)
class Finding:
    """One published value that the derivation does not support."""

    source: str
    qid: str
    where: tuple[int, ...]
    published: str
    right: str
    mistake: str | None
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "id": self.qid,
            "where": list(self.where),
            "published": self.published,
            "right": self.right,
            "mistake": self.mistake,
            "explanation": self.explanation,
        }


def load(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(source name, {qid: value as printed}) pairs; numbers keep their printed decimals."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PublishedFileError(f"{path}: cannot be read ({error})") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        else:
            data = yaml.load(text, Loader=_PrintedLoader)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise PublishedFileError(f"{path}: not valid {path.suffix[1:].upper()} ({error})") from None
    if not isinstance(data, Mapping):
        raise PublishedFileError(f"{path}: expected a mapping of question id → value")
    if "sources" not in data:
        return [(path.name, dict(data))]
    sources = []
    for i, source in enumerate(data["sources"]):
        if not isinstance(source, Mapping) or not isinstance(source.get("values"), Mapping):
            raise PublishedFileError(f"{path}: source {i + 1} needs 'name' and 'values'")
        sources.append((str(source.get("name", f"source {i + 1}")), dict(source["values"])))
    return sources


class _PrintedLoader(yaml.SafeLoader):
    """YAML with every number as a Decimal, so 1.060 keeps its three decimals."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))  # type: ignore[arg-type]


_PrintedLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
_PrintedLoader.add_constructor("tag:yaml.org,2002:int", _decimal)


def audit(sources: list[tuple[str, dict[str, Any]]], lang: str = "en") -> list[Finding]:
    findings = []
    for source, values in sources:
        for qid, printed in values.items():
            findings.extend(_audit_one(source, qid, printed, values, lang))
    return findings


def _audit_one(
    source: str, qid: str, printed: Any, values: Mapping[str, Any], lang: str
) -> list[Finding]:
    try:
        _, q = locate(qid)
    except UnknownQuestion as error:
        raise PublishedFileError(f"{source}: {error}") from None
    if q.kind in (Kind.FUNCTION, Kind.EXPRESSION, Kind.CHOICE):
        raise PublishedFileError(
            f"{source}: {qid} is a {q.kind.value} question; only numbers can be audited"
        )
    grid = _grid(printed, source, qid)
    published = np.vectorize(float)(grid)
    half = np.vectorize(_half_unit)(grid)
    ref = reference(qid)
    candidates = [ref.target, *ref.alternatives]
    if any(_supports(t.value, published, half) for t in candidates):
        return []
    right = _right_values(ref.target.value, published)
    mistake, explanation = _explain(qid, q, published, half, values, lang)
    bad = np.argwhere(np.abs(published - right) > half * (1 + 1e-9))
    if isinstance(ref.target.value, SolutionSet):
        bad = np.argwhere(np.ones_like(published, dtype=bool))[:1]
    return [
        Finding(
            source,
            qid,
            tuple(int(i) for i in index),
            str(grid[tuple(index)]),
            _as_printed(right[tuple(index)], grid[tuple(index)]),
            mistake,
            explanation,
        )
        for index in bad
    ]


def _grid(printed: Any, source: str, qid: str) -> np.ndarray:
    grid = np.array(printed, dtype=object)
    if grid.size == 0 or not all(isinstance(v, Decimal) for v in grid.reshape(-1)):
        raise PublishedFileError(f"{source}: {qid} must be a number or (nested) list of numbers")
    return grid


def _half_unit(value: Decimal) -> float:
    return 0.5 * 10.0 ** int(value.as_tuple().exponent)


def _supports(value: Any, published: np.ndarray, half: np.ndarray) -> bool:
    if isinstance(value, SolutionSet):
        point = published.reshape(-1)
        return bool(np.all(np.abs(point - nearest_member(point, value)) <= half.reshape(-1)))
    value = np.asarray(value, dtype=float)
    if value.size != published.size:
        return False
    return bool(np.all(np.abs(value.reshape(published.shape) - published) <= half * (1 + 1e-9)))


def _right_values(value: Any, published: np.ndarray) -> np.ndarray:
    if isinstance(value, SolutionSet):
        return nearest_member(published.reshape(-1), value).reshape(published.shape)
    value = np.asarray(value, dtype=float)
    return (
        value.reshape(published.shape)
        if value.size == published.size
        else np.full(published.shape, np.nan)
    )


def _explain(
    qid: str, q: Any, published: np.ndarray, half: np.ndarray, values: Mapping[str, Any], lang: str
) -> tuple[str | None, str]:
    assignment = qid.partition(".")[0]
    for mistake, t in mistake_targets(qid):
        if _supports(t.value, published, half):
            return mistake, feedback.mistake_text(assignment, mistake, lang)
    earlier = {
        other.partition(".")[2]: np.vectorize(float)(np.array(v, dtype=object))
        for other, v in values.items()
        if other != qid and other.partition(".")[0] == assignment
    }
    # the fewest published values it follows from: one alone if one will do, else all of them
    for given in [{name: v} for name, v in earlier.items()] + (
        [earlier] if len(earlier) > 1 else []
    ):
        if _follows(qid, q, given, published, half):
            source = ", ".join(f"{assignment}.{name}" for name in sorted(given))
            return "carried", feedback.message("audit", "carried", lang, source=source)
    return None, ""


def _follows(
    qid: str, q: Any, given: dict[str, Any], published: np.ndarray, half: np.ndarray
) -> bool:
    ex, _ = locate(qid)
    try:
        follows = target(q, derive(ex, given=given)[q.name])
    except (FormError, TypeError, ValueError, sp.SympifyError):
        return False
    return _supports(follows.value, published, half)


def _as_printed(right: float, printed: Decimal) -> str:
    if not np.isfinite(right):
        return "?"
    exponent = int(printed.as_tuple().exponent)
    decimals = max(-exponent, 0)
    return f"{right:.{decimals}f}"
