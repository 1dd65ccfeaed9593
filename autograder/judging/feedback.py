"""Feedback texts in the student's language (German first, English, Russian), looked up by key.

The grader's own texts are in autograder/judging/messages.yaml, each exercise's in the YAML file beside its spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from autograder.model.catalogue import UnknownAssignment, texts_file
from autograder.model.errors import UserError

Language = Literal["de", "en", "ru"]
LANGUAGES: tuple[Language, ...] = ("de", "en", "ru")


class UnknownLanguage(UserError, ValueError):
    def __str__(self) -> str:
        return f"no texts in {self.args[0]!r}; choose one of {', '.join(LANGUAGES)}"


# libyaml's parser where PyYAML was built with it (ten times the pure-Python one), the same texts
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parsed(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


@cache
def messages() -> dict[str, Any]:
    text = (
        resources.files("autograder.judging").joinpath("messages.yaml").read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = _parsed(text)
    return loaded


@cache
def exercise_texts(assignment: str) -> dict[str, Any]:
    try:
        path = texts_file(assignment)
    except UnknownAssignment:
        return {}
    if not path.is_file():
        return {}
    return _parsed(path.read_text(encoding="utf-8")) or {}


def check_language(lang: str) -> Language:
    if lang not in LANGUAGES:
        raise UnknownLanguage(lang)
    return lang


def pick(texts: dict[str, str], lang: str, **details: Any) -> str:
    """The text in `lang` with its placeholders filled (missing details leave a blank, never a crash)."""
    template = texts.get(lang) or texts.get("en") or next(iter(texts.values()))
    return template.format_map(_Blank(details)).replace("  ", " ").strip()


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def message(section: str, key: str, lang: str, **details: Any) -> str:
    return pick(messages()[section][key], lang, **details)


def mistake_text(assignment: str, mistake: str, lang: str, **details: Any) -> str:
    """The text of a mistake by its id; "a+b" (two at once) and "a|b" (either) name each part."""
    if "|" in mistake:
        parts = [mistake_text(assignment, m, lang, **details) for m in mistake.split("|")]
        listed = " ".join(f"({i}) {text}" for i, text in enumerate(parts, start=1))
        return f"{message('mistake_sets', 'either', lang)} {listed}"
    if "+" in mistake:
        parts = [mistake_text(assignment, m, lang, **details) for m in mistake.split("+")]
        listed = " ".join(f"({i}) {text}" for i, text in enumerate(parts, start=1))
        return f"{message('mistake_sets', 'both', lang)} {listed}"
    own = exercise_texts(assignment).get("mistakes", {})
    texts = own.get(mistake) or messages()["mistakes"].get(mistake)
    if texts is None:
        raise KeyError(f"no feedback text for mistake {mistake!r} of {assignment}")
    return pick(texts, lang, **details)


def mistake_name(assignment: str, mistake: str, lang: str) -> str:
    """A mistake by its name in words ("Vorzeichenfehler"); two at once or either of two named by
    both names. A mistake without a name is named by its explanation's first sentence."""
    for joint, key in (("+", "both_names"), ("|", "either_names")):
        if joint in mistake:
            names = [mistake_name(assignment, m, lang) for m in mistake.split(joint)]
            return message("mistake_sets", key, lang, first=", ".join(names[:-1]), rest=names[-1])
    texts = exercise_texts(assignment).get("mistake_names", {}).get(mistake) or messages()[
        "mistake_names"
    ].get(mistake)
    if texts is not None:
        return pick(texts, lang)
    return mistake_text(assignment, mistake, lang).split(". ")[0].split(": ")[0].rstrip(".")


def position(index: Sequence[int], lang: str, columns: Sequence[str] = ()) -> str:
    """Where an entry stands, counted from 1 as a reader counts: "Eintrag 3", "Zeile 2, Spalte 1",
    in a table by its column's name ("Zeile 2, Spalte loss")."""
    if len(index) == 1:
        return message("where", "nth", lang, n=index[0] + 1)
    rest = index[1:]
    column = columns[rest[0]] if columns and len(rest) == 1 else ", ".join(str(i + 1) for i in rest)
    return message("where", "row_column", lang, row=index[0] + 1, column=column)


def numbers(indices: Sequence[int], lang: str) -> str:
    """Entries by their numbers counted from 1, "Nr. 1, 2, 4"."""
    return message("verdict", "entries", lang, numbers=", ".join(str(i + 1) for i in indices))
