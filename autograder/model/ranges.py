"""What a student's own numbers may be: a range of values of a parameter, or one of given values
(`vary` in a spec), drawn by a seeded random generator."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Between:
    """The values low, low + step, …, high of one parameter (or of each entry of a list parameter),
    except those in `avoid`. Written as in a spec: ints, or decimal strings that stay exact.

    >>> Between("0.1", "0.3", "0.1").values()
    ['0.1', '0.2', '0.3']
    """

    low: int | str
    high: int | str
    step: int | str = 1
    avoid: tuple[int | str, ...] = ()

    def __post_init__(self) -> None:
        low, high, step = (Decimal(str(v)) for v in (self.low, self.high, self.step))
        if step <= 0 or high < low or (high - low) % step != 0:
            raise ValueError(f"{self}: high − low must be a whole number of steps > 0")
        if not self.values():
            raise ValueError(f"{self}: every value is avoided")

    def values(self) -> list[int | str]:
        low, high, step = (Decimal(str(v)) for v in (self.low, self.high, self.step))
        avoided = {Decimal(str(v)) for v in self.avoid}
        count = int((high - low) / step) + 1
        exact = [low + k * step for k in range(count)]
        return [self._written(v) for v in exact if v not in avoided]

    def _written(self, value: Decimal) -> int | str:
        """An int where the range is of ints, else a decimal as a lecture writes it: 0.1, 2.0, 0.25."""
        if all(isinstance(v, int) for v in (self.low, self.high, self.step)):
            return int(value)
        exponent = value.normalize().as_tuple().exponent
        places = max(1, -exponent if isinstance(exponent, int) else 0)
        return f"{value:.{places}f}"

    def draw(self, rng: random.Random) -> int | str:
        return rng.choice(self.values())


@dataclass(frozen=True)
class OneOf:
    """One of the given values, as written in a spec: the position of the 1 in a one-hot target,
    an order of things, or the value a variant must have (a slide of its own: None)."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("OneOf needs at least one option")

    def draw(self, rng: random.Random) -> Any:
        return copy.deepcopy(rng.choice(self.options))


Range = Between | OneOf
