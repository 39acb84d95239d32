"""Each Slack warning is recorded (never its words) and its buttons record what followed."""

from __future__ import annotations

import json
import re

from slack_harness import (  # noqa: F401
    NHS,
    RISKY,
    Harness,
    fake_slack_fixture,
    payload,
    slack_env_fixture,
    slack_fixture,
)
from test_slack_actions import MESSAGE_TS, authorise, click, submit, typed

from discretion import warnings_log as wl
from discretion.adapters.slack import blocks as b
from discretion.adapters.slack.refs import WARNING_KEY, MessageRef


async def warned(h: Harness) -> tuple[str, dict[str, str]]:
    """Post a risky message; returns the recorded warning's id and the buttons' values."""
    body = payload("message-channel")
    body["event"]["text"] = RISKY
    await h.event(body)
    (call,) = await h.fake.wait_for("chat.postEphemeral")
    await h.settle(1)  # the warning is recorded once Slack has taken it
    h.fake.clear()
    actions = next(blk for blk in call.args["blocks"] if blk["type"] == "actions")
    values = {e["action_id"]: e["value"] for e in actions["elements"]}
    ids = {MessageRef.loads(v).extra.get(WARNING_KEY) for v in values.values()}
    assert len(ids) == 1, "every button carries the same warning id"
    (warning_id,) = ids
    assert warning_id
    return warning_id, values


async def row(h: Harness, warning_id: str) -> wl.WarningRecord:
    async with h.services.store.sessions() as session:
        found = await session.get(wl.WarningRecord, warning_id)
    assert found is not None
    return found


async def test_a_sent_warning_is_recorded_without_the_message(slack: Harness):
    warning_id, _ = await warned(slack)
    saved = await row(slack, warning_id)
    assert (saved.platform, saved.channel, saved.workspace) == ("slack", "C111", "T111")
    assert "NHS_NUMBER" in saved.entity_types and saved.counts["NHS_NUMBER"] == 1
    assert "NhsNumberRecognizer" in saved.recognizers
    assert saved.config_version == slack.services.settings.config_version
    assert saved.risk > 0
    assert NHS not in json.dumps([str(getattr(saved, c.key)) for c in saved.__table__.columns])
    assert saved.deleted_at is saved.reported_at is None


async def test_delete_and_replace_are_recorded_when_slack_did_them(slack: Harness):
    warning_id, values = await warned(slack)
    # Not authorised: the poster is told how to do it by hand, and nothing is recorded yet.
    await click(slack, b.DELETE, values[b.DELETE])
    await slack.fake.wait_for("chat.postEphemeral")
    assert (await row(slack, warning_id)).deleted_at is None
    slack.fake.clear()
    await authorise(slack)
    slack.fake.messages[("C111", MESSAGE_TS)] = {"ts": MESSAGE_TS, "user": "W111", "text": RISKY}
    await click(slack, b.REPLACE, values[b.REPLACE])
    await slack.fake.wait_for("chat.postEphemeral")
    slack.fake.clear()
    await click(slack, b.DELETE, values[b.DELETE])
    await slack.fake.wait_for("chat.postEphemeral")
    saved = await row(slack, warning_id)
    assert saved.replaced_at is not None and saved.deleted_at is not None
    assert saved.deleted_at >= saved.replaced_at


async def test_a_report_and_not_patient_data_are_recorded(slack: Harness):
    warning_id, values = await warned(slack)
    await click(slack, b.REPORT, values[b.REPORT])
    (opened,) = await slack.fake.wait_for("views.open")
    await submit(slack, opened.args["view"], typed(b.WHAT_HAPPENED, "Wrong channel"))
    (confirmation,) = await slack.fake.wait_for("chat.postEphemeral")
    reference = re.search(r"\*([A-Z]+-\d{4}-\d+)\*", confirmation.args["text"]).group(1)
    slack.fake.clear()
    await click(slack, b.NOT_PATIENT_DATA, values[b.NOT_PATIENT_DATA])
    (opened,) = await slack.fake.wait_for("views.open")
    await submit(
        slack,
        opened.args["view"],
        {b.SHARE_WORDS[0]: {b.SHARE_WORDS[1]: {"selected_options": []}}},
    )
    await slack.fake.wait_for("chat.postEphemeral")
    saved = await row(slack, warning_id)
    assert saved.reported_at is not None and saved.incident_reference == reference
    assert saved.not_patient_data_at is not None
    stats = await wl.warning_stats(slack.services.store)
    assert stats.total == 1 and stats.followed[wl.REPORTED] == 1


async def test_a_button_with_an_unknown_warning_id_still_works(slack: Harness):
    _, values = await warned(slack)
    data = json.loads(values[b.DELETE])
    data["extra"][WARNING_KEY] = "not-one-of-ours"
    await authorise(slack)
    await click(slack, b.DELETE, json.dumps(data))
    (done,) = await slack.fake.wait_for("chat.postEphemeral")
    assert done.args["text"].startswith("Done")
