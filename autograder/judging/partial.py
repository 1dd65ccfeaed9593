"""Partial credit on a trajectory: each entry that is right, or that follows by the right rule from
the student's own entries before it (an error carried forward)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from autograder.derivation.references import (
    Reference,
    next_entry,
    steps,
)
from autograder.judging import feedback
from autograder.judging.compare import (
    close,
)
from autograder.judging.deadline import excluded
from autograder.judging.forms import FormError, to_shape
from autograder.judging.matching import by_hand
from autograder.judging.verdict import Verdict
from autograder.model.spec import Question, Slip


def carried_forward(
    qid: str,
    q: Question,
    canonical: Any,
    ref: Reference,
    variant: Mapping[str, Any] | None,
    lang: str,
) -> Verdict | None:
    """Partial credit for a trajectory: each entry that is right, or right from the entries before it.

    An entry that is wrong only because an earlier one was wrong, but follows from it by the right
    rule, earns its share (error carried forward); the feedback names where the first error is.
    """
    assignment = qid.partition(".")[0]
    if not isinstance(canonical, np.ndarray) or q.shape is None:
        return None
    with excluded():
        rules = [steps(assignment, variant).get(q.name)]
        if rules[0] is not None and q.rounding is not None:
            rules.append(steps(assignment, variant, Slip(rounding=q.rounding)).get(q.name))
    if rules[0] is None:
        return None
    try:
        answer = to_shape(canonical, q.shape)
    except FormError:
        return None
    tolerance = by_hand(q).tolerance
    expected = [np.asarray(t.value, dtype=float) for t in (ref.target, *ref.alternatives)]
    credit = np.zeros(answer.shape, dtype=bool)
    carried = np.zeros(answer.shape, dtype=bool)
    for k in range(answer.shape[0]):
        for e in expected:
            credit[k] |= close(answer[k], e[k], tolerance)
        for rule in rules if k > 0 and not credit[k].all() else ():
            follows = next_entry(rule, answer[:k])
            if follows is not None:
                carried[k] |= ~credit[k] & close(
                    answer[k], follows.reshape(answer[k].shape), tolerance
                )
        credit[k] |= carried[k]
    # an entry (a number of a vector, a row of a table) counts when all of it does
    counted = credit.reshape(answer.shape[0], -1).all(axis=1)
    if not counted.any():
        return None
    first = tuple(int(i) for i in np.argwhere(~credit)[0])
    where = feedback.message(
        "where", "entry", lang, where=feedback.position(first, lang, q.columns)
    )
    key = "partial_carried" if carried.any() else "partial"
    followed = carried.reshape(answer.shape[0], -1).any(axis=1)
    text = feedback.message(
        "verdict",
        key,
        lang,
        credited=int(counted.sum()),
        total=counted.size,
        counted=feedback.numbers(np.flatnonzero(counted).tolist(), lang),
        where=where,
        carried=feedback.numbers(np.flatnonzero(followed).tolist(), lang),
    )
    mistake = "carried_forward" if carried.any() else None
    return Verdict(qid, "partial", float(counted.mean()), mistake, text)
