"""Prometheus metrics: counts and timings only, never content.

One registry for the process, served at ``/metrics``. Adapters count what they
receive and the API errors they meet; the core counts assessments and warnings.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_RECEIVED = Counter(
    "discretion_events_received", "Platform events received", ["platform"], registry=REGISTRY
)
EVENTS_ASSESSED = Counter(
    "discretion_events_assessed", "Messages assessed", ["platform"], registry=REGISTRY
)
WARNINGS = Counter(
    "discretion_warnings", "Messages that warned the poster", ["platform"], registry=REGISTRY
)
ASSESS_SECONDS = Histogram(
    "discretion_assessment_seconds",
    "Time to assess one message",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "discretion_queue_depth",
    "Jobs waiting in a work queue (server, slack, teams)",
    ["queue"],
    registry=REGISTRY,
)
API_ERRORS = Counter(
    "discretion_platform_api_errors",
    "Errors from platform APIs",
    ["platform", "method"],
    registry=REGISTRY,
)
INCIDENTS = Counter(
    "discretion_incidents_reported", "Breach reports created", ["source"], registry=REGISTRY
)

__all__ = [
    "API_ERRORS",
    "ASSESS_SECONDS",
    "CONTENT_TYPE_LATEST",
    "EVENTS_ASSESSED",
    "EVENTS_RECEIVED",
    "INCIDENTS",
    "QUEUE_DEPTH",
    "REGISTRY",
    "WARNINGS",
    "exposition",
]


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)
