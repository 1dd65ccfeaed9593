"""`autograder answers [ASSIGNMENT]`: the answer key, from the references the course stores, with
`--mistakes` what every mistake gives and `--student` a student's own numbers."""

from __future__ import annotations

import argparse
import json
import textwrap

from autograder.model.catalogue import ASSIGNMENTS


def run_answers(args: argparse.Namespace) -> int:
    from autograder.derivation import store

    # the references as the released course stores them (the user's cache without a course)
    with store.reading(args.course if args.course.is_dir() else None):
        return _answer_key(args)


def _answer_key(args: argparse.Namespace) -> int:
    from autograder.derivation.references import exercise, reference
    from autograder.model.spec import Kind
    from autograder.reports.key import (
        answer_key,
        describe,
        describe_target,
        mistakes,
        mistakes_entry,
        teachers_text,
    )

    names = [args.assignment] if args.assignment else list(ASSIGNMENTS)
    variants = {name: _variant(args, name) for name in names}
    if args.json:
        key = [item for name in names for item in answer_key(name, variants[name])]
        if args.mistakes:
            for item in (item for item in key if item["kind"] != Kind.MANUAL):
                item["mistake_answers"] = mistakes_entry(
                    item["id"], variants[item["id"].partition(".")[0]]
                )
        print(json.dumps(key, indent=1, ensure_ascii=False))
        return 0
    for name in names:
        ex = exercise(name)
        print(f"{ex.name} — {ex.title} ({ex.source})")
        variant = variants[name]
        if variant:
            shown = ", ".join(f"{k} = {v}" for k, v in variant.items() if v is not None)
            print(f"  numbers of {args.student}: {shown}")
        for q in ex.questions:
            if q.graded_by_teacher:
                answer = teachers_text(ex, q, "model_answers", variant)["en"]
                print(f"  {q.name:<20} {q.kind.value:<13} {q.points:>3g} pt  graded by the teacher")
                for line in answer.splitlines():
                    print(
                        textwrap.fill(line, 100, initial_indent=" " * 6, subsequent_indent=" " * 6)
                    )
                continue
            ref = reference(f"{ex.name}.{q.name}", variants[name])
            print(f"  {q.name:<20} {q.kind.value:<13} {q.points:>3g} pt  {describe(ref)}")
            if args.mistakes:
                found = mistakes(ref.qid, variant)
                single = [t for mistake, targets in found if "+" not in mistake for t in targets]
                for mistake, targets in found:
                    besides = single if "+" in mistake else []
                    shown = " | ".join(describe_target(ref, t, besides=besides) for t in targets)
                    print(f"  {'':<4}{mistake:<32} {shown}")
            elif q.mistakes:
                print(f"  {'':<20} mistakes: {', '.join(q.mistakes)}")
        print()
    return 0


def _variant(args: argparse.Namespace, assignment: str) -> dict[str, object] | None:
    """The numbers of `--student`: their own where the assignment went out per student."""
    if args.student is None:
        return None
    from autograder.release.per_student import Variants

    return Variants(args.course).of(assignment, args.student)
