"""The class report's plots, written as SVG to be embedded in the page: no script, no network, no
plotting library to load, text kept as text (readable, searchable, in the teacher's language).
Each bar is a group with the id `bar-N`, so that a reader (and a test) can tell the bars from the
axes."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# colours that stay apart in grey and for the common colour blindnesses (Okabe and Ito)
BLUE, ORANGE, GREEN, GREY = "#0072B2", "#E69F00", "#009E73", "#999999"
INK = "#222222"

WIDTH = 550
FONT = 11  # px, at the plot's full width
TICK = 4
GAP = 4  # between a tick and its label, a label and the axis' title


def _width(text: str, size: float = FONT) -> float:
    """About how wide `text` is in a sans-serif font (its mean glyph is some 0.58 em)."""
    return 0.58 * size * len(text)


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) or abs(value) >= 1e-3 else f"{value:.2g}"


def ticks(low: float, high: float, most: int = 6, whole: bool = False) -> list[float]:
    """Round values from `low` to `high` (both included where they are round), at most `most`+1 of
    them, in steps of 1, 2, 2.5 or 5 times a power of ten (whole steps only, if `whole`)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / most
    power = 10 ** math.floor(math.log10(raw))
    steps = [m * power for m in (1, 2, 2.5, 5, 10)]
    step = next(s for s in steps if s >= raw and not (whole and s != int(s)))
    first = math.ceil(low / step - 1e-9)
    found = []
    k = first
    while k * step <= high + 1e-9 * step:
        found.append(round(k * step, 10))
        k += 1
    return found


@dataclass
class _Svg:
    height: float
    key: str
    parts: list[str] = field(default_factory=list)

    def line(
        self, x1: float, y1: float, x2: float, y2: float, stroke: str = INK, dash: str = ""
    ) -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="0.8"{dashed}/>'
        )

    def text(
        self, x: float, y: float, said: str, anchor: str = "middle", rotate: float | None = None
    ) -> None:
        turn = f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"' if rotate else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{turn}>{html.escape(said)}</text>'
        )

    def bar(self, index: int, x: float, y: float, w: float, h: float, colour: str) -> None:
        self.parts.append(
            f'<g id="bar-{index}"><rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" '
            f'height="{max(h, 0):.1f}" fill="{colour}" stroke="white" stroke-width="0.8"/></g>'
        )

    def done(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="{html.escape(self.key)}" '
            f'width="{WIDTH}" height="{self.height:.0f}" viewBox="0 0 {WIDTH} {self.height:.0f}" '
            f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT}" fill="{INK}">'
            + "".join(self.parts)
            + "</svg>"
        )


def _axis_marks(high: float, whole: bool = False) -> list[float]:
    """The ticks of a y axis from 0, ending at a tick at or above `high` (the highest bar)."""
    marks = ticks(0, high or 1, 5, whole)
    if marks[-1] < high:
        marks.append(marks[-1] + (marks[1] - marks[0] if len(marks) > 1 else 1))
    return marks


def _label_room(marks: Sequence[float]) -> float:
    """How far the y axis stands from the plot's left edge: its title, tick labels and ticks."""
    return FONT + GAP + max(_width(_number(m)) for m in marks) + TICK + GAP + 2


def _vertical(
    svg: _Svg, left: float, top: float, bottom: float, marks: Sequence[float], label: str
) -> None:
    """The y axis on the left, from 0 to the last of `marks`, with its ticks and title."""
    scale = (bottom - top) / marks[-1]
    svg.line(left, top, left, bottom)
    for m in marks:
        y = bottom - m * scale
        svg.line(left - TICK, y, left, y)
        svg.text(left - TICK - GAP, y + FONT * 0.35, _number(m), anchor="end")
    svg.text(FONT, (top + bottom) / 2, label, rotate=-90)


def histogram_svg(
    bins: Sequence[tuple[float, float, int]], xlabel: str, ylabel: str, key: str
) -> str:
    """The totals' distribution: one bar per bin of scores."""
    height = 240
    counts = [c for *_, c in bins]
    top, bottom = 10, height - 2 * FONT - TICK - 2 * GAP - 4
    marks = _axis_marks(max([*counts, 1]), whole=True)
    left = _label_room(marks)
    right = WIDTH - 10
    svg = _Svg(height, key)
    _vertical(svg, left, top, bottom, marks, ylabel)
    start = min((a for a, _, _ in bins), default=0.0)
    end = max((b for _, b, _ in bins), default=1.0)
    span = (end - start) or 1.0
    inner = left + 8, right - 8

    def x(value: float) -> float:
        return inner[0] + (value - start) / span * (inner[1] - inner[0])

    scale = (bottom - top) / marks[-1]
    for i, (a, b, c) in enumerate(bins):
        svg.bar(i, x(a), bottom - c * scale, x(b) - x(a), c * scale, BLUE)
    svg.line(left, bottom, right, bottom)
    for m in ticks(start, end, 8):
        svg.line(x(m), bottom, x(m), bottom + TICK)
        svg.text(x(m), bottom + TICK + GAP + FONT * 0.8, _number(m))
    svg.text((inner[0] + inner[1]) / 2, height - 4, xlabel)
    return svg.done()


def facility_svg(
    names: Sequence[str],
    facilities: Sequence[float | None],
    flagged: Sequence[bool],
    xlabel: str,
    key: str,
) -> str:
    """Each question's facility as a horizontal bar, the flagged ones in orange; the 50 % and
    90 % lines mark the bounds of too hard and too easy."""
    row = 26
    top = 10
    bottom = top + row * max(len(names), 1)
    height = bottom + TICK + 2 * GAP + 2 * FONT + 6
    left = max([_width(n) for n in names] + [20]) + TICK + 2 * GAP
    right = WIDTH - 14
    svg = _Svg(height, key)

    def x(percent: float) -> float:
        return left + percent / 100 * (right - left)

    for i, (name, facility, flag) in enumerate(zip(names, facilities, flagged, strict=True)):
        y = top + i * row
        svg.bar(
            i, left, y + 4, x(100 * (facility or 0.0)) - left, row - 8, ORANGE if flag else GREEN
        )
        svg.line(left - TICK, y + row / 2, left, y + row / 2)
        svg.text(left - TICK - GAP, y + row / 2 + FONT * 0.35, name, anchor="end")
    for bound in (50, 90):
        svg.line(x(bound), top, x(bound), bottom, stroke=GREY, dash="4 3")
    svg.line(left, top, left, bottom)
    svg.line(left, bottom, right, bottom)
    for m in range(0, 101, 20):
        svg.line(x(m), bottom, x(m), bottom + TICK)
        svg.text(x(m), bottom + TICK + GAP + FONT * 0.8, str(m))
    svg.text((left + right) / 2, height - 4, xlabel)
    return svg.done()


def means_svg(names: Sequence[str], means: Sequence[float], ylabel: str, key: str) -> str:
    """The class's mean per assignment, as a share of its points."""
    turn = math.radians(20)
    longest = max([_width(n) for n in names] + [0])
    label_height = longest * math.sin(turn) + FONT * math.cos(turn)
    top = 10
    bottom = 240 - label_height - TICK - GAP - 4
    height = 240.0
    marks = _axis_marks(100)
    left = _label_room(marks)
    right = WIDTH - 10
    # a label, turned, reaches left of its bar's middle: room for the first one
    slot = (right - left) / max(len(names), 1)
    left = max(left, longest * math.cos(turn) - slot / 2 + 4)
    svg = _Svg(height, key)
    _vertical(svg, left, top, bottom, marks, ylabel)
    slot = (right - left) / max(len(names), 1)
    scale = (bottom - top) / 100
    for i, (name, mean) in enumerate(zip(names, means, strict=True)):
        middle = left + (i + 0.5) * slot
        value = 100 * mean
        svg.bar(i, middle - slot * 0.4, bottom - value * scale, slot * 0.8, value * scale, BLUE)
        svg.line(middle, bottom, middle, bottom + TICK)
        svg.text(middle + 3, bottom + TICK + GAP + FONT * 0.7, name, anchor="end", rotate=-20)
    svg.line(left, bottom, right, bottom)
    return svg.done()


def bar_count(svg: str) -> int:
    """How many bars an SVG of ours holds (for its text alternative and for tests)."""
    return len(re.findall(r'<g id="bar-\d+"', svg))
