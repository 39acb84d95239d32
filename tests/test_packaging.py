"""The wheel holds one package, discretion, with every subpackage and data file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PARTS = {
    "bot": "discretion",
    "adapters": "discretion/adapters",
    "recognizers": "discretion/recognizers",
}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("discretion-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def test_only_the_discretion_package_is_installed(wheel_names):
    tops = {n.split("/")[0] for n in wheel_names}
    assert tops == {"discretion", next(t for t in tops if t.endswith(".dist-info"))}


def test_every_subpackage_and_data_file_is_in_the_wheel(wheel_names):
    names = set(wheel_names)
    for folder, target in PARTS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.relative_to(ROOT / folder).as_posix()
            assert f"{target}/{rel}" in names, (
                f"{folder}/{rel} missing: add its package to pyproject.toml"
            )
        for data in (ROOT / folder).rglob("*"):
            if (
                data.suffix in {".yaml", ".txt", ".html", ".ini", ".mako", ".js", ".css"}
                and "__pycache__" not in data.parts
            ):
                rel = data.relative_to(ROOT / folder).as_posix()
                assert f"{target}/{rel}" in names, (
                    f"{folder}/{rel} missing from the wheel's package data"
                )
