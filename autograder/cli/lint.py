"""`autograder lint [NAME …]`: the checks an exercise must pass before it goes out, in seconds,
with one line per problem; the exit code is 1 where there is one."""

from __future__ import annotations

import argparse

from autograder.cli.folders import exercises_option


def lint_parser(commands: argparse._SubParsersAction) -> None:
    lint = commands.add_parser(
        "lint",
        help="check exercises: texts in de/en/ru, mistakes, worked solutions, variants",
        description="For each exercise: every text in every language; every listed mistake "
        "differs from the reference on its question; the worked solution passes its hidden "
        "tests; drawn variants are well posed; the spec's independent(p) check agrees with the "
        "references (a note where the spec has none). Exit code 1 on a problem.",
    )
    lint.add_argument("names", nargs="*", metavar="NAME", help="default: every exercise found")
    exercises_option(lint)
    lint.set_defaults(run=_lint)


def _lint(args: argparse.Namespace) -> int:
    from autograder.model.catalogue import ASSIGNMENTS, UnknownAssignment
    from autograder.release.lint import lint

    for name in args.names:
        if name not in ASSIGNMENTS:
            raise UnknownAssignment(name)
    failed = 0
    for name in args.names or list(ASSIGNMENTS):
        found = lint(name)
        status = f"{len(found.problems)} problem(s)" if found.problems else "ok"
        print(f"{name}: {status}")
        for line in found.problems:
            print(f"  ✗ {line}")
        for line in [] if found.problems else found.checked:
            print(f"  ✓ {line}")
        for line in found.notes:
            print(f"  note: {line}")
        failed += bool(found.problems)
    return 1 if failed else 0
