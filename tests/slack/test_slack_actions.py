"""Each button on the warning, clicked with Slack's own payload shapes, makes the right call."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_harness import (  # noqa: F401
    NHS,
    RISKY,
    Harness,
    fake_slack_fixture,
    payload,
    slack_env_fixture,
    slack_fixture,
)
from slack_sdk.oauth.installation_store.models.installation import Installation

from discretion.adapters.slack import blocks as b

MESSAGE_TS = "1596183880.004200"  # the ts of message-channel.json


async def warned(h: Harness, text: str = RISKY) -> dict[str, str]:
    """Post a risky message, wait for the warning; returns its buttons' values by action id."""
    body = payload("message-channel")
    body["event"]["text"] = text
    await h.event(body)
    (call,) = await h.fake.wait_for("chat.postEphemeral")
    h.fake.clear()
    actions = next(blk for blk in call.args["blocks"] if blk["type"] == "actions")
    return {e["action_id"]: e["value"] for e in actions["elements"]}


async def click(h: Harness, action_id: str, value: str) -> None:
    body = payload("block-actions")
    body["actions"][0].update(action_id=action_id, block_id="discretion_actions", value=value)
    r = await h.interaction(body)
    assert r.status == 200


async def submit(h: Harness, view: dict[str, Any], values: dict[str, Any]) -> Any:
    body = payload("view-submission")
    body["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view.get("private_metadata", ""),
        blocks=view["blocks"],
        state={"values": values},
    )
    return await h.interaction(body)


def typed(ids: tuple[str, str], value: str) -> dict[str, Any]:
    return {ids[0]: {ids[1]: {"type": "plain_text_input", "value": value}}}


async def authorise(h: Harness, user: str = "W111") -> None:
    await h.adapter.installations.async_save(
        Installation(
            user_id=user, team_id="T111", user_token="xoxp-poster", user_scopes="chat:write"
        )
    )


async def test_report_opens_a_prefilled_form_and_submitting_records_the_case(slack: Harness):
    values = await warned(slack)
    await click(slack, b.REPORT, values[b.REPORT])
    (opened,) = await slack.fake.wait_for("views.open")
    assert opened.args["trigger_id"] == "111.222.valid"
    view = opened.args["view"]
    shown = json.dumps(view)
    assert "an NHS number" in shown and "#ward-6" in shown
    assert NHS not in shown  # never the raw text, only kinds and the redacted excerpt
    r = await submit(
        slack,
        view,
        {
            **typed(b.WHAT_HAPPENED, "Posted the wrong bed's details"),
            **typed(b.ACTIONS_TAKEN, "Deleted it"),
        },
    )
    assert r.status == 200
    (confirmation,) = await slack.fake.wait_for("chat.postEphemeral")
    assert confirmation.args["user"] == "W111" and confirmation.args["channel"] == "C111"
    reference = re.search(r"\*([A-Z]+-\d{4}-\d+)\*", confirmation.args["text"]).group(1)
    incident = await slack.services.store.get_incident(reference)
    assert incident.platform == "slack" and incident.channel == "C111"
    assert incident.poster_id == "W111" and incident.reporter_id == "W111"
    assert incident.entity_counts["NHS_NUMBER"] == 1
    assert "[NHS NUMBER]" in incident.redacted_excerpt and NHS not in incident.redacted_excerpt
    assert incident.permalink.endswith("/archives/C111/p1596183880004200")
    assert incident.what_happened == "Posted the wrong bed's details"
    assert incident.message_hash and len(incident.message_hash) == 64
    assert slack.fake.called("chat.getPermalink")[0].args["message_ts"] == MESSAGE_TS


async def test_replace_and_delete_explain_how_by_hand_when_not_authorised(slack: Harness):
    values = await warned(slack)
    await click(slack, b.REPLACE, values[b.REPLACE])
    await click(slack, b.DELETE, values[b.DELETE])
    replies = await slack.fake.wait_for("chat.postEphemeral", 2)
    texts = sorted(c.args["text"] for c in replies)
    assert "Delete message" in texts[0] and "Edit message" in texts[1]
    assert all(c.args["user"] == "W111" for c in replies)
    assert not slack.fake.called("chat.update") and not slack.fake.called("chat.delete")


async def test_replace_posts_the_redacted_version_with_the_posters_own_token(slack: Harness):
    values = await warned(slack)
    await authorise(slack)
    slack.fake.messages[("C111", MESSAGE_TS)] = {"ts": MESSAGE_TS, "user": "W111", "text": RISKY}
    await click(slack, b.REPLACE, values[b.REPLACE])
    (update,) = await slack.fake.wait_for("chat.update")
    assert update.token == "xoxp-poster"
    assert update.args["channel"] == "C111" and update.args["ts"] == MESSAGE_TS
    assert "[NHS NUMBER]" in update.args["text"] and NHS not in update.args["text"]
    assert update.args["blocks"] == []  # the old rich-text copy of the words goes too
    (done,) = await slack.fake.wait_for("chat.postEphemeral")
    assert done.args["text"].startswith("Done")


async def test_replace_refuses_a_message_someone_else_wrote(slack: Harness):
    values = await warned(slack)
    await authorise(slack)
    slack.fake.messages[("C111", MESSAGE_TS)] = {"ts": MESSAGE_TS, "user": "U999", "text": RISKY}
    await click(slack, b.REPLACE, values[b.REPLACE])
    await slack.fake.wait_for("chat.postEphemeral")
    assert not slack.fake.called("chat.update")


async def test_delete_removes_the_message_with_the_posters_own_token(slack: Harness):
    values = await warned(slack)
    await authorise(slack)
    await click(slack, b.DELETE, values[b.DELETE])
    (delete,) = await slack.fake.wait_for("chat.delete")
    assert delete.token == "xoxp-poster"
    assert delete.args == {"channel": "C111", "ts": MESSAGE_TS}
    (done,) = await slack.fake.wait_for("chat.postEphemeral")
    assert done.args["text"].startswith("Done")


async def test_not_patient_data_records_kinds_and_shares_words_only_with_consent(slack: Harness):
    values = await warned(slack)
    slack.fake.messages[("C111", MESSAGE_TS)] = {"ts": MESSAGE_TS, "user": "W111", "text": RISKY}
    await click(slack, b.NOT_PATIENT_DATA, values[b.NOT_PATIENT_DATA])
    (opened,) = await slack.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == b.FALSE_POSITIVE_MODAL
    await submit(slack, view, {b.SHARE_WORDS[0]: {b.SHARE_WORDS[1]: {"selected_options": []}}})
    await slack.fake.wait_for("chat.postEphemeral")
    ticked = {"selected_options": [{"value": "yes", "text": {"type": "plain_text", "text": "x"}}]}
    await submit(slack, view, {b.SHARE_WORDS[0]: {b.SHARE_WORDS[1]: ticked}})
    thanks = await slack.fake.wait_for("chat.postEphemeral", 2)
    assert all(c.args["text"].startswith("Thank you") for c in thanks)
    reports = sorted(
        await slack.services.store.false_positives(), key=lambda r: r.flagged_text or ""
    )
    assert reports[0].flagged_text is None
    assert NHS in reports[1].flagged_text.split(", ")
    assert all("NHS_NUMBER" in r.entity_types for r in reports)
    assert all("NhsNumberRecognizer" in r.recognizers for r in reports)
    assert all(r.channel == "C111" and r.reporter_id == "W111" for r in reports)


async def test_a_button_with_a_tampered_value_does_nothing(slack: Harness):
    await click(slack, b.DELETE, "not json at all")
    await click(slack, b.REPORT, json.dumps({"channel": "C111"}))
    await slack.adapter.work.join()
    assert slack.fake.called("views.open") == [] and slack.fake.called("chat.delete") == []


async def test_the_by_hand_answer_offers_to_authorise_discretion(slack: Harness):
    values = await warned(slack)
    await click(slack, b.DELETE, values[b.DELETE])
    (reply,) = await slack.fake.wait_for("chat.postEphemeral")
    assert "https://discretion.test/slack/install" in reply.args["text"]


async def test_authorising_through_slack_lets_delete_act_as_the_poster(slack: Harness):
    r = await slack.client.get("/slack/install", allow_redirects=False)
    assert r.status == 302
    consent = r.headers["Location"]
    assert consent.startswith("https://slack.com/oauth/v2/authorize?")
    assert "user_scope=chat:write" in consent and "client_id=111.222" in consent
    state = re.search(r"[?&]state=([^&]+)", consent).group(1)
    cookie = r.headers["Set-Cookie"].split(";")[0]
    # Without the browser cookie that went with the state, the callback is refused.
    refused = await slack.client.get(f"/slack/oauth_redirect?code=c0de&state={state}")
    assert refused.status >= 400
    r = await slack.client.get(
        f"/slack/oauth_redirect?code=c0de&state={state}", headers={"Cookie": cookie}
    )
    assert r.status == 200
    (access,) = slack.fake.called("oauth.v2.access")
    assert access.args["code"] == "c0de"
    values = await warned(slack)
    await click(slack, b.DELETE, values[b.DELETE])
    (delete,) = await slack.fake.wait_for("chat.delete")
    assert delete.token == slack.fake.user_token


async def test_replace_says_so_when_only_a_file_name_is_the_problem(slack: Harness):
    values = await warned(slack)
    await authorise(slack)
    slack.fake.messages[("C111", MESSAGE_TS)] = {
        "ts": MESSAGE_TS,
        "user": "W111",
        "text": "Letter attached",
        "files": [{"id": "F1", "name": f"letter {NHS}.pdf"}],
    }
    await click(slack, b.REPLACE, values[b.REPLACE])
    (reply,) = await slack.fake.wait_for("chat.postEphemeral")
    assert "name of a file" in reply.args["text"]
    assert not slack.fake.called("chat.update")
