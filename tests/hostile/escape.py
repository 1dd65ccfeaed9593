"""Hostile cases: escape."""

from __future__ import annotations

from kit import Case

CASES: tuple[Case, ...] = ()
