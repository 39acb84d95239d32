"""Block Kit models to JSON dicts: the same dicts as slack_sdk's ``to_dict()``, made faster.

slack_sdk finds each model's validators by listing ``dir()`` of every object and
reading every attribute, properties included, on every ``to_dict()``. A warning
holds about twenty objects, so that alone cost about 1.5 ms of event-loop time
per warning (measured: ``bench/slack_latency.py`` under py-spy). Here the
validator names are found once per class; every validator still runs, and the
result is the dict ``to_dict()`` gives (``tests/slack/test_serialize.py``
compares the two on every kind of message Discretion sends).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_EMPTY_ALLOWED = frozenset((e["type"], e["property"]) for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)


@cache
def _validators(cls: type) -> tuple[str, ...]:
    """Names of the class's ``@JsonValidator`` methods (what ``validate_json`` calls)."""
    return tuple(
        name
        for name in dir(cls)
        if not name.startswith("__") and hasattr(getattr(cls, name, None), "validator")
    )


@cache
def _plain(cls: type) -> bool:
    """True when the class serialises the generic way (it does not override ``to_dict``)."""
    return getattr(cls, "to_dict", None) is JsonObject.to_dict


def as_dict(obj: JsonObject) -> dict[str, Any]:
    """``obj.to_dict()``, validators and all, without the per-object ``dir()`` scan."""
    cls = type(obj)
    if not _plain(cls):
        return {k: _compatible(v) for k, v in obj.to_dict().items()}
    for name in _validators(cls):
        getattr(obj, name)()
    kind = getattr(obj, "type", None)
    out: dict[str, Any] = {}
    for key in sorted(obj.attributes):
        value = getattr(obj, key, None)
        if value is None:
            continue
        if (kind, key) not in _EMPTY_ALLOWED and hasattr(value, "__len__") and len(value) == 0:
            continue
        out[key] = _compatible(value)
    return out


def _compatible(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_compatible(v) for v in value]
    if isinstance(value, JsonObject):
        return as_dict(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return {k: _compatible(v) for k, v in to_dict().items()}
    return value


def blocks_json(blocks: list[Any]) -> list[dict[str, Any]]:
    """A list of Block Kit models as the JSON Slack's Web API takes."""
    return [as_dict(b) if isinstance(b, JsonObject) else b for b in blocks]
