"""The loader fails closed: every problem names the file, the line and the key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from discretion.config import ConfigError, load_settings


def write(tmp_path: Path, body: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def problem(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("body", "line", "key", "words"),
    [
        (
            "thresholds:\n  default: 0.6\n  defualt: 0.5\n",
            3,
            "thresholds.defualt",
            "did you mean 'default'",
        ),
        ("version: x\nthreshold:\n  default: 0.5\n", 2, "threshold", "did you mean 'thresholds'"),
        ("thresholds:\n  default: high\n", 2, "thresholds.default", "number"),
        ("thresholds:\n  default: 1.5\n", 2, "thresholds.default", "less than or equal to 1"),
        ("channels:\n  default: shout\n", 2, "channels.default", "monitor"),
        ("allow_list: Okafor\n", 1, "allow_list", "list"),
        (
            "recognizers:\n  - name: Local\n    supported_entity: HOSPITAL_NUMBER\n    patterns:\n"
            "      - name: broken\n        regex: 'ABC(\\d+'\n        score: 0.7\n",
            6,
            "recognizers[0].patterns[0].regex",
            "does not compile",
        ),
        ("version: a\nversion: b\n", 2, "version", "given twice"),
        ("fingerprint: abc\n", 1, "fingerprint", "set by Discretion"),
    ],
)
def test_each_mistake_is_named_by_file_line_and_key(tmp_path, body, line, key, words):
    path = write(tmp_path, body)
    said = problem(path)
    assert f"{path}:{line}: {key}: " in said
    assert words in said


def test_missing_file_and_broken_yaml_are_errors_not_defaults(tmp_path):
    assert "file not found" in problem(tmp_path / "nope.yaml")
    said = problem(write(tmp_path, "thresholds: [unclosed\n"))
    assert "not valid YAML" in said and "site.yaml:" in said


def test_a_valid_site_file_merges_over_the_defaults(tmp_path):
    path = write(
        tmp_path,
        """
        version: leeds-2026-11
        thresholds:
          default: 0.6
        allow_list: [Okonkwo]
        channels:
          overrides: {secure-icu: quiet}
        """,
    )
    settings = load_settings(path)
    assert settings.thresholds.default == 0.6
    assert settings.thresholds.warn_risk == load_settings(None, use_env=False).thresholds.warn_risk
    assert settings.allow_list == ["Okonkwo"]
    assert settings.channels.mode_for("C1", "#secure-icu") == "quiet"
    assert settings.channels.mode_for("C2", "random") == "monitor"
    assert settings.config_version.startswith("leeds-2026-11@")


def test_the_environment_names_the_site_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DISCRETION_CONFIG", str(write(tmp_path, "version: from-env\n")))
    assert load_settings().version == "from-env"
    monkeypatch.setenv("DISCRETION_CONFIG", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError):
        load_settings()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "discretion.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_check_config_exits_2_naming_the_problem(tmp_path):
    path = write(tmp_path, "nlp:\n  modle: en_core_web_lg\n")
    done = run_cli("check-config", str(path))
    assert done.returncode == 2
    assert f"{path}:2: nlp.modle: unknown key (did you mean 'model'?)" in done.stderr


def test_check_config_runs_local_recognizer_examples(tmp_path):
    good = write(
        tmp_path,
        r"""
        recognizers:
          - name: TestTrustNumber
            supported_entity: HOSPITAL_NUMBER
            patterns:
              - {name: test trust, regex: '\bQQX\d{6}\b', score: 0.9}
            should_match: ["unit number QQX123456 for review"]
            should_not_match: ["the QQX ward is closed"]
        """,
        "good.yaml",
    )
    done = run_cli("check-config", str(good))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout and "1 local recognizers" in done.stdout

    bad = write(
        tmp_path,
        r"""
        recognizers:
          - name: TestTrustNumber
            supported_entity: HOSPITAL_NUMBER
            patterns:
              - {name: test trust, regex: '\bQQX\d{6}\b', score: 0.9}
            should_match: ["unit number QQX12 for review"]
        """,
        "bad.yaml",
    )
    done = run_cli("check-config", str(bad))
    assert done.returncode == 2
    assert "should_match[0]: not matched" in done.stderr


def test_the_server_refuses_to_start_on_an_invalid_config(tmp_path):
    path = write(tmp_path, "thresholds:\n  default: loud\n")
    done = run_cli("--config", str(path), "serve", "--port", "0")
    assert done.returncode == 2
    assert f"{path}:2: thresholds.default" in done.stderr


def test_an_uninstalled_model_is_an_error_not_a_download(tmp_path):
    from discretion.engine import Engine

    settings = load_settings(write(tmp_path, "nlp:\n  model: en_core_web_nonexistent\n"))
    with pytest.raises(ConfigError, match="not installed"):
        Engine(settings)
