"""Presidio's AnalyzerEngine, built strictly from YAML, with our recognizers added."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import spacy
import yaml
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerResult,
)
from presidio_analyzer import (
    Pattern as PresidioPattern,
)
from presidio_analyzer import (
    PatternRecognizer as PresidioPatternRecognizer,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider

from discretion.config import ConfigError, ConfigProblem, LocalRecognizer, Settings
from discretion.recognizers import Recognizer, build_all

if TYPE_CHECKING:
    from spacy.tokens import Doc

# Presidio logs decision details at DEBUG; some of them quote the text. Never let them through.
for _name in ("presidio-analyzer", "presidio-anonymizer"):
    logging.getLogger(_name).setLevel(logging.WARNING)

LANGUAGE = "en"
PRESIDIO_RESOURCE = "presidio.yaml"

DocHook = Callable[[str, "Doc", int], Any]
"""Run on each text's spaCy Doc inside the memory zone: ``hook(text, doc, offset)``.

It must return plain data (no spaCy objects); spans it reports add ``offset`` so
they index the whole message when a long message was analysed in pieces.
"""


@dataclass(frozen=True, slots=True)
class Detection:
    """One Presidio result as plain data (no spaCy or Presidio objects survive the zone)."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str
    explanation: str = ""
    pattern: str = ""
    context_word: str = ""
    steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocResult:
    """What analysing one text produced: detections and the features hooks extracted."""

    detections: list[Detection]
    features: dict[str, Any] = field(default_factory=dict)


class _Wrapped(EntityRecognizer):
    """Presents one of our Presidio-free recognizers to Presidio."""

    def __init__(self, inner: Recognizer):
        self.inner = inner
        entities = list(getattr(inner, "supported", None) or type(inner).entities)
        name = getattr(inner, "label", None) or type(inner).name or type(inner).__name__
        self.label: str = name
        super().__init__(
            supported_entities=entities,
            name=name,
            supported_language=LANGUAGE,
            context=list(inner.context),
        )

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        doc = nlp_artifacts.tokens if (nlp_artifacts is not None and self.inner.needs_doc) else None
        out = []
        for hit in self.inner.find(text, doc):
            if entities and hit.entity not in entities:
                continue
            explanation = AnalysisExplanation(
                recognizer=self.label,
                original_score=hit.score,
                pattern_name=hit.pattern or None,  # type: ignore[arg-type]  # Presidio accepts None
                textual_explanation=hit.note or None,  # type: ignore[arg-type]
            )
            out.append(
                RecognizerResult(
                    entity_type=hit.entity,
                    start=hit.start,
                    end=hit.end,
                    score=hit.score,
                    analysis_explanation=explanation,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return out


def _presidio_conf() -> dict[str, Any]:
    path = resources.files("discretion.recognizers") / "conf" / PRESIDIO_RESOURCE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not {"nlp_configuration", "recognizer_registry"} <= set(data):
        raise ConfigError([ConfigProblem(str(path), None, "", "incomplete Presidio configuration")])
    return data


def _model_installed(model: str) -> bool:
    return bool(spacy.util.is_package(model)) or Path(model).is_dir()


def _local_recognizer(spec: LocalRecognizer) -> PresidioPatternRecognizer:
    return PresidioPatternRecognizer(
        supported_entity=spec.supported_entity,
        name=spec.name,
        supported_language=spec.supported_language,
        patterns=[PresidioPattern(p.name, p.regex, p.score) for p in spec.patterns] or None,  # type: ignore[arg-type]
        deny_list=spec.deny_list or None,  # type: ignore[arg-type]
        context=spec.context or None,  # type: ignore[arg-type]
    )


class AnalysisEngine:
    """Presidio plus Discretion's recognizers, configured for one site."""

    def __init__(self, settings: Settings, recognizers: Sequence[Recognizer] | None = None):
        self.settings = settings
        conf = _presidio_conf()
        model = settings.nlp.model
        if not _model_installed(model):
            raise ConfigError(
                [
                    ConfigProblem(
                        "configuration",
                        None,
                        "nlp.model",
                        f"spaCy model {model!r} is not installed; install its package "
                        "(Discretion never downloads a model at run time)",
                    )
                ]
            )
        nlp_conf = dict(conf["nlp_configuration"])
        nlp_conf["models"] = [{"lang_code": LANGUAGE, "model_name": model}]
        if "ner_model_configuration" not in nlp_conf:
            raise ConfigError(
                [ConfigProblem("presidio.yaml", None, "ner_model_configuration", "missing")]
            )
        nlp_engine = NlpEngineProvider(nlp_configuration=nlp_conf).create_engine()
        if not isinstance(nlp_engine, SpacyNlpEngine):
            raise ConfigError(
                [ConfigProblem("presidio.yaml", None, "nlp_engine_name", "must be spacy")]
            )
        self.nlp_engine: SpacyNlpEngine = nlp_engine
        self.nlp = nlp_engine.get_nlp(LANGUAGE)

        registry_conf = dict(conf["recognizer_registry"])
        # Built without the NLP engine so Presidio does not add its spaCy NER recognizer:
        # Discretion's own person recognizer decides names, knowing staff from patients.
        registry = RecognizerRegistryProvider(
            registry_configuration=registry_conf, nlp_engine=None
        ).create_recognizer_registry()
        registry.recognizers = [
            r for r in registry.recognizers if type(r).__name__ != "SpacyRecognizer"
        ]
        expected = {r["name"] for r in registry_conf.get("recognizers", []) if isinstance(r, dict)}
        loaded = {str(getattr(r, "name", "")) for r in registry.recognizers}
        if not expected <= loaded:
            raise ConfigError(
                [
                    ConfigProblem(
                        "presidio.yaml",
                        None,
                        "recognizers",
                        f"not loaded: {sorted(expected - loaded)}",
                    )
                ]
            )
        self.recognizers = list(recognizers) if recognizers is not None else build_all(settings)
        for ours in self.recognizers:
            registry.add_recognizer(_Wrapped(ours))
        for spec in settings.recognizers:
            registry.add_recognizer(_local_recognizer(spec))

        enhancer = LemmaContextAwareEnhancer(**conf.get("context_aware_enhancer", {}))
        self.analyzer = AnalyzerEngine(
            nlp_engine=self.nlp_engine,
            registry=registry,
            supported_languages=[LANGUAGE],
            default_score_threshold=0.0,
            context_aware_enhancer=enhancer,
            log_decision_process=False,
        )
        self.recognizer_names = sorted({str(getattr(r, "name", "")) for r in registry.recognizers})

    # --- analysis ------------------------------------------------------------------

    def analyze(
        self, text: str, hooks: dict[str, DocHook] | None = None, explain: bool = False
    ) -> DocResult:
        """Analyse one text (chunked when long) inside a spaCy memory zone."""
        return next(self.analyze_many([text], hooks, explain))

    def analyze_many(
        self,
        texts: Sequence[str],
        hooks: dict[str, DocHook] | None = None,
        explain: bool = False,
    ) -> Iterator[DocResult]:
        """Analyse texts in batches (spaCy ``pipe``), yielding one result per text, in order."""
        size = self.settings.nlp.batch_size
        limit = self.settings.nlp.max_chunk_chars
        for i in range(0, len(texts), size):
            batch = texts[i : i + size]
            pieces: list[tuple[int, int, str]] = []  # (text index, offset, piece)
            for j, text in enumerate(batch):
                for offset, piece in _chunks(text, limit):
                    pieces.append((j, offset, piece))
            results: list[DocResult] = [DocResult([], {}) for _ in batch]
            with self.nlp.memory_zone():
                docs = self.nlp.pipe((p for _, _, p in pieces), batch_size=size)
                for (j, offset, piece), doc in zip(pieces, docs, strict=True):
                    artifacts = self.nlp_engine._doc_to_nlp_artifact(doc, LANGUAGE)
                    found = self.analyzer.analyze(
                        piece,
                        LANGUAGE,
                        nlp_artifacts=artifacts,
                        return_decision_process=explain,
                    )
                    results[j].detections.extend(_detection(r, offset, explain) for r in found)
                    for name, hook in (hooks or {}).items():
                        value = hook(piece, doc, offset)
                        if offset and name in results[j].features:
                            results[j].features[name] = _combine(results[j].features[name], value)
                        else:
                            results[j].features[name] = value
            for result in results:
                result.detections[:] = _dedupe(result.detections)
            yield from results


def _detection(r: RecognizerResult, offset: int, explain: bool) -> Detection:
    meta = r.recognition_metadata or {}
    ex = r.analysis_explanation
    steps: tuple[str, ...] = ()
    if explain and ex is not None:
        steps = tuple(
            s
            for s in (
                f"matched by {ex.recognizer}"
                + (f" pattern '{ex.pattern_name}'" if ex.pattern_name else ""),
                f"initial score {ex.original_score:.2f}",
                f"checksum {'passed' if ex.validation_result else 'failed'}"
                if ex.validation_result is not None
                else "",
                f"context word '{ex.supportive_context_word}' raised the score by {ex.score_context_improvement:.2f}"
                if ex.supportive_context_word
                else "",
                ex.textual_explanation or "",
                f"final score {r.score:.2f}",
            )
            if s
        )
    return Detection(
        entity_type=r.entity_type,
        start=r.start + offset,
        end=r.end + offset,
        score=float(r.score),
        recognizer=str(meta.get(RecognizerResult.RECOGNIZER_NAME_KEY, "")),
        explanation=(ex.textual_explanation or "") if ex else "",
        pattern=(ex.pattern_name or "") if ex else "",
        context_word=(ex.supportive_context_word or "") if ex else "",
        steps=steps,
    )


_BREAK = re.compile(r"\s+")


def _chunks(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """Split a long text into pieces of at most ``limit`` characters at whitespace.

    Neighbouring pieces overlap so an identifier on a boundary is seen whole.
    """
    if len(text) <= limit:
        yield 0, text
        return
    overlap = 200
    start = 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            cut = max(
                (m.start() for m in _BREAK.finditer(text, start + limit // 2, end)), default=end
            )
            end = cut if cut > start else end
        yield start, text[start:end]
        if end >= len(text):
            return
        start = max(end - overlap, start + 1)


def _dedupe(detections: list[Detection]) -> list[Detection]:
    best: dict[tuple[str, int, int], Detection] = {}
    for d in detections:
        key = (d.entity_type, d.start, d.end)
        if key not in best or d.score > best[key].score:
            best[key] = d
    return sorted(best.values(), key=lambda d: (d.start, d.end, d.entity_type))


def _combine(a: Any, b: Any) -> Any:
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return max(a, b)
    return b
