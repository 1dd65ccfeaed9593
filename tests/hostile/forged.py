"""Hostile cases: forged."""

from __future__ import annotations

from kit import Case

CASES: tuple[Case, ...] = ()
