"""The Teams app package: manifest valid against the v1.30 schema, icons the right size, zip."""

from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from pathlib import Path

import jsonschema
import pytest
from teams_support import SCHEMAS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "teams"
APP_ID = "3f1c2a9e-5b7d-4e8f-9a1b-2c3d4e5f6a7b"


def _package_module():
    spec = importlib.util.spec_from_file_location("teams_package", DEPLOY / "package.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _validator() -> jsonschema.Draft7Validator:
    # Draft 7, not the draft 4 it declares (it uses const and if/then); no check_schema,
    # because one pattern uses an ECMAScript-only \p{L} escape (see the schemas README).
    return jsonschema.Draft7Validator(
        json.loads((SCHEMAS / "MicrosoftTeams.v1.30.schema.json").read_text())
    )


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_shipped_manifest_is_valid_and_asks_for_rsc():
    manifest = json.loads((DEPLOY / "manifest.json").read_text())
    assert list(_validator().iter_errors(manifest)) == []
    rsc = {
        p["name"]: p["type"] for p in manifest["authorization"]["permissions"]["resourceSpecific"]
    }
    assert rsc == {
        "ChannelMessage.Read.Group": "Application",
        "ChatMessage.Read.Chat": "Application",
    }
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}


def test_validator_is_not_toothless():
    manifest = json.loads((DEPLOY / "manifest.json").read_text())
    manifest["manifestVersion"] = "1.29"
    assert list(_validator().iter_errors(manifest))


def test_icons_are_the_sizes_teams_wants():
    assert _png_size(DEPLOY / "color.png") == (192, 192)
    assert _png_size(DEPLOY / "outline.png") == (32, 32)


def test_icons_are_what_the_script_draws():
    spec = importlib.util.spec_from_file_location("make_icons", DEPLOY / "make_icons.py")
    assert spec and spec.loader
    icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(icons)
    assert icons.png(32, 32, icons.outline) == (DEPLOY / "outline.png").read_bytes()


def test_package_zip_has_the_app_id_and_validates(tmp_path):
    package = _package_module()
    out = package.build(APP_ID, tmp_path / "teams.zip", version="1.2.3")
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["webApplicationInfo"]["id"] == APP_ID
    assert manifest["version"] == "1.2.3"
    assert list(_validator().iter_errors(manifest)) == []


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "00000000-0000-0000-0000-000000000000"])
def test_package_refuses_a_bad_app_id(tmp_path, app_id, capsys, monkeypatch):
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    package = _package_module()
    assert package.main(["--app-id", app_id, "--out", str(tmp_path / "x.zip")]) == 2
    assert not (tmp_path / "x.zip").exists()
