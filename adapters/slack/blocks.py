"""Block Kit layouts: the private warning, the modals and the short confirmations.

Built with ``slack_sdk.models`` so Slack's limits are checked when rendered.
The words come from :class:`discretion.notice.Notice`; this module only lays
them out. The only message text that appears here is the redacted version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from discretion.adapters.slack.refs import MessageRef
from discretion.notice import Notice
from discretion.reasons import describe, join_words

# Slack's limits (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_METADATA_CHARS = 3000
# How much of the redacted version a warning shows; the Replace button posts all of it.
REDACTED_SECTIONS = 3
FENCE = "```"

REPORT = "discretion_report"
REPLACE = "discretion_replace"
DELETE = "discretion_delete"
NOT_PATIENT_DATA = "discretion_not_patient_data"
OPEN_LINK = "discretion_open_link"
REPORT_MODAL = "discretion_report_modal"
FALSE_POSITIVE_MODAL = "discretion_false_positive_modal"
REPORT_OTHER_MODAL = "discretion_report_other_modal"

# Input ids in the modals (block_id, action_id).
WHAT_HAPPENED = ("what_happened", "what_happened")
ACTIONS_TAKEN = ("actions_taken", "actions_taken")
MESSAGE_LINK = ("message_link", "message_link")
SHARE_WORDS = ("share_words", "share_words")


def escape(text: str) -> str:
    """Text made safe for mrkdwn: Slack reads &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redacted_sections(redacted: str, sections: int = REDACTED_SECTIONS) -> list[Block]:
    """The redacted version in copyable code blocks, cut at Slack's limits with a note."""
    # A stray fence in the text would end the code block early.
    safe = escape(redacted.replace(FENCE, "`\u200b``"))
    room = MAX_SECTION_CHARS - 2 * len(FENCE) - 2
    chunks: list[str] = []
    rest = safe
    while rest and len(chunks) < sections:
        cut = len(rest) if len(rest) <= room else _cut_at(rest, room)
        chunks.append(rest[:cut])
        rest = rest[cut:]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{FENCE}\n{c}\n{FENCE}")) for c in chunks
    ]
    if rest:
        shown = len(redacted) - len(rest)
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=(
                            f"The redacted version is long, so only the first part is shown "
                            f"(about {max(shown, 0):,} of {len(redacted):,} characters). "
                            "*Replace with redacted version* uses all of it."
                        )
                    )
                ]
            )
        )
    return blocks


def _cut_at(text: str, room: int) -> int:
    """Where to cut: never inside an &amp;-style escape, preferably at a line or word end."""
    cut = room
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    for sep in ("\n", " "):
        at = text.rfind(sep, cut - 200, cut)
        if at > 0:
            return at + 1
    return cut


FILE_NAME_NOTE = (
    "The *name of a file* you shared may identify a patient. Delete the file, or share it "
    "again under a name without patient details."
)


def warning_blocks(
    notice: Notice, ref: MessageRef, *, report_link: str | None = None, in_file_name: bool = False
) -> list[Block]:
    """The private warning: headline, what and why, the redacted version, the buttons."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_clip(notice.headline, MAX_HEADER_CHARS))),
        SectionBlock(text=MarkdownTextObject(text=_clip(escape(notice.summary), 3000))),
    ]
    if notice.reasons:
        why = "\n".join(f"• {escape(r)}" for r in notice.reasons)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip("*Why*\n" + why, 3000))))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=escape(notice.what_to_do))))
    if in_file_name:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=FILE_NAME_NOTE)))
    if notice.redacted.strip():
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="*Redacted version*, ready to copy:")])
        )
        blocks.extend(redacted_sections(notice.redacted))
    blocks.append(action_buttons(ref))
    links = [f"<{notice.policy_url}|Read the policy on patient information in chat>"]
    if report_link:
        links.append(f"<{report_link}|Report in the browser instead>")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="  ·  ".join(links))]))
    return blocks[:MAX_BLOCKS]


def action_buttons(ref: MessageRef) -> ActionsBlock:
    """The four one-click actions; each carries the message reference (never its text)."""
    bare = ref.without_excerpt().dumps()
    return ActionsBlock(
        block_id="discretion_actions",
        elements=[
            ButtonElement(
                text="Report a breach", action_id=REPORT, value=ref.dumps(), style="danger"
            ),
            ButtonElement(
                text="Replace with redacted version",
                action_id=REPLACE,
                value=bare,
                style="primary",
            ),
            ButtonElement(text="Delete my message", action_id=DELETE, value=bare),
            ButtonElement(text="Not patient data", action_id=NOT_PATIENT_DATA, value=bare),
        ],
    )


def warning_text(notice: Notice) -> str:
    """The one-line fallback Slack shows in notifications (no message text)."""
    return f"{notice.headline}. {notice.summary}"


def kinds_words(kinds: Sequence[str]) -> str:
    """'an NHS number and a postcode', or a plain phrase when nothing was named."""
    return (
        join_words([describe(k) for k in dict.fromkeys(kinds)])
        or "details that could identify a patient"
    )


def report_modal(ref: MessageRef, *, when: datetime | None, channel_name: str | None) -> View:
    """The 'Report a breach' form, prefilled with what is known (never the raw text)."""
    where = f"<#{ref.channel}>" if not channel_name else f"#{escape(channel_name)}"
    facts = [
        f"*Channel:* {where}",
        f"*Posted:* {when:%d %b %Y, %H:%M} UTC" if when else "*Posted:* unknown",
        f"*Kinds of data found:* {escape(kinds_words(ref.kinds))}",
    ]
    return View(
        type="modal",
        callback_id=REPORT_MODAL,
        title="Report a breach",
        submit="Send report",
        close="Cancel",
        private_metadata=ref.dumps(MAX_METADATA_CHARS),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        "This goes to the data protection team, who will help put it right. "
                        "They will not see your original message."
                    )
                )
            ),
            SectionBlock(text=MarkdownTextObject(text="\n".join(facts))),
            _text_input(
                WHAT_HAPPENED,
                "What happened?",
                "For example: posted a patient's details in the wrong channel",
            ),
            _text_input(
                ACTIONS_TAKEN,
                "What has been done so far?",
                "For example: deleted the message, told my manager",
                optional=True,
            ),
        ],
    )


def false_positive_modal(ref: MessageRef) -> View:
    """The 'Not patient data' form: one optional tick to share the flagged words."""
    return View(
        type="modal",
        callback_id=FALSE_POSITIVE_MODAL,
        title="Not patient data",
        submit="Send",
        close="Cancel",
        private_metadata=ref.dumps(MAX_METADATA_CHARS),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"Discretion thought your message held {escape(kinds_words(ref.kinds))}. "
                        "Telling the admins it did not helps them make Discretion more accurate. "
                        "They will see the kinds of data and the channel, not your message."
                    )
                )
            ),
            InputBlock(
                block_id=SHARE_WORDS[0],
                label="Share the flagged words?",
                optional=True,
                element=CheckboxesElement(
                    action_id=SHARE_WORDS[1],
                    options=[
                        Option(
                            value="yes",
                            text="I agree to share only the flagged words with the admins",
                            description="Tick only if they are not about a patient.",
                        )
                    ],
                ),
            ),
        ],
    )


def report_other_modal(*, reporter_channel: str | None) -> View:
    """The form for reporting a breach seen in someone else's message."""
    return View(
        type="modal",
        callback_id=REPORT_OTHER_MODAL,
        title="Report a breach",
        submit="Send report",
        close="Cancel",
        private_metadata=reporter_channel or "",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        "Seen patient details in someone else's message? Tell the data "
                        "protection team here. Paste a link to the message "
                        "(message menu ⋮ → *Copy link*) so they can find it; "
                        "please do not copy the details themselves."
                    )
                )
            ),
            _text_input(
                MESSAGE_LINK,
                "Link to the message",
                "https://….slack.com/archives/C…/p…",
                multiline=False,
                optional=True,
            ),
            _text_input(WHAT_HAPPENED, "What happened?", "What did you see, and where?"),
            _text_input(
                ACTIONS_TAKEN,
                "What has been done so far?",
                "For example: asked the poster to delete it",
                optional=True,
            ),
        ],
    )


def _text_input(
    ids: tuple[str, str],
    label: str,
    placeholder: str,
    *,
    optional: bool = False,
    multiline: bool = True,
) -> InputBlock:
    return InputBlock(
        block_id=ids[0],
        label=label,
        optional=optional,
        element=PlainTextInputElement(
            action_id=ids[1], multiline=multiline, placeholder=placeholder, max_length=3000
        ),
    )


def note_blocks(text: str) -> list[Block]:
    """A short private note (confirmations, explanations) as one section."""
    return [SectionBlock(text=MarkdownTextObject(text=_clip(text, MAX_SECTION_CHARS)))]


def check_blocks(notice: Notice | None) -> list[Block]:
    """The answer to ``/discretion check``: all clear, or what was found and the redacted text."""
    if notice is None:
        return note_blocks(
            ":white_check_mark: Discretion found nothing that identifies a patient in that draft."
        )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{escape(notice.summary)}*")),
    ]
    if notice.reasons:
        why = "\n".join(f"• {escape(r)}" for r in notice.reasons)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(why, 3000))))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text="Post this redacted version instead:")])
    )
    blocks.extend(redacted_sections(notice.redacted))
    blocks.append(DividerBlock())
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"<{notice.policy_url}|Read the policy>")])
    )
    return blocks[:MAX_BLOCKS]
