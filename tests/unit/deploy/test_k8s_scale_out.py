"""The example overlay's scale-out settings (a Redis Cluster, a PostgreSQL read replica) patch
the base's ConfigMap and Secret with names the services really read."""

from pathlib import Path
from typing import Any

import yaml
from overlap_api.settings import Settings as ApiSettings
from overlap_shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
OVERLAY = ROOT / "deploy" / "k8s" / "overlays" / "example"
BASE = ROOT / "deploy" / "k8s" / "base"


def patches() -> list[dict[str, Any]]:
    kust = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    return [yaml.safe_load((OVERLAY / p["path"]).read_text()) for p in kust["patches"]]


def base_names() -> set[tuple[str, str]]:
    docs = [yaml.safe_load((BASE / f).read_text()) for f in ("configmap.yaml", "secret.yaml")]
    return {(d["kind"], d["metadata"]["name"]) for d in docs}


def test_the_overlay_patches_the_base_config_and_secret() -> None:
    targets = {(p["kind"], p["metadata"]["name"]) for p in patches()}
    assert targets == base_names()


def test_the_overlay_turns_on_the_cluster_and_the_replica() -> None:
    values = {
        k: v
        for p in patches()
        for part in ("data", "stringData")
        for k, v in p.get(part, {}).items()
    }
    assert values["REDIS_CLUSTER"] == "true"
    assert values["REDIS_URL"].endswith("/0")  # a cluster has database 0 only
    assert "redis_cluster" in ServiceSettings.model_fields
    assert "database_replica_url" in ApiSettings.model_fields
    replica_url = values["DATABASE_REPLICA_URL"]
    settings = ApiSettings.model_validate(
        {"redis_cluster": values["REDIS_CLUSTER"], "database_replica_url": replica_url}
    )
    assert settings.redis_cluster is True
    assert settings.database_replica_url is not None
