"""A question's title on the student's feedback page: the first sentence of its task, in the
student's language, as plain text (LaTeX as Unicode, a variant's numbers left out)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from autograder.judging import feedback

# a title is cut here, at a word
LONGEST = 160
# a sentence that names the answer in fewer characters says how it is given, not what it is
SHORT = 80
# how the course's tasks begin a sentence that gives the answer a name and points back for what
POINTS_BACK = tuple(
    f"{verb} {pronoun} "
    for verb, pronouns in (("Weise", "ihn sie es"), ("Assign", "it them"), ("Присвой", "его её их"))
    for pronoun in pronouns.split()
)
_HEADER = re.compile(r"^\*\*[^*]*\*\*\s*(\([^)]*\)\.?)?\s*")
_SHORT_FRACTION = re.compile(r"\\[td]?frac(\d)(\d)")


@cache
def task_title(assignment: str, name: str, lang: str) -> str:
    """The sentence of the task that says what to do ("Berechne die Softmax p und weise sie `p1` …
    zu."): the first that names the answer, else the first; the question's name where the
    exercise has no task text in that language."""
    texts = feedback.exercise_texts(assignment).get("tasks", {}).get(name)
    if not texts:
        return name
    template = texts.get(lang) or texts.get("en") or next(iter(texts.values()))
    text = _HEADER.sub("", template.format_map(_Elided()))
    sentences = re.split(r"(?<=[.?!])\s", text.strip())
    asking = [i for i, s in enumerate(sentences) if f"`{name}`" in s or f"def {name}(" in s]
    if not asking or "- a)" in text:  # a choice: its question comes first, its options after
        return _cut(plain_text(sentences[0]))
    at = asking[0]
    # "Weise sie `x` als Zahl zu." says only how (and "ihn" points back): the sentence before it
    # says what
    how_only = len(sentences[at]) < SHORT or sentences[at].startswith(POINTS_BACK)
    said = sentences[at - 1 : at + 1] if at and how_only else sentences[at : at + 1]
    return _cut(plain_text(" ".join(said)))


class _Elided(dict[str, str]):
    """A variant's numbers are the student's own and stand in their notebook: here, an ellipsis."""

    def __missing__(self, key: str) -> str:
        return ELIDED


ELIDED = "ELIDED"
_CODE = re.compile(r"`[^`]*`")
_GROUP = re.compile(r"([_^])\{([^{}]*)\}")
_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_POWERS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def plain_text(text: str) -> str:
    """Markdown and LaTeX as plain text; code spans kept as they are."""
    code = _CODE.findall(text)
    text = _CODE.sub("\x00", text).replace("**", "")
    text = _SHORT_FRACTION.sub(r"\\frac{\1}{\2}", text)
    # an index or power of more than one term keeps its group: w_(t-1), not w_t-1
    text = _GROUP.sub(lambda m: f"{m[1]}{{({m[2]})}}" if _OPERATOR.search(m[2]) else m[0], text)
    plain = _latex_to_text().latex_to_text(text)
    plain = re.sub(r"_(\d)\b", lambda m: m[1].translate(_DIGITS), plain)
    plain = re.sub(r"\^(\d)\b", lambda m: m[1].translate(_POWERS), plain)
    for span in code:
        plain = plain.replace("\x00", span, 1)
    return " ".join(plain.replace(ELIDED + ".", "…").replace(ELIDED, "…").split())


@cache
def _latex_to_text() -> Any:
    """pylatexenc's converter, with a fraction written so that it reads as it is meant."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    fraction = MacroTextSpec("frac", simplify_repl=_fraction)
    context.add_context_category("fractions", prepend=True, macros=[fraction])
    return LatexNodes2Text(latex_context=context, math_mode="text")


def _fraction(node: Any, l2tobj: Any) -> str:
    """A numerator or denominator of more than one term in parentheses: m_t/(1 - β₁^t), not
    m_t/1 - β₁^t; pylatexenc passes its converter by the name `l2tobj`."""
    parts = [l2tobj.nodelist_to_text([arg]).strip() for arg in node.nodeargd.argnlist if arg]
    return "/".join(f"({part})" if _OPERATOR.search(part) else part for part in parts)


_OPERATOR = re.compile(r"\S\s*[-+−]\s*\S")


def _cut(text: str) -> str:
    if len(text) <= LONGEST:
        return text
    return text[:LONGEST].rsplit(" ", 1)[0] + " …"
