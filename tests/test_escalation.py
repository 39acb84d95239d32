"""Escalation to the data protection lead: email over STARTTLS, a signed webhook, chat notifiers.

Real clients against real local servers: aiosmtplib to aiosmtpd with a certificate
made for the test, aiohttp to an aiohttp receiver. Failures are retried and the case
is saved whatever happens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes.smtp import FakeSmtp
from fakes.webhook import FakeWebhook
from needs import need_service

from discretion.clock import ManualClock
from discretion.config import (
    EmailEscalation,
    EscalationSettings,
    RetrySettings,
    WebhookEscalation,
    load_settings,
)
from discretion.escalation import Alert, Escalation, Notifier, build_alert, builtin_notifiers
from discretion.escalation.email import EmailNotifier
from discretion.escalation.outbox import backoff
from discretion.escalation.webhook import WebhookNotifier, sign, verify
from discretion.reporting import BreachReport, message_hash, report_breach
from discretion.store import Store
from discretion.store import models as m
from discretion.store.testing import TEST_KEY, temporary_store

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
SECRET = b"webhook-secret-for-tests-0123456789"
EXCERPT = "<PERSON> (born <DATE_OF_BIRTH>) in bay 2 is for theatre"
THEIR_WORDS = "Porter mentioned the patient by name in the estates channel"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        need_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(request.param, clock=clock) as s:
        yield s


@pytest.fixture
async def sqlite_store(clock: ManualClock) -> AsyncIterator[Store]:
    async with temporary_store("sqlite", clock=clock) as s:
        yield s


def report() -> BreachReport:
    return BreachReport(
        platform="teams",
        workspace="tenant-1",
        channel="19:estates@thread.tacv2",
        permalink="https://teams.microsoft.com/l/message/19:estates/1700000000000",
        poster_id="29:poster",
        reporter_id="29:reporter",
        message_at=NOW - timedelta(minutes=3),
        entity_counts={"PERSON": 1, "DATE_OF_BIRTH": 1},
        reasons=["A patient's name with a ward location."],
        redacted_excerpt=EXCERPT,
        message_hash=message_hash("words we never store", TEST_KEY),
        what_happened=THEIR_WORDS,
        actions_taken="",
        source="button",
        aware_at=NOW,
    )


def settings(**over: Any) -> EscalationSettings:
    base: dict[str, Any] = {"dashboard_url": "https://discretion.trust.example"}
    base.update(over)
    return EscalationSettings(**base)


def email_settings(smtp: FakeSmtp, **over: Any) -> EmailEscalation:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "sender": "discretion@trust.example",
        "recipients": ["dpo@trust.example"],
        "ca_file": str(smtp.cert_path),
        "timeout_seconds": 5,
    }
    values.update(over)
    return EmailEscalation(**values)


class RecordingNotifier:
    """A chat channel as an adapter would register it; fails when told to."""

    def __init__(self, name: str = "slack", fail: int = 0):
        self.name = name
        self.fail = fail
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("chat platform unreachable")
        self.alerts.append(alert)


# --- what an alert says ---------------------------------------------------------------


async def test_alert_carries_reference_deadline_kinds_channel_link_and_no_patient_data(
    sqlite_store: Store,
) -> None:
    ref = await report_breach(sqlite_store, report(), actor="teams:29:reporter")
    case = await sqlite_store.get_incident(ref)
    assert case is not None
    alert = build_alert(case, "created", settings(), NOW)
    text, body = alert.text(), json.dumps(alert.as_json())
    for shown in (text, body):
        assert ref in shown
        assert "19:estates@thread.tacv2" in shown
        assert f"https://discretion.trust.example/cases/{ref}" in shown
        assert "a patient's name" in shown
        for private in ("bay 2", "theatre", "Porter", "by name", case.message_hash or "-"):
            assert private not in shown
    assert "Thu 04 Jun 2026 10:00 UTC" in text and "(72 hours left)" in text
    assert alert.as_json()["deadline"] == "2026-06-04T10:00:00+00:00"
    assert alert.event == "incident.created"


async def test_alerts_say_plainly_when_time_is_short_or_gone(sqlite_store: Store) -> None:
    ref = await report_breach(sqlite_store, report(), actor="x")
    case = await sqlite_store.get_incident(ref)
    assert case is not None
    late = build_alert(case, "created", settings(), NOW + timedelta(hours=75, minutes=10))
    assert "(the deadline passed 3 hours ago)" in late.summary
    close = build_alert(case, "reminder_66h", settings(), NOW + timedelta(hours=71, minutes=30))
    assert close.subject == f"Reminder: less than an hour left to decide on {ref}"
    retried = build_alert(case, "reminder_66h", settings(), NOW + timedelta(hours=73))
    assert retried.subject == f"Reminder: {ref} is past its 72-hour ICO deadline"


async def test_case_link_falls_back_to_the_public_url(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCRETION_PUBLIC_URL", "https://dpo.example.nhs.uk/")
    ref = await report_breach(sqlite_store, report(), actor="x")
    case = await sqlite_store.get_incident(ref)
    assert case is not None
    alert = build_alert(case, "reminder_48h", settings(dashboard_url=""), NOW + timedelta(hours=48))
    assert alert.case_url == f"https://dpo.example.nhs.uk/cases/{ref}"
    assert alert.subject == f"Reminder: 24 hours left to decide on {ref}"


# --- email --------------------------------------------------------------------------------


async def test_email_goes_over_starttls_with_login(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    with FakeSmtp(tmp_path, username="discretion", password="correct horse") as smtp:
        email = EmailNotifier(email_settings(smtp, username="discretion"), password="correct horse")
        escalation = Escalation(store, settings(), builtin=[email], clock=clock)
        ref = await report_breach(store, report(), actor="teams:29:reporter")
        assert await escalation.tick() == 1
        assert await escalation.tick() == 0  # sent once
    [got] = smtp.messages
    assert got.encrypted and got.login == "discretion"
    assert got.recipients == ["dpo@trust.example"]
    assert got.message["Subject"] == f"Possible patient data breach reported: {ref}"
    assert got.message["X-Discretion-Delivery"] == f"{ref}:created"
    body = got.message.get_content()
    assert f"/cases/{ref}" in body and "bay 2" not in body and THEIR_WORDS not in body
    [note] = await store.notifications(ref)
    assert note.status == m.SENT and note.deliveries["email"]["sent_at"]


async def test_email_is_never_sent_without_encryption(
    sqlite_store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    with FakeSmtp(tmp_path, tls=False) as smtp:
        email = EmailNotifier(email_settings(smtp))
        escalation = Escalation(sqlite_store, settings(), builtin=[email], clock=clock)
        ref = await report_breach(sqlite_store, report(), actor="x")
        assert await escalation.tick() == 0
    assert smtp.messages == []
    [note] = await sqlite_store.notifications(ref)
    assert note.status == m.PENDING and "STARTTLS" in (note.last_error or "")


async def test_smtp_down_case_saved_then_retried_with_backoff(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    smtp = FakeSmtp(tmp_path)  # made but not started: nothing listens on its port yet
    email = EmailNotifier(email_settings(smtp))
    escalation = Escalation(store, settings(), builtin=[email], clock=clock)
    ref = await report_breach(store, report(), actor="teams:29:reporter")

    assert await escalation.tick() == 0
    assert await store.get_incident(ref) is not None  # the case is there whatever happens
    [note] = await store.notifications(ref)
    assert note.status == m.PENDING and note.attempts == 1
    assert note.next_attempt_at == NOW + timedelta(seconds=30)
    assert note.last_error and note.last_error.startswith("email: ")

    clock.advance(seconds=10)
    assert await escalation.tick() == 0  # not due yet: no hammering a server that is down
    assert (await store.notifications(ref))[0].attempts == 1

    clock.advance(seconds=25)
    assert await escalation.tick() == 0  # the second failure doubles the wait
    assert (await store.notifications(ref))[0].next_attempt_at == clock.now + timedelta(seconds=60)

    clock.advance(seconds=61)
    with smtp:
        assert await escalation.tick() == 1
    assert len(smtp.messages) == 1
    [note] = await store.notifications(ref)
    assert note.status == m.SENT and note.attempts == 3 and note.last_error is None
    actions = [e.action for e in await store.audit_trail(ref)]
    assert actions == [
        "incident.created",
        "notification.retrying",
        "notification.retrying",
        "notification.sent",
    ]


# --- webhook ------------------------------------------------------------------------------


def test_signature_checks_body_timestamp_and_secret() -> None:
    body = b'{"reference": "DSC-2026-00001"}'
    signature = sign(SECRET, "1780000000", body)
    assert signature.startswith("sha256=") and verify(SECRET, "1780000000", body, signature)
    assert not verify(SECRET, "1780000001", body, signature)
    assert not verify(SECRET, "1780000000", body + b" ", signature)
    assert not verify(b"another-secret-entirely-000000", "1780000000", body, signature)


async def test_webhook_500_is_retried_and_email_is_not_repeated(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    async with FakeWebhook(SECRET) as hook:
        with FakeSmtp(tmp_path) as smtp:
            hook.fail_next(2)
            channels = [
                EmailNotifier(email_settings(smtp)),
                WebhookNotifier(WebhookEscalation(url=hook.url), secret=SECRET),
            ]
            escalation = Escalation(store, settings(), builtin=channels, clock=clock)
            ref = await report_breach(store, report(), actor="teams:29:reporter")
            assert await escalation.tick() == 0
            clock.advance(seconds=30)
            assert await escalation.tick() == 0
            clock.advance(seconds=60)
            assert await escalation.tick() == 1
            clock.advance(hours=1)
            assert await escalation.tick() == 0
        assert len(smtp.messages) == 1  # email succeeded first time and was not sent again
    assert [c.status for c in hook.received] == [500, 500, 200]
    assert all(c.signature_ok for c in hook.received)
    # The same delivery id every time, so the receiver can drop repeats.
    assert {c.delivery_id for c in hook.received} == {f"{ref}:created"}
    body = hook.accepted[0].body
    assert body["reference"] == ref and body["event"] == "incident.created"
    assert body["kinds_of_data"] == ["a date of birth", "a patient's name"]
    assert "bay 2" not in hook.accepted[0].raw.decode()
    [note] = await store.notifications(ref)
    assert note.deliveries["email"]["attempts"] == 1
    assert note.deliveries["webhook"]["attempts"] == 3


async def test_webhook_with_the_wrong_secret_is_refused_by_the_receiver(
    sqlite_store: Store, clock: ManualClock
) -> None:
    async with FakeWebhook(SECRET) as hook:
        wrong = WebhookNotifier(
            WebhookEscalation(url=hook.url), secret=b"not-the-shared-secret-at-all"
        )
        escalation = Escalation(sqlite_store, settings(), builtin=[wrong], clock=clock)
        ref = await report_breach(sqlite_store, report(), actor="x")
        assert await escalation.tick() == 0
    assert [c.status for c in hook.received] == [401]
    assert "HTTP 401" in ((await sqlite_store.notifications(ref))[0].last_error or "")


# --- retries, giving up, channels ---------------------------------------------------------


async def test_gives_up_after_max_attempts_but_keeps_everything(
    sqlite_store: Store, clock: ManualClock
) -> None:
    broken = RecordingNotifier("teams", fail=99)
    config = settings(retry=RetrySettings(first_delay_seconds=1, max_attempts=3))
    escalation = Escalation(sqlite_store, config, registered=[broken], clock=clock)
    ref = await report_breach(sqlite_store, report(), actor="x")
    for _ in range(5):
        await escalation.tick()
        clock.advance(minutes=10)
    [note] = await sqlite_store.notifications(ref)
    assert note.status == m.FAILED and note.attempts == 3
    assert "chat platform unreachable" in (note.last_error or "")
    assert await sqlite_store.get_incident(ref) is not None
    assert [e.action for e in await sqlite_store.audit_trail(ref)][-1] == "notification.failed"


def test_backoff_doubles_to_a_ceiling() -> None:
    config = settings(retry=RetrySettings(first_delay_seconds=30, max_delay_seconds=300))
    waits = [backoff(config, n).total_seconds() for n in range(1, 7)]
    assert waits == [30, 60, 120, 240, 300, 300]


async def test_registered_chat_notifiers_are_used_and_named_once(
    sqlite_store: Store, clock: ManualClock
) -> None:
    slack, teams, duplicate = (
        RecordingNotifier("slack"),
        RecordingNotifier("teams"),
        RecordingNotifier("slack"),
    )
    assert isinstance(slack, Notifier)
    registered: list[Any] = []
    escalation = Escalation(sqlite_store, settings(), registered=registered, clock=clock)
    registered.extend([slack, teams, duplicate])  # adapters mount after the store
    ref = await report_breach(sqlite_store, report(), actor="x")
    assert await escalation.tick() == 1
    assert [a.reference for a in slack.alerts + teams.alerts] == [ref, ref]
    assert duplicate.alerts == []


async def test_no_channel_configured_is_recorded_not_retried_forever(
    sqlite_store: Store, clock: ManualClock
) -> None:
    escalation = Escalation(sqlite_store, settings(), clock=clock)
    ref = await report_breach(sqlite_store, report(), actor="x")
    assert await escalation.tick() == 0
    [note] = await sqlite_store.notifications(ref)
    assert note.status == m.SKIPPED and "no escalation channel" in (note.last_error or "")


# --- configuration ------------------------------------------------------------------------


def test_half_configured_channels_stop_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCRETION_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("DISCRETION_SMTP_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="DISCRETION_WEBHOOK_SECRET"):
        builtin_notifiers(settings(webhook={"url": "https://siem.trust.example/hook"}))
    with pytest.raises(ValueError, match="DISCRETION_SMTP_PASSWORD"):
        builtin_notifiers(
            settings(
                email={
                    "host": "smtp.trust.example",
                    "sender": "d@trust.example",
                    "recipients": ["dpo@trust.example"],
                    "username": "discretion",
                }
            )
        )
    with pytest.raises(ValueError, match="sender"):
        builtin_notifiers(settings(email={"host": "smtp.x", "recipients": ["dpo@trust.example"]}))
    monkeypatch.setenv("DISCRETION_WEBHOOK_SECRET", SECRET.decode())
    made = builtin_notifiers(settings(webhook={"url": "https://siem.trust.example/hook"}))
    assert [n.name for n in made] == ["webhook"]


def test_site_file_problems_name_the_key(tmp_path: Path) -> None:
    from discretion.config import ConfigError

    site = tmp_path / "site.yaml"
    site.write_text(
        "escalation:\n"
        "  reminder_hours: [24, 80]\n"
        "  webhook:\n"
        "    url: http://siem.trust.example/hook\n"
        "  email:\n"
        "    recipients: [not-an-address]\n"
        "    secruity: tls\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(site, use_env=False)
    said = str(caught.value)
    assert "escalation.reminder_hours" in said and "between 0 and 72" in said
    assert "escalation.webhook.url" in said and "https://" in said
    assert "not an email address" in said
    assert "escalation.email.secruity: unknown key (did you mean 'security'?)" in said


def test_shipped_defaults_have_the_three_reminders() -> None:
    shipped = load_settings(None, use_env=False).escalation
    assert shipped.reminder_hours == [24, 48, 66]
    assert not shipped.email.enabled and not shipped.webhook.enabled
    assert dataclasses.is_dataclass(Alert)


# --- the background service -----------------------------------------------------------


async def test_a_report_wakes_the_running_service_at_once(sqlite_store: Store) -> None:
    arrived = asyncio.Event()

    class Pager:
        name = "pager"

        def __init__(self) -> None:
            self.alerts: list[Alert] = []

        async def send(self, alert: Alert) -> None:
            self.alerts.append(alert)
            arrived.set()

    pager = Pager()
    # An hour between ticks: only the wake-up from report_breach can deliver this in time.
    config = settings(check_every_seconds=3600)
    service = Escalation(sqlite_store, config, registered=[pager], clock=m.utcnow)
    service.start()
    try:
        await asyncio.sleep(0)  # let the first (empty) tick run
        ref = await report_breach(
            sqlite_store, dataclasses.replace(report(), aware_at=None), actor="x"
        )
        await asyncio.wait_for(arrived.wait(), timeout=10)
    finally:
        await service.stop()
    assert [a.reference for a in pager.alerts] == [ref]


async def test_a_channel_that_succeeded_is_not_repeated_after_a_crash(
    sqlite_store: Store, clock: ManualClock
) -> None:
    class PowerCut(BaseException):
        """Not an Exception: nothing in the sender catches it, as with a real crash."""

    class Crashes:
        """A second channel whose send takes the whole server down."""

        name = "zz-crash"

        async def send(self, alert: Alert) -> None:
            raise PowerCut

    first = RecordingNotifier("email")
    escalation = Escalation(sqlite_store, settings(), registered=[first, Crashes()], clock=clock)
    ref = await report_breach(sqlite_store, report(), actor="x")
    with pytest.raises(PowerCut):
        await escalation.tick()
    # After the restart (and once the lease runs out) only the unfinished channel is tried.
    clock.advance(minutes=16)
    again = RecordingNotifier("zz-crash")
    restarted = Escalation(sqlite_store, settings(), registered=[first, again], clock=clock)
    assert await restarted.tick() == 1
    assert len(first.alerts) == 1 and len(again.alerts) == 1
    [note] = await sqlite_store.notifications(ref)
    assert note.status == m.SENT and note.attempts == 2
