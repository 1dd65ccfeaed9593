"""The class report's plots, drawn by matplotlib as SVG to be embedded in the page: no script, no
network, text kept as text (readable, searchable, in the teacher's language). Each bar carries an
id `bar-N`, so that a reader (and a test) can tell the bars from the axes."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

# colours that stay apart in grey and for the common colour blindnesses (Okabe and Ito)
BLUE, ORANGE, GREEN, GREY = "#0072B2", "#E69F00", "#009E73", "#999999"


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("svg")  # no display, no GUI toolkit
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["font.size"] = 9
    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Any, key: str) -> str:
    """The figure as an SVG element; `key` keeps its ids apart from the other plots on the page."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = key
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg") :]


def _bars(ax: Any, bars: Any) -> None:
    for i, bar in enumerate(bars):
        bar.set_gid(f"bar-{i}")
    ax.spines[["top", "right"]].set_visible(False)


def histogram_svg(
    bins: Sequence[tuple[float, float, int]], xlabel: str, ylabel: str, key: str
) -> str:
    """The totals' distribution: one bar per bin of scores."""
    fig = _figure(5.5, 2.4)
    ax = fig.add_subplot()
    lefts = [a for a, _, _ in bins]
    widths = [b - a for a, b, _ in bins]
    bars = ax.bar(
        lefts, [c for *_, c in bins], width=widths, align="edge", color=BLUE, edgecolor="white"
    )
    _bars(ax, bars)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(fig, key)


def facility_svg(
    names: Sequence[str],
    facilities: Sequence[float | None],
    flagged: Sequence[bool],
    xlabel: str,
    key: str,
) -> str:
    """Each question's facility as a horizontal bar, the flagged ones in orange; the 50 % and
    90 % lines mark the bounds of too hard and too easy."""
    fig = _figure(5.5, 0.6 + 0.28 * max(len(names), 1))
    ax = fig.add_subplot()
    values = [100 * (f or 0.0) for f in facilities]
    colours = [ORANGE if flag else GREEN for flag in flagged]
    bars = ax.barh(range(len(names)), values, color=colours)
    _bars(ax, bars)
    ax.set_yticks(range(len(names)), labels=list(names))
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    for bound in (50, 90):
        ax.axvline(bound, color=GREY, linewidth=0.8, linestyle="--")
    ax.set_xlabel(xlabel)
    return _svg(fig, key)


def means_svg(names: Sequence[str], means: Sequence[float], ylabel: str, key: str) -> str:
    """The class's mean per assignment, as a share of its points."""
    fig = _figure(5.5, 2.4)
    ax = fig.add_subplot()
    bars = ax.bar(range(len(names)), [100 * m for m in means], color=BLUE)
    _bars(ax, bars)
    ax.set_xticks(range(len(names)), labels=list(names), rotation=20, ha="right")
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    return _svg(fig, key)


def bar_count(svg: str) -> int:
    """How many bars an SVG of ours holds (for its text alternative and for tests)."""
    return len(re.findall(r'<g id="bar-\d+"', svg))
