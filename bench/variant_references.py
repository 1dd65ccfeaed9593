"""References of many variants: cold derivation, lambdified formulas, 1,000 variants per assignment.

Runs in a fresh process (cold caches) and prints one JSON object; `grade_throughput.py` reports it.
Repeat on its own: .venv/bin/python bench/variant_references.py --variants 1000
"""

from __future__ import annotations

import argparse
import json
import random
import time


def measure(count: int) -> dict[str, float | int]:
    started = time.perf_counter()
    from autograder.derivation.lambdified import compiled, holds, many
    from autograder.derivation.references import (
        ASSIGNMENTS,
        NO_SLIP,
        exercise,
        question_ids,
        reference,
    )
    from autograder.derivation.variants import random_variant

    ids = question_ids()
    for qid in ids:
        reference(qid)
    cold = time.perf_counter() - started

    started = time.perf_counter()
    for _ in range(100):
        for qid in ids:
            reference(qid)
    warm = (time.perf_counter() - started) / (100 * len(ids))

    started = time.perf_counter()
    for assignment in ASSIGNMENTS:
        compiled(assignment, NO_SLIP)
    formulas = time.perf_counter() - started
    held = sum(holds(*qid.split(".")) for qid in ids)

    rng = random.Random(2026)
    drawn = {a: [random_variant(a, rng) for _ in range(count)] for a in ASSIGNMENTS}
    started = time.perf_counter()
    for assignment in ASSIGNMENTS:
        many(assignment, drawn[assignment])
    at_once = time.perf_counter() - started

    # the questions no formula holds, derived exactly: per variant, for a few variants
    exact_ids = [qid for qid in ids if not holds(*qid.split("."))]
    sample = [(a, v) for a in ASSIGNMENTS for v in drawn[a][:3] if exercise(a).vary]
    started = time.perf_counter()
    for assignment, variant in sample:
        for qid in exact_ids:
            if qid.startswith(assignment + "."):
                reference(qid, variant)
    per_exact = (time.perf_counter() - started) / max(len(sample), 1)
    return {
        "cold": cold,
        "warm": warm,
        "formulas": formulas,
        "held": held,
        "questions": len(ids),
        "variants": count,
        "at_once": at_once,
        "exact_per_variant": per_exact,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1000, help="per assignment (default 1000)")
    args = parser.parse_args()
    print(json.dumps(measure(args.variants)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
