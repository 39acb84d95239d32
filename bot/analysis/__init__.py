"""The analysis layer: the only part of Discretion that imports Presidio.

It builds Presidio's AnalyzerEngine from YAML (Presidio's own format), adds
Discretion's recognizers and the site's local ones, runs spaCy inside
``nlp.memory_zone()`` so message strings never pile up in its StringStore, and
redacts with presidio-anonymizer.
"""

from __future__ import annotations

from discretion.analysis.engine import AnalysisEngine, Detection, DocHook
from discretion.analysis.redaction import redact

__all__ = ["AnalysisEngine", "Detection", "DocHook", "redact"]
