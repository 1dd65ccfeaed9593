"""The schema of what comes back from the sandbox: a worker's reply and each line its child streamed.

Every line is checked here before the grader reads it; a line that fails is the submission's own
invalid data, counted and discarded, never the grader's exception.

The child runs the student's code, and that code can write lines of its own into the result pipe.
A line that passes gains the student nothing their code could not have had anyway: the only claims
a line can make are a value for one of the answer names this job asks for (their code can assign
any value), a function's outputs on the grader's probes (their function can return any outputs,
the probes are theirs to see), an error or the start of one of this job's cells (their code can
fail anywhere), and being done (accepted only once every answer was reported). Nothing in a line
refers to another submission, and the reference is never in the child, so no line can carry it.
How the run ended (status, signal, time, memory) is written by the worker, which no line reaches.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autograder.sandbox import plain, shown

# How a run can end, as the worker reports it; anything else counts as a lost worker.
STATUSES = frozenset(
    {"finished", "timeout", "killed", "result_too_large", "worker_lost", "unconfined"}
)
# The sizes the sandbox's encoding keeps to (plain.py): a value beyond them is reported too large.
# The encoding bounds each list and array, not their sum: two lists of the most elements still
# come through, more is one large value.
MAX_ELEMENTS = plain.MAX_ELEMENTS
MAX_LEAVES = 2 * MAX_ELEMENTS
MAX_TEXT = plain.MAX_TEXT
# Containers within containers: plain.encode nests MAX_DEPTH + 1 levels, a table's cells two more.
MAX_LEVELS = plain.MAX_DEPTH + 3
# NumPy's own bound on the number of axes.
MAX_AXES = 64
# An honest run sends two lines per cell, one per answer and one to say it is done; far more lines
# than that are not read at all (the run counts them as unread).
LINES_PER_ITEM = 4
SPARE_LINES = 16


class InvalidMessage(ValueError):
    """A line that does not follow the protocol; the text says how (for the teacher's log)."""


class TooLarge(ValueError):
    """A value with more elements than the encoding would ever send."""


@dataclass(frozen=True)
class Started:
    cell: int


@dataclass(frozen=True)
class CellFailed:
    cell: int
    error: str


@dataclass(frozen=True)
class Shown:
    """What a cell showed (shown.py's outputs, checked)."""

    cell: int
    outputs: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Reported:
    """An answer name's value (decoded plain data), and for a function its outputs on the probes."""

    name: str
    value: Any
    missing: bool = False
    # per probe: ("result", value) or ("raised", message); None where no outputs came
    outputs: tuple[tuple[str, Any], ...] | None = None
    # the bound in seconds that the function ran past on the probes, if it did
    timeout: float | None = None


@dataclass(frozen=True)
class Done:
    pass


Message = Started | CellFailed | Shown | Reported | Done


@dataclass(frozen=True)
class Reply:
    """A worker's reply, with a safe value for every field it lacks or gives in a wrong type."""

    status: str = "worker_lost"
    signal: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    max_rss_kb: int = 0
    output_bytes: int = 0
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expected:
    """What the job lets a line name: its cells by index, its answer names (with the number of
    probes where the name is a function's), and how many lines are read at most."""

    cells: int
    answers: Mapping[str, int | None]

    @property
    def max_lines(self) -> int:
        return LINES_PER_ITEM * (self.cells + len(self.answers)) + SPARE_LINES


def reply_of(data: Any) -> Reply:
    """The worker's reply read field by field: a field of the wrong type or range is not believed."""
    if not isinstance(data, dict):
        return Reply()
    status = data.get("status")
    lines = data.get("lines")
    return Reply(
        status=status if isinstance(status, str) and status in STATUSES else "worker_lost",
        signal=_count(data.get("signal"), 1, 128),
        seconds=_seconds(data.get("seconds")),
        cpu_seconds=_seconds(data.get("cpu_seconds")),
        max_rss_kb=_count(data.get("max_rss_kb"), 0, 2**62) or 0,
        output_bytes=_count(data.get("output_bytes"), 0, 2**62) or 0,
        lines=tuple(x for x in lines if isinstance(x, str)) if isinstance(lines, list) else (),
    )


def _count(value: Any, low: int, high: int) -> int | None:
    return value if type(value) is int and low <= value <= high else None


def _seconds(value: Any) -> float:
    if type(value) in (int, float) and math.isfinite(value) and value >= 0:
        return float(value)
    return 0.0


def message_of(line: str, expected: Expected, reported: set[str]) -> Message:
    """One line as a message of the protocol, or InvalidMessage saying what is wrong with it.

    `reported` holds the answer names reported so far: "done" is believed only after all of them.
    """
    try:
        data = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidMessage("not JSON") from None
    if not isinstance(data, dict):
        raise InvalidMessage("not an object")
    keys = set(data)
    if keys == {"done"}:
        if data["done"] is not True:
            raise InvalidMessage("done is not true")
        if set(expected.answers) - reported:
            raise InvalidMessage("done before every answer was reported")
        return Done()
    if keys in ({"cell", "started"}, {"cell", "error"}, {"cell", "shown"}):
        cell = data["cell"]
        if type(cell) is not int or not 0 <= cell < expected.cells:
            raise InvalidMessage("no such cell")
        if "started" in data:
            if data["started"] is not True:
                raise InvalidMessage("started is not true")
            return Started(cell)
        if "shown" in data:
            try:
                return Shown(cell, tuple(shown.checked(data["shown"])))
            except shown.NotShown as problem:
                raise InvalidMessage(str(problem)) from None
        return CellFailed(cell, _text(data["error"], "error"))
    if keys in ({"answer", "value"}, {"answer", "value", "outputs"}):
        return _reported(data, expected)
    raise InvalidMessage("not a message of the protocol")


def _no_constant(name: str) -> Any:
    raise InvalidMessage(f"{name} is not JSON of the protocol")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidMessage(f"{what} is not a text of at most {MAX_TEXT} characters")
    return value


def _reported(data: dict[str, Any], expected: Expected) -> Reported:
    name = data["answer"]
    if not isinstance(name, str) or name not in expected.answers:
        raise InvalidMessage("not an answer name this job asks for")
    value = data["value"]
    if isinstance(value, dict) and set(value) == {"missing"} and value["missing"] is True:
        if "outputs" in data:
            raise InvalidMessage("outputs of a missing answer")
        return Reported(name, None, missing=True)
    decoded = value_of(value)
    if "outputs" not in data:
        return Reported(name, decoded)
    probes = expected.answers[name]
    outputs = data["outputs"]
    if probes is None:
        raise InvalidMessage("outputs for a name that is not a function's")
    if isinstance(outputs, dict) and set(outputs) == {"timeout"}:
        seconds = outputs["timeout"]
        if type(seconds) not in (int, float) or not 0 < seconds < math.inf:
            raise InvalidMessage("a timeout that is not a number of seconds")
        return Reported(name, decoded, timeout=float(seconds))
    if not isinstance(outputs, list) or len(outputs) > probes:
        raise InvalidMessage("not a list of at most one output per probe")
    return Reported(name, decoded, outputs=tuple(_output(o) for o in outputs))


def _output(entry: Any) -> tuple[str, Any]:
    if isinstance(entry, dict) and set(entry) == {"result"}:
        return ("result", value_of(entry["result"]))
    if isinstance(entry, dict) and set(entry) == {"raised"}:
        return ("raised", _text(entry["raised"], "raised"))
    raise InvalidMessage("an output that is neither a result nor what was raised")


def value_of(data: Any) -> Any:
    """An encoded value (plain.py's encoding) checked and decoded; one beyond the sizes of the
    encoding is Opaque("too_large"), one that is not an encoding at all is InvalidMessage."""
    budget = _Budget()
    try:
        _check(data, 0, budget)
    except TooLarge:
        return plain.Opaque("too_large", [budget.used])
    try:
        return plain.decode(data)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        # a valid encoding NumPy or pandas still refuse (an object array of equal lists, say)
        return plain.Opaque("object", "unreadable")


class _Budget:
    """The leaves of a whole value (numbers, texts, column names) counted as it is checked."""

    def __init__(self) -> None:
        self.used = 0

    def spend(self, count: int) -> None:
        self.used += count
        if self.used > MAX_LEAVES:
            raise TooLarge()


# The tags of an encoded value whose body is a text (a formula, or the name of a function, of a
# type, of what was raised while reading the value).
_TEXT_TAGS = ("formula", "function", "object")
_NOT_FINITE = ("nan", "inf", "-inf")


def _check(data: Any, level: int, budget: _Budget) -> None:
    if level > MAX_LEVELS:
        raise InvalidMessage("nested deeper than the encoding nests")
    if not isinstance(data, list | dict):
        budget.spend(1)
    if data is None or isinstance(data, bool):
        return
    if isinstance(data, int | float):
        _number(data)
    elif isinstance(data, str):
        _text(data, "a text")
    elif isinstance(data, list):
        _items(data, level, budget)
    elif isinstance(data, dict):
        _tagged(data, level, budget)
    else:
        raise InvalidMessage("not plain data")


def _number(data: Any) -> None:
    """An int of the encoding's range or a finite float (bool is an int in Python: not here)."""
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise InvalidMessage("not a number")
    if isinstance(data, int) and not -(2**63) < data < 2**63:
        raise InvalidMessage("an integer out of the encoding's range")
    if isinstance(data, float) and not math.isfinite(data):
        raise InvalidMessage("a float that is not finite")


def _real(data: Any) -> None:
    """A real number as the encoding writes one: a number or {"float": "nan" | "inf" | "-inf"}."""
    if isinstance(data, dict):
        if set(data) != {"float"} or data["float"] not in _NOT_FINITE:
            raise InvalidMessage("not a real number")
        return
    _number(data)


def _items(data: Any, level: int, budget: _Budget) -> None:
    if not isinstance(data, list):
        raise InvalidMessage("not a list")
    if len(data) > MAX_ELEMENTS:
        raise TooLarge()
    for item in data:
        _check(item, level + 1, budget)


def _axes(shape: Any, longest: int, what: str) -> None:
    """A list of at most MAX_AXES lengths, each an int from 0 to `longest`."""
    if not isinstance(shape, list) or len(shape) > MAX_AXES:
        raise InvalidMessage(what)
    if not all(type(n) is int and 0 <= n <= longest for n in shape):
        raise InvalidMessage(what)


def _shape(data: dict[str, Any], body: list[Any]) -> None:
    shape = data["shape"]
    _axes(shape, MAX_ELEMENTS, "not a shape")
    if math.prod(shape) != len(body):
        raise InvalidMessage("a shape that does not hold the elements")


def _tagged(data: dict[str, Any], level: int, budget: _Budget) -> None:
    """One of the tagged forms of plain.encode, with exactly its keys."""
    keys = set(data)
    tag = next(iter(data), None)
    if tag == "shape":
        raise InvalidMessage("the tag of a value comes first")  # plain.decode reads it so
    if keys not in ({"tuple"}, {"dict"}, {"table"}, {"object_array", "shape"}):
        budget.spend(1)  # a number, a text or a flat array's header: one leaf
    if keys == {"float"}:
        _real(data)
    elif keys in ({"tuple"}, {"object_array", "shape"}):
        body = data[str(tag)]
        _items(body, level, budget)
        if "shape" in data:
            _shape(data, body)
    elif keys == {"complex"}:
        if not isinstance(data["complex"], list) or len(data["complex"]) != 2:
            raise InvalidMessage("not a complex number")
        for part in data["complex"]:
            _real(part)
    elif keys == {"dict"}:
        pairs = data["dict"]
        if not isinstance(pairs, list) or len(pairs) > MAX_ELEMENTS:
            raise InvalidMessage("not a list of key-value pairs")
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                raise InvalidMessage("not a list of key-value pairs")
            # a key and its value are one level in, as the encoding counts them
            _check(pair[0], level + 1, budget)
            _check(pair[1], level + 1, budget)
    elif keys in ({"array", "shape"}, {"complex_array", "shape"}, {"text_array", "shape"}):
        _flat(data, keys, budget)
    elif keys == {"table"}:
        _table(data["table"], level, budget)
    elif keys == {"too_large"}:
        _axes(data["too_large"], 2**63 - 1, "not the shape of a large value")
    elif len(keys) == 1 and tag in _TEXT_TAGS:
        _text(data[tag], str(tag))
    else:
        raise InvalidMessage("not a form of the encoding")


def _flat(data: dict[str, Any], keys: set[str], budget: _Budget) -> None:
    """An array's elements, flat: reals, [real, imaginary] pairs or texts, and its shape."""
    (tag,) = keys - {"shape"}
    body = data[tag]
    if not isinstance(body, list):
        raise InvalidMessage("not a list")
    budget.spend(len(body))
    for item in body:
        if tag == "array":
            _real(item)
        elif tag == "complex_array":
            if not isinstance(item, list) or len(item) != 2:
                raise InvalidMessage("not a complex number")
            _real(item[0])
            _real(item[1])
        else:
            _text(item, "a text")
    _shape(data, body)


def _table(table: Any, level: int, budget: _Budget) -> None:
    if not isinstance(table, dict) or set(table) != {"columns", "rows"}:
        raise InvalidMessage("not a table")
    columns, rows = table["columns"], table["rows"]
    if not isinstance(columns, list):
        raise InvalidMessage("not the columns of a table")
    budget.spend(len(columns))
    if not all(isinstance(c, str) and len(c) <= 100 for c in columns):
        raise InvalidMessage("not the columns of a table")
    _items(rows, level, budget)
    if not all(isinstance(r, list) and len(r) == len(columns) for r in rows):
        raise InvalidMessage("rows that do not fit the columns")
