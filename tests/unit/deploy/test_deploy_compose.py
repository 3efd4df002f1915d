"""Static checks of the Docker deployment path (deploy/compose.yaml, the service Dockerfiles).

No Docker engine is needed: the files are parsed and compared with the local (no-Docker)
stack, so the two paths keep the same environment variable names, ports and gateway
template, and each image runs a console script its service really declares.
"""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ENV_SH = DEPLOY / "local" / "env.sh"
APPS_SH = DEPLOY / "local" / "apps.sh"
TEMPLATE = DEPLOY / "gateway" / "overlap.conf.template"
NGINX_TEMPLATE_TARGET = "/etc/nginx/templates/overlap.conf.template"

# compose service -> (service directory, health/HTTP port inside the container)
APP_SERVICES: dict[str, tuple[str, int]] = {
    "api": ("services/api", 8000),
    "availability": ("services/availability", 8101),
    "invalidator": ("services/cache-invalidator", 8102),
    "notifier": ("services/notifier", 8103),
}
WORKERS = ("availability", "invalidator", "notifier")
# The API has its own Dockerfile; the three workers share one, parameterised by build args.
API_DOCKERFILE = ROOT / "services/api/Dockerfile"
WORKER_DOCKERFILE = ROOT / "services/worker.Dockerfile"
JOBS = ("migrate", "topics")  # one-shot containers from the api image
INFRA = ("postgres", "redis", "kafka", "soketi")
GATEWAY = "gateway"

# Host ports the local stack uses by default (DESIGN.md section 3), per compose service.
HOST_PORTS = {
    "gateway": ("GATEWAY_PORT", 8080),
    "api": ("API_PORT", 8000),
    "postgres": ("PG_PORT", 5432),
    "redis": ("REDIS_PORT", 6379),
    "kafka": ("KAFKA_PORT", 9092),
    "soketi": ("SOKETI_PORT", 6001),
}

CONNECTION_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "KAFKA_BOOTSTRAP_SERVERS",
    "PUSHER_APP_ID",
    "PUSHER_KEY",
    "PUSHER_SECRET",
    "PUSHER_HOST",
    "PUSHER_PORT",
    "PUSHER_SSL",
}

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "deploy/compose.yaml is not a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    svcs = compose.get("services")
    assert isinstance(svcs, dict) and svcs, "deploy/compose.yaml has no services"
    return svcs


def local_env_defaults() -> dict[str, str]:
    """``export NAME=...`` lines of deploy/local/env.sh -> NAME: the raw default text."""
    found: dict[str, str] = {}
    for line in ENV_SH.read_text().splitlines():
        m = re.match(r"\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if not m:
            continue
        name, value = m.groups()
        default = re.fullmatch(r"\$\{" + name + r":-(.*)\}", value.strip())
        found[name] = default.group(1) if default else value.strip()
    return found


def expand(value: object) -> str:
    """Compose interpolation with an empty environment: ``${X:-d}`` -> ``d``, ``$$`` -> ``$``."""
    text = str(value)

    def sub(m: re.Match[str]) -> str:
        if m.group(2) is None:
            raise AssertionError(f"{text!r}: ${{{m.group(1)}}} has no default in compose")
        return m.group(2)

    return INTERPOLATION.sub(sub, text).replace("$$", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    assert isinstance(env, dict)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    joined: list[str] = []
    current = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    assert not current, f"{path}: dangling line continuation"
    out = []
    for line in joined:
        instruction, _, args = line.partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def rendered(path: Path, args: dict[str, str]) -> list[tuple[str, str]]:
    """``path``'s instructions with the build arguments ``args`` substituted (``"$X"``,
    ``${X}`` and ``$X``), as the builder sees them; the base-image arguments stay variables."""
    out = []
    for instruction, text in dockerfile_instructions(path):
        for name, value in args.items():
            if not name.endswith("_IMAGE"):
                pattern = rf'"\$\{{?{name}\}}?"|\$\{{{name}\}}|\${name}\b'
                text = re.sub(pattern, value.replace("\\", "\\\\"), text)
        out.append((instruction, text))
    return out


def image_instructions(services: dict[str, dict[str, Any]], name: str) -> list[tuple[str, str]]:
    """The Dockerfile compose builds for service ``name``, rendered with its build args."""
    build = services[name]["build"]
    args = {str(k): expand(v) for k, v in (build.get("args") or {}).items()}
    return rendered(build_dockerfile(services[name]), args)


def command_script(instructions: list[tuple[str, str]]) -> str:
    """The console script the image's CMD runs, following a ``ln -s SCRIPT .../CMD`` link."""
    cmds = [args for instr, args in instructions if instr == "CMD"]
    assert cmds, "no CMD"
    cmd = json.loads(cmds[-1])  # exec form, so signals reach the process
    assert isinstance(cmd, list) and cmd
    runs = " ".join(args for instr, args in instructions if instr == "RUN")
    link = re.search(rf"ln -s (\S+) /app/\.venv/bin/{re.escape(cmd[0])}\b", runs)
    return link.group(1) if link else str(cmd[0])


def pyproject(service_dir: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / service_dir / "pyproject.toml").read_text())


def build_dockerfile(service: dict[str, Any]) -> Path:
    build = service.get("build")
    assert isinstance(build, dict), "build must be a mapping with context and dockerfile"
    context = (DEPLOY / build.get("context", ".")).resolve()
    assert context == ROOT, f"build context must be the repository root, not {context}"
    return (context / build["dockerfile"]).resolve()


# --- the tests -------------------------------------------------------------------------------


def test_every_service_exists(services: dict[str, dict[str, Any]]) -> None:
    expected = {*APP_SERVICES, *JOBS, *INFRA, GATEWAY}
    missing = expected - services.keys()
    assert not missing, f"deploy/compose.yaml lacks services: {sorted(missing)}"


def test_infra_images_are_the_official_ones(services: dict[str, dict[str, Any]]) -> None:
    images = {name: expand(services[name].get("image")) for name in (*INFRA, GATEWAY)}
    assert images == {
        "postgres": "postgres:16",
        "redis": "redis:7",
        "kafka": "apache/kafka:4.1.1",
        "soketi": "quay.io/soketi/soketi:1.6-16-debian",
        "gateway": "nginx:1.27",
    }


@pytest.mark.parametrize("name", [*APP_SERVICES, *JOBS])
def test_app_services_build_their_dockerfile(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service_dir = APP_SERVICES["api" if name in JOBS else name][0]
    dockerfile = build_dockerfile(services[name])
    assert dockerfile == (WORKER_DOCKERFILE if name in WORKERS else API_DOCKERFILE)
    assert dockerfile.is_file(), f"{dockerfile} does not exist"
    if name in WORKERS:
        args = services[name]["build"]["args"]
        assert f"services/{args['SERVICE']}" == service_dir
        assert args["PACKAGE"] == pyproject(service_dir)["project"]["name"]
        assert args["HEALTH_PORT"] == str(APP_SERVICES[name][1])


def test_jobs_run_migrations_and_topic_bootstrap(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["command"] == [
        "alembic",
        "-c",
        "services/api/alembic.ini",
        "upgrade",
        "head",
    ]
    assert services["topics"]["command"] == ["python", "-m", "overlap_shared.topics"]
    for job in JOBS:
        assert services[job].get("restart") == "no", f"{job} is one-shot and must not restart"
    # The api image ships the whole services/api dir (alembic.ini, migrations/).
    api_dockerfile = dockerfile_instructions(API_DOCKERFILE)
    copies = [args for instr, args in api_dockerfile if instr == "COPY"]
    assert any(a.split()[-2:] == ["/app/services/api", "services/api"] for a in copies), copies


@pytest.mark.parametrize("name", [*APP_SERVICES, *JOBS])
def test_app_environment_uses_the_local_stack_names(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    local = set(local_env_defaults())
    names = set(environment(services[name]))
    assert names, f"{name} gets no environment"
    unknown = names - local
    assert not unknown, f"{name} uses variables deploy/local/env.sh does not set: {unknown}"
    missing = CONNECTION_VARS - names
    assert not missing, f"{name} lacks connection settings: {sorted(missing)}"


def test_app_connection_settings_point_at_compose_services(
    services: dict[str, dict[str, Any]],
) -> None:
    kafka_env = environment(services["kafka"])
    advertised = expand(kafka_env["KAFKA_ADVERTISED_LISTENERS"])
    pg_env = {k: expand(v) for k, v in environment(services["postgres"]).items()}
    soketi_env = {k: expand(v) for k, v in environment(services["soketi"]).items()}
    for name in (*APP_SERVICES, *JOBS):
        env = {k: expand(v) for k, v in environment(services[name]).items()}
        assert f"@postgres:5432/{pg_env['POSTGRES_DB']}" in env["DATABASE_URL"]
        assert env["DATABASE_URL"].startswith(
            f"postgresql+asyncpg://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}@"
        )
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        for server in env["KAFKA_BOOTSTRAP_SERVERS"].split(","):
            assert f"//{server}" in advertised, f"{server} is not an advertised Kafka listener"
        assert env["PUSHER_HOST"] == "soketi"
        assert env["PUSHER_APP_ID"] == soketi_env["SOKETI_DEFAULT_APP_ID"]
        assert env["PUSHER_KEY"] == soketi_env["SOKETI_DEFAULT_APP_KEY"]
        assert env["PUSHER_SECRET"] == soketi_env["SOKETI_DEFAULT_APP_SECRET"]
        assert env["PUSHER_APP_ID"].isdigit(), "the pusher client needs a numeric app id"


def test_kafka_is_a_single_kraft_node(services: dict[str, dict[str, Any]]) -> None:
    env = {k: expand(v) for k, v in environment(services["kafka"]).items()}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "CONTROLLER://" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1", key
    listener_names = {x.split("://")[0] for x in env["KAFKA_LISTENERS"].split(",")}
    mapped = {x.split(":")[0] for x in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")}
    assert listener_names <= mapped, "every listener needs a security protocol"


def test_gateway_renders_the_same_template_as_the_local_stack(
    services: dict[str, dict[str, Any]],
) -> None:
    assert "deploy/gateway/overlap.conf.template" in APPS_SH.read_text()
    gateway = services[GATEWAY]
    mounts = {}
    for volume in gateway.get("volumes", []):
        source, target = volume.split(":")[:2]
        mounts[target] = (DEPLOY / source).resolve()
    assert mounts.get(NGINX_TEMPLATE_TARGET) == TEMPLATE.resolve(), mounts

    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", TEMPLATE.read_text()))
    assert used, "the template uses no ${VAR}: nothing to check"
    env = {k: expand(v) for k, v in environment(gateway).items()}
    undefined = used - env.keys()
    assert not undefined, f"the nginx image leaves these unsubstituted: {sorted(undefined)}"
    # The local stack's envsubst list names the same variables.
    local_list = re.search(r"envsubst '([^']*)'", APPS_SH.read_text())
    assert local_list is not None
    assert set(re.findall(r"\$\{(\w+)\}", local_list.group(1))) == used

    assert "server api:8000;" in env["API_UPSTREAMS"]
    assert env["SOKETI_UPSTREAM"].split(":")[0] in services
    assert (DEPLOY / "web").resolve() == mounts.get(env["WEB_ROOT"]), "WEB_ROOT is not deploy/web"
    container_ports = [str(p).rsplit(":", 1)[-1] for p in gateway.get("ports", [])]
    assert env["GATEWAY_PORT"] in container_ports


@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_dockerfile_runs_a_declared_console_script(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service_dir, port = APP_SERVICES[name]
    project = pyproject(service_dir)["project"]
    scripts = project.get("scripts", {})
    instructions = image_instructions(services, name)
    script = command_script(instructions)
    assert script in scripts, f"CMD runs {script!r}, not in [project.scripts] {sorted(scripts)}"

    runs = " ".join(args for instr, args in instructions if instr == "RUN")
    assert f"--package {project['name']}" in runs, "uv sync must install this service's package"
    assert "--frozen" in runs and "--no-dev" in runs
    args = dict(a.split("=", 1) for i, a in instructions if i == "ARG" and "=" in a)
    assert args.get("PYTHON_IMAGE") == "python:3.11-slim", "the official base by default"
    stages = [a.split()[0] for i, a in instructions if i == "FROM" and not a.endswith(" AS uv")]
    assert len(stages) >= 2 and set(stages) == {"${PYTHON_IMAGE}"}, stages
    assert f"EXPOSE {port}" in [f"{i} {a}" for i, a in instructions]
    health = [a for i, a in instructions if i == "HEALTHCHECK"]
    path = "/api/healthz" if name == "api" else "/healthz"
    env = " ".join(a for i, a in instructions if i == "ENV")
    assert health and path in health[-1]
    # The check's port: written in it, or read from a variable the image sets to it.
    port_var = re.search(r"os\.environ\[['\"](\w+)['\"]\]", health[-1])
    assert str(port) in health[-1] or (port_var and f"{port_var.group(1)}={port}" in env)
    user = [a for i, a in instructions if i == "USER"]
    assert user and user[-1].split(":")[0] not in {"root", "0"}, "runtime must not be root"
    bind = "API_HOST=0.0.0.0" if name == "api" else "HEALTH_HOST=0.0.0.0"
    assert bind in env, f"{name} must listen on all interfaces in a container"


@pytest.mark.parametrize("name", list(APP_SERVICES))
def test_dockerfile_copies_exist_and_cover_the_workspace(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service_dir = APP_SERVICES[name][0]
    instructions = image_instructions(services, name)
    sources: set[str] = set()
    for instr, args in instructions:
        if instr != "COPY" or "--from=" in args:
            continue
        parts = [p for p in args.split() if not p.startswith("--")]
        for src in parts[:-1]:
            assert (ROOT / src).exists(), f"COPY source {src} is not in the repository"
            sources.add(src.rstrip("/"))
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    needed = {"pyproject.toml", "uv.lock", "shared", service_dir}
    for pattern in members:
        needed |= {
            str(p.relative_to(ROOT)) for p in ROOT.glob(f"{pattern}/pyproject.toml") if p.is_file()
        }
    missing = {
        n
        for n in needed
        if n not in sources and not any(n.startswith(s + "/") for s in sources if s != ".")
    }
    assert not missing, f"the {name} image does not copy {sorted(missing)}"
    others = {d for d, _ in APP_SERVICES.values()} - {service_dir}
    assert not sources & others, "a service image must not contain another service's code"


def test_published_ports_are_loopback_only_with_local_defaults(
    services: dict[str, dict[str, Any]],
) -> None:
    defaults = local_env_defaults()
    published: dict[str, list[str]] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: use the short 'ip:host:container' syntax"
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
            published.setdefault(name, []).append(port)
    assert published.keys() == HOST_PORTS.keys(), (
        "only the gateway, api and infra publish ports (workers scale, so they must not)"
    )
    for name, (var, default) in HOST_PORTS.items():
        (port,) = published[name]
        parts = re.fullmatch(r"127\.0\.0\.1:(\$\{[^}]*\}|\d+):(\d+)", port)
        assert parts, f"{name}: {port!r} is not 127.0.0.1:HOST:CONTAINER"
        m = INTERPOLATION.fullmatch(parts.group(1))
        assert m and m.group(1) == var, f"{name}: host port should be ${{{var}:-{default}}}"
        assert m.group(2) == str(default) == defaults[var], (name, m.group(2), defaults[var])


def test_workers_can_scale(services: dict[str, dict[str, Any]]) -> None:
    for name in WORKERS:
        service = services[name]
        assert "container_name" not in service, f"{name}: a fixed name prevents --scale"
        assert not service.get("ports"), f"{name}: a host port prevents --scale"


def test_start_order_waits_for_health_and_jobs(services: dict[str, dict[str, Any]]) -> None:
    for name in INFRA:
        test = services[name].get("healthcheck", {}).get("test")
        assert test, f"{name} needs a healthcheck for depends_on: service_healthy"
    for name in (*APP_SERVICES, *JOBS, GATEWAY):
        for dep, condition in depends_on(services[name]).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert condition in {"service_healthy", "service_completed_successfully"}, (
                f"{name} -> {dep}: {condition} does not wait for readiness"
            )
            if condition == "service_healthy":
                has_check = bool(services[dep].get("healthcheck", {}).get("test"))
                if not has_check and "build" in services[dep]:
                    instrs = dockerfile_instructions(build_dockerfile(services[dep]))
                    has_check = any(i == "HEALTHCHECK" for i, _ in instrs)
                assert has_check, f"{name} waits for {dep} to be healthy, which has no check"
            if condition == "service_completed_successfully":
                assert dep in JOBS
    for name in APP_SERVICES:
        deps = depends_on(services[name])
        for job in JOBS:
            assert deps.get(job) == "service_completed_successfully", f"{name} must wait {job}"
    assert depends_on(services["migrate"]).get("postgres") == "service_healthy"
    assert depends_on(services["topics"]).get("kafka") == "service_healthy"
    assert depends_on(services[GATEWAY]).get("api") == "service_healthy"


def test_dockerignore_keeps_the_build_context_clean() -> None:
    lines = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".local", "results", "test-artifacts"):
        assert entry in lines, f".dockerignore lacks {entry}"
    for entry in (".venv", "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache"):
        assert entry in lines or f"**/{entry}" in lines, f".dockerignore lacks {entry}"
    for needed in ("uv.lock", "pyproject.toml", "shared", "services"):
        assert needed not in lines, f".dockerignore must not exclude {needed}"


def test_images_are_variables_whose_defaults_are_official_and_make_images_names_them(
    services: dict[str, dict[str, Any]],
) -> None:
    local = dict(
        line.split("=", 1)
        for line in (DEPLOY / "images/images.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in (*INFRA, GATEWAY):
        m = INTERPOLATION.fullmatch(str(services[name]["image"]))
        assert m and m.group(1) in local, f"{name}: image must be ${{X_IMAGE:-official}}"
        assert not local[m.group(1)].startswith(str(m.group(2)).split(":")[0] + ":")
    build_args = services["api"]["build"]["args"]
    for name in (*APP_SERVICES, *JOBS):
        args = services[name]["build"]["args"]
        assert {k: v for k, v in args.items() if k in build_args} == build_args, name
    for var, value in build_args.items():
        m = INTERPOLATION.fullmatch(str(value))
        assert m and m.group(1) == var and var in local, (var, value)


def test_no_dockerfile_asks_for_a_frontend_image() -> None:
    files = [
        *ROOT.glob("services/*/Dockerfile"),
        *ROOT.glob("services/*.Dockerfile"),
        *(DEPLOY / "images").glob("*.Dockerfile"),
    ]
    assert len(files) >= 10, files
    for path in files:
        text = path.read_text()
        assert "# syntax=" not in text, f"{path}: BuildKit would fetch a frontend image"
        base = [a for i, a in dockerfile_instructions(path) if i == "ARG" and "_IMAGE=" in a]
        assert base or "FROM scratch" in text, f"{path}: its base must be a build argument"
