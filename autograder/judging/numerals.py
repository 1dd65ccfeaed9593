"""Numbers written as text, as a student types them: 0.25, −1/4, 2.5e-1 and the German decimal comma 0,25.

`read_numeral` reads one numeral or says it is none; nothing in the text is evaluated as code.
"""

from __future__ import annotations

import math
import re

# a decimal with a point or (German) a comma, and an optional exponent; no thousands separators
_DECIMAL = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_NUMERAL = re.compile(rf"(?P<numerator>{_DECIMAL})(?:/(?P<denominator>{_DECIMAL}))?")
_NOT_FINITE = {"nan": math.nan, "inf": math.inf, "infinity": math.inf, "∞": math.inf}
# the minus sign of typeset text (U+2212) and the dashes that word processors put for it
_MINUS = str.maketrans({"−": "-", "–": "-", "‒": "-"})
# longer than any numeral a student types: the rest is not read at all
MAX_LENGTH = 100


def read_numeral(text: str) -> float | None:
    """The number a text stands for, or None where it is not one numeral.

    >>> read_numeral("0,25"), read_numeral(" 1/4 "), read_numeral("2.5e-1"), read_numeral("−0.5")
    (0.25, 0.25, 0.25, -0.5)
    >>> read_numeral("0.25, 0.5") is None, read_numeral("1.000,5") is None
    (True, True)
    """
    if len(text) > MAX_LENGTH:
        return None
    compact = "".join(text.split()).translate(_MINUS)
    sign, bare = (-1.0, compact[1:]) if compact[:1] == "-" else (1.0, compact.lstrip("+"))
    if bare.lower() in _NOT_FINITE:
        return sign * _NOT_FINITE[bare.lower()]
    found = _NUMERAL.fullmatch(compact)
    if found is None:
        return None
    numerator = _decimal(found["numerator"])
    if found["denominator"] is None:
        return numerator
    denominator = _decimal(found["denominator"])
    if denominator == 0:
        return math.copysign(math.inf, numerator) if numerator else math.nan
    return numerator / denominator


def _decimal(text: str) -> float:
    # float() rounds correctly and turns 1e999 into inf without building the number
    return float(text.replace(",", "."))
