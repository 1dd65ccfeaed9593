"""The class report: one self-contained HTML page (plots inline as SVG, no network, one small script
that sorts tables) in the teacher's language, with the numbers of every plot in a table beneath."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograder.classroom.pages import PAGES
from autograder.judging import feedback
from autograder.reports import plots
from autograder.reports.statistics import OUTCOMES, AssignmentStats, QuestionStats

# where a course keeps its report, beside the feedback pages
REPORT = Path("reports") / "report.html"

STYLE = """
body { font-family: sans-serif; max-width: 72em; margin: 1.5em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th.sortable { cursor: pointer; } th.sortable::after { content: " ⇅"; color: #999; }
td.num, th.num { text-align: right; }
figure { margin: 0.5em 0; } figure svg { max-width: 100%; height: auto; }
.pair { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
.pair figure { flex: 0 1 36em; }
.flag { color: #a55a00; } nav a { margin-right: 1em; } small { color: #555; }
"""

# sorts a table by the column clicked, numbers as numbers ("–" last); nothing else runs
SORTING = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.classList.add("sortable");
    var up = true;
    th.addEventListener("click", function () {
      var rows = Array.from(table.tBodies[0].rows);
      var key = function (row) {
        var text = row.cells[column].textContent.trim();
        var number = parseFloat(text);
        return isNaN(number) ? text : number;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      up = !up;
      rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
    });
  });
});
"""


def class_report(
    course_name: str,
    stats: Sequence[AssignmentStats],
    enrolled: Sequence[str],
    lang: str,
    pages: Path | None = None,
    when: datetime | None = None,
) -> str:
    """The page. `pages` is the folder of the feedback pages relative to the report (links)."""

    def t(key: str, **details: Any) -> str:
        return html.escape(feedback.message("class_report", key, lang, **details))

    when = when or datetime.now(UTC)
    parts = [
        f"<h1>{t('title', course=course_name)}</h1>",
        f"<p>{t('intro', when=when.strftime('%Y-%m-%d %H:%M UTC'))}</p>",
        f"<p><small>{t('definitions')}</small></p>",
    ]
    if not any(s.submitted for s in stats):
        parts.append(f"<p class='empty'>{t('empty')}</p>")
    else:
        nav = " ".join(f"<a href='#{s.assignment}'>{s.assignment}</a>" for s in stats)
        parts.append(f"<nav>{nav}</nav>")
        parts.append(_course(stats, enrolled, t))
        parts += [_assignment(s, t, pages, lang) for s in stats]
    body = "\n".join(parts)
    title = t("title", course=course_name)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
        f"<title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}\n"
        f"<script>{SORTING}</script>\n</body>\n</html>\n"
    )


def _course(stats: Sequence[AssignmentStats], enrolled: Sequence[str], t: Any) -> str:
    """Across assignments: the class's mean per assignment, and each student's totals."""
    shown = [s for s in stats if s.mean is not None and s.max_score]
    names = [s.assignment for s in shown]
    means = [(s.mean or 0.0) / s.max_score for s in shown]
    svg = plots.means_svg(names, means, _plain(t("means_axis")), "means")
    figure = _figure(svg, t("means_alt", bars=plots.bar_count(svg)))
    mean_rows = "".join(
        f"<tr><td>{html.escape(s.assignment)}</td><td class='num'>{_n(s.mean)}</td>"
        f"<td class='num'>{s.max_score:g}</td><td class='num'>{_percent(m)}</td></tr>"
        for s, m in zip(shown, means, strict=True)
    )
    head = "".join(f"<th class='num'>{html.escape(s.assignment)}</th>" for s in stats)
    finals = {s.assignment: {sheet.student: sheet.final() for sheet in s.sheets} for s in stats}
    rows = []
    for student in enrolled:
        cells = [finals[s.assignment].get(student) for s in stats]
        total = sum(c for c in cells if c is not None)
        shown_cells = "".join(f"<td class='num'>{_n(c)}</td>" for c in cells)
        rows.append(
            f"<tr><td>{html.escape(student)}</td>{shown_cells}<td class='num'>{total:g}</td></tr>"
        )
    return (
        f"<section id='course'><h2>{t('course')}</h2><h3>{t('means')}</h3>"
        f"<div class='pair'>{figure}"
        f"<table><thead><tr><th>{t('assignment')}</th><th class='num'>{t('mean')}</th>"
        f"<th class='num'>{t('points')}</th><th class='num'>%</th></tr></thead>"
        f"<tbody>{mean_rows}</tbody></table></div>"
        f"<table class='sortable'><thead><tr><th>{t('student')}</th>{head}"
        f"<th class='num'>{t('sum')}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</section>"
    )


def _assignment(s: AssignmentStats, t: Any, pages: Path | None, lang: str) -> str:
    head = f"<section id='{html.escape(s.assignment)}'><h2>{t('assignment')} {s.assignment}</h2>"
    missing = ", ".join(html.escape(m) for m in s.missing) or t("none")
    facts = (
        f"<p>{t('submitted')}: <strong>{s.submitted}</strong> · {t('late')}: {s.late} · "
        f"{t('missing')}: {len(s.missing)} ({missing})</p>"
    )
    if not s.submitted:
        return f"{head}{facts}<p>{t('nobody')}</p></section>"
    sd = _n(s.sd) if s.sd is not None else t("undefined")
    spread = (
        f"<p>{t('mean')}: <strong>{_n(s.mean)}</strong> · {t('median')}: {_n(s.median)} · "
        f"{t('sd')}: {sd} · {t('points')}: {s.max_score:g}</p>"
    )
    return "".join(
        [
            head,
            facts,
            spread,
            _distribution(s, t),
            _questions(s, t),
            _mistakes(s, t, lang),
            _copies(s, t),
            _students(s, t, pages),
            "</section>",
        ]
    )


def _distribution(s: AssignmentStats, t: Any) -> str:
    svg = plots.histogram_svg(
        s.histogram, _plain(t("points")), _plain(t("count")), f"hist-{s.assignment}"
    )
    alt = t("distribution_alt", count=s.submitted, bars=plots.bar_count(svg))
    rows = "".join(
        f"<tr><td>{a:g}–{b:g}</td><td class='num'>{c}</td></tr>" for a, b, c in s.histogram
    )
    return (
        f"<h3>{t('distribution')}</h3><div class='pair'>{_figure(svg, alt)}<table><thead><tr>"
        f"<th>{t('points')}</th><th class='num'>{t('count')}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _questions(s: AssignmentStats, t: Any) -> str:
    shown = [o for o in OUTCOMES if any(q.outcomes.get(o) for q in s.questions)]
    head = "".join(f"<th class='num'>{t(o)}</th>" for o in shown)
    rows = "".join(_question_row(q, shown, t) for q in s.questions)
    svg = plots.facility_svg(
        [q.question.name for q in s.questions],
        [q.facility for q in s.questions],
        [bool(q.flags) for q in s.questions],
        _plain(t("facility_axis")),
        f"facility-{s.assignment}",
    )
    alt = t("facility_alt", bars=plots.bar_count(svg))
    return (
        f"<h3>{t('questions')}</h3>{_figure(svg, alt)}<table class='sortable questions'><thead>"
        f"<tr><th>{t('question')}</th><th class='num'>{t('points')}</th>"
        f"<th class='num'>{t('facility')}</th><th class='num'>{t('sd')}</th>"
        f"<th class='num'>{t('discrimination')}</th>{head}<th>{t('flags')}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _question_row(q: QuestionStats, outcomes: Sequence[str], t: Any) -> str:
    if q.discrimination is not None:
        discrimination = f"{q.discrimination:.2f}"
    elif q.scored == 0:
        discrimination = t("not_scored")
    else:
        discrimination = t("undefined_one" if q.undefined == "one" else "undefined_spread")
    shares = "".join(f"<td class='num'>{_percent(q.outcomes[o])}</td>" for o in outcomes)
    flags = "; ".join(t(f) for f in q.flags)
    return (
        f"<tr><td><code>{html.escape(q.question.name)}</code></td>"
        f"<td class='num'>{q.question.points:g}</td>"
        f"<td class='num'>{_percent(q.facility) if q.facility is not None else t('not_scored')}</td>"
        f"<td class='num'>{_percent(q.sd) if q.sd is not None else '–'}</td>"
        f"<td class='num'>{discrimination}</td>{shares}<td class='flag'>{flags}</td></tr>"
    )


def _mistakes(s: AssignmentStats, t: Any, lang: str) -> str:
    rows = "".join(
        f"<tr><td><code>{html.escape(q.question.name)}</code></td>"
        f"<td><code>{html.escape(m.name)}</code><br><small>"
        f"{html.escape(_mistake_text(s.assignment, m.name, lang))}</small></td>"
        f"<td class='num'>{m.count}</td>"
        f"<td class='num'>{_percent(m.share)}</td><td>{html.escape(', '.join(m.students))}</td></tr>"
        for _, _, q, m in sorted(
            ((-m.count, i, q, m) for i, q in enumerate(s.questions) for m in q.mistakes),
            key=lambda row: row[:2],
        )
    )
    if not rows:
        return f"<h3>{t('mistakes')}</h3><p>{t('no_mistakes')}</p>"
    return (
        f"<h3>{t('mistakes')}</h3><table class='sortable mistakes'><thead><tr>"
        f"<th>{t('question')}</th><th>{t('mistake')}</th><th class='num'>{t('count')}</th>"
        f"<th class='num'>{t('share_not_right')}</th><th>{t('students')}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _mistake_text(assignment: str, mistake: str, lang: str) -> str:
    """What the mistake is, in the teacher's language; its id alone where no text says it."""
    try:
        return feedback.mistake_text(assignment, mistake, lang)
    except (KeyError, ValueError, IndexError):
        return ""


def _copies(s: AssignmentStats, t: Any) -> str:
    if not s.copies:
        return f"<h3>{t('copies')}</h3><p>{t('no_copies')}</p>"
    items = "".join(
        f"<li>{t('copy', student=c.student, question=c.question, whose=c.whose)}</li>"
        for c in s.copies
    )
    return f"<h3>{t('copies')}</h3><ul class='copies'>{items}</ul>"


def _students(s: AssignmentStats, t: Any, pages: Path | None) -> str:
    rows = []
    for sheet in s.sheets:
        link = ""
        if pages is not None:
            href = (pages / sheet.student / s.assignment / f"{s.assignment}.html").as_posix()
            link = f"<a href='{html.escape(href)}'>{t('feedback')}</a>"
        rows.append(
            f"<tr><td>{html.escape(sheet.student)}</td><td class='num'>{sheet.score():g}</td>"
            f"<td class='num'>{sheet.late_penalty:g}</td><td class='num'>{sheet.final():g}</td>"
            f"<td>{link}</td></tr>"
        )
    return (
        f"<h3>{t('per_student')}</h3><table class='sortable students'><thead><tr>"
        f"<th>{t('student')}</th><th class='num'>{t('points')}</th>"
        f"<th class='num'>{t('penalty')}</th><th class='num'>{t('final')}</th>"
        f"<th>{t('feedback')}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _figure(svg: str, alt: str) -> str:
    return f"<figure><div role='img' aria-label='{alt}'>{svg}</div><figcaption>{alt}</figcaption></figure>"


def _plain(escaped: str) -> str:
    """A label for a plot: the text itself (the plot escapes it in its SVG)."""
    return html.unescape(escaped)


def _n(value: float | None) -> str:
    return "–" if value is None else f"{round(value, 2):g}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def write_report(
    course: Path,
    stats: Sequence[AssignmentStats],
    enrolled: Sequence[str],
    lang: str,
    out: Path | None = None,
) -> Path:
    """The report in `out` (default COURSE/reports/report.html), written whole, its links to the
    feedback pages relative to it."""
    from autograder.release.files import write_whole

    path = out or course / REPORT
    pages = Path(os.path.relpath(course / PAGES, path.parent))
    write_whole(path, class_report(course.resolve().name, stats, enrolled, lang, pages))
    return path
