"""The Slack side of the server: a bolt AsyncApp wired to the core.

Events are acknowledged at once (bolt answers Slack before our listener runs);
the listener drops repeats, and hands the message to a bounded work queue
(``discretion.work``; with DISCRETION_QUEUE=redis a Redis stream any replica reads),
where it is assessed in a batch with whatever else is waiting and, if need be, the
poster is warned privately.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from discretion import metrics
from discretion.adapters.slack import actions, commands
from discretion.adapters.slack.blocks import warning_blocks, warning_text
from discretion.adapters.slack.client import call, make_client
from discretion.adapters.slack.events import Skip, SlackMessage, from_event
from discretion.adapters.slack.refs import WARNING_KEY, MessageRef
from discretion.adapters.slack.serialize import blocks_json
from discretion.adapters.slack.settings import SlackSettings
from discretion.assessment import Assessment
from discretion.batching import MAX_BATCH
from discretion.dedupe import Deduplicator, deduplicator_from_env
from discretion.logs import get_logger
from discretion.notice import build_notice
from discretion.warnings_log import new_warning_id, note_warning
from discretion.web.links import report_link
from discretion.work import queue_from_env, queue_once

log = get_logger("discretion.adapters.slack")

# Slack ids look like C0123ABCD; a channel override that does not is a channel name,
# and only then do we need to ask Slack what a channel is called.
_SLACK_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
CHANNEL_NAME_SECONDS = 3600.0
# Messages being checked at once (two batches' worth), and how many may wait behind them.
WORKERS = 2 * MAX_BATCH
QUEUE_SIZE = 10_000
# The queued job's kind: its payload is the event itself (data, so any replica can run it).
MESSAGE_JOB = "slack.message"


@dataclass
class Counters:
    """What the adapter has done since start-up (for logs and the benchmark)."""

    received: int = 0
    duplicates: int = 0
    skipped: int = 0
    assessed: int = 0
    warned: int = 0
    failed: int = 0


class SlackAdapter:
    """One Slack workspace: the bolt app, the Web API client, and the core services."""

    def __init__(
        self,
        config: SlackSettings,
        services: Any,
        *,
        dedupe: Deduplicator | None = None,
        installations: Any = None,
        oauth: Any = None,
    ):
        self.config = config
        self.services = services
        self.client: AsyncWebClient = make_client(config)
        self.dedupe: Deduplicator = dedupe or deduplicator_from_env()
        # Users' own tokens (for Replace / Delete); None when OAuth is not configured.
        self.installations = installations
        self.oauth = oauth
        self.counters = Counters()
        # Remembered features of recent messages per conversation (never text), so that
        # details spread over several messages are caught; the core decides what is kept.
        # Slack's own queue rather than the shared one: its few workers would cap a batch at
        # four messages, and full batches are what let a busy workspace keep up.
        self.work = queue_from_env(maxsize=QUEUE_SIZE, workers=WORKERS)
        self.work.register(MESSAGE_JOB, self._queued_message)
        self._channel_names: dict[str, tuple[float, str | None]] = {}
        self.socket_mode: Any = None
        # bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins; it does,
        # on purpose (the client carries SLACK_API_URL and the retry handlers).
        logging.getLogger("slack_bolt.AsyncApp").addFilter(_not_token_skipped)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=config.signing_secret or None,
            # Acknowledge first, work afterwards: Slack gives us 3 seconds.
            process_before_response=False,
            raise_error_for_unhandled_request=False,
            # Events caused by Discretion itself are never checked.
            ignoring_self_events_enabled=True,
            url_verification_enabled=True,
        )
        # Messages are queued in a middleware, before bolt answers Slack: an HTTP 200 then
        # means "queued", and a shutdown drains the queue, so no acknowledged event is lost.
        self.app.middleware(self._take_message)
        self.app.event("message")(_acknowledge)
        actions.register(self)
        commands.register(self)

    # --- receiving ---------------------------------------------------------------

    async def _take_message(
        self, body: dict[str, Any], context: AsyncBoltContext, next_: Any
    ) -> Any:
        """Queue message events (then let bolt acknowledge); everything else passes through."""
        event = body.get("event")
        if (
            body.get("type") == "event_callback"
            and isinstance(event, dict)
            and event.get("type") == "message"
        ):
            await self._on_message(body, context)
        return await next_()

    async def _on_message(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """Take one message event: drop repeats, then queue it for assessment."""
        self.counters.received += 1
        metrics.EVENTS_RECEIVED.labels("slack").inc()
        event = body.get("event") or {}
        key = body.get("event_id") or f"{event.get('channel')}:{event.get('event_ts')}"
        found = from_event(event, team_id=body.get("team_id"))
        if isinstance(found, Skip):
            self.counters.skipped += 1
            log.debug("slack.skipped", event_id=key, reason=found.reason)
            return
        if context.bot_user_id and found.user == context.bot_user_id:
            self.counters.skipped += 1
            return
        payload = {"event": event, "team_id": body.get("team_id"), "event_id": key}
        if not await queue_once(self.work, self.dedupe, MESSAGE_JOB, payload, f"slack:{key}"):
            self.counters.duplicates += 1  # Slack's retry of an event already queued
            log.info("slack.duplicate", event_id=key)

    async def _queued_message(self, payload: dict[str, Any]) -> None:
        """Check one queued message event (perhaps queued by another replica)."""
        found = from_event(payload.get("event") or {}, team_id=payload.get("team_id"))
        if isinstance(found, SlackMessage):
            await self.check_and_warn(found, str(payload.get("event_id") or ""))

    async def check_and_warn(self, found: SlackMessage, event_id: str = "") -> bool:
        """Assess a message and warn its poster privately; True if a warning went out."""
        done_key = f"slack-warned:{event_id}" if event_id else ""
        if done_key and await self.work.already_done(done_key):
            return False  # a replica warned for this event, then died before acknowledging it
        mode = await self.channel_mode(found.channel)
        if mode == "ignore":
            self.counters.skipped += 1
            return False
        try:
            # Batched with every other adapter's messages, with the process's thread memory.
            assessment = await self.services.assess(found.message)
        except Exception as exc:  # the engine failing must not take the worker down
            self.counters.failed += 1
            log.error("slack.assess_failed", event_id=event_id, error=type(exc).__name__)
            return False
        self.counters.assessed += 1
        if not assessment.warn:
            return False
        sent = await self.warn(found, assessment, quiet=mode == "quiet", done_key=done_key)
        log.info(
            "slack.warned" if sent else "slack.warn_failed",
            event_id=event_id,
            channel=found.channel,
            kinds=assessment.entity_types,
            risk=round(assessment.risk, 3),
            edited=found.edited,
        )
        return sent

    async def warn(
        self, found: SlackMessage, assessment: Assessment, *, quiet: bool, done_key: str = ""
    ) -> bool:
        """Send the private warning for one assessed message."""
        can_edit = await self.user_token(found.team_id, found.user) is not None
        warning_id = new_warning_id()
        notice = build_notice(
            assessment,
            policy_url=self.services.settings.policy_url,
            report_url=self.report_link(found, assessment),
            can_edit=can_edit,
            quiet=quiet,
        )
        ref = MessageRef(
            channel=found.channel,
            ts=found.ts,
            user=found.user,
            thread_ts=found.thread_ts,
            team_id=found.team_id,
            # One entry per finding, so the report can count them.
            kinds=tuple(f.entity_type for f in assessment.findings),
            recognizers=tuple(dict.fromkeys(f.recognizer for f in assessment.findings)),
            reasons=tuple(assessment.reasons),
            excerpt=assessment.redacted,
            # The warning's id rides in every button, so a click can say what followed it.
            extra={**self.hash_extra(found.message.text), WARNING_KEY: warning_id},
        )
        data = await call(
            "chat.postEphemeral",
            self.client.chat_postEphemeral(
                channel=found.channel,
                user=found.user,
                thread_ts=found.thread_ts,
                text=warning_text(notice),
                blocks=blocks_json(
                    warning_blocks(
                        notice,
                        ref,
                        report_link=notice.report_url,
                        # Findings past the end of the text are in the attached files' names.
                        in_file_name=any(
                            f.end > len(found.message.text) for f in assessment.findings
                        ),
                    )
                ),
            ),
        )
        if data is None:
            self.counters.failed += 1
            return False
        if done_key:
            # First thing after Slack took it: the window for a second warning is one round trip.
            await self.work.mark_done(done_key)
        self.counters.warned += 1
        await note_warning(
            self.services.store,
            assessment,
            warning_id=warning_id,
            platform="slack",
            channel=found.channel,
            workspace=found.team_id or "",
        )
        return True

    # --- helpers the actions share -------------------------------------------------

    async def channel_mode(self, channel: str) -> str:
        """monitor, quiet or ignore for a channel, by its id or (if needed) its name."""
        channels = self.services.settings.channels
        if not channels.overrides or channel in channels.overrides:
            return channels.mode_for(channel)
        name = None
        if any(not _SLACK_ID.match(k) for k in channels.overrides):
            name = await self.channel_name(channel)
        return channels.mode_for(channel, name)

    async def channel_name(self, channel: str) -> str | None:
        """A channel's name (cached for an hour); None when Slack will not say."""
        now = time.monotonic()
        cached = self._channel_names.get(channel)
        if cached and now - cached[0] < CHANNEL_NAME_SECONDS:
            return cached[1]
        data = await call("conversations.info", self.client.conversations_info(channel=channel))
        name = None
        if data and isinstance(data.get("channel"), dict):
            value = data["channel"].get("name")
            name = value if isinstance(value, str) else None
        self._channel_names[channel] = (now, name)
        return name

    async def user_token(self, team_id: str | None, user_id: str) -> str | None:
        """The poster's own token, when they have authorised Discretion to edit for them."""
        if self.installations is None:
            return None
        if self.oauth is not None and not await self.oauth.ensure_ready():
            return None
        try:
            found = await self.installations.async_find_installation(
                enterprise_id=None, team_id=team_id, user_id=user_id
            )
        except Exception as exc:  # a database hiccup means "ask them to do it by hand"
            log.error("slack.installation_lookup_failed", error=type(exc).__name__)
            return None
        return getattr(found, "user_token", None) if found is not None else None

    def report_link(self, found: SlackMessage, assessment: Assessment) -> str | None:
        """A one-click report link, when the report pages are part of this server."""
        counts: dict[str, int] = {}
        for f in assessment.findings:
            counts[f.entity_type] = counts.get(f.entity_type, 0) + 1
        try:
            return report_link(
                self.services,
                platform="slack",
                channel=found.channel,
                permalink=None,
                poster_id=found.user,
                entity_types=assessment.entity_types,
                workspace=found.team_id,
                message_id=found.ts,
                message_time=found.message.sent_at,
                counts=counts,
            )
        except Exception as exc:  # no link is better than no warning
            log.error("slack.report_link_failed", error=type(exc).__name__)
            return None

    def hash_extra(self, text: str) -> dict[str, str]:
        """The message's keyed hash (to match repeats), when the store's key is available."""
        store = self.services.store
        key = getattr(store, "message_key", None)
        if not key:
            return {}
        from discretion.reporting import message_hash

        return {"hash": message_hash(text, key)}


async def _acknowledge() -> None:
    """Message events are already queued by the middleware; bolt acknowledges them."""


def _not_token_skipped(record: logging.LogRecord) -> bool:
    return record.getMessage() != warning_client_prioritized_and_token_skipped()
