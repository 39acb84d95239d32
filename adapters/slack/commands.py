"""``/discretion``: check a draft privately, or report a breach seen in someone else's message."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from discretion.adapters.slack import blocks as b
from discretion.adapters.slack.actions import fetch_message, file_report, tell
from discretion.adapters.slack.client import call
from discretion.adapters.slack.events import sent_at
from discretion.adapters.slack.refs import MessageRef
from discretion.logs import get_logger
from discretion.message import Message
from discretion.notice import build_notice

if TYPE_CHECKING:
    from discretion.adapters.slack.app import SlackAdapter

log = get_logger("discretion.adapters.slack")

COMMAND = "/discretion"
# Slack wants an answer within 3 seconds; past this we answer "checking" and follow up.
CHECK_BUDGET_SECONDS = 2.0
MAX_DRAFT_CHARS = 20_000
USAGE = (
    "*How to use Discretion*\n"
    "• `/discretion check <your draft>`: check a message privately before you post it.\n"
    "• `/discretion report`: report patient details you have seen in someone else's message."
)
# https://<workspace>.slack.com/archives/C0123ABCD/p1596183880004200[?thread_ts=...]
PERMALINK = re.compile(
    r"^https://[A-Za-z0-9.-]+\.slack\.com/archives/(?P<channel>[CGD][A-Z0-9]+)/"
    r"p(?P<secs>\d{10})(?P<micros>\d{6})(?:\?\S*)?$"
)


def register(adapter: SlackAdapter) -> None:
    """Attach the slash command and its report form to the adapter's bolt app."""
    app = adapter.app

    @app.command(COMMAND)
    async def on_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        words = (command.get("text") or "").strip()
        verb, _, rest = words.partition(" ")
        verb = verb.lower()
        if verb == "check":
            await check_draft(adapter, ack, respond, command, rest.strip())
        elif verb == "report":
            await ack()
            await call(
                "views.open",
                adapter.client.views_open(
                    trigger_id=command["trigger_id"],
                    view=b.report_other_modal(reporter_channel=command.get("channel_id")),
                ),
            )
        else:
            await ack(text=USAGE, blocks=b.note_blocks(USAGE), response_type="ephemeral")

    @app.view(b.REPORT_OTHER_MODAL)
    async def on_report_other(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})
        link = _value(values, b.MESSAGE_LINK).strip()
        where = PERMALINK.match(link) if link else None
        if link and where is None:
            # Tell them in the form itself, so nothing they typed is lost.
            await ack(
                response_action="errors",
                errors={
                    b.MESSAGE_LINK[0]: "That is not a Slack message link. Use the message menu "
                    "(⋮) → Copy link, or leave this empty."
                },
            )
            return
        await ack()
        user = (body.get("user") or {}).get("id") or ""
        team = (body.get("team") or {}).get("id")
        reporter_channel = view.get("private_metadata") or ""
        # Without a link, the case records who reported it and what they said.
        ref = MessageRef(channel="", ts="", team_id=team)
        poster = ""
        if where is not None:
            ref = await _reported_message(
                adapter, where["channel"], f"{where['secs']}.{where['micros']}", team
            )
            poster = ref.user
        reply = await file_report(
            adapter,
            ref,
            reporter=user,
            poster=poster,
            permalink=link,
            what_happened=_value(values, b.WHAT_HAPPENED),
            actions_taken=_value(values, b.ACTIONS_TAKEN),
            source="command",
            reasons=list(ref.reasons),
        )
        answer_in = MessageRef(channel=reporter_channel or user, ts="")
        await tell(adapter, answer_in, user, reply)


async def check_draft(
    adapter: SlackAdapter, ack: Any, respond: Any, command: dict[str, Any], draft: str
) -> None:
    """Answer ``/discretion check``: in the acknowledgement when quick, else as a follow-up."""
    if not draft:
        await ack(text="Type your draft after `/discretion check`.", response_type="ephemeral")
        return
    if len(draft) > MAX_DRAFT_CHARS:
        await ack(
            text=f"That draft is longer than {MAX_DRAFT_CHARS:,} characters; check a shorter part.",
            response_type="ephemeral",
        )
        return
    message = Message(
        text=draft,
        channel=command.get("channel_id"),
        author=command.get("user_id"),
        platform="slack",
    )
    task = asyncio.ensure_future(adapter.services.assess(message))
    try:
        assessment = await asyncio.wait_for(asyncio.shield(task), CHECK_BUDGET_SECONDS)
    except TimeoutError:
        await ack(text="Checking your draft…", response_type="ephemeral")
        assessment = await task
        notice = _notice(adapter, assessment)
        await respond(
            text=_summary(notice), blocks=b.check_blocks(notice), response_type="ephemeral"
        )
        return
    notice = _notice(adapter, assessment)
    await ack(text=_summary(notice), blocks=b.check_blocks(notice), response_type="ephemeral")
    log.info("slack.draft_checked", warn=notice is not None)


def _notice(adapter: SlackAdapter, assessment: Any) -> Any:
    if not assessment.warn:
        return None
    return build_notice(assessment, policy_url=adapter.services.settings.policy_url)


def _summary(notice: Any) -> str:
    return notice.summary if notice is not None else "Nothing found that identifies a patient."


async def _reported_message(
    adapter: SlackAdapter, channel: str, ts: str, team: str | None
) -> MessageRef:
    """What can be learnt about a linked message (kinds of data, redacted excerpt, poster)."""
    ref = MessageRef(channel=channel, ts=ts, team_id=team)
    current = await fetch_message(adapter, ref)
    if current is None:
        # Discretion is not in that channel or the message is gone: the link alone still helps.
        return ref
    text = current.get("text") or ""
    assessment = await adapter.services.assess(
        Message(
            text=text,
            channel=channel,
            author=current.get("user"),
            platform="slack",
            message_id=ts,
            sent_at=sent_at(ts),
        )
    )
    return MessageRef(
        channel=channel,
        ts=ts,
        user=current.get("user") or "",
        team_id=team,
        kinds=tuple(f.entity_type for f in assessment.findings),
        recognizers=tuple(dict.fromkeys(f.recognizer for f in assessment.findings)),
        reasons=tuple(assessment.reasons),
        excerpt=assessment.redacted if assessment.findings else "",
        extra=adapter.hash_extra(text),
    )


def _value(values: dict[str, Any], ids: tuple[str, str]) -> str:
    value = values.get(ids[0], {}).get(ids[1], {}).get("value")
    return value if isinstance(value, str) else ""
