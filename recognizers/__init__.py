"""Discretion's UK clinical recognizers, one module each, free of Presidio.

Every module that defines ``build(settings) -> list[Recognizer]`` is picked up
by :func:`build_all`; adding a recognizer touches no other file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from discretion.recognizers.base import Hit, Pattern, PatternRecognizer, Recognizer

if TYPE_CHECKING:
    from discretion.config import Settings

__all__ = ["Hit", "Pattern", "PatternRecognizer", "Recognizer", "build_all"]

_NOT_RECOGNIZERS = {"base", "lexicons"}


def build_all(settings: Settings) -> list[Recognizer]:
    """Every shipped recognizer, configured for this site, in a stable order."""
    found: list[Recognizer] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in _NOT_RECOGNIZERS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        build = getattr(module, "build", None)
        if build is not None:
            found.extend(build(settings))
    return found
