"""What the browser tests share: Debian's chromium, a real server, the env they give it.

Imported as ``from browser_support import ...`` (a module name no other test folder uses).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags chromium keeps trying hosts this machine cannot reach.
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Settings a developer's shell may carry that would change what the test server does.
FOREIGN_SETTINGS = (
    "DISCRETION_CONFIG",
    "DISCRETION_PROPOSED_CONFIG",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "REDIS_URL",
)


def need_chromium() -> None:
    """Skip (or, with DISCRETION_REQUIRE_SERVICES=1 as in CI, fail) without Debian's chromium."""
    if CHROMIUM.exists():
        return
    message = (
        "Debian's chromium is not installed at /usr/bin/chromium "
        "(run 'apt-get install -y chromium', or 'make browser')"
    )
    if os.environ.get("DISCRETION_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}, and DISCRETION_REQUIRE_SERVICES=1 makes it required")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(port: int, db_url: str, key: str, **extra: str) -> dict[str, str]:
    """The environment of a test server: its own database, key and public address."""
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN_SETTINGS}
    env.update(
        DATABASE_URL=db_url,
        DISCRETION_SECRET_KEY=key,
        DISCRETION_PUBLIC_URL=f"http://127.0.0.1:{port}",
        DISCRETION_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def create_user(folder: Path, env: dict[str, str], password: str, *args: str) -> None:
    """Run ``discretion create-user`` with the password on standard input."""
    made = subprocess.run(
        [sys.executable, "-m", "discretion.cli", "create-user", *args],
        input=password + "\n", capture_output=True, text=True, cwd=folder, env=env, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


@contextmanager
def running_server(
    folder: Path, env: dict[str, str], port: int
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``discretion serve`` on 127.0.0.1:``port`` until the block ends; yields (url, process)."""
    log = open(folder / "server.log", "w")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(
        [sys.executable, "-m", "discretion.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # spaCy loads before the server listens
        while not _healthy(url):
            if proc.poll() is not None:
                raise AssertionError((folder / "server.log").read_text()[-3000:])
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start within three minutes")
            time.sleep(0.25)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@contextmanager
def chromium_page(**options: Any) -> Iterator[Any]:
    """A page in a fresh chromium profile (Playwright driving Debian's chromium)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="discretion-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, **options
            )
            try:
                yield context.pages[0] if context.pages else context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
