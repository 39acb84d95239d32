"""The core: one way in, :meth:`Engine.assess`, from a Message to an Assessment."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from discretion.analysis import AnalysisEngine, Detection, DocHook, redact
from discretion.analysis.redaction import Span
from discretion.assessment import Assessment, Finding
from discretion.config import Settings, load_settings
from discretion.context import ContextScorer
from discretion.memory import (
    DetailHasher,
    Remembered,
    ThreadStore,
    conversation_key,
    message_time,
)
from discretion.message import Message
from discretion.normalise import normalise
from discretion.quasi import QuasiExtractor
from discretion.risk import FACTOR_MAX, QUASI_PREFIX, decide, details_of

# How a quasi-identifier reads once generalised: the rest still reads as a sentence.
QUASI_PLACEHOLDERS: dict[str, str] = {
    "QUASI_PERSON": "a patient",
    "QUASI_PLACE": "[a place]",
    "QUASI_EVENT": "[an incident]",
    "QUASI_TIME": "[a time]",
    "QUASI_AGE": "[an age]",
    "QUASI_CONDITION": "[a condition]",
    "QUASI_INJURY": "[an injury]",
    "QUASI_FAMILY": "[a relative]",
    "QUASI_NOTABLE": "[a detail]",
    "QUASI_UNIQUENESS": "[a detail]",
}
QUASI_DEFAULT_PLACEHOLDER = "[a detail]"

_SEPARATOR = "\n\n"


class Engine:
    """Assesses messages for one site configuration. Build once, use from any thread."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        hooks: dict[str, DocHook] | None = None,
        hash_key: bytes | None = None,
    ):
        self.settings = settings or load_settings()
        self.analysis = AnalysisEngine(self.settings)
        tokenizer = self.analysis.nlp.tokenizer

        def tokenize(phrase: str) -> list[str]:
            return [t.text for t in tokenizer(phrase)]

        extra = self.settings.risk.extra_lexicon
        # Patient context and quasi-identifiers read the Doc Presidio already parsed.
        self.hooks: dict[str, DocHook] = {
            "context": ContextScorer(extra, tokenize),
            "quasi": QuasiExtractor(extra, tokenize),
            **(hooks or {}),
        }
        # ``hash_key`` lets an engine in another process hash details as this one does.
        self._hasher = DetailHasher(hash_key)
        self._allow = {a.strip().lower() for a in self.settings.allow_list if a.strip()}
        self._org_numbers = {
            _digits(p) for p in self.settings.organisation.phone_numbers if _digits(p)
        }
        self._org_postcodes = {
            _squash(p) for p in self.settings.organisation.postcodes if _squash(p)
        }
        self._deny = [
            (re.compile(r"(?<!\w)" + re.escape(d.term) + r"(?!\w)", re.IGNORECASE), d.entity)
            for d in self.settings.deny_list
        ]
        self._lock = threading.Lock()

    @property
    def hash_key(self) -> bytes:
        """The key details are hashed with in memory (give it to a twin engine elsewhere)."""
        return self._hasher.key

    @property
    def config_version(self) -> str:
        return self.settings.config_version

    # --- the way in ------------------------------------------------------------------

    def assess(self, message: Message, memory: ThreadStore | None = None) -> Assessment:
        """Assess one message: findings, verdict, reasons and a redacted text.

        ``memory`` (see :func:`discretion.memory.memory_for`) remembers derived
        features of the same author's earlier messages in the same conversation,
        so details spread over several messages add up.
        """
        return next(self.assess_many([message], memory=memory))

    def assess_many(
        self, messages: Sequence[Message], memory: ThreadStore | None = None
    ) -> Iterator[Assessment]:
        """Assess messages in order, batching the NLP work; memory is updated in order."""
        limit = self.settings.nlp.max_message_chars
        prepared = []
        for m in messages:
            text = m.text if isinstance(m.text, str) else ""
            scanned = text[:limit]
            extra = _SEPARATOR.join(t for t in m.extra_texts if t)
            combined = scanned + (_SEPARATOR + extra if extra else "")
            prepared.append((m, text, scanned, normalise(combined)))
        with self._lock:
            results = list(self.analysis.analyze_many([p[3].text for p in prepared], self.hooks))
        for (message, text, scanned, norm), result in zip(prepared, results, strict=True):
            yield self._conclude(
                message, text, scanned, norm, result.detections, result.features, memory
            )

    def explain(self, text: str) -> list[dict[str, Any]]:
        """Presidio's decision process for each finding: recognizer, pattern, context, scores."""
        norm = normalise(text)
        with self._lock:
            result = self.analysis.analyze(norm.text, self.hooks, explain=True)
        kept = {
            (f.entity_type, f.start, f.end) for f in self._findings(text, norm, result.detections)
        }
        out = []
        for d in result.detections:
            start, end = norm.to_original(d.start, d.end)
            out.append(
                {
                    "entity_type": d.entity_type,
                    "start": start,
                    "end": end,
                    "score": round(d.score, 3),
                    "recognizer": d.recognizer,
                    "pattern": d.pattern,
                    "context_word": d.context_word,
                    "steps": list(d.steps),
                    "kept": (d.entity_type, start, end) in kept,
                }
            )
        return out

    # --- internals -------------------------------------------------------------------

    def _findings(self, text: str, norm: Any, detections: Iterable[Detection]) -> list[Finding]:
        thresholds = self.settings.thresholds
        out: list[Finding] = []
        for d in detections:
            start, end = norm.to_original(d.start, d.end)
            surface = text[start:end] if end <= len(text) else norm.text[d.start : d.end]
            if self._allowed(surface, d.entity_type):
                continue
            if d.score < thresholds.entities.get(d.entity_type, thresholds.default):
                continue
            out.append(
                Finding(
                    d.entity_type, start, end, d.score, d.recognizer, "identifier", d.explanation
                )
            )
        for regex, entity in self._deny:
            for m in regex.finditer(text):
                out.append(Finding(entity, m.start(), m.end(), 1.0, "DenyList", "identifier"))
        return sorted(out, key=lambda f: (f.start, f.end))

    def _allowed(self, surface: str, entity: str) -> bool:
        low = surface.strip().lower()
        if low in self._allow:
            return True
        if entity == "PHONE_NUMBER" and _digits(surface) in self._org_numbers:
            return True
        return entity == "UK_POSTCODE" and _squash(surface) in self._org_postcodes

    def _conclude(
        self,
        message: Message,
        text: str,
        scanned: str,
        norm: Any,
        detections: list[Detection],
        features: dict[str, Any],
        memory: Any,
    ) -> Assessment:
        findings = self._findings(text, norm, detections)
        quasi, person_spans = self._quasi(text, norm, features.get("quasi"))
        findings = sorted([*findings, *quasi], key=lambda f: (f.start, f.end))
        key = conversation_key(message) if memory is not None else None
        now = message_time(message)
        history = memory.recall(key, now) if memory is not None and key else ()
        verdict = decide(findings, features, self.settings, history, text)
        if memory is not None and key:
            memory.remember(key, self._remembered(text, findings, verdict, now))
        reasons = list(verdict.reasons)
        if len(text) > len(scanned):
            reasons.append(
                f"Only the first {len(scanned):,} characters were checked: the message is too long "
                "to check in full. Please do not paste long clinical documents into chat."
            )
        # No warning, no rewrite: the poster is told nothing, so the text stands as written.
        spans = [
            Span(f.start, f.end, f.entity_type, f.score)
            for f in findings
            if verdict.warn and f.end <= len(text) and f.category == "identifier"
        ]
        if verdict.warn:
            # Generalise the details too: low scores so a direct identifier's placeholder wins.
            for f in quasi:
                person = (f.start, f.end) in person_spans
                kind = "QUASI_PERSON" if person else f.entity_type
                if f.end <= len(text):
                    # Where details overlap, "a patient" reads best; identifiers win over both.
                    spans.append(Span(f.start, f.end, kind, 0.15 if person else 0.1))
        placeholders = {
            **{f.entity_type: QUASI_DEFAULT_PLACEHOLDER for f in quasi},
            **QUASI_PLACEHOLDERS,
        }
        redacted = redact(text, spans, placeholders) if spans else text
        return Assessment(
            warn=verdict.warn,
            risk=verdict.risk,
            findings=tuple(findings),
            reasons=tuple(reasons),
            redacted=redacted,
            patient_context=verdict.patient_context,
            config_version=self.config_version,
            evidence=verdict.evidence,
        )

    def _quasi(self, text: str, norm: Any, raw: Any) -> tuple[list[Finding], set[tuple[int, int]]]:
        """Quasi findings from the hook's plain data, in original-text offsets."""
        out: list[Finding] = []
        person: set[tuple[int, int]] = set()
        for q in raw if isinstance(raw, list) else ():
            start, end = norm.to_original(q["start"], q["end"])
            if end > len(text) or start >= end:
                continue  # in an attachment name or channel name: counted, not redacted
            out.append(
                Finding(
                    QUASI_PREFIX + q["category"].upper(),
                    start,
                    end,
                    min(1.0, float(q["factor"]) / FACTOR_MAX),
                    f"quasi:{q['key']}",
                    "quasi",
                    q["label"],
                )
            )
            if q.get("person"):
                person.add((start, end))
        return out, person

    def _remembered(
        self, text: str, findings: Sequence[Finding], verdict: Any, now: float
    ) -> Remembered:
        """What memory keeps of this message: categories, weights, keyed hashes, counts."""
        own = details_of(findings, self.settings, text)
        hashes = frozenset(
            self._hasher(f.entity_type, text[f.start : f.end])
            for f in findings
            if f.category == "quasi"
        )
        return Remembered(
            at=now,
            context=verdict.patient_context,
            categories={d.category: d.weight for d in own},
            labels={d.category: d.label for d in own},
            hashes=hashes,
            identifiers=sum(1 for f in findings if f.category == "identifier"),
        )


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _squash(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum()).upper()


_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The process-wide engine on the current configuration, built on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Engine()
        return _default


def assess(message: Message | str, memory: Any = None) -> Assessment:
    """Assess a message (or plain text) with the process-wide engine."""
    if isinstance(message, str):
        message = Message(text=message)
    return default_engine().assess(message, memory)
