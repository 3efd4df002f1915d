"""Secrets never leak: a real API process (DEBUG logging) behind the real nginx gateway is
driven through every kind of request, with right, wrong, foreign and malformed keys; then
no admin key, participant key, bearer token, operator key, JWT secret or Pusher secret may
appear in its log, the gateway's logs, any answer (except the one answer that hands a new
key out), /metrics, the monitor, the database, Redis or the domain topic.

The event *token* is the shareable link (DESIGN §2: "link holder" rights), not a key: it is
in URLs, views and the database by design. Keys are the secrets: stored only as SHA-256.
"""

import asyncio
import base64
import hashlib
import http.server
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import redis
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from overlap_notifier.pusher_http import PusherError, PusherSender
from overlap_shared.logs import RedactSecrets
from overlap_shared.settings import PusherSettings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Services
from tests.servers import ROOT, free_port, process

OPERATOR_KEY = "op-" + base64.urlsafe_b64encode(os.urandom(24)).decode()
JWT_SECRET = "jwt-" + base64.urlsafe_b64encode(os.urandom(24)).decode()
PUSHER_SECRET = "ps-" + base64.urlsafe_b64encode(os.urandom(24)).decode()
EVENT = {
    "title": "Secrets",
    "timezone": "Europe/Berlin",
    "dates": ["2026-12-01", "2026-12-02"],
    "day_start": "09:00",
    "day_end": "12:00",
    "slot_minutes": 30,
}


@dataclass
class Stack:
    api: str
    gateway: str
    api_log: Path
    gateway_logs: list[Path]


@dataclass
class Answer:
    label: str
    status: int
    text: str  # status line, headers and body


@dataclass
class Run:
    """What the scenario did: every answer, and the secrets that must not leak."""

    answers: list[Answer] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # name -> value
    handed_out: dict[str, str] = field(default_factory=dict)  # secret name -> answer label
    tokens: dict[str, str] = field(default_factory=dict)

    def record(self, label: str, response: httpx.Response) -> httpx.Response:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.answers.append(Answer(label, response.status_code, f"{headers}\n\n{response.text}"))
        return response


def _bearer(sub: str, secret: str = JWT_SECRET, expires_in: int = 3600) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + expires_in}, secret, "HS256")


def _render_gateway(directory: Path, api_port: int) -> tuple[Path, int, list[Path]]:
    port = free_port()
    access, errors = directory / "access.log", directory / "error.log"
    values = {
        "GATEWAY_PORT": str(port),
        "API_UPSTREAMS": f"server 127.0.0.1:{api_port};",
        "SOKETI_UPSTREAM": "127.0.0.1:6001",
        "WEB_ROOT": str(ROOT / "deploy/web"),
        "GATEWAY_RATE": "1000",
        "GATEWAY_ACCESS_LOG": str(access),
    }
    conf = (ROOT / "deploy/gateway/overlap.conf.template").read_text()
    for name, value in values.items():
        conf = conf.replace("${" + name + "}", value)
    (directory / "overlap.conf").write_text(conf)
    main = directory / "nginx.conf"
    main.write_text(
        f"pid {directory}/nginx.pid;\nerror_log {errors} info;\nevents {{}}\n"
        f"http {{ include {directory}/overlap.conf; }}\n"
    )
    return main, port, [access, errors]


@pytest.fixture(scope="module")
def stack(
    services: Services, migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    api_port = free_port()
    env = {
        **services.env(),
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "DEBUG",
        "OPERATOR_KEY": OPERATOR_KEY,
        "JWT_SECRET": JWT_SECRET,
        "PUSHER_SECRET": PUSHER_SECRET,
        "API_PORT": str(api_port),
    }
    api = f"http://127.0.0.1:{api_port}"
    name = f"api-{api_port}"
    directory = tmp_path_factory.mktemp("gateway")
    conf, gateway_port, gateway_logs = _render_gateway(directory, api_port)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    gateway_args = [nginx, "-p", str(directory), "-c", str(conf), "-g", "daemon off;"]
    with (
        process([sys.executable, "-m", "overlap_api"], env, f"{api}/api/readyz", name),
        process(gateway_args, {}, f"http://127.0.0.1:{gateway_port}/api/readyz", "gateway-h3"),
    ):
        yield Stack(
            api,
            f"http://127.0.0.1:{gateway_port}",
            ROOT / ".local" / "log" / f"test-{name}.log",
            gateway_logs,
        )


BODY = {"available": [[0, 3]], "if_needed": [[4, 6]]}


@dataclass
class Story:
    """The scenario as it goes: the run it records, its two clients (the API's own port and
    the gateway), and the events, keys and paths it made along the way."""

    run: Run
    api: httpx.Client
    gateway: httpx.Client
    user: dict[str, str]
    created: dict[str, Any] = field(default_factory=dict)
    joined: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> tuple[str, str, str]:
        a, b, c = (f"/api/events/{self.run.tokens[n]}" for n in "ABC")
        return a, b, c

    @property
    def admin(self) -> dict[str, dict[str, str]]:
        return {n: {"X-Admin-Key": self.run.secrets[f"admin_{n}"]} for n in "ABC"}

    @property
    def me(self) -> dict[str, dict[str, str]]:
        return {w: {"X-Participant-Key": self.run.secrets[f"key_{w}"]} for w in self.joined}

    def call(
        self,
        label: str,
        method: str,
        url: str,
        status: int,
        client: httpx.Client | None = None,
        **kw: Any,
    ) -> httpx.Response:
        r = self.run.record(label, (client or self.api).request(method, url, **kw))
        assert r.status_code == status, (label, r.status_code, r.text)
        return r


def _create_and_join(s: Story) -> None:
    """Three events (A is the user's, C gets deleted); four people join."""
    run, c, gw = s.run, s.api, s.gateway
    for name, client in (("A", c), ("B", gw), ("C", c)):
        r = s.call(f"create {name}", "POST", "/api/events", 201, client, json=EVENT, headers=s.user)
        s.created[name] = r.json()
        run.secrets[f"admin_{name}"] = s.created[name]["admin_key"]
        run.handed_out[f"admin_{name}"] = f"create {name}"
        run.tokens[name] = s.created[name]["token"]
    a, b, cc = s.paths
    for who, path, client in (("alice", a, c), ("bob", a, gw), ("carol", b, c), ("dave", cc, c)):
        r = s.call(f"join {who}", "POST", f"{path}/participants", 201, client, json={"name": who})
        s.joined[who] = r.json()
        run.secrets[f"key_{who}"] = s.joined[who]["participant_key"]
        run.handed_out[f"key_{who}"] = f"join {who}"


def _paint_and_read(s: Story) -> None:
    """Availability written, the view, best times and oneself read."""
    call, gw, me = s.call, s.gateway, s.me
    a, _, _ = s.paths
    call(
        "put alice", "PUT", f"{a}/participants/me/availability", 200, json=BODY, headers=me["alice"]
    )
    patch = {"set_available": [[2, 5]]}
    call(
        "patch bob",
        "PATCH",
        f"{a}/participants/me/availability",
        200,
        gw,
        json=patch,
        headers=me["bob"],
    )
    call("view A", "GET", a, 200, params={"min_version": 1})
    call("view A via gateway", "GET", a, 200, gw)
    call("best A", "GET", f"{a}/best-times", 200, params={"min_minutes": 30})
    call("me alice", "GET", f"{a}/participants/me", 200, headers=me["alice"])
    call("me alice again", "GET", f"{a}/participants/me", 200, headers=me["alice"])


def _edit_and_finalize(s: Story) -> None:
    """A rename, the organiser's edits (one stale), the final time, calendars."""
    call, gw, admin, me = s.call, s.gateway, s.admin, s.me
    a, b, _ = s.paths
    renamed = call(
        "rename alice",
        "PATCH",
        f"{a}/participants/me",
        200,
        json={"name": "Alice"},
        headers=me["alice"],
    )
    version = renamed.json()["version"]
    call(
        "edit A",
        "PATCH",
        a,
        200,
        json={"title": "Renamed"},
        headers={**admin["A"], "If-Match": f'"v{version}"'},
    )
    call(
        "stale edit A",
        "PATCH",
        a,
        412,
        json={"title": "x"},
        headers={**admin["A"], "If-Match": '"v1"'},
    )
    call(
        "finalize A", "POST", f"{a}/finalize", 200, json={"start": 0, "end": 2}, headers=admin["A"]
    )
    call("ics A", "GET", f"{a}/calendar.ics", 200)
    call("ics B", "GET", f"{b}/calendar.ics", 409)
    call("my events", "GET", "/api/me/events", 200, headers=s.user)
    call("my events via gateway", "GET", "/api/me/events", 200, gw, headers=s.user)


def _wrong_keys(s: Story) -> None:
    """Wrong, foreign, missing and malformed keys."""
    call, gw, run, admin, me = s.call, s.gateway, s.run, s.admin, s.me
    a, b, _ = s.paths
    call("foreign admin key", "PATCH", a, 403, json={"title": "x"}, headers=admin["B"])
    call(
        "participant key as admin key",
        "POST",
        f"{a}/finalize",
        403,
        json={"start": 0, "end": 1},
        headers={"X-Admin-Key": run.secrets["key_alice"]},
    )
    call("foreign admin via gateway", "DELETE", a, 403, gw, headers=admin["B"])
    call("no admin key", "DELETE", a, 401)
    call("admin key too long", "DELETE", a, 422, headers={"X-Admin-Key": "k" * 300})
    call("admin key malformed", "DELETE", a, 403, headers={"X-Admin-Key": "../;%00<>"})
    call("foreign participant key", "GET", f"{a}/participants/me", 403, headers=me["carol"])
    call(
        "admin key as participant key",
        "PUT",
        f"{a}/participants/me/availability",
        403,
        json=BODY,
        headers={"X-Participant-Key": run.secrets["admin_A"]},
    )
    call(
        "foreign participant leaves", "DELETE", f"{b}/participants/me", 403, gw, headers=me["alice"]
    )
    call("no participant key", "GET", f"{a}/participants/me", 401)
    bob_id = s.joined["bob"]["participant"]["id"]
    call(
        "foreign admin removes bob", "DELETE", f"{a}/participants/{bob_id}", 403, headers=admin["B"]
    )


def _unknown_events_and_bearers(s: Story) -> None:
    """Events that do not exist; bearer tokens that do not hold."""
    call, admin, me = s.call, s.admin, s.me
    call("no such event", "GET", "/api/events/" + "A" * 24, 404, headers=admin["A"])
    call("no such event, admin", "DELETE", "/api/events/" + "A" * 24, 404, headers=admin["A"])
    call("bad token", "GET", "/api/events/not a token", 422, headers=me["alice"])
    call(
        "bad bearer secret",
        "GET",
        "/api/me/events",
        401,
        headers={"Authorization": f"Bearer {_bearer('u', 'wrong-secret-of-32-bytes-or-more!')}"},
    )
    call(
        "expired bearer",
        "GET",
        "/api/me/events",
        401,
        headers={"Authorization": f"Bearer {_bearer('u', expires_in=-60)}"},
    )
    call("garbage bearer", "GET", "/api/me/events", 401, headers={"Authorization": "Bearer x.y.z"})
    call("no bearer", "GET", "/api/me/events", 401)


def _bad_input(s: Story) -> None:
    """Validation errors with keys in the input (an unknown field, a bad value)."""
    call, run, me = s.call, s.run, s.me
    a, _, _ = s.paths
    leaky = {**EVENT, "admin_key": run.secrets["admin_A"]}
    call("unknown field with a key", "POST", "/api/events", 422, json=leaky)
    call(
        "bad ranges",
        "PUT",
        f"{a}/participants/me/availability",
        422,
        json={"available": [[5, 2]], "if_needed": run.secrets["key_alice"]},
        headers=me["alice"],
    )
    call(
        "name is not a string",
        "POST",
        f"{a}/participants",
        422,
        json={"name": {"k": run.secrets["key_bob"]}},
    )
    call(
        "not json",
        "POST",
        f"{a}/participants",
        422,
        content=run.secrets["key_bob"].encode(),
        headers={"Content-Type": "application/json"},
    )
    call("taken name", "POST", f"{a}/participants", 409, json={"name": "alice"})


def _realtime(s: Story) -> None:
    """Pusher signatures are made with PUSHER_SECRET, never showing it."""
    call, gw, run, me = s.call, s.gateway, s.run, s.me
    event_a = s.created["A"]["event"]["id"]
    call("realtime config", "GET", "/api/realtime/config", 200)
    form = {"socket_id": "123.456", "channel_name": f"private-event-{event_a}"}
    call(
        "private auth",
        "POST",
        "/api/realtime/auth",
        200,
        data=form,
        headers={"X-Event-Token": run.tokens["A"]},
    )
    call(
        "private auth, foreign token",
        "POST",
        "/api/realtime/auth",
        403,
        data=form,
        headers={"X-Event-Token": run.tokens["B"]},
    )
    presence = {**form, "channel_name": f"presence-event-{event_a}"}
    call("presence auth", "POST", "/api/realtime/auth", 200, gw, data=presence, headers=me["alice"])
    call(
        "presence auth, foreign key",
        "POST",
        "/api/realtime/auth",
        403,
        data=presence,
        headers=me["carol"],
    )
    call(
        "presence auth, admin key",
        "POST",
        "/api/realtime/auth",
        403,
        data=presence,
        headers={"X-Participant-Key": run.secrets["admin_A"]},
    )


def _operations(s: Story) -> None:
    """Keys in a query string by mistake (the API reads keys only from headers); the
    operator's routes."""
    call, gw, run = s.call, s.gateway, s.run
    a, _, _ = s.paths
    call(
        "key in query",
        "GET",
        a,
        200,
        gw,
        params={"admin_key": run.secrets["admin_A"], "key": run.secrets["key_alice"]},
    )

    call("monitor without key", "GET", "/api/performance/monitor", 401)
    call(
        "monitor with admin key",
        "GET",
        "/api/performance/monitor",
        403,
        headers={"X-Operator-Key": run.secrets["admin_A"]},
    )
    call(
        "monitor", "GET", "/api/performance/monitor", 200, headers={"X-Operator-Key": OPERATOR_KEY}
    )
    call(
        "monitor via gateway",
        "GET",
        "/api/performance/monitor",
        200,
        gw,
        headers={"X-Operator-Key": OPERATOR_KEY},
    )
    call("metrics", "GET", "/metrics", 200)
    call("healthz", "GET", "/api/healthz", 200)


def _leave_and_delete(s: Story) -> None:
    """Leaving, removal, deletion; the last reads."""
    call, gw, admin, me = s.call, s.gateway, s.admin, s.me
    a, _, cc = s.paths
    call("dave leaves", "DELETE", f"{cc}/participants/me", 204, headers=me["dave"])
    call(
        "admin removes bob",
        "DELETE",
        f"{a}/participants/{s.joined['bob']['participant']['id']}",
        204,
        gw,
        headers=admin["A"],
    )
    call("delete C", "DELETE", cc, 204, headers=admin["C"])
    call("C is gone", "GET", cc, 404)
    call("me alice at the end", "GET", f"{a}/participants/me", 200, headers=me["alice"])
    call("metrics at the end", "GET", "/metrics", 200)
    call(
        "monitor at the end",
        "GET",
        "/api/performance/monitor",
        200,
        headers={"X-Operator-Key": OPERATOR_KEY},
    )


CHAPTERS = (
    _create_and_join,
    _paint_and_read,
    _edit_and_finalize,
    _wrong_keys,
    _unknown_events_and_bearers,
    _bad_input,
    _realtime,
    _operations,
    _leave_and_delete,
)


def _scenario(stack: Stack) -> Run:  # one long story, told in order
    run = Run()
    run.secrets.update(OPERATOR_KEY=OPERATOR_KEY, JWT_SECRET=JWT_SECRET)
    run.secrets["PUSHER_SECRET"] = PUSHER_SECRET
    user_jwt = _bearer("user-secrets-test")
    run.secrets["bearer"] = user_jwt
    with (
        httpx.Client(base_url=stack.api, timeout=10) as c,
        httpx.Client(base_url=stack.gateway, timeout=10) as gw,
    ):
        story = Story(run, c, gw, {"Authorization": f"Bearer {user_jwt}"})
        for chapter in CHAPTERS:
            chapter(story)
    return run


@pytest.fixture(scope="module")
def run(stack: Stack) -> Run:
    return _scenario(stack)


def _leaks(text: str, secrets: dict[str, str], allowed: frozenset[str] = frozenset()) -> list[str]:
    return sorted(name for name, value in secrets.items() if value in text and name not in allowed)


def test_keys_appear_only_in_the_answer_that_hands_them_out(run: Run) -> None:
    assert len(run.answers) > 60
    for name, label in run.handed_out.items():
        # Sanity: the key searched for is real, present where it was handed out...
        (creation,) = [a for a in run.answers if a.label == label]
        assert run.secrets[name] in creation.text
    for answer in run.answers:
        allowed = frozenset(n for n, label in run.handed_out.items() if label == answer.label)
        # ...and nowhere else: not in bodies, headers, errors, /metrics or the monitor.
        assert not _leaks(answer.text, run.secrets, allowed), (answer.label, answer.text[:500])
    statuses = {a.status for a in run.answers}
    assert {200, 201, 204, 401, 403, 404, 409, 412, 422} <= statuses


def test_metrics_and_monitor_name_routes_not_tokens(run: Run) -> None:
    texts = [
        a.text
        for a in run.answers
        if a.label.startswith(("metrics", "monitor")) and a.status == 200
    ]
    assert len(texts) == 5
    for body in texts:
        assert not [t for t in run.tokens.values() if t in body]
    monitor = next(a.text for a in run.answers if a.label == "monitor at the end")
    assert (
        "GET /api/events/{token}" in monitor
        and "PUT /api/events/{token}/participants/me/availability" in monitor
    )
    metrics = next(a.text for a in run.answers if a.label == "metrics at the end")
    assert 'route="/api/events/{token}"' in metrics


def test_no_secret_in_the_api_log(run: Run, stack: Stack) -> None:
    log = stack.api_log.read_text(errors="replace")
    assert " DEBUG " in log, "the API ran with LOG_LEVEL=DEBUG"
    assert not _leaks(log, run.secrets), _leaks(log, run.secrets)


def test_no_key_in_the_gateway_logs(run: Run, stack: Stack) -> None:
    access, errors = (p.read_text() for p in stack.gateway_logs)
    # Sanity: the requests went through the gateway and were logged, path and all.
    assert f'"uri":"/api/events/{run.tokens["A"]}"' in access
    assert access.count('"status":403') >= 2
    assert not _leaks(access + errors, run.secrets), _leaks(access + errors, run.secrets)
    assert "admin_key=" not in access


def _needles(secrets: dict[str, str]) -> dict[str, list[bytes]]:
    """Every form a raw key could be stored in: text, UTF-8 bytes, decoded random bytes."""
    out = {}
    for name, value in secrets.items():
        forms = [value.encode()]
        if name.startswith(("admin_", "key_")):
            forms.append(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        out[name] = forms
    return out


async def _scan_database(database_url: str, needles: dict[str, list[bytes]]) -> dict[str, set[str]]:
    """name -> {table.column} of every column of the public schema that holds it."""
    engine = create_async_engine(database_url)
    found: dict[str, set[str]] = {name: set() for name in needles}
    try:
        async with engine.connect() as conn:
            columns = (
                await conn.execute(
                    text(
                        "select c.table_name, c.column_name, c.data_type "
                        "from information_schema.columns c join information_schema.tables t "
                        "using (table_schema, table_name) "
                        "where c.table_schema = 'public' and t.table_type = 'BASE TABLE'"
                    )
                )
            ).all()
            assert {("events", "admin_key_hash"), ("participants", "key_hash")} <= {
                (t, col) for t, col, _ in columns
            }
            names = [name for name, forms in needles.items() for _ in forms]
            forms = [form for values in needles.values() for form in values]
            for table, column, data_type in columns:
                if data_type == "bytea":
                    expr = f'"{column}"'
                else:  # every other type as its text form (text, json, arrays, ...)
                    expr = f"convert_to(\"{column}\"::text, 'UTF8')"
                hits = await conn.scalar(
                    text(
                        f'select array_agg(distinct n) from "{table}", '
                        "unnest(cast(:names as text[]), cast(:forms as bytea[])) as u(n, f) "
                        f"where {expr} is not null and position(f in {expr}) > 0"
                    ),
                    {"names": names, "forms": forms},
                )
                for name in hits or ():
                    found[name].add(f"{table}.{column}")
    finally:
        await engine.dispose()
    return found


async def _stored_hashes(database_url: str, token: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            admin = await conn.scalar(
                text("select admin_key_hash from events where token = :t"), {"t": token}
            )
            rows = (
                await conn.execute(
                    text(
                        "select p.name, p.key_hash from participants p join events e "
                        "on e.id = p.event_id where e.token = :t"
                    ),
                    {"t": token},
                )
            ).all()
    finally:
        await engine.dispose()
    return admin, [(n, bytes(h)) for n, h in rows]


def test_the_database_holds_hashes_never_keys(run: Run, services: Services) -> None:
    secrets = {n: v for n, v in run.secrets.items()}
    found = asyncio.run(_scan_database(services.database_url, _needles(secrets)))
    assert not {n: cols for n, cols in found.items() if cols}, found
    # Sanity: the same scan finds what is there: the hashes, and the tokens (links, by design).
    sha = hashlib.sha256
    markers = {
        "admin_A_hash": [sha(run.secrets["admin_A"].encode()).digest()],
        "alice_hash": [sha(run.secrets["key_alice"].encode()).digest()],
        "token_A": [run.tokens["A"].encode()],
    }
    seen = asyncio.run(_scan_database(services.database_url, markers))
    assert seen["admin_A_hash"] == {"events.admin_key_hash"}
    assert seen["alice_hash"] == {"participants.key_hash"}
    assert "events.token" in seen["token_A"]
    admin_hash, participants = asyncio.run(_stored_hashes(services.database_url, run.tokens["A"]))
    assert bytes(admin_hash) == sha(run.secrets["admin_A"].encode()).digest()
    assert dict(participants) == {"Alice": sha(run.secrets["key_alice"].encode()).digest()}
    _, carol = asyncio.run(_stored_hashes(services.database_url, run.tokens["B"]))
    assert carol == [("carol", sha(run.secrets["key_carol"].encode()).digest())]


def test_redis_holds_no_key(run: Run, services: Services) -> None:
    client: Any = redis.Redis.from_url(services.redis_url)  # answers bytes
    blobs: list[bytes] = []
    for name in client.scan_iter(count=1000):
        blobs.append(name)
        kind = client.type(name)
        if kind == b"string":
            blobs.append(client.get(name) or b"")
        elif kind == b"hash":
            blobs.extend(k + b"=" + v for k, v in client.hgetall(name).items())
        elif kind in (b"set",):
            blobs.extend(client.smembers(name))
        elif kind == b"zset":
            blobs.extend(m for m, _ in client.zrange(name, 0, -1, withscores=True))
        elif kind == b"list":
            blobs.extend(client.lrange(name, 0, -1))
    client.close()
    everything = b"\n".join(blobs)
    # Sanity: the caches were filled (alice's session is cached under her key's hash).
    alice_hash = hashlib.sha256(run.secrets["key_alice"].encode()).hexdigest()
    assert alice_hash.encode() in everything
    leaks = [n for n, forms in _needles(run.secrets).items() if any(f in everything for f in forms)]
    assert not leaks


async def _domain_messages(bootstrap: str, topic: str) -> list[bytes]:
    """Everything on the domain topic's partitions that carry this test's events."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    parts = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    assert parts, f"no topic {topic}"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(parts)
        starts = await consumer.beginning_offsets(parts)
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, max(starts[tp], ends[tp] - 2000))
        got: list[bytes] = []
        async with asyncio.timeout(30):
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(timeout_ms=200)
                got.extend(r.value for records in batch.values() for r in records if r.value)
        return got
    finally:
        await consumer.stop()


def test_the_domain_topic_carries_no_key(run: Run, services: Services) -> None:
    topic = os.environ.get("DOMAIN_TOPIC", "overlap.domain.v1")

    async def published() -> list[bytes]:
        deadline = time.monotonic() + 30
        while True:  # the relay publishes the outbox asynchronously
            values = await _domain_messages(services.kafka_bootstrap_servers, topic)
            joined = b"\n".join(values)
            if b"EventDeleted" in joined and run.tokens["C"].encode() in joined:
                return values
            assert time.monotonic() < deadline, "the relay did not publish the test's events"
            await asyncio.sleep(0.5)

    values = asyncio.run(published())
    everything = b"\n".join(values)
    assert run.tokens["A"].encode() in everything  # sanity: the test's events are there
    leaks = [n for n, forms in _needles(run.secrets).items() if any(f in everything for f in forms)]
    assert not leaks


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """The worst Pusher-like server: refuses the call and echoes the signed request."""

    def do_POST(self) -> None:
        body = f"refused {self.path} {dict(self.headers)}".encode()
        self.send_response(401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def test_pusher_errors_never_show_the_secret(services: Services) -> None:
    """The notifier's PusherError (it logs and dead-letters it) for an unreachable Pusher and
    for one that echoes the signed request: never the secret; in the log no signature."""
    secret = "ps-" + base64.urlsafe_b64encode(os.urandom(18)).decode()
    base = services.pusher.model_dump(exclude={"secret", "environment"})
    echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    threading.Thread(target=echo.serve_forever, daemon=True).start()

    async def failure(**overrides: Any) -> PusherError:
        cfg = PusherSettings(**{**base, "secret": secret, **overrides})
        sender = PusherSender(cfg, timeout_s=3, max_connections=2)
        try:
            await sender.trigger_batch([{"channel": "private-event-x", "name": "n", "data": "{}"}])
        except PusherError as exc:
            return exc
        finally:
            await sender.close()
        raise AssertionError("the call succeeded")

    try:
        echoed = asyncio.run(failure(host="127.0.0.1", port=echo.server_port))
        unreachable = asyncio.run(failure(host="127.0.0.1", port=free_port()))
    finally:
        echo.shutdown()
    assert "Connect" in str(unreachable) and unreachable.retryable
    assert str(echoed).startswith("HTTP 401: refused /apps/") and not echoed.retryable
    assert "auth_signature=" in str(echoed)  # the worst case happened
    redact = RedactSecrets([secret])
    for exc in (echoed, unreachable):
        assert secret not in str(exc) and secret not in repr(exc.__cause__), str(exc)
        record = logging.LogRecord("n", logging.INFO, __file__, 1, "call failed (%s)", (exc,), None)
        redact.filter(record)
        line = record.getMessage()
        assert "call failed" in line and not re.search(r"auth_signature=[0-9a-f]", line), line
