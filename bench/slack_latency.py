"""Slack latency: signed events at a fixed rate into a running server, warnings out to a fake Slack.

Starts ``discretion serve`` in a subprocess (``--servers N``: N of them, taking events
in turn as behind a load balancer), with its Web API pointed at the fake
Slack from tests/fakes/slack_api.py (run here, on 127.0.0.1), posts signed
``message`` events at ``--rate`` per second for ``--duration`` seconds, and prints:

* ack latency (request sent -> HTTP 200 back), p50 / p99;
* event-to-warning latency (request sent -> chat.postEphemeral reaches the fake), p50 / p99;
* anything dropped (non-200 answers, or events that never got their warning).

Every event carries a made-up NHS number, so every one must produce a warning: the
worst case for the server. Usage: ``python bench/slack_latency.py [--rate 100 --duration 60] [--show-warning]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fakes.slack_api import FakeSlackApi  # noqa: E402
from loadgen import free_port, percentile, wait_healthy  # noqa: E402
from messages import nhs_number  # noqa: E402

SECRET = "bench-signing-secret"


def event(i: int, rng: random.Random) -> dict:
    ts = f"{1_700_000_000 + i}.{i % 1_000_000:06d}"
    return {
        "token": "x",
        "team_id": "T111",
        "api_app_id": "A111",
        "type": "event_callback",
        "event_id": f"EvBench{i:08d}",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel": "C111",
            "channel_type": "channel",
            "user": f"U{i:08d}",  # one poster per event, so each warning names its event
            "ts": ts,
            "event_ts": ts,
            "text": f"Bed {i % 30}: NHS {nhs_number(rng)} back from theatre, obs due at {i % 12}",
        },
    }


def _own_folder(parent: str, port: int) -> str:
    path = Path(parent) / str(port)
    path.mkdir()
    return str(path)


async def post(
    session: aiohttp.ClientSession, url: str, body: dict, extra: dict[str, str] | None = None
) -> tuple[float, int]:
    """Sign and send one event (``extra``: more headers, e.g. Slack's retry ones)."""
    raw = json.dumps(body)
    stamp = str(int(time.time()))
    headers = {
        **(extra or {}),
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=raw)
        or "",
    }
    async with session.post(url, data=raw, headers=headers) as r:
        await r.read()
        return time.monotonic(), r.status


async def run(args: argparse.Namespace) -> int:
    fake = await FakeSlackApi().start()
    workdir = tempfile.mkdtemp(prefix="discretion-bench-")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "DISCRETION_LOG_LEVEL": "WARNING",
    }
    for name in ("SLACK_APP_TOKEN", "SLACK_OAUTH_CLIENT_ID", "SLACK_OAUTH_CLIENT_SECRET"):
        env.pop(name, None)
    exe = Path(sys.executable).with_name("discretion")
    ports = [free_port() for _ in range(args.servers)]
    procs = [
        subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
            # Each its own folder (and so its own ./var database): replicas sharing one
            # SQLite file would race to create it.
            cwd=_own_folder(workdir, port),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if args.quiet else None,
        )
        for port in ports
    ]
    rng = random.Random(7)
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30)
        ) as session:
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base, proc in zip(bases, procs, strict=True):
                await wait_healthy(session, base, proc)
            # Like a load balancer: events go round the servers in turn.
            urls = [f"{base}/slack/events" for base in bases]
            # Warm up (first assessments load lazily); not counted.
            warm = 20 * len(urls)
            await asyncio.gather(
                *(post(session, urls[i % len(urls)], event(-1 - i, rng)) for i in range(warm))
            )
            await fake.wait_for("chat.postEphemeral", warm, timeout=60)
            if args.show_warning:
                first = next(c for c in fake.calls if c.method == "chat.postEphemeral")
                print("One warning, as chat.postEphemeral received it:")
                print(json.dumps(first.args, indent=2, ensure_ascii=False))
            fake.clear()

            total = int(args.rate * args.duration)
            sent_at: dict[str, float] = {}
            acks: list[float] = []
            failed: list[int] = []

            async def one(i: int) -> None:
                body = event(i, rng)
                start = time.monotonic()
                sent_at[body["event"]["user"]] = start
                try:
                    done, status = await post(session, urls[i % len(urls)], body)
                except (aiohttp.ClientError, TimeoutError):
                    failed.append(-1)
                    return
                if status != 200:
                    failed.append(status)
                acks.append((done - start) * 1000)

            load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
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
                await fake.wait_for("chat.postEphemeral", total, timeout=args.drain)
            warned = {c.args["user"]: c.at for c in fake.calls if c.method == "chat.postEphemeral"}
            to_warning = [(warned[u] - t) * 1000 for u, t in sent_at.items() if u in warned]
            missing = total - len(to_warning)
            print(
                f"Slack latency: {total} signed events at {args.rate:g}/s for {args.duration:g} s "
                f"into {len(urls)} server process(es); load average before: {load_before}"
            )
            print(f"  sent in {sending:.1f} s (achieved {total / sending:.1f} events/s)")
            print(
                f"  ack latency         p50 {percentile(acks, 50):7.1f} ms   "
                f"p99 {percentile(acks, 99):7.1f} ms   max {max(acks, default=0):7.1f} ms"
            )
            print(
                f"  event-to-warning    p50 {percentile(to_warning, 50):7.1f} ms   "
                f"p99 {percentile(to_warning, 99):7.1f} ms   "
                f"max {max(to_warning, default=0):7.1f} ms"
            )
            print(
                f"  dropped: {len(failed)} not acknowledged with 200, "
                f"{missing} without a warning after {args.drain:g} s"
            )
            print(f"  mean ack {statistics.fmean(acks) if acks else float('nan'):.1f} ms")
            bad = fake.violations
            if bad:
                print(f"  Web API calls outside Slack's spec: {len(bad)} (first: {bad[0]})")
            return 0 if not failed and not missing and not bad else 1
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await fake.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="events per second (100)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending (60)")
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds to wait for the last warnings (30)"
    )
    parser.add_argument(
        "--servers", type=int, default=1, help="server processes, events shared in turn (1)"
    )
    parser.add_argument("--quiet", action="store_true", help="hide the server's own log")
    parser.add_argument(
        "--show-warning", action="store_true", help="print one warning's arguments and blocks"
    )
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
