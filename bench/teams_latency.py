"""Teams latency: signed activities at a fixed rate into a running server, cards out to a fake connector.

Starts the server in a subprocess (``discretion``'s own app, with the Teams adapter
mounted against a fake OpenID issuer and with a fixed outbound token, since MSAL
only talks https), points every activity's ``serviceUrl`` at a fake Bot Connector
run here on 127.0.0.1, posts channel messages with signed tokens at ``--rate`` per
second for ``--duration`` seconds, and prints:

* ack latency (request sent -> HTTP 201 back), p50 / p99;
* activity-to-card latency (request sent -> the warning card reaches the fake), p50 / p99;
* anything dropped (non-201 answers, or activities that never got their card).

Every activity carries a made-up NHS number from a different poster, so each one
costs an assessment, a new 1:1 conversation and a card: the worst case.
Usage: ``python bench/teams_latency.py [--rate 100 --duration 60] [--show-card]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fakes.bot_connector import FakeBotConnector  # noqa: E402
from fakes.openid import FakeOpenId  # noqa: E402
from loadgen import free_port, percentile, wait_healthy  # noqa: E402
from messages import nhs_number  # noqa: E402
from replica_serve import OPENID_ENV  # noqa: E402

APP_ID = "3f1c2a9e-5b7d-4e8f-9a1b-2c3d4e5f6a7b"
ACTIVITY = (
    Path(os.environ.get("DISCRETION_SCHEMAS", str(ROOT.parent / "shared" / "schemas")))
    / "teams"
    / "activities"
    / "channel-message-mention-thread-reply.json"
)


def activity(template: dict[str, Any], i: int, service_url: str, rng: random.Random) -> dict:
    body = json.loads(json.dumps(template))
    body["id"] = f"{1_760_000_000_000 + i}"
    body["serviceUrl"] = service_url
    body["from"]["aadObjectId"] = str(uuid.UUID(int=i + 1_000_000))  # one poster each
    body["text"] = (
        f"<at>ridotest</at> Bed {i % 30}: NHS {nhs_number(rng)} back from theatre, obs due at {i % 12}"
    )
    return body


# --- the load side -------------------------------------------------------------------------


async def wait_cards(fake: FakeBotConnector, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.cards()) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def run(args: argparse.Namespace) -> int:
    openid = FakeOpenId().start()  # its own thread: botbuilder's key fetch is blocking
    fake = await FakeBotConnector().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    workdir = tempfile.mkdtemp(prefix="discretion-bench-")
    env = {**os.environ, "DISCRETION_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT / "tests")}
    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    # The real server, with Teams mounted against the fake issuer (bench/replica_serve.py).
    env[OPENID_ENV] = openid.metadata_url
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "replica_serve.py"), "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if args.quiet else None,
    )
    template = json.loads(ACTIVITY.read_text())
    rng = random.Random(7)
    token = openid.token(audience=APP_ID, service_url=fake.url, lifetime=3 * 3600)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30)
        ) as session:
            await wait_healthy(session, base, proc)
            url = f"{base}/api/messages"

            async def post(body: dict) -> tuple[float, int]:
                async with session.post(url, data=json.dumps(body), headers=headers) as r:
                    await r.read()
                    return time.monotonic(), r.status

            # Warm up (first assessments and connections); not counted.
            await asyncio.gather(
                *(post(activity(template, -1 - i, fake.url, rng)) for i in range(20))
            )
            await wait_cards(fake, 20, 60)
            if args.show_card and fake.cards():
                print("One warning card, as sent:")
                print(json.dumps(fake.cards()[0], indent=2))
            fake.calls.clear()

            total = int(args.rate * args.duration)
            sent_at: dict[str, float] = {}
            acks: list[float] = []
            failed: list[int] = []

            async def one(i: int) -> None:
                body = activity(template, i, fake.url, rng)
                start = time.monotonic()
                sent_at[f"a:personal-{body['from']['aadObjectId']}"] = start
                try:
                    done, status = await post(body)
                except (aiohttp.ClientError, TimeoutError):
                    failed.append(-1)
                    return
                if status != 201:
                    failed.append(status)
                acks.append((done - start) * 1000)

            began = time.monotonic()
            tasks = []
            for i in range(total):
                delay = began + i / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
            sending = time.monotonic() - began
            with contextlib.suppress(TimeoutError):
                await wait_cards(fake, total, args.drain)
            arrived = {
                c.path.split("/")[3]: c.at for c in fake.activities() if c.body.get("attachments")
            }
            to_card = [(arrived[c] - t) * 1000 for c, t in sent_at.items() if c in arrived]
            missing = total - len(to_card)
            print(
                f"Teams latency: {total} signed activities at {args.rate:g}/s for {args.duration:g} s"
            )
            print(f"  sent in {sending:.1f} s (achieved {total / sending:.1f} activities/s)")
            print(
                f"  ack latency         p50 {percentile(acks, 50):7.1f} ms   "
                f"p99 {percentile(acks, 99):7.1f} ms   max {max(acks, default=0):7.1f} ms"
            )
            print(
                f"  activity-to-card    p50 {percentile(to_card, 50):7.1f} ms   "
                f"p99 {percentile(to_card, 99):7.1f} ms   max {max(to_card, default=0):7.1f} ms"
            )
            print(
                f"  dropped: {len(failed)} not acknowledged with 201, "
                f"{missing} without a card after {args.drain:g} s"
            )
            print(f"  OpenID fetches by the server: {len(openid.requests)} (warmed at start-up)")
            return 0 if not failed and not missing else 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        await fake.stop()
        openid.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="activities per second (100)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending (60)")
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds to wait for the last cards (30)"
    )
    parser.add_argument("--show-card", action="store_true", help="print one warning card")
    parser.add_argument("--quiet", action="store_true", help="hide the server's own log")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
