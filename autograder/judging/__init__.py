"""Judging one answer: what a student wrote read into numbers, compared with the reference within
tolerance, the mistake behind a wrong answer named, the verdict told in de, en or ru."""
