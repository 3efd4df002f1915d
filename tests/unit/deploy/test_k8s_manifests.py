"""Static checks of the Kubernetes deployment (deploy/k8s, Kustomize).

The base is rendered with `kubectl kustomize` when kubectl is installed, else by loading the
files listed in kustomization.yaml and applying its namespace and labels (enough for this
base). Checked: a Deployment per service with probes on real paths and ports, resources and
a PodDisruptionBudget; the API scaled on CPU; each worker scaled by KEDA on its own consumer
group's lag with max replicas = partitions; migrations and topics as Jobs; the retention
job as a CronJob; every variable
comes from the ConfigMap/Secret and is a name the services really read.
"""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from overlap_api.settings import Settings as ApiSettings
from overlap_availability.settings import Settings as AvailabilitySettings
from overlap_invalidator.settings import Settings as InvalidatorSettings
from overlap_notifier.settings import Settings as NotifierSettings
from overlap_shared.settings import PusherSettings, ServiceSettings, WorkerSettings
from overlap_shared.topics import GROUPS
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / "deploy" / "k8s" / "base"
ENV_SH = ROOT / "deploy" / "local" / "env.sh"
API_PORT = ApiSettings.model_fields["api_port"].default
# What the settings say when nothing overrides them (model_construct reads no environment).
DEFAULTS = ServiceSettings.model_construct()
DOMAIN, VIEWS = DEFAULTS.domain_topic, DEFAULTS.views_topic


def worker(
    settings: type[WorkerSettings], group: str, topics: set[str]
) -> tuple[type[BaseSettings], int, str, set[str]]:
    """(settings class, health port, consumer group, topics it consumes) of one worker, its
    port and group as its settings default them."""
    port = settings.model_fields["health_port"].default
    return settings, port, DEFAULTS.consumer_groups()[group], topics


# Deployment -> the worker it runs
WORKERS = {
    "availability": worker(AvailabilitySettings, "availability", {DOMAIN}),
    "cache-invalidator": worker(InvalidatorSettings, "invalidator", {DOMAIN}),
    "notifier": worker(NotifierSettings, "notifier", {DOMAIN, VIEWS}),
}
API_PATHS = {"readinessProbe": "/api/readyz", "livenessProbe": "/api/healthz"}


def render() -> list[dict[str, Any]]:
    if shutil.which("kubectl"):
        out = subprocess.run(
            ["kubectl", "kustomize", str(BASE)], check=True, capture_output=True, text=True
        ).stdout
        return [d for d in yaml.safe_load_all(out) if d]
    return render_minimal()


def render_minimal() -> list[dict[str, Any]]:
    """The subset of Kustomize this base uses: resources, namespace, labels."""
    kust = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    docs = [d for f in kust["resources"] for d in yaml.safe_load_all((BASE / f).read_text()) if d]
    labels: dict[str, str] = {}
    templates = False
    for entry in kust.get("labels", []):
        labels.update(entry["pairs"])
        templates = templates or entry.get("includeTemplates", False)
    labels.update(kust.get("commonLabels", {}))
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        meta.setdefault("labels", {}).update(labels)
        if doc["kind"] != "Namespace" and "namespace" in kust:
            meta["namespace"] = kust["namespace"]
        template = doc.get("spec", {}).get("template")
        if templates and template:
            template.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
    return docs


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render()


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["spec"]["template"]["spec"]["containers"])


def config(docs: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    (cm,) = of_kind(docs, "ConfigMap").values()
    (secret,) = of_kind(docs, "Secret").values()
    return cm["data"], {**secret.get("stringData", {}), **secret.get("data", {})}


def known_names() -> set[str]:
    """Every variable the local stack exports or a service's settings class reads."""
    names = set(re.findall(r"^export ([A-Z_][A-Z0-9_]*)=", ENV_SH.read_text(), re.M))
    classes: list[type[BaseSettings]] = [ApiSettings, PusherSettings]
    classes += [w[0] for w in WORKERS.values()]
    for cls in classes:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field_name, field in cls.model_fields.items():
            names.add(f"{prefix}{field_name}".upper())
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(str(c).upper() for c in alias.choices)
            elif isinstance(alias, str):
                names.add(alias.upper())
    return names


def test_everything_is_in_the_namespace_and_labelled(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "overlap", doc["metadata"]
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "overlap"


def test_a_deployment_per_service_with_probes_and_resources(docs: list[dict[str, Any]]) -> None:
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == {"api", *WORKERS}
    for name, dep in deployments.items():
        selector = dep["spec"]["selector"]["matchLabels"]
        assert selector.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
        (c,) = containers(dep)
        ports = {p["containerPort"] for p in c["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            get = c[probe]["httpGet"]
            if name == "api":
                assert get == {"path": API_PATHS[probe], "port": API_PORT}
            else:
                assert get == {"path": "/healthz", "port": WORKERS[name][1]}
            assert get["port"] in ports
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), (name, kind)


def test_services_listen_on_the_probed_ports(docs: list[dict[str, Any]]) -> None:
    """The probes reach the process: worker health servers bind 0.0.0.0 on the probed port."""
    for name, dep in of_kind(docs, "Deployment").items():
        (c,) = containers(dep)
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        if name == "api":
            assert env["API_HOST"] == "0.0.0.0" and env["API_PORT"] == str(API_PORT)
            continue
        settings_cls, port = WORKERS[name][0], WORKERS[name][1]
        assert env["HEALTH_HOST"] == "0.0.0.0" and "health_host" in settings_cls.model_fields
        alias = settings_cls.model_fields["health_port"].validation_alias
        assert isinstance(alias, AliasChoices)
        port_vars = [k for k in env if k in alias.choices]
        assert port_vars and all(env[k] == str(port) for k in port_vars), env


def test_a_disruption_budget_per_deployment(docs: list[dict[str, Any]]) -> None:
    pdbs = of_kind(docs, "PodDisruptionBudget")
    for name, dep in of_kind(docs, "Deployment").items():
        labels = dep["spec"]["template"]["metadata"]["labels"]
        matching = [
            p
            for p in pdbs.values()
            if p["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(matching) == 1, name


def test_the_api_scales_on_cpu(docs: list[dict[str, Any]]) -> None:
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {"api"}
    (hpa,) = hpas.values()
    assert hpa["apiVersion"] == "autoscaling/v2"
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_each_worker_scales_on_its_own_consumer_group_lag(docs: list[dict[str, Any]]) -> None:
    cm, _ = config(docs)
    partitions = int(cm["DOMAIN_PARTITIONS"])
    assert partitions == 8
    scaled = of_kind(docs, "ScaledObject")
    assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled.values()} == set(WORKERS)
    assert {w[2] for w in WORKERS.values()} == set(GROUPS)
    for so in scaled.values():
        target = so["spec"]["scaleTargetRef"]["name"]
        _, _, group, topics = WORKERS[target]
        assert so["apiVersion"] == "keda.sh/v1alpha1"
        assert so["spec"]["maxReplicaCount"] == partitions  # more would sit idle
        assert so["spec"]["minReplicaCount"] >= 1
        seen = set()
        for trigger in so["spec"]["triggers"]:
            meta = trigger["metadata"]
            assert trigger["type"] == "kafka"
            assert meta["consumerGroup"] == group
            assert meta["bootstrapServers"] == cm["KAFKA_BOOTSTRAP_SERVERS"]
            assert int(meta["lagThreshold"]) > 0
            seen.add(meta["topic"])
        assert seen == topics, target
        assert cm["DOMAIN_TOPIC"] in seen


def test_migrations_and_topics_run_as_jobs(docs: list[dict[str, Any]]) -> None:
    commands = {
        tuple(c["command"]): c["image"]
        for job in of_kind(docs, "Job").values()
        for c in containers(job)
    }
    migrate = ("alembic", "-c", "services/api/alembic.ini", "upgrade", "head")
    assert commands[migrate].startswith("overlap-api")
    assert commands[("python", "-m", "overlap_shared.topics")].startswith("overlap-api")
    assert (ROOT / "services/api/alembic.ini").exists()
    for job in of_kind(docs, "Job").values():
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_the_retention_job_runs_on_a_schedule_from_the_api_image(
    docs: list[dict[str, Any]],
) -> None:
    cm, _ = config(docs)
    assert int(cm["RETENTION_DAYS"]) == ApiSettings.model_fields["retention_days"].default
    (cron,) = of_kind(docs, "CronJob").values()
    assert cron["apiVersion"] == "batch/v1" and cron["metadata"]["namespace"] == "overlap"
    spec = cron["spec"]
    assert len(spec["schedule"].split()) == 5
    assert spec["concurrencyPolicy"] == "Forbid" and spec["startingDeadlineSeconds"] > 0
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] > 0 and job["backoffLimit"] >= 1
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"]
    (c,) = pod["containers"]
    assert c["image"].startswith("overlap-api") and c["command"][0] == "overlap-expire"
    scripts = (ROOT / "services/api/pyproject.toml").read_text()
    assert 'overlap-expire = "overlap_api.expire_main:main"' in scripts
    refs = {r.get("configMapRef", r.get("secretRef", {})).get("name") for r in c["envFrom"]}
    assert refs == {"overlap-config", "overlap-secrets"}
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind])


def test_every_variable_comes_from_config_and_is_read_by_a_service(
    docs: list[dict[str, Any]],
) -> None:
    cm, secret = config(docs)
    known = known_names()
    assert set(cm) <= known, set(cm) - known
    assert set(secret) <= known, set(secret) - known
    assert not set(cm) & set(secret)
    assert {"DATABASE_URL", "PUSHER_SECRET", "OPERATOR_KEY", "JWT_SECRET"} <= set(secret)
    assert {"KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "ENABLE_PERFORMANCE_MONITORING"} <= set(cm)
    assert {n for n in cm if n.startswith("CACHE_TTL_")} == {
        "CACHE_TTL_EVENTS",
        "CACHE_TTL_SESSIONS",
        "CACHE_TTL_USERS",
        "CACHE_TTL_AVAILABILITY",
    }
    workloads = [*of_kind(docs, "Deployment").values(), *of_kind(docs, "Job").values()]
    for workload in workloads:
        for c in containers(workload):
            refs = {r.get("configMapRef", r.get("secretRef", {})).get("name") for r in c["envFrom"]}
            assert refs == {"overlap-config", "overlap-secrets"}, workload["metadata"]["name"]
            for e in c.get("env", []):
                assert e["name"] in known, e["name"]
                ref = e.get("valueFrom", {})
                if "configMapKeyRef" in ref:
                    assert ref["configMapKeyRef"]["key"] in cm
                if "secretKeyRef" in ref:
                    assert ref["secretKeyRef"]["key"] in secret


def test_placeholder_secrets_are_refused_in_production(docs: list[dict[str, Any]]) -> None:
    """The shipped Secret is a placeholder: the API must refuse to start with it."""
    cm, secret = config(docs)
    assert cm["ENVIRONMENT"] == "production"
    env = {
        k.lower(): v for k, v in {**cm, **secret}.items() if k.lower() in ApiSettings.model_fields
    }
    with pytest.raises(ValueError, match="placeholder"):
        ApiSettings.model_validate(env)
    real = {**env, "operator_key": "o" * 32, "jwt_secret": "j" * 32}
    assert ApiSettings.model_validate(real).environment == "production"
    pusher = {k[7:].lower(): v for k, v in {**cm, **secret}.items() if k.startswith("PUSHER_")}
    assert PusherSettings.model_validate(pusher).app_id.isdigit()


def test_the_minimal_renderer_agrees_with_kustomize() -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl not installed: the minimal renderer is the only one")
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(map(key, render())) == sorted(map(key, render_minimal()))
