"""Slack: receive channel messages, warn the poster privately, one-click actions.

Only this package imports ``slack_bolt`` and ``slack_sdk``. The server mounts it
through ``discretion.adapters.slack.mount:mount``.
"""

from __future__ import annotations
