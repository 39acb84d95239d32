"""Signing in to the dashboard: passwords, sessions, throttling, and the create-user command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from limiters import BOTH_LIMITERS, limiters, use_limiter

from discretion.store import Store
from discretion.store.testing import temporary_store
from discretion.web.context import DASHBOARD
from discretion.web.models import DashboardUser
from discretion.web.passwords import hash_password, verify_password
from discretion.web.ratelimit import MemorySignInLimiter, RedisSignInLimiter
from discretion.web.signin import safe_next
from discretion.web.testing import add_user, csrf_from, dashboard_app, sign_in

PASSWORD = "a sentence is a good password"


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    async with temporary_store("sqlite") as s:
        yield s


@pytest.fixture
async def client(store: Store) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(dashboard_app(store))) as c:
        yield c


def test_passwords_are_argon2_hashes() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)
    with pytest.raises(ValueError, match="at least 12"):
        hash_password("short")


async def test_sign_in_sets_a_safe_cookie_and_a_new_session(
    client: TestClient, store: Store
) -> None:
    await add_user(store, "Lead", "dpo", PASSWORD)
    client.session.cookie_jar.update_cookies({"discretion_session": "planted-by-someone"})
    response = await sign_in(client, "LEAD", PASSWORD)  # names are not case-sensitive
    assert response.status == 303 and response.headers["Location"] == "/dashboard/"
    cookies = response.headers.getall("Set-Cookie")
    (session,) = [c for c in cookies if c.startswith("discretion_session=")]
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session
    assert "Secure" not in session  # served over plain http in this test
    assert "planted-by-someone" not in session  # a planted session id is never adopted
    page = await client.get("/dashboard/")
    assert page.status == 200 and "Signed in as lead" in await page.text()


async def test_wrong_details_say_nothing_about_which_was_wrong(
    client: TestClient, store: Store
) -> None:
    await add_user(store, "lead", "dpo", PASSWORD)
    wrong_password = await sign_in(client, "lead", "not the password at all")
    no_such_user = await sign_in(client, "nobody", PASSWORD)
    assert wrong_password.status == no_such_user.status == 401
    message = "That username and password do not match an account."
    assert message in await wrong_password.text() and message in await no_such_user.text()


@pytest.mark.parametrize("limiter_kind", BOTH_LIMITERS)
async def test_sign_in_is_throttled(client: TestClient, store: Store, limiter_kind: str) -> None:
    async with limiters(limiter_kind) as make:
        use_limiter(client.app, make)
        await add_user(store, "lead", "dpo", PASSWORD)
        for _ in range(5):
            assert (await sign_in(client, "lead", "guess number n")).status == 401
        # Now even the right password waits: a guesser cannot tell they found it.
        blocked = await sign_in(client, "lead", PASSWORD)
        assert blocked.status == 429 and "Too many attempts" in await blocked.text()
        dashboard = client.app[DASHBOARD]
        later = datetime.now(UTC) + timedelta(minutes=16)
        dashboard.now = lambda: later
        assert (await sign_in(client, "lead", PASSWORD)).status == 303


@pytest.mark.parametrize("limiter_kind", BOTH_LIMITERS)
async def test_replicas_share_the_count(store: Store, limiter_kind: str) -> None:
    # Two dashboards on one database, as two replicas behind a load balancer.
    async with (
        limiters(limiter_kind) as make,
        TestClient(TestServer(dashboard_app(store))) as one,
        TestClient(TestServer(dashboard_app(store))) as two,
    ):
        use_limiter(one.app, make)
        use_limiter(two.app, make)
        await add_user(store, "lead", "dpo", PASSWORD)
        for n in range(5):
            replica = one if n % 2 else two
            assert (await sign_in(replica, "lead", "guess number n")).status == 401
        assert (await sign_in(one, "lead", PASSWORD)).status == 429
        assert (await sign_in(two, "lead", PASSWORD)).status == 429


def test_the_dashboard_counts_in_redis_when_configured(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert isinstance(dashboard_app(store)[DASHBOARD].limiter, RedisSignInLimiter)
    monkeypatch.delenv("REDIS_URL")
    assert isinstance(dashboard_app(store)[DASHBOARD].limiter, MemorySignInLimiter)


async def test_signing_out_ends_the_session_everywhere(client: TestClient, store: Store) -> None:
    await add_user(store, "lead", "dpo", PASSWORD)
    await sign_in(client, "lead", PASSWORD)
    session_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[
        "discretion_session"
    ].value
    token = csrf_from(await (await client.get("/dashboard/")).text())
    out = await client.post(
        "/dashboard/sign-out", data={"csrf_token": token}, allow_redirects=False
    )
    assert out.status == 303
    # Replaying the old cookie (as a thief would) no longer works.
    client.session.cookie_jar.update_cookies({"discretion_session": session_cookie})
    response = await client.get("/dashboard/", allow_redirects=False)
    assert response.status == 303 and "sign-in" in response.headers["Location"]


async def test_sessions_expire_and_disabled_accounts_stop(client: TestClient, store: Store) -> None:
    user_id = await add_user(store, "lead", "dpo", PASSWORD)
    await sign_in(client, "lead", PASSWORD)
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 200
    async with store.sessions.begin() as db:
        user = await db.get(DashboardUser, user_id)
        assert user is not None
        user.disabled = True
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303
    assert (await sign_in(client, "lead", PASSWORD)).status == 401
    async with store.sessions.begin() as db:
        user = await db.get(DashboardUser, user_id)
        assert user is not None
        user.disabled = False
    await sign_in(client, "lead", PASSWORD)
    nine_hours = datetime.now(UTC) + timedelta(hours=9)
    client.app[DASHBOARD].now = lambda: nine_hours
    assert (await client.get("/dashboard/", allow_redirects=False)).status == 303


async def test_sign_in_form_needs_its_csrf_token(client: TestClient, store: Store) -> None:
    await add_user(store, "lead", "dpo", PASSWORD)
    response = await client.post(
        "/dashboard/sign-in", data={"username": "lead", "password": PASSWORD}
    )
    assert response.status == 403


def test_after_sign_in_only_dashboard_addresses() -> None:
    assert safe_next("/dashboard/cases/DSC-2026-00001") == "/dashboard/cases/DSC-2026-00001"
    for bad in ("https://evil.example/", "//evil.example/dashboard/", "/dashboard/\\evil", None):
        assert safe_next(bad) == "/dashboard/"


def run_cli(args: list[str], stdin: str, cwd: Path, db: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "DISCRETION_SECRET_KEY": "k" * 40,
    }
    return subprocess.run(
        [sys.executable, "-m", "discretion.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


async def test_create_user_reads_the_password_from_stdin(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    made = run_cli(
        ["create-user", "Dana", "--role", "dpo", "--name", "Dana Lead"],
        PASSWORD + "\n",
        tmp_path,
        db,
    )
    assert made.returncode == 0, made.stderr
    assert "created dana (Data protection lead)" in made.stdout
    assert PASSWORD not in made.stdout + made.stderr
    again = run_cli(["create-user", "dana", "--role", "viewer"], PASSWORD + "\n", tmp_path, db)
    assert again.returncode == 2 and "already an account" in again.stderr
    weak = run_cli(["create-user", "sam", "--role", "viewer"], "short\n", tmp_path, db)
    assert weak.returncode == 2 and "at least 12" in weak.stderr
    # There is no way to put the password on the command line.
    argv = run_cli(
        ["create-user", "sam", "--role", "viewer", "--password", PASSWORD], "", tmp_path, db
    )
    assert argv.returncode == 2 and "unrecognized arguments" in argv.stderr
    # The account made by the command signs in to the dashboard.
    store = Store(f"sqlite+aiosqlite:///{db}")
    try:
        async with TestClient(TestServer(dashboard_app(store))) as client:
            assert (await sign_in(client, "dana", PASSWORD)).status == 303
    finally:
        await store.close()
