"""Quasi-identifiers: details (role, place, event, time...) that identify only together."""

from __future__ import annotations

from discretion.quasi.extract import CATEGORIES, QuasiExtractor, QuasiSpan
from discretion.quasi.phrases import Entry, Match, PhraseTable, build_table

__all__ = [
    "CATEGORIES",
    "Entry",
    "Match",
    "PhraseTable",
    "QuasiExtractor",
    "QuasiSpan",
    "build_table",
]
