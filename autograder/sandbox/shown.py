"""What a cell shows, as Jupyter would show it (printed text, results, displays, figures, errors):
captured in the sandbox's child, bounded there, and checked again in the grader before use.

Loaded by path in the sandbox (like `plain`), so it imports nothing of the grader. Only text and
images come through: a student's HTML, SVG or JavaScript would run in the teacher's formgrader.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import os
import sys
from typing import Any

# per cell: the printed text kept, the results and displays kept, the text of each
MAX_PRINTED = 5_000
MAX_ITEMS = 10
MAX_TEXT = 2_000
# an error's traceback, all its lines together, and its name
MAX_TRACEBACK = 5_000
MAX_NAME = 200
# an image in base64, and the images of a whole run
MAX_IMAGE = 400_000
MAX_IMAGES = 8
# the images that come through, by the bytes their data starts with
IMAGES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
KINDS = ("result", "display")


def _cut(text: str, most: int) -> tuple[str, int]:
    return (text, 0) if len(text) <= most else (text[:most], len(text) - most)


class Capture:
    """A child's cells' outputs, one cell at a time: IPython's display publisher, result hook and
    traceback hook of the child's shell send here, and the printed text is read from the file the
    child's stdout and stderr go to."""

    def __init__(self, shell: Any, printed: str) -> None:
        self.printed = os.open(printed, os.O_RDONLY)
        self.offset = 0
        self.images = 0
        self.items: list[dict[str, Any]] = []
        self.room = MAX_PRINTED
        shell.display_pub.publish = self._display
        shell.displayhook.write_output_prompt = lambda: None
        shell.displayhook.write_format_data = self._result
        shell._showtraceback = self._error

    def start(self) -> None:
        self.items, self.room = [], MAX_PRINTED

    def end(self) -> list[dict[str, Any]]:
        """The cell's outputs in the order they came (figures last, as Jupyter's inline backend)."""
        self._read_printed()
        return self.items

    def _read_printed(self) -> None:
        for handle in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                handle.flush()
        try:
            size = os.fstat(self.printed).st_size
            taken = os.pread(self.printed, max(0, min(self.room, size - self.offset)), self.offset)
        except OSError:
            return
        unread = size - self.offset - len(taken)
        self.offset = size
        if not taken and not unread:
            return
        text = taken.decode("utf-8", "replace")
        self.room -= len(taken)
        last = self.items[-1] if self.items else None
        if last is not None and "printed" in last:
            last["printed"] += text
            last["cut"] += unread
        else:
            self._add({"printed": text, "cut": unread})

    def _add(self, item: dict[str, Any]) -> None:
        if len(self.items) < MAX_ITEMS:
            self.items.append(item)

    def _data(self, data: Any) -> tuple[dict[str, str], int]:
        kept: dict[str, str] = {}
        cut = 0
        if not isinstance(data, dict):
            return kept, cut
        text = data.get("text/plain")
        if isinstance(text, str):
            kept["text/plain"], cut = _cut(text, MAX_TEXT)
        for mime in IMAGES:
            image = data.get(mime)
            if isinstance(image, bytes):
                image = base64.b64encode(image).decode()
            if isinstance(image, str) and len(image) <= MAX_IMAGE and self.images < MAX_IMAGES:
                kept[mime] = image
                self.images += 1
        return kept, cut

    def _display(self, data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> None:
        self._read_printed()
        kept, cut = self._data(data)
        if kept:
            self._add({"display": kept, "cut": cut})

    def _result(self, format_dict: Any, md_dict: Any = None) -> None:
        self._read_printed()
        kept, cut = self._data(format_dict)
        if kept:
            self._add({"result": kept, "cut": cut})

    def _error(self, etype: Any, evalue: Any, stb: Any) -> None:
        self._read_printed()
        name = getattr(etype, "__name__", "Error")
        try:
            value = str(evalue)
        except Exception:
            value = ""
        lines = [str(line) for line in stb] if isinstance(stb, list) else []
        # the sandbox's own bound of time is said by the grader, not traced through the sandbox
        trace, _ = _cut("".join(lines), MAX_TRACEBACK) if name != "CellTimeout" else ("", 0)
        self._add({"error": [name[:MAX_NAME], value[:MAX_TEXT], trace]})

    def figures(self) -> None:
        """The figures a cell left open, drawn as PNG and closed, as Jupyter's inline backend does."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        self._read_printed()
        for number in pyplot.get_fignums():
            figure = pyplot.figure(number)
            buffer = io.BytesIO()
            with contextlib.suppress(Exception):
                figure.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
                self._display({"image/png": buffer.getvalue()})
            pyplot.close(figure)


class NotShown(ValueError):
    """An item that is not one of a cell's outputs as the child sends them."""


def checked(items: Any) -> list[dict[str, Any]]:
    """A cell's outputs as the child sent them, each checked (the child runs the student's code,
    which may write lines of its own): text within its bounds, images that are images."""
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise NotShown("not a list of a cell's outputs")
    return [_item(item) for item in items]


def _text(value: Any, most: int) -> str:
    if not isinstance(value, str) or len(value) > most:
        raise NotShown(f"not a text of at most {most} characters")
    return value


def _count(value: Any) -> int:
    if type(value) is not int or not 0 <= value < 2**62:
        raise NotShown("not a count")
    return value


def _item(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise NotShown("not an output")
    keys = set(item)
    if keys == {"printed", "cut"}:
        return {"printed": _text(item["printed"], MAX_PRINTED), "cut": _count(item["cut"])}
    if keys == {"error"}:
        error = item["error"]
        if not isinstance(error, list) or len(error) != 3:
            raise NotShown("not an error")
        name, value, trace = error
        return {
            "error": [_text(name, MAX_NAME), _text(value, MAX_TEXT), _text(trace, MAX_TRACEBACK)]
        }
    kind = next((k for k in KINDS if keys == {k, "cut"}), None)
    if kind is None or not isinstance(item[kind], dict) or not item[kind]:
        raise NotShown("not an output")
    data = {}
    for mime, value in item[kind].items():
        if mime == "text/plain":
            data[mime] = _text(value, MAX_TEXT)
        elif mime in IMAGES:
            data[mime] = _image(mime, value)
        else:
            raise NotShown("a kind of output that is not shown")
    return {kind: data, "cut": _count(item["cut"])}


def _image(mime: str, value: Any) -> str:
    text = _text(value, MAX_IMAGE)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NotShown("an image that is not base64") from None
    if not raw.startswith(IMAGES[mime]):
        raise NotShown(f"data that is not {mime}")
    return text
