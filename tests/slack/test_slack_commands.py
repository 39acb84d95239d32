"""`/discretion check` and `/discretion report`, posted as Slack posts slash commands."""

from __future__ import annotations

import json
import re

from slack_harness import (  # noqa: F401
    HARMLESS,
    NHS,
    RISKY,
    Harness,
    fake_slack_fixture,
    slack_env_fixture,
    slack_fixture,
)

from discretion.adapters.slack import blocks as b


def command(text: str) -> dict[str, str]:
    return {
        "token": "verification_token",
        "team_id": "T111",
        "team_domain": "nhs-test",
        "channel_id": "C111",
        "channel_name": "ward-6",
        "user_id": "W222",
        "user_name": "staff-nurse",
        "command": "/discretion",
        "text": text,
        "api_app_id": "A111",
        "response_url": "https://hooks.slack.com/commands/T111/111/xxx",
        "trigger_id": "111.222.cmd",
    }


async def test_check_answers_privately_with_the_redacted_draft(slack: Harness):
    r = await slack.form(command(f"check {RISKY}"))
    assert r.status == 200
    answer = await r.json()
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer)
    assert "[NHS NUMBER]" in shown and NHS not in shown
    assert slack.fake.calls == [c for c in slack.fake.calls if c.method == "auth.test"]


async def test_check_says_all_clear_for_a_harmless_draft(slack: Harness):
    answer = await (await slack.form(command(f"check {HARMLESS}"))).json()
    assert "found nothing" in json.dumps(answer)


async def test_an_empty_or_unknown_command_explains_how_to_use_it(slack: Harness):
    for text in ("", "help", "check"):
        answer = await (await slack.form(command(text))).json()
        assert "/discretion check" in answer["text"]


async def test_report_someone_elses_message_by_link(slack: Harness):
    ts = "1700000000.000100"
    slack.fake.messages[("C333", ts)] = {"ts": ts, "user": "U777", "text": RISKY}
    r = await slack.form(command("report"))
    assert r.status == 200
    (opened,) = await slack.fake.wait_for("views.open")
    assert opened.args["trigger_id"] == "111.222.cmd"
    view = opened.args["view"]
    assert view["callback_id"] == b.REPORT_OTHER_MODAL

    def submission(link: str) -> dict:
        return {
            "type": "view_submission",
            "team": {"id": "T111", "domain": "nhs-test"},
            "user": {"id": "W222", "username": "staff-nurse", "team_id": "T111"},
            "api_app_id": "A111",
            "token": "verification_token",
            "trigger_id": "111.222.sub",
            "view": {
                **view,
                "id": "V111",
                "state": {
                    "values": {
                        b.MESSAGE_LINK[0]: {b.MESSAGE_LINK[1]: {"value": link}},
                        b.WHAT_HAPPENED[0]: {
                            b.WHAT_HAPPENED[1]: {"value": "Saw a patient's details"}
                        },
                        b.ACTIONS_TAKEN[0]: {b.ACTIONS_TAKEN[1]: {"value": None}},
                    }
                },
            },
            "response_urls": [],
        }

    bad = await slack.interaction(submission("https://example.com/not-a-slack-link"))
    assert (await bad.json())["response_action"] == "errors"
    link = "https://nhs-test.slack.com/archives/C333/p1700000000000100"
    good = await slack.interaction(submission(link))
    assert good.status == 200
    (confirmation,) = await slack.fake.wait_for("chat.postEphemeral")
    assert confirmation.args["user"] == "W222" and confirmation.args["channel"] == "C111"
    reference = re.search(r"\*([A-Z]+-\d{4}-\d+)\*", confirmation.args["text"]).group(1)
    incident = await slack.services.store.get_incident(reference)
    assert incident.source == "command"
    assert incident.reporter_id == "W222" and incident.poster_id == "U777"
    assert incident.channel == "C333" and incident.permalink == link
    assert incident.entity_counts.get("NHS_NUMBER") == 1
    assert NHS not in incident.redacted_excerpt
