"""Hostile cases: forged, lines of the student's own written into the sandbox's result pipe.

The code finds the pipe as a student would (every descriptor that is a FIFO) and writes lines the
protocol refuses: cell indices out of range or of the wrong type, unhashable or unknown answer
names, numbers beyond floats, values nested past the encoding, outputs for a number, an early
"done", a flood. Each is discarded and told; the honest answers beside them earn what they earn.
A line the protocol accepts is a claim the student's code could make (a value for an answer).
"""

from __future__ import annotations

import json
from typing import Any

from kit import WRONG, Case, last

FORGE = """\
import os, stat
def forge(*lines):
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, b"".join(line.encode() + b"\\n" for line in lines))
        except OSError:
            pass
"""
TOLD = "ungültige Nachrichten"


def forging(*lines: str, then: str = "") -> Any:
    """The last cell writes these lines into every pipe it finds (then runs `then`)."""
    return last(f"{FORGE}forge(*{list(lines)!r})\n{then}")


def nested(levels: int) -> str:
    return "[" * levels + "0.5" + "]" * levels


CASES: tuple[Case, ...] = (
    Case(
        "forge_cell_index",
        "forge",
        "cells far out of range, and a truth value and a float for a cell",
        forging(
            '{"cell": -100000, "error": "x"}',
            '{"cell": 1000000, "started": true}',
            '{"cell": true, "error": "CellTimeout: forged"}',
            '{"cell": 2.0, "error": "forged"}',
        ),
        WRONG,
        TOLD,
    ),
    Case(
        "forge_unhashable_name",
        "forge",
        "answer names that are a list and a dict",
        forging('{"answer": ["x"], "value": 1}', '{"answer": {"z_hat": 1}, "value": 1}'),
        WRONG,
        TOLD,
    ),
    Case(
        "forge_unknown_name",
        "forge",
        "values for names the job does not ask for",
        forging('{"answer": "reference", "value": 1}', '{"answer": "__import__", "value": 1}'),
        WRONG,
        TOLD,
    ),
    Case(
        "forge_huge_numbers",
        "forge",
        "numbers beyond floats and 64 bits, NaN and Infinity for earlier answers",
        forging(
            '{"answer": "z_hat", "value": 1e999}',
            '{"answer": "grad", "value": 123456789012345678901234567890}',
            '{"answer": "loss", "value": NaN}',
            '{"answer": "w_new", "value": {"array": [Infinity, 1, 1, 1], "shape": [4]}}',
        ),
        WRONG,
        TOLD,
    ),
    Case(
        "forge_bad_values",
        "forge",
        "values that are no encoding: nested too deep, a shape that lies, an unknown tag",
        forging(
            f'{{"answer": "w_new", "value": {nested(60)}}}',
            '{"answer": "grad", "value": {"array": [1, 2], "shape": [1000000]}}',
            '{"answer": "table", "value": {"table": {"columns": ["a"], "rows": [[1, 2]]}}}',
            '{"answer": "z_hat", "value": {"pickle": "gASV"}}',
        ),
        WRONG,
        TOLD,
    ),
    Case(
        "forge_outputs",
        "forge",
        "outputs on probes for a number, and a timeout for it",
        forging(
            '{"answer": "loss", "value": 0.5, "outputs": [{"result": 1}]}',
            '{"answer": "z_hat", "value": 4.0, "outputs": {"timeout": true}}',
        ),
        WRONG,
        TOLD,
    ),
    Case(
        "forge_done",
        "forge",
        "says it is done, then ends itself before its last answer",
        forging('{"done": true}', then="os._exit(0)"),
        WRONG,
        TOLD,
    ),
    Case(
        "forge_flood",
        "forge",
        "floods the pipe with 100,000 empty objects before its last answer",
        last(f"{FORGE}forge(*['{{}}'] * 100_000)"),
        WRONG,
        "nicht gelesen",
    ),
    Case(
        "forge_own_answer",
        "forge",
        "a well-formed line with a value for z_hat: believed, as if its own cell had assigned it",
        forging(json.dumps({"answer": "z_hat", "value": 0.0})),
        {**WRONG, "z_hat": 0.0},
        "Leider falsch",
    ),
)
