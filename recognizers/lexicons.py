"""Curated word lists shipped as data files under ``recognizers/conf/lexicons``.

One entry per line; ``#`` starts a comment. Matching is case-insensitive. A
site extends a list through its configuration, never by editing code.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def lexicon(name: str) -> frozenset[str]:
    """The entries of ``conf/lexicons/<name>.txt``, lower-cased."""
    path = resources.files("discretion.recognizers") / "conf" / "lexicons" / f"{name}.txt"
    entries = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        entry = raw.split("#", 1)[0].strip().lower()
        if entry:
            entries.add(entry)
    return frozenset(entries)
