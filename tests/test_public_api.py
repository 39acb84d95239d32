from __future__ import annotations

import ast
from pathlib import Path

import discretion

ROOT = Path(__file__).resolve().parents[1]


def test_exported_names_are_the_documented_surface():
    assert sorted(discretion.__all__) == [
        "Assessment",
        "ConfigError",
        "Engine",
        "Finding",
        "Message",
        "Notice",
        "Settings",
        "assess",
        "build_notice",
        "load_settings",
    ]
    for name in discretion.__all__:
        assert getattr(discretion, name) is not None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _python_files(*folders: str) -> list[Path]:
    return [p for f in folders for p in (ROOT / f).rglob("*.py")]


def test_only_the_analysis_layer_imports_presidio():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _python_files("bot", "adapters", "recognizers")
        if {"presidio_analyzer", "presidio_anonymizer"} & _imports(p)
        and "analysis" not in p.relative_to(ROOT).parts
    ]
    assert offenders == []


def test_the_core_knows_no_platform():
    platform_sdks = {"slack_bolt", "slack_sdk", "botbuilder", "botframework"}
    offenders = [
        str(p.relative_to(ROOT))
        for p in _python_files("bot", "recognizers")
        if platform_sdks & _imports(p)
    ]
    assert offenders == []


def test_slack_and_teams_sdks_stay_in_their_own_adapter():
    for path in _python_files("adapters"):
        parts = path.relative_to(ROOT).parts
        imports = _imports(path)
        if {"slack_bolt", "slack_sdk"} & imports:
            assert "slack" in parts, path
        if "botbuilder" in imports:
            assert "teams" in parts, path
