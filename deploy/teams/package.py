"""Build the Teams app package: manifest.json with your bot's app id, and the two icons, zipped.

    python deploy/teams/package.py --app-id <MICROSOFT_APP_ID> [--out discretion-teams.zip]

The app id defaults to $MICROSOFT_APP_ID. Upload the zip in Teams (Apps, Manage your
apps, Upload an app) or in the Teams admin centre; see "Install in Teams" in README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
FILES = ("color.png", "outline.png")


def manifest_for(app_id: str, *, version: str | None = None) -> dict[str, Any]:
    """The shipped manifest with the bot's app id filled in."""
    if not GUID.match(app_id) or app_id == PLACEHOLDER:
        raise ValueError("the app id must be your Azure Bot's Microsoft App ID (a GUID)")
    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    manifest["bots"][0]["botId"] = app_id
    manifest["webApplicationInfo"]["id"] = app_id
    if version:
        manifest["version"] = version
    return manifest


def build(app_id: str, out: Path, *, version: str | None = None) -> Path:
    """Write the zip (manifest at the top level, as Teams requires); returns its path."""
    manifest = manifest_for(app_id, version=version)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        for name in FILES:
            zf.write(HERE / name, arcname=name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-id", default=os.environ.get("MICROSOFT_APP_ID", ""))
    parser.add_argument("--out", default="discretion-teams.zip")
    parser.add_argument("--version", help="app version to stamp (default: the manifest's)")
    args = parser.parse_args(argv)
    if not args.app_id:
        print("give --app-id (or set MICROSOFT_APP_ID): your Azure Bot's app id", file=sys.stderr)
        return 2
    try:
        path = build(args.app_id, Path(args.out), version=args.version)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
