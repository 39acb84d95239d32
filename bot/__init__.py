"""Discretion: keep patient-identifiable information out of workplace chat.

The public surface is small: build a :class:`Message`, call :func:`assess`
(or :meth:`Engine.assess`), read the :class:`Assessment`.
"""

from __future__ import annotations

from discretion.assessment import Assessment, Finding
from discretion.config import ConfigError, Settings, load_settings
from discretion.engine import Engine, assess
from discretion.message import Message
from discretion.notice import Notice, build_notice

__all__ = [
    "Assessment",
    "ConfigError",
    "Engine",
    "Finding",
    "Message",
    "Notice",
    "Settings",
    "assess",
    "build_notice",
    "load_settings",
]

__version__ = "0.1.0"
