"""Fixtures for the Slack tests; the harness itself is in slack_harness.py."""

from __future__ import annotations

from slack_harness import fake_slack, slack, slack_env

__all__ = ["fake_slack", "slack", "slack_env"]
