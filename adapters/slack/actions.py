"""The buttons on the private warning, and the modals they open.

Every reply here goes to the poster alone (``chat.postEphemeral``). Replace and
Delete act with the poster's own token when they have authorised Discretion;
otherwise the reply says in one line how to do it by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from discretion.adapters.slack import blocks as b
from discretion.adapters.slack.client import call
from discretion.adapters.slack.events import file_names, sent_at
from discretion.adapters.slack.refs import WARNING_KEY, BadRef, MessageRef
from discretion.logs import get_logger
from discretion.message import Message
from discretion.warnings_log import DELETED, NOT_PATIENT_DATA, REPLACED, REPORTED, note_outcome

if TYPE_CHECKING:
    from discretion.adapters.slack.app import SlackAdapter

log = get_logger("discretion.adapters.slack")

BY_HAND_EDIT = (
    "Discretion cannot edit your message for you: hover over it, choose *More actions (⋮) → "
    "Edit message*, and paste the redacted version in its place."
)
BY_HAND_DELETE = (
    "Discretion cannot delete your message for you: hover over it and choose "
    "*More actions (⋮) → Delete message*."
)
NO_STORE = (
    "Reports are not switched on for this server yet, so nothing was recorded. "
    "Please tell your data protection lead directly."
)
REPORT_FAILED = (
    "Sorry, your report could not be saved just now. Please try again in a minute, "
    "or tell your data protection lead directly."
)


def register(adapter: SlackAdapter) -> None:
    """Attach the button and modal listeners to the adapter's bolt app."""
    app = adapter.app

    @app.action(b.REPORT)
    async def on_report(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        ref = _ref(action.get("value"))
        if ref is None:
            return
        name = await adapter.channel_name(ref.channel)
        view = b.report_modal(ref, when=sent_at(ref.ts), channel_name=name)
        await call(
            "views.open", adapter.client.views_open(trigger_id=body["trigger_id"], view=view)
        )

    @app.view(b.REPORT_MODAL)
    async def on_report_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        await ack()
        ref = _ref(view.get("private_metadata"))
        user = _user(body)
        if ref is None or not user:
            return
        permalink = await permalink_of(adapter, ref.channel, ref.ts)
        values = view.get("state", {}).get("values", {})
        reply = await file_report(
            adapter,
            ref,
            reporter=user,
            poster=ref.user or user,
            permalink=permalink,
            what_happened=_input(values, b.WHAT_HAPPENED),
            actions_taken=_input(values, b.ACTIONS_TAKEN),
            source="button",
            reasons=list(ref.reasons),
        )
        await tell(adapter, ref, user, reply)

    @app.action(b.REPLACE)
    async def on_replace(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        ref, user = _ref(action.get("value")), _user(body)
        if ref is None or not user:
            return
        token = await adapter.user_token(ref.team_id or _team(body), user)
        if token is None:
            await tell(adapter, ref, user, BY_HAND_EDIT + authorise_hint(adapter))
            return
        current = await fetch_message(adapter, ref)
        if current is None or current.get("user") != user:
            await tell(adapter, ref, user, "That message could not be found; it may be deleted.")
            return
        text = current.get("text") or ""
        assessment = await adapter.services.assess(
            Message(
                text=text,
                channel=ref.channel,
                platform="slack",
                extra_texts=file_names(current.get("files")),
            )
        )
        if not any(f.end <= len(text) for f in assessment.findings):
            # Only a file's name (or nothing any more) is flagged: new words will not help.
            await tell(
                adapter,
                ref,
                user,
                b.FILE_NAME_NOTE
                if assessment.findings
                else "Your message no longer holds anything to redact.",
            )
            return
        done = await call(
            "chat.update",
            adapter.client.chat_update(
                token=token,
                channel=ref.channel,
                ts=ref.ts,
                text=assessment.redacted,
                # An empty list removes the original rich-text blocks, which hold the old words.
                blocks=[],
            ),
        )
        await _finish_edit(
            adapter, ref, user, done, REPLACED, ("slack.replaced", "slack.replace_failed"),
            "Done: your message now shows the redacted version.",
            "Slack would not let Discretion change your message. " + BY_HAND_EDIT,
        )  # fmt: skip

    @app.action(b.DELETE)
    async def on_delete(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        ref, user = _ref(action.get("value")), _user(body)
        if ref is None or not user:
            return
        token = await adapter.user_token(ref.team_id or _team(body), user)
        if token is None:
            await tell(adapter, ref, user, BY_HAND_DELETE + authorise_hint(adapter))
            return
        done = await call(
            "chat.delete",
            adapter.client.chat_delete(token=token, channel=ref.channel, ts=ref.ts),
        )
        await _finish_edit(
            adapter, ref, user, done, DELETED, ("slack.deleted", "slack.delete_failed"),
            "Done: your message is deleted. Thank you.",
            "Slack would not let Discretion delete your message. " + BY_HAND_DELETE,
        )  # fmt: skip

    @app.action(b.NOT_PATIENT_DATA)
    async def on_not_patient_data(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        ref = _ref(action.get("value"))
        if ref is None:
            return
        await call(
            "views.open",
            adapter.client.views_open(
                trigger_id=body["trigger_id"], view=b.false_positive_modal(ref)
            ),
        )

    @app.view(b.FALSE_POSITIVE_MODAL)
    async def on_not_patient_data_submitted(
        ack: Any, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        await ack()
        ref, user = _ref(view.get("private_metadata")), _user(body)
        if ref is None or not user:
            return
        values = view.get("state", {}).get("values", {})
        chosen = values.get(b.SHARE_WORDS[0], {}).get(b.SHARE_WORDS[1], {})
        consent = any(o.get("value") == "yes" for o in chosen.get("selected_options") or [])
        flagged = await flagged_words(adapter, ref) if consent else None
        await record_false_alarm(adapter, ref, user, flagged)
        await tell(
            adapter,
            ref,
            user,
            "Thank you. The admins will use this to make Discretion more accurate.",
        )


async def file_report(
    adapter: SlackAdapter,
    ref: MessageRef,
    *,
    reporter: str,
    poster: str,
    permalink: str,
    what_happened: str,
    actions_taken: str,
    source: str,
    reasons: list[str] | None = None,
) -> str:
    """Record a breach through the core; returns the words to say to the reporter."""
    store = adapter.services.store
    if store is None:
        log.warning("slack.report_without_store", channel=ref.channel)
        return NO_STORE
    from discretion.reporting import BreachReport, ReportError, report_breach

    counts: dict[str, int] = {}
    for kind in ref.kinds:
        counts[kind] = counts.get(kind, 0) + 1
    report = BreachReport(
        platform="slack",
        workspace=ref.team_id or "",
        channel=ref.channel,
        permalink=permalink,
        poster_id=poster,
        reporter_id=reporter,
        message_at=sent_at(ref.ts),
        entity_counts=counts,
        reasons=list(reasons or []),
        redacted_excerpt=ref.excerpt,
        message_hash=ref.extra.get("hash"),
        what_happened=what_happened,
        actions_taken=actions_taken,
        source=source,
        aware_at=datetime.now(UTC),
    )
    try:
        reference = await report_breach(store, report, actor=f"slack:{reporter}")
    except ReportError as exc:
        log.error("slack.report_refused", channel=ref.channel, error=type(exc).__name__)
        return REPORT_FAILED
    except Exception as exc:  # the database being down must still get the reporter an answer
        log.error("slack.report_failed", channel=ref.channel, error=type(exc).__name__)
        return REPORT_FAILED
    log.info("slack.reported", reference=reference, channel=ref.channel, source=source)
    await note_outcome(store, ref.extra.get(WARNING_KEY), REPORTED, incident_reference=reference)
    return (
        f"Thank you. Your report is *{reference}*. The data protection team has been told "
        "and will be in touch; quote the reference if you contact them."
    )


async def record_false_alarm(
    adapter: SlackAdapter, ref: MessageRef, user: str, flagged: str | None
) -> None:
    """Record 'not patient data' through the core (kinds, recognizers, channel)."""
    store = adapter.services.store
    if store is None:
        log.warning("slack.false_positive_without_store", channel=ref.channel)
        return
    from discretion.reporting import FalsePositiveReport, record_false_positive

    try:
        await record_false_positive(
            store,
            FalsePositiveReport(
                platform="slack",
                channel=ref.channel,
                reporter_id=user,
                entity_types=list(dict.fromkeys(ref.kinds)),
                recognizers=list(ref.recognizers),
                config_version=adapter.services.settings.config_version,
                flagged_text=flagged,
            ),
        )
    except Exception as exc:  # thanking the poster matters more than one lost tally
        log.error("slack.false_positive_failed", error=type(exc).__name__)
        return
    log.info("slack.false_positive", channel=ref.channel, kinds=list(dict.fromkeys(ref.kinds)))
    await note_outcome(store, ref.extra.get(WARNING_KEY), NOT_PATIENT_DATA)


async def flagged_words(adapter: SlackAdapter, ref: MessageRef) -> str | None:
    """The words Discretion flagged in the message (the poster agreed to share them)."""
    current = await fetch_message(adapter, ref)
    if current is None:
        return None
    text = current.get("text") or ""
    assessment = await adapter.services.assess(
        Message(text=text, channel=ref.channel, platform="slack")
    )
    words = list(dict.fromkeys(text[f.start : f.end] for f in assessment.findings))
    return ", ".join(w for w in words if w) or None


async def fetch_message(adapter: SlackAdapter, ref: MessageRef) -> dict[str, Any] | None:
    """The message as it is now in Slack (read with the bot's token), or None."""
    data = await call(
        "conversations.replies",
        adapter.client.conversations_replies(
            channel=ref.channel, ts=ref.ts, limit=1, inclusive=True
        ),
    )
    messages = (data or {}).get("messages") or []
    for message in messages:
        if isinstance(message, dict) and message.get("ts") == ref.ts:
            return message
    return None


async def permalink_of(adapter: SlackAdapter, channel: str, ts: str) -> str:
    """The message's permalink for the incident record ('' if Slack will not give one)."""
    data = await call(
        "chat.getPermalink", adapter.client.chat_getPermalink(channel=channel, message_ts=ts)
    )
    link = (data or {}).get("permalink")
    return link if isinstance(link, str) else ""


async def tell(adapter: SlackAdapter, ref: MessageRef, user: str, text: str) -> None:
    """A private one-liner to ``user`` where the warning was (same thread)."""
    sent = await call(
        "chat.postEphemeral",
        adapter.client.chat_postEphemeral(
            channel=ref.channel,
            user=user,
            thread_ts=ref.thread_ts,
            text=text,
            blocks=b.note_blocks(text),
        ),
    )
    if sent is None:
        # Not in that channel any more (or it is a DM we cannot post in): use the app's DM.
        await call(
            "chat.postMessage",
            adapter.client.chat_postMessage(channel=user, text=text, blocks=b.note_blocks(text)),
        )


def authorise_hint(adapter: SlackAdapter) -> str:
    """' Or let Discretion do it next time: <link>' when the user-token flow is set up."""
    url = adapter.oauth.install_url if adapter.oauth is not None else None
    return f" Or <{url}|let Discretion do this for you> next time." if url else ""


def _ref(raw: Any) -> MessageRef | None:
    try:
        return MessageRef.loads(raw)
    except BadRef:
        log.warning("slack.bad_reference")
        return None


def _user(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    value = user.get("id") if isinstance(user, dict) else None
    return value if isinstance(value, str) else ""


def _team(body: dict[str, Any]) -> str | None:
    team = body.get("team") or {}
    value = team.get("id") if isinstance(team, dict) else None
    return value if isinstance(value, str) else None


def _input(values: dict[str, Any], ids: tuple[str, str]) -> str:
    value = values.get(ids[0], {}).get(ids[1], {}).get("value")
    return value if isinstance(value, str) else ""


async def _finish_edit(
    adapter: Any,
    ref: Any,
    user: str,
    done: Any,
    outcome: str,
    events: tuple[str, str],
    ok: str,
    failed: str,
) -> None:
    """After Replace or Delete: record what followed the warning and tell the poster."""
    if done is not None:
        await note_outcome(adapter.services.store, ref.extra.get(WARNING_KEY), outcome)
    await tell(adapter, ref, user, ok if done is not None else failed)
    log.info(events[0] if done is not None else events[1], channel=ref.channel)
