"""One bench replica: ``discretion serve`` as it is, with Teams mounted for a fake Bot Framework.

``discretion serve`` takes Teams' outbound credentials from the environment, and
those go to MSAL, which only talks https. This entry runs the same
:func:`discretion.server.serve` (same mounts, heap settling, logging), with one
extension swapped: Teams is mounted through ``mount_teams`` with a fixed outbound
token (the test seam of tests/fakes/bot_connector.py) and the fake issuer's
metadata URL. Inbound tokens are still checked for real by botbuilder.

Configured by the environment the bench sets: ``BENCH_TEAMS_OPENID`` (the fake
issuer's metadata URL; without it Teams is not mounted) and
``BENCH_TEAMS_TOKEN`` (this replica's outbound token, so the fake connector can
tell the replicas apart). Usage: ``python bench/replica_serve.py --port 3978``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

TEAMS_MOUNT = "discretion.adapters.teams.mount:mount"
OPENID_ENV = "BENCH_TEAMS_OPENID"
TOKEN_ENV = "BENCH_TEAMS_TOKEN"


def mount(app: Any, services: Any) -> str | None:
    """Mount Teams against the fake issuer, with this replica's fixed outbound token."""
    from fakes.bot_connector import FIXED_TOKEN, FixedTokenFactory
    from fakes.openid import ISSUER
    from teams_latency import APP_ID

    from discretion.adapters.teams.config import TeamsConfig
    from discretion.adapters.teams.mount import mount_teams

    metadata_url = os.environ.get(OPENID_ENV)
    if not metadata_url:
        return None
    config = TeamsConfig(
        app_id=APP_ID, app_password="unused", openid_metadata_url=metadata_url, token_issuer=ISSUER
    )
    token = os.environ.get(TOKEN_ENV, FIXED_TOKEN)
    return mount_teams(
        app, services, config, credentials_factory=FixedTokenFactory(APP_ID, token=token)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    from discretion import logs, server
    from discretion.config import load_settings

    # As the ``discretion`` command does for serve.
    logs.configure(os.environ.get("DISCRETION_LOG_LEVEL", "INFO"))
    # Imported by module name (server imports each "module:function"), not as __main__.
    server.EXTENSIONS[server.EXTENSIONS.index(TEAMS_MOUNT)] = "replica_serve:mount"
    return server.serve(load_settings(), host=args.host, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
