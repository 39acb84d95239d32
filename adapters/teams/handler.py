"""What Discretion does with each Teams activity: acknowledge fast, assess, warn privately.

A message or an edit is read into plain text and queued (Teams wants its answer
within seconds); the work queue assesses it and, when it could identify a
patient, sends the poster a private Adaptive Card. The card's buttons come back
as messages in the 1:1 chat and become a breach report or a false-alarm note.

Work is queued as data (a registered kind and a JSON-able payload), so with
DISCRETION_QUEUE=redis any replica can take it and a killed replica's work is
claimed by another (see ``discretion.work_redis``, which encrypts every entry).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import os
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes

from discretion import warnings_log
from discretion.adapters.teams.cards import (
    INPUT_ACTIONS_TAKEN,
    INPUT_WHAT_HAPPENED,
    not_patient_data_card,
    problem_card,
    report_received_card,
    warning_card,
    welcome_card,
)
from discretion.adapters.teams.connector import Messenger, Origin, Poster, SendFailed
from discretion.adapters.teams.graph import GraphHider, Target
from discretion.adapters.teams.incoming import PLATFORM, TeamsMessage, from_bot, read_message
from discretion.adapters.teams.references import PersonalConversation
from discretion.adapters.teams.refs import ACTION_KEY, REPORT, BadRef, WarningRef
from discretion.assessment import Assessment
from discretion.dedupe import Deduplicator
from discretion.logs import get_logger
from discretion.notice import build_notice
from discretion.work import queue_once

log = get_logger("discretion.adapters.teams")

MAX_TEXT = 100_000  # Teams caps a message near 28 KB; anything far bigger is not a chat message
# The kinds of queued job; their payloads are data, so any replica can run them.
MESSAGE_JOB = "teams.message"  # assess one message (the TeamsMessage, text included)
ACTION_JOB = "teams.action"  # a card's button: report a breach, or not patient data
WELCOME_JOB = "teams.welcome"  # the welcome card in a 1:1 chat


class TeamsHandler:
    """The bot: ``on_turn`` is what botbuilder's CloudAdapter calls for each activity."""

    def __init__(
        self,
        services: Any,
        messenger: Messenger,
        dedupe: Deduplicator,
        *,
        memory: Any = None,
        report_link: Any = None,
        hider: GraphHider | None = None,
        work: Any = None,
    ):
        self.services = services
        # The process's queue by default; mount gives a shared Redis one when so configured.
        self.work = work if work is not None else services.work
        self.work.register(MESSAGE_JOB, self._queued_message)
        self.work.register(ACTION_JOB, self._queued_action)
        self.work.register(WELCOME_JOB, self._queued_welcome)
        self.messenger = messenger
        self.dedupe = dedupe
        self.memory = memory
        # A callable (WarningRef, Assessment) -> one-click report URL or None.
        self.report_link = report_link
        # Hides flagged messages through Microsoft Graph, when configured (off by default).
        self.hider = hider
        self.counts: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        kind = activity.type
        if kind == ActivityTypes.message:
            if isinstance(activity.value, dict) and ACTION_KEY in activity.value:
                await self.on_card_action(activity)
            else:
                await self.on_message(activity, edited=False)
        elif kind == ActivityTypes.message_update:
            event = (
                (activity.channel_data or {}).get("eventType")
                if isinstance(activity.channel_data, dict)
                else None
            )
            if event in (None, "editMessage"):  # not "undeleteMessage": nothing new to read
                await self.on_message(activity, edited=True)
        elif kind == ActivityTypes.installation_update and str(activity.action or "").startswith(
            "remove"
        ):
            await self.forget_personal(activity)
        elif kind in (ActivityTypes.conversation_update, ActivityTypes.installation_update):
            await self.remember_personal(activity)
            if kind == ActivityTypes.installation_update and _personal_key(activity):
                await self._welcome(activity)
        else:
            self._count("ignored")

    # --- messages ----------------------------------------------------------------------

    async def on_message(self, activity: Activity, *, edited: bool) -> None:
        if from_bot(activity):
            self._count("own")
            return
        await self.remember_personal(activity)
        found = read_message(activity, edited=edited)
        if found.conversation_type == "personal":
            # Messages to the bot itself are not workplace chat: say what Discretion does.
            self._count("personal")
            await self._welcome(activity)
            return
        text = found.plain.assessed
        if not text.strip() and not found.file_names:
            self._count("empty")
            return
        mode = self.services.settings.channels.mode_for(*found.policy_names)
        if mode == "ignore":
            self._count("ignored_channel")
            return
        key = _dedupe_key(found, activity)
        # The key rides along: the "warned" mark must be the same whichever replica runs it.
        payload = {"message": found.to_data(), "quiet": mode == "quiet", "key": key}
        if await queue_once(self.work, self.dedupe, MESSAGE_JOB, payload, key):
            self._count("queued")
        else:
            self._count("duplicate")
            log.info("teams.duplicate", activity_id=found.activity_id)

    async def _queued_message(self, payload: dict[str, Any]) -> None:
        """Assess one queued message (perhaps queued by another replica)."""
        found = TeamsMessage.from_data(payload["message"])
        key = str(payload.get("key") or "")
        await self.assess_and_warn(
            found, quiet=bool(payload.get("quiet")), done_key=f"teams-warned:{key}" if key else ""
        )

    async def assess_and_warn(
        self, found: TeamsMessage, *, quiet: bool = False, done_key: str = ""
    ) -> str:
        """Assess one message and warn the poster if needed; returns what happened.

        ``done_key`` names the warning in the shared queue: a claimed entry whose
        warning already went out (its replica died before acknowledging) is not warned again.
        """
        if done_key and await self.work.already_done(done_key):
            self._count("already_warned")
            return "already_warned"
        message = found.to_message()
        if len(message.text) > MAX_TEXT:
            message = dataclasses.replace(message, text=message.text[:MAX_TEXT])
        assessment = await self.services.assess(message, self.memory)
        if not assessment.warn:
            self._count("clear")
            return "clear"
        # The core redacted the text it read; the poster sees their own words, mentions
        # and all, with the same findings taken out.
        redacted = shown_redacted(found, assessment)
        # The id travels in the card's buttons, so a click can say what followed the warning.
        ref = dataclasses.replace(
            self._ref(found, assessment, redacted), warning=warnings_log.new_warning_id()
        )
        notice = build_notice(
            assessment,
            policy_url=self.services.settings.policy_url,
            report_url=self._report_url(ref, assessment),
            quiet=quiet,
        )
        notice = dataclasses.replace(notice, redacted=redacted)
        card = warning_card(notice, ref)
        outcome = await self.messenger.warn_privately(
            Poster(found.tenant_id, found.poster_aad, found.poster_id, found.poster_name),
            Origin(
                found.service_url,
                found.conversation_id,
                found.activity_id,
                found.bot_id,
                found.bot_name,
            ),
            card,
            summary=notice.headline,
            # First thing after Teams took it: the window for a second warning is one round trip.
            on_sent=(lambda: self.work.mark_done(done_key)) if done_key else None,
        )
        self._count(f"warned_{outcome}")
        if outcome == "personal":  # only then did the poster get the card and its buttons
            await warnings_log.note_warning(
                self.services.store,
                assessment,
                warning_id=ref.warning,
                platform=PLATFORM,
                channel=ref.where,
                workspace=ref.team or ref.tenant,
            )
        if self.hider is not None and not quiet:
            hidden = await self.hider.hide(
                Target(
                    tenant_id=found.tenant_id,
                    message_id=found.activity_id,
                    team_group_id=found.team_group_id,
                    channel_id=found.channel_id,
                    parent_id=found.parent_id if found.channel_id else "",
                    chat_id=found.base_conversation
                    if found.conversation_type == "groupChat"
                    else "",
                ),
                assessment.entity_types,
                notice.report_url or notice.policy_url,
            )
            self._count(f"hide_{hidden}")
        log.info(
            "teams.warned",
            outcome=outcome,
            activity_id=found.activity_id,
            edited=found.edited,
            kinds=assessment.entity_types,
            risk=round(assessment.risk, 3),
        )
        return outcome

    def _report_url(self, ref: WarningRef, assessment: Assessment) -> str | None:
        if self.report_link is None:
            return None
        try:
            return self.report_link(ref, assessment)
        except Exception as exc:  # a broken link must not stop the warning
            log.error("teams.report_link_failed", error=type(exc).__name__)
            return None

    def _ref(self, found: TeamsMessage, assessment: Assessment, redacted: str) -> WarningRef:
        kinds: dict[str, int] = {}
        for f in assessment.findings:
            kinds[f.entity_type] = kinds.get(f.entity_type, 0) + 1
        return WarningRef(
            conversation=found.conversation_id,
            message_id=found.activity_id,
            poster=found.poster_aad or found.poster_id,
            tenant=found.tenant_id,
            channel=found.channel_id or found.base_conversation,
            team=found.team_id,
            parent_id=found.parent_id,
            sent_at=found.sent_at.isoformat() if found.sent_at else "",
            kinds=kinds,
            recognizers=tuple(dict.fromkeys(f.recognizer for f in assessment.findings)),
            reasons=tuple(assessment.reasons),
            excerpt=redacted,
            digest=self._digest(found.plain.shown),
            config_version=assessment.config_version,
        )

    def _digest(self, text: str) -> str:
        key = getattr(self.services.store, "message_key", None)
        if not key:
            return ""
        from discretion.reporting import message_hash

        return message_hash(text, key)

    # --- the card's buttons ------------------------------------------------------------

    async def on_card_action(self, activity: Activity) -> None:
        key = f"teams:action:{activity.id}"
        await self.remember_personal(activity)
        service_url = activity.service_url or ""
        conversation_id = activity.conversation.id if activity.conversation else ""
        clicker = activity.from_property
        reporter = (getattr(clicker, "aad_object_id", None) or getattr(clicker, "id", "")) or ""
        try:
            action = WarningRef.from_value(activity.value)[0]
        except BadRef as exc:
            if not await self.dedupe.first_time(key):
                self._count("duplicate")  # nothing is queued for it: the plain check suffices
                return
            log.warning("teams.bad_card_action", reason=str(exc), activity_id=activity.id)
            await self._reply(
                service_url,
                conversation_id,
                problem_card(
                    "This button has expired. Please tell your data protection lead directly."
                ),
            )
            return
        # The click's own value travels (what the card sent; read again where it is run),
        # with who clicked and where to answer.
        payload = {
            "value": activity.value,
            "reporter": reporter,
            "service_url": service_url,
            "conversation_id": conversation_id,
            "key": key,
        }
        if await queue_once(self.work, self.dedupe, ACTION_JOB, payload, key):
            self._count(f"action_{action}")
        else:
            self._count("duplicate")

    async def _queued_action(self, payload: dict[str, Any]) -> None:
        """Handle one queued button click (perhaps queued by another replica)."""
        action, ref, inputs = WarningRef.from_value(payload["value"])
        await self.handle_action(
            action,
            ref,
            inputs,
            str(payload["reporter"]),
            str(payload["service_url"]),
            str(payload["conversation_id"]),
            done_key=f"teams-acted:{payload['key']}" if payload.get("key") else "",
        )

    async def handle_action(
        self,
        action: str,
        ref: WarningRef,
        inputs: dict[str, Any],
        reporter: str,
        service_url: str,
        conversation_id: str,
        *,
        done_key: str = "",
    ) -> str | None:
        """Save a breach report or a false-alarm note, then confirm in the 1:1 chat.

        ``done_key``: as for a warning, a claimed click whose report was saved is not saved twice.
        """
        if done_key and await self.work.already_done(done_key):
            self._count("already_acted")
            return None
        store = self.services.store
        if store is None:
            await self._reply(
                service_url,
                conversation_id,
                problem_card(
                    "Reporting is not set up on this server yet. Please tell your data "
                    "protection lead directly."
                ),
            )
            return None
        from discretion import reporting

        try:
            if action == REPORT:
                reference = await reporting.report_breach(
                    store,
                    reporting.BreachReport(
                        platform=PLATFORM,
                        workspace=ref.team or ref.tenant,
                        channel=ref.where,
                        permalink=ref.permalink,
                        poster_id=ref.poster,
                        reporter_id=reporter,
                        message_at=ref.sent_datetime(),
                        entity_counts=dict(ref.kinds),
                        reasons=list(ref.reasons),
                        redacted_excerpt=ref.excerpt,
                        message_hash=ref.digest or None,
                        what_happened=_input(inputs, INPUT_WHAT_HAPPENED),
                        actions_taken=_input(inputs, INPUT_ACTIONS_TAKEN),
                        source="button",
                    ),
                    actor=f"teams:{reporter}",
                )
                if done_key:
                    await self.work.mark_done(done_key)
                log.info("teams.breach_reported", reference=reference, kinds=sorted(ref.kinds))
                await warnings_log.note_outcome(
                    store, ref.warning, warnings_log.REPORTED, incident_reference=reference
                )
                await self._reply(service_url, conversation_id, report_received_card(reference))
                return reference
            await reporting.record_false_positive(
                store,
                reporting.FalsePositiveReport(
                    platform=PLATFORM,
                    channel=ref.where,
                    reporter_id=reporter,
                    entity_types=sorted(ref.kinds),
                    recognizers=list(ref.recognizers),
                    config_version=ref.config_version,
                ),
            )
            if done_key:
                await self.work.mark_done(done_key)
            log.info("teams.false_positive", kinds=sorted(ref.kinds))
            await warnings_log.note_outcome(store, ref.warning, warnings_log.NOT_PATIENT_DATA)
            await self._reply(service_url, conversation_id, not_patient_data_card())
            return "false_positive"
        except reporting.ReportError as exc:
            log.warning("teams.report_refused", error=type(exc).__name__)
            await self._reply(
                service_url,
                conversation_id,
                problem_card(f"The report could not be saved: {exc}. Please try again."),
            )
            return None

    async def _welcome(self, activity: Activity) -> None:
        key = f"teams:welcome:{activity.id}"
        payload = {
            "service_url": activity.service_url or "",
            "conversation_id": activity.conversation.id if activity.conversation else "",
        }
        await queue_once(self.work, self.dedupe, WELCOME_JOB, payload, key)

    async def _queued_welcome(self, payload: dict[str, Any]) -> None:
        """Send the welcome card (the card is made here: every replica has the same settings)."""
        card = welcome_card(self.services.settings.policy_url)
        await self._reply(str(payload["service_url"]), str(payload["conversation_id"]), card)

    async def _reply(self, service_url: str, conversation_id: str, card: dict[str, Any]) -> None:
        if not service_url or not conversation_id:
            return
        with contextlib.suppress(SendFailed):  # already logged, by status and ids
            await self.messenger.send_card(service_url, conversation_id, card)

    # --- installs ----------------------------------------------------------------------

    async def forget_personal(self, activity: Activity) -> None:
        """The person removed the app: their 1:1 conversation can no longer be written to."""
        key = _personal_key(activity)
        if key is not None:
            await self.messenger.references.forget(*key)
            self._count("uninstalled")

    async def remember_personal(self, activity: Activity) -> None:
        """Keep the 1:1 conversation of anyone who talks to the bot personally."""
        key = _personal_key(activity)
        if key is None or from_bot(activity):
            return
        conversation = activity.conversation
        if not conversation.id or not activity.service_url:
            return
        recipient = activity.recipient
        await self.messenger.references.put(
            PersonalConversation(
                key[0],
                key[1],
                conversation.id,
                activity.service_url,
                getattr(recipient, "id", "") or "",
            )
        )


def _personal_key(activity: Activity) -> tuple[str, str] | None:
    """(tenant, AAD object id) of the person in a 1:1 chat with the bot, else None."""
    conversation = activity.conversation
    sender = activity.from_property
    if conversation is None or sender is None:
        return None
    if getattr(conversation, "conversation_type", None) != "personal":
        return None
    aad = getattr(sender, "aad_object_id", None)
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = getattr(conversation, "tenant_id", None) or (channel_data.get("tenant") or {}).get(
        "id"
    )
    if not aad or not tenant:
        return None
    return str(tenant), str(aad)


def _input(inputs: dict[str, Any], name: str) -> str:
    value = inputs.get(name, "")
    return value if isinstance(value, str) else ""


# A per-process key for the rare edit that comes without a timestamp: its digest is then
# unguessable, even if the dedupe keys are kept in Redis.
_EDIT_KEY = os.urandom(32)


def _dedupe_key(found: TeamsMessage, activity: Activity) -> str:
    if not found.edited:
        return f"teams:message:{found.base_conversation}:{found.activity_id}"
    # Every edit of a message carries the message's id: tell edits apart by when they were
    # made, so a redelivered edit is dropped and a new one is read.
    if found.sent_at is not None:
        return (
            f"teams:edit:{found.base_conversation}:{found.activity_id}:{found.sent_at.isoformat()}"
        )
    digest = hmac.new(
        _EDIT_KEY, found.plain.source.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()[:32]
    return f"teams:edit:{found.base_conversation}:{found.activity_id}:{digest}"


def shown_redacted(found: TeamsMessage, assessment: Assessment) -> str:
    """The poster's own words (with @mentions) with every finding replaced by its placeholder."""
    from discretion.analysis.redaction import Span, redact

    plain = found.plain
    limit = len(plain.assessed)
    spans = []
    for f in assessment.findings:
        if f.start >= limit:
            continue  # found in a file name, not in the message text
        start, end = plain.to_shown(f.start, min(f.end, limit))
        if end > start:
            spans.append(Span(start, end, f.entity_type, f.score))
    return redact(plain.shown, spans) if spans else plain.shown
