"""Our Block Kit serialiser gives exactly slack_sdk's own ``to_dict()``, and still validates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ButtonElement, HeaderBlock, PlainTextObject

from discretion.adapters.slack import blocks as b
from discretion.adapters.slack.refs import MessageRef
from discretion.adapters.slack.serialize import as_dict, blocks_json
from discretion.notice import Notice

words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=60, deadline=None)
@given(
    headline=st.text(min_size=1, max_size=200),
    summary=words,
    reasons=st.lists(words, max_size=4),
    redacted=st.text(max_size=9000),
    report=st.none() | st.just("https://discretion.example.nhs.uk/report/abc"),
    in_file_name=st.booleans(),
    thread=st.none() | st.just("1700000000.000100"),
)
def test_warning_blocks_serialise_as_slack_sdk_does(
    headline, summary, reasons, redacted, report, in_file_name, thread
):
    notice = Notice(
        headline=headline.strip() or "Patient details",
        summary=summary,
        reasons=tuple(reasons),
        redacted=redacted,
        what_to_do="Delete the message.",
        entity_types=("NHS_NUMBER",),
        policy_url="https://example.nhs.uk/policy",
        report_url=report,
    )
    ref = MessageRef("C1", "1.2", user="U1", thread_ts=thread, kinds=("NHS_NUMBER",))
    models = b.warning_blocks(notice, ref, report_link=report, in_file_name=in_file_name)
    assert blocks_json(models) == [m.to_dict() for m in models]


def test_every_other_message_we_send_serialises_the_same():
    ref = MessageRef("C1", "1.2", user="U1", kinds=("NHS_NUMBER", "PERSON"), excerpt="Bed [X]")
    views = [
        b.report_modal(ref, when=None, channel_name="ward-6"),
        b.false_positive_modal(ref),
        b.report_other_modal(reporter_channel="C1"),
    ]
    for view in views:
        assert [as_dict(x) for x in view.blocks] == [x.to_dict() for x in view.blocks]
    for blocks in (b.note_blocks("Thank you."), b.check_blocks(None)):
        assert blocks_json(blocks) == [x.to_dict() for x in blocks]


def test_slack_sdks_validators_still_run():
    too_long = HeaderBlock(text=PlainTextObject(text="x" * 200))
    with pytest.raises(SlackObjectFormationError):
        as_dict(too_long)
    with pytest.raises(SlackObjectFormationError):
        as_dict(ButtonElement(text="Go", action_id="a", value="v" * 2001))
