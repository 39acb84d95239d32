"""Adaptive Cards (version 1.5) for the private warning and the replies to its buttons.

The words come from :class:`discretion.notice.Notice`; this module only lays
them out. Every card here validates against the Adaptive Cards 1.5 schema.
"""

from __future__ import annotations

from typing import Any

from discretion.adapters.teams.refs import NOT_PATIENT_DATA, REPORT, WarningRef
from discretion.notice import Notice

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
INPUT_WHAT_HAPPENED = "what_happened"
INPUT_ACTIONS_TAKEN = "actions_taken"
MAX_INPUT = 2000


def _card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def warning_card(notice: Notice, ref: WarningRef) -> dict[str, Any]:
    """The private warning: what was found and why, the redacted version, three actions."""
    body: list[dict[str, Any]] = [
        _text(notice.headline, size="Medium", weight="Bolder", color="Attention"),
        _text(notice.summary),
    ]
    if notice.reasons:
        body.append(_text("Why this matters", weight="Bolder", spacing="Medium"))
        body.extend(_text(f"• {reason}", spacing="Small") for reason in notice.reasons)
    # The advice speaks of "the redacted version below", so it comes first.
    body.append(_text(notice.what_to_do, spacing="Medium"))
    body.append(_text("Safe to post instead", weight="Bolder", spacing="Medium"))
    body.append(
        {
            "type": "Container",
            "style": "emphasis",
            "items": [_text(notice.redacted or " ", fontType="Monospace")],
        }
    )
    report_form = _card(
        [
            {
                "type": "Input.Text",
                "id": INPUT_WHAT_HAPPENED,
                "label": "What happened?",
                "placeholder": "For example: I posted a patient's details in the wrong channel.",
                "isMultiline": True,
                "maxLength": MAX_INPUT,
            },
            {
                "type": "Input.Text",
                "id": INPUT_ACTIONS_TAKEN,
                "label": "What has been done so far?",
                "placeholder": "For example: I deleted the message five minutes later.",
                "isMultiline": True,
                "maxLength": MAX_INPUT,
            },
        ],
        [
            {
                "type": "Action.Submit",
                "title": "Send report",
                "style": "positive",
                "data": ref.to_data(REPORT),
            }
        ],
    )
    del report_form["$schema"]  # a nested card carries no $schema
    actions: list[dict[str, Any]] = [
        {"type": "Action.ShowCard", "title": "Report a breach", "card": report_form},
        {
            "type": "Action.Submit",
            "title": "Not patient data",
            "data": ref.to_data(NOT_PATIENT_DATA),
        },
        {"type": "Action.OpenUrl", "title": "Read the policy", "url": notice.policy_url},
    ]
    if notice.report_url:
        actions.append(
            {"type": "Action.OpenUrl", "title": "Report in the browser", "url": notice.report_url}
        )
    return _card(body, actions)


def report_received_card(reference: str) -> dict[str, Any]:
    """The confirmation after a breach report: the case reference and what happens next."""
    return _card(
        [
            _text(
                "Thank you: your report has been sent", size="Medium", weight="Bolder", color="Good"
            ),
            _text(
                f"Your reference is **{reference}**. Quote it if you contact the data protection team."
            ),
            _text(
                "The data protection lead will look at it and decide whether it must be reported "
                "to the Information Commissioner's Office within 72 hours. Reporting it was the "
                "right thing to do."
            ),
        ]
    )


def not_patient_data_card() -> dict[str, Any]:
    """The reply to "Not patient data": thanks, and what we do with it."""
    return _card(
        [
            _text("Thank you: noted as not patient data", weight="Bolder"),
            _text(
                "Discretion records the kinds of detail it flagged (never your words) so that "
                "false alarms like this one can be reduced."
            ),
        ]
    )


def welcome_card(policy_url: str) -> dict[str, Any]:
    """What a person sees when they open Discretion in their own chat (no data in it)."""
    return _card(
        [
            _text("Discretion is set up for you", size="Medium", weight="Bolder"),
            _text(
                "Discretion reads the channels and chats it has been added to. If one of your "
                "messages could identify a patient, it will tell you here, privately, with a "
                "safe version to post instead and a button to report a breach."
            ),
            _text("Nobody else is told unless you report it. You do not need to do anything now."),
        ],
        [{"type": "Action.OpenUrl", "title": "Read the policy", "url": policy_url}],
    )


def problem_card(what: str) -> dict[str, Any]:
    """A short apology when a button could not be handled; ``what`` says what to do instead."""
    return _card([_text("Sorry, that did not work", weight="Bolder", color="Warning"), _text(what)])


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    """The Bot Framework attachment that carries ``card``."""
    return {"contentType": CONTENT_TYPE, "content": card}
