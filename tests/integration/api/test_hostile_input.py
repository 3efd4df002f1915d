"""Hostile input. Every route that takes an event token, a participant id or a key is called
with foreign, malformed, expired (deleted event, departed participant) and missing ones;
bodies are oversized, ranges huge, names and zones odd. Each case must get its documented
4xx as problem+json: never a 5xx, never a write, never another event's data."""

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from tests.integration.api.bodies import MINIMAL_EVENT
from tests.integration.conftest import Api

EV = "/api/events/{t}"
ME = f"{EV}/participants/me"
# (method, path, guard, body); {t} is the token, {p} a participant id
ROUTES: list[tuple[str, str, str | None, Any]] = [
    ("GET", EV, None, None),
    ("GET", f"{EV}/best-times", None, None),
    ("GET", f"{EV}/calendar.ics", None, None),
    ("POST", f"{EV}/participants", None, {"name": "intruder"}),
    ("PATCH", EV, "admin", {"title": "hijacked"}),
    ("POST", f"{EV}/finalize", "admin", {"start": 0, "end": 1}),
    ("POST", f"{EV}/reopen", "admin", None),
    ("DELETE", f"{EV}/participants/{{p}}", "admin", None),
    ("DELETE", EV, "admin", None),
    ("GET", ME, "participant", None),
    ("PATCH", ME, "participant", {"name": "hijacked"}),
    ("PUT", f"{ME}/availability", "participant", {"available": [[0, 1]]}),
    ("PATCH", f"{ME}/availability", "participant", {"set_available": [[0, 1]]}),
    ("DELETE", ME, "participant", None),
]
GUARDED = [route for route in ROUTES if route[2]]


@pytest.fixture(scope="module")
async def world(api: Api) -> dict[str, Any]:
    """Events A and B; A's departed participants; D, deleted after its caches were warm."""
    a, b = await api.create_event(title="Alpha"), await api.create_event(title="Bravo-secret")
    d = await api.create_event(title="Delta-secret")
    a1, b1 = await api.join(a["token"], "a1"), await api.join(b["token"], "b1-secret")
    d1 = await api.join(d["token"], "d1-secret")
    gone, kicked = await api.join(a["token"], "gone"), await api.join(a["token"], "kicked")
    for token, who in [(a["token"], gone), (a["token"], kicked), (d["token"], d1)]:
        key = {"X-Participant-Key": who["participant_key"]}
        assert (await api.client.get(ME.format(t=token), headers=key)).status_code == 200
        assert (await api.client.get(EV.format(t=token))).status_code == 200
    r = await api.client.delete(ME.format(t=a["token"]), headers=_pkey(gone))
    assert r.status_code == 204
    url = f"{EV}/participants/{kicked['participant']['id']}".format(t=a["token"])
    assert (await api.client.delete(url, headers=_akey(a))).status_code == 204
    assert (await api.client.delete(EV.format(t=d["token"]), headers=_akey(d))).status_code == 204
    url = ME.format(t=a["token"]) + "/availability"
    last = await api.client.put(url, json={"available": []}, headers=_pkey(a1))
    world = {"a": a, "b": b, "d": d, "a1": a1, "b1": b1, "d1": d1, "gone": gone}
    return {**world, "kicked": kicked, "a_version": last.json()["version"]}


def _akey(event: dict) -> dict[str, str]:
    return {"X-Admin-Key": event["admin_key"]}


def _pkey(joined: dict) -> dict[str, str]:
    return {"X-Participant-Key": joined["participant_key"]}


def secrets_of(world: dict) -> list[str]:
    """What no refusal may contain: every key, B's and D's tokens, titles and names."""
    keys = [w[k] for w in world.values() if isinstance(w, dict) for k in w if k.endswith("_key")]
    others = [world[e]["token"] for e in ("b", "d")] + ["Bravo-secret", "Delta-secret"]
    return keys + others + ["b1-secret", "d1-secret"]


async def call(
    api: Api, method: str, url: str, headers: dict | None = None, body: Any = None
) -> httpx.Response:
    return await api.client.request(method, url, json=body, headers=headers or {})


def assert_problem(r: httpx.Response, expected: int | set[int], world: dict, case: Any) -> None:
    allowed = {expected} if isinstance(expected, int) else expected
    assert r.status_code in allowed, (case, r.status_code, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json", (case, r.headers)
    problem = r.json()
    assert problem["status"] == r.status_code and problem["title"] and problem["detail"], case
    leaked = [s for s in secrets_of(world) if s in r.text]
    assert not leaked, (case, leaked)


def guard_headers(world: dict, guard: str | None) -> dict[str, str]:
    """A's valid key for the route, so that only the token is wrong."""
    if guard == "admin":
        return _akey(world["a"])
    return _pkey(world["a1"]) if guard == "participant" else {}


BAD_TOKENS: list[tuple[str, str, int | set[int]]] = [
    ("unknown", "A" * 24, 404),
    ("wrong alphabet", "AAAAAAAAAAAAAAAA!$*(", 422),
    ("too short", "short", 422),
    ("over-long", "x" * 65, 422),
    ("very long", "x" * 5000, 422),
    ("unicode", "ünïcödé-tökén-1234567", 422),
    ("dot-dot", "%2e%2e", 422),
    ("encoded slashes", "..%2f..%2fhealthz", {404, 422}),
    ("NUL", "%00" + "A" * 23, 422),
    ("space", "A" * 12 + "%20" + "A" * 12, 422),
]


async def test_bad_tokens_on_every_route(api: Api, world: dict) -> None:
    d = world["d"]
    for method, path, guard, body in ROUTES:
        pid = world["a1"]["participant"]["id"]
        cases: list[tuple[str, str, dict[str, str] | None, int | set[int]]] = [
            (name, token, guard_headers(world, guard), s) for name, token, s in BAD_TOKENS
        ]
        cases.append(("deleted event", d["token"], guard_headers(world, guard), 404))
        deleted_keys = {"admin": _akey(d), "participant": _pkey(world["d1"])}
        cases.append(("deleted event, its own key", d["token"], deleted_keys.get(guard or ""), 404))
        if guard:  # B's token with A's key; B's token alone opens B's public routes, rightly
            cases.append(("foreign", world["b"]["token"], guard_headers(world, guard), 403))
        for name, token, headers, expected in cases:
            url = path.format(t=token, p=pid)
            r = await call(api, method, url, headers, body)
            assert_problem(r, expected, world, (method, path, name))


async def test_empty_token_and_id_segments_are_not_routes(api: Api, world: dict) -> None:
    for method, path, guard, body in ROUTES:
        url = path.format(t="", p="")
        r = await call(api, method, url, guard_headers(world, guard), body)
        assert "location" not in r.headers, (method, url, r.status_code)  # "/api/events/": no 307
        # "//participants" and the like match no route: 404 (405 for a method the
        # neighbouring route lacks), never another route's answer, never a 5xx
        assert_problem(r, {404, 405}, world, (method, url))


def admin_keys(world: dict) -> list[tuple[str, Any, int]]:
    return [
        ("another event's admin key", world["b"]["admin_key"], 403),
        ("a deleted event's admin key", world["d"]["admin_key"], 403),
        ("a participant key", world["a1"]["participant_key"], 403),
        ("missing", None, 401),
        ("empty", "", 401),
        ("junk", "x" * 32, 403),
        ("over-long", "k" * 129, 422),
        ("non-ASCII", "ключ-администратора".encode(), 403),
    ]


def participant_keys(world: dict) -> list[tuple[str, Any, int]]:
    return [
        ("another event's key", world["b1"]["participant_key"], 403),
        ("a deleted event's key", world["d1"]["participant_key"], 403),
        ("a departed participant's key", world["gone"]["participant_key"], 403),
        ("a removed participant's key", world["kicked"]["participant_key"], 403),
        ("the admin key", world["a"]["admin_key"], 403),
        ("missing", None, 401),
        ("empty", "", 401),
        ("junk", "not-a-key", 403),
        ("over-long", "k" * 129, 422),
        ("non-ASCII", "schlüssel".encode(), 403),
    ]


async def test_bad_keys_on_every_guarded_route(api: Api, world: dict) -> None:
    a, pid = world["a"], world["a1"]["participant"]["id"]
    for method, path, guard, body in GUARDED:
        header = "X-Admin-Key" if guard == "admin" else "X-Participant-Key"
        keys = admin_keys(world) if guard == "admin" else participant_keys(world)
        for name, key, expected in keys:
            headers = {header: key} if key is not None else {}
            r = await call(api, method, path.format(t=a["token"], p=pid), headers, body)
            assert_problem(r, expected, world, (method, path, name))


async def test_bad_participant_ids(api: Api, world: dict) -> None:
    url = f"{EV}/participants/{{p}}".format(t=world["a"]["token"], p="{p}")
    for name, pid, expected in [
        ("another event's participant", world["b1"]["participant"]["id"], 404),
        ("a deleted event's participant", world["d1"]["participant"]["id"], 404),
        ("departed", world["gone"]["participant"]["id"], 404),
        ("removed", world["kicked"]["participant"]["id"], 404),
        ("unknown", "7d1c1b4e-0000-4000-8000-000000000000", 404),
        ("nil", "00000000-0000-0000-0000-000000000000", 404),
        ("not a uuid", "not-a-uuid", 422),
        ("over-long", "1" * 1000, 422),
        ("unicode", "ünïcödé", 422),
        ("dot-dot", "%2e%2e", 422),
        ("me", "me", 401),  # the participant's own route, which wants its key, not the admin's
    ]:
        r = await call(api, "DELETE", url.format(p=pid), _akey(world["a"]))
        assert_problem(r, expected, world, name)
    view = (await api.client.get(EV.format(t=world["b"]["token"]))).json()
    assert [p["name"] for p in view["participants"]] == ["b1-secret"]


async def test_realtime_auth_refuses_foreign_and_expired_credentials(api: Api, world: dict) -> None:
    a, b, d = world["a"], world["b"], world["d"]

    def channel(kind: str, event: dict) -> dict[str, str]:
        return {"socket_id": "123.456", "channel_name": f"{kind}-event-{event['event']['id']}"}

    cases = [
        ("private", a, {"X-Event-Token": b["token"]}, 403),
        ("private", d, {"X-Event-Token": d["token"]}, 404),
        ("private", a, {"X-Event-Token": "x" * 24}, 404),
        ("private", a, {"X-Event-Token": "../../etc/passwd"}, 404),
        ("private", a, {}, 401),
        ("presence", a, _pkey(world["b1"]), 403),
        ("presence", a, _pkey(world["gone"]), 403),
        ("presence", d, _pkey(world["d1"]), 403),
        ("presence", a, {}, 401),
    ]
    for kind, event, headers, expected in cases:
        r = await api.client.post("/api/realtime/auth", data=channel(kind, event), headers=headers)
        assert_problem(r, expected, world, (kind, event["event"]["title"], headers))
    bad = {"socket_id": "1.2", "channel_name": "private-event-../../x"}
    r = await api.client.post("/api/realtime/auth", data=bad, headers={"X-Event-Token": "x"})
    assert_problem(r, 422, world, "malformed channel")


async def test_the_hostile_calls_changed_nothing(api: Api, world: dict) -> None:
    url, since = EV.format(t=world["a"]["token"]), {"min_version": world["a_version"]}
    view = (await api.client.get(url, params=since)).json()
    assert view["version"] == world["a_version"]  # every refused write rolled back
    assert view["event"]["title"] == "Alpha" and view["event"]["status"] == "open"
    assert [p["name"] for p in view["participants"]] == ["a1"]
    assert view["heatmap"]["available"] == [0] * 32


def unsigned(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_a_bad_bearer_token_is_401(api: Api, world: dict) -> None:
    secret = api.resources.settings.jwt_secret
    now = time.time()
    for name, token in [
        ("garbage", "Bearer not.a.jwt"),
        ("wrong scheme", "Basic dXNlcjpwYXNz"),
        ("expired", "Bearer " + jwt.encode({"sub": "u", "exp": now - 10}, secret)),
        ("other secret", "Bearer " + jwt.encode({"sub": "u", "exp": now + 60}, "x" * 32)),
        ("no sub", "Bearer " + jwt.encode({"exp": now + 60}, secret)),
        ("alg none", "Bearer " + unsigned({"sub": "u", "exp": now + 60})),
    ]:
        r = await api.client.get("/api/me/events", headers={"Authorization": token})
        assert_problem(r, 401, world, name)


async def test_bad_pagination_cursors_are_422(api: Api, world: dict) -> None:
    secret = api.resources.settings.jwt_secret
    bearer = {
        "Authorization": "Bearer " + jwt.encode({"sub": "u", "exp": time.time() + 60}, secret)
    }
    for raw in [
        b"nonsense",
        b"2026-01-01T00:00:00+00:00|\x00",
        b"2026-01-01T00:00:00|x",
        b"\xff|x",
    ]:
        cursor = base64.urlsafe_b64encode(raw).decode()
        r = await api.client.get("/api/me/events", params={"cursor": cursor}, headers=bearer)
        assert_problem(r, 422, world, raw)


# --- bodies, ranges, names, zones ---------------------------------------------------------

JSON = {"content-type": "application/json"}


def raw(body: Any) -> bytes:
    """JSON with \\u escapes, so that lone surrogates can be sent."""
    return json.dumps(body).encode()


async def test_oversized_and_undecodable_bodies(api: Api, world: dict) -> None:
    token = world["a"]["token"]
    big = raw({**MINIMAL_EVENT, "description": "x" * 300_000})

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(30):
            yield b"x" * 10_000

    bodies: list[tuple[str, str, Any, int]] = [
        ("over 256 KB", "/api/events", big, 413),
        ("over 256 KB, participant", ME.format(t=token) + "/availability", big, 413),
        ("over 256 KB, realtime", "/api/realtime/auth", big, 413),
        ("over 256 KB, streamed", "/api/events", stream(), 413),
        ("not UTF-8", "/api/events", b'{"title": "\xff\xfe"}', 422),
        ("nested 100k deep", "/api/events", b"[" * 100_000 + b"]" * 100_000, 422),
        ("null", "/api/events", b"null", 422),
        ("a list", "/api/events", b"[]", 422),
    ]
    for name, url, content, expected in bodies:
        method = "PUT" if "availability" in url else "POST"
        headers = {**JSON, **_pkey(world["a1"])}
        r = await api.client.request(method, url, content=content, headers=headers)
        assert_problem(r, expected, world, name)


async def test_huge_ranges(api: Api, world: dict) -> None:
    days = [f"2027-{m:02d}-{d:02d}" for m in (1, 2, 3) for d in range(1, 29)]
    changes: list[dict[str, Any]] = [
        {"dates": days[:63]},
        {"dates": ["0001-01-01"], "timezone": "Asia/Tokyo", "day_start": "00:00"},
        {"dates": ["9999-12-31"], "timezone": "America/Los_Angeles", "day_end": "24:00"},
    ]
    for change in changes:
        r = await api.client.post("/api/events", json={**MINIMAL_EVENT, **change})
        assert_problem(r, 422, world, change)
    # the largest grid: 62 days x 96 slots
    full = {**MINIMAL_EVENT, "dates": days[:62], "day_start": "00:00", "day_end": "24:00"}
    created = await api.create_event(**{**full, "slot_minutes": 15})
    token, admin = created["token"], _akey(created)
    key = _pkey(await api.join(token, "Marathon"))
    url = ME.format(t=token) + "/availability"
    ok = await api.client.put(url, json={"available": [[0, 5952]]}, headers=key)
    assert ok.status_code == 200 and ok.json()["available"] == [[0, 5952]]
    for body in [
        {"available": [[0, 5953]]},
        {"available": [[0, 10**30]]},
        {"available": [[-(10**30), 1]]},
        {"available": [[i * 2, i * 2 + 1] for i in range(1001)]},
        {"available": [[0, 1.5]]},
    ]:
        assert_problem(await api.client.put(url, json=body, headers=key), 422, world, body)
    for body in [{"start": 0, "end": 10**30}, {"start": 10**30, "end": 10**30 + 1}]:
        r = await api.client.post(f"/api/events/{token}/finalize", json=body, headers=admin)
        assert_problem(r, 422, world, body)
    view = await api.client.get(EV.format(t=token))
    assert view.status_code == 200 and view.json()["heatmap"]["available"] == [1] * 5952
    started = time.monotonic()
    reads: list[tuple[dict[str, Any], int]] = [
        ({"min_version": 2**53 + 1}, 422),
        ({"min_version": -1}, 422),
        ({"min_version": 10**6}, 200),  # ahead of the event: its newest view, at once
    ]
    for params, expected in reads:
        r = await api.client.get(EV.format(t=token), params=params)
        assert r.status_code == expected, (params, r.text[:200])
    assert time.monotonic() - started < 5
    best = f"/api/events/{token}/best-times"
    queries: list[tuple[dict[str, Any], int]] = [
        ({"min_minutes": 1440, "limit": 50}, 200),
        ({"min_minutes": 1441}, 422),
        ({"limit": 51}, 422),
        ({"required": "," * 3999}, 200),
        ({"required": "x" * 4001}, 422),
        ({"required": ",".join(["00000000-0000-0000-0000-000000000000"] * 100)}, 422),
    ]
    for params, expected in queries:
        r = await api.client.get(best, params=params)
        assert r.status_code == expected, (params, r.text[:200])
    r = await api.client.post(
        f"/api/events/{token}/finalize", json={"start": 0, "end": 96}, headers=admin
    )
    assert r.status_code == 200
    ics = await api.client.get(f"/api/events/{token}/calendar.ics")
    assert ics.status_code == 200 and "DTSTART:20270101T000000Z" in ics.text


PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", ZWNJ after its prefix


@pytest.mark.parametrize(
    ("name", "expected", "stored"),
    [
        ("e\u0301", 201, "é"),  # combining accent, composed by NFKC
        ("🦄 Ada", 201, "🦄 Ada"),
        ("ﬁne", 201, "fine"),  # compatibility ligature
        ("  Ada  ", 201, "Ada"),
        ("a\u0000b", 422, None),  # NUL
        ("\u202eevil", 422, None),  # right-to-left override
        ("\ufeffAda", 422, None),  # byte order mark
        ("\ud800", 422, None),  # lone surrogate
        ("\u3000\t ", 422, None),  # only whitespace
        ("x" * 10_000, 422, None),
        ("Z" + "\u0301" * 100, 422, None),  # combining marks past 80 characters
        ("\U000e0001", 422, None),  # tag character
        ("👩\u200d💻", 201, "👩\u200d💻"),  # an emoji sequence joined by ZWJ
        (PERSIAN, 201, PERSIAN),  # a Persian word with a ZWNJ inside
        ("\u200d\u200c", 422, None),  # joiners only: an invisible name
        (" \u200c ", 422, None),
        ("\u200dAda", 422, None),  # a joiner at an edge joins nothing
        ("Ada\u200c", 422, None),
        ("A\u200d\u200dB", 422, None),
        ("a\u2066b\u2069", 422, None),  # bidi isolates
        ("\u202dAda", 422, None),  # left-to-right override
    ],
)
async def test_unicode_names(
    api: Api, world: dict, name: str, expected: int, stored: str | None
) -> None:
    token = (await api.create_event())["token"]
    url = f"/api/events/{token}/participants"
    r = await api.client.post(url, content=raw({"name": name}), headers=JSON)
    if expected != 201:
        assert_problem(r, expected, world, name)
        return
    assert r.status_code == 201 and r.json()["participant"]["name"] == stored, r.text
    view = (await api.client.get(EV.format(t=token))).json()
    assert [p["name"] for p in view["participants"]] == [stored]
    key = _pkey(r.json())
    renamed = await api.client.patch(
        ME.format(t=token), content=raw({"name": name}), headers={**JSON, **key}
    )
    assert renamed.status_code == 200  # the same name again is no conflict with oneself


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": "a\u0000b"}, 422),
        ({"title": "\ud800"}, 422),
        ({"title": "line\nbreak"}, 422),
        ({"title": " \t\u3000 "}, 422),
        ({"title": "x" * 10_000}, 422),
        ({"title": "\u202eRTL title 👩\u200d💻"}, 201),  # format characters are fine in titles
        ({"description": "x\u0000"}, 422),
        ({"description": "\udfff"}, 422),
        ({"description": "two\nlines\tand 🦄"}, 201),
        ({"timezone": "../etc"}, 422),
        ({"timezone": "/etc/passwd"}, 422),
        ({"timezone": "Europe"}, 422),  # a directory of the zone database
        ({"timezone": "zone.tab"}, 422),  # a file of it that is not a zone
        ({"timezone": "UTC\u0000"}, 422),
        ({"timezone": "right/UTC"}, 422),
        ({"timezone": "posix/Europe/Berlin"}, 422),
        ({"timezone": "localtime"}, 422),
        ({"timezone": "europe/berlin"}, 422),
        ({"timezone": " Europe/Berlin"}, 422),
        ({"timezone": "x" * 65}, 422),
        ({"timezone": "Etc/GMT+5"}, 201),
        ({"timezone": "UTC"}, 201),
        ({"timezone": "America/Argentina/Buenos_Aires"}, 201),
        ({"timezone": "Factory"}, 422),  # a zone for machines not set up, not a place
        ({"timezone": "EST5EDT"}, 422),  # a rule, not a place
        ({"timezone": "CET"}, 422),
        ({"timezone": "US/Eastern"}, 422),  # an old alias; America/New_York is the place
        ({"timezone": "Japan"}, 422),
    ],
)
async def test_odd_titles_descriptions_and_zones(
    api: Api, world: dict, change: dict, expected: int
) -> None:
    r = await api.client.post("/api/events", content=raw({**MINIMAL_EVENT, **change}), headers=JSON)
    if expected == 201:
        assert r.status_code == 201, r.text
        field, value = next(iter(change.items()))
        assert r.json()["event"][field] == value
        return
    assert_problem(r, expected, world, change)
    created = await api.create_event()  # the same through PATCH
    url, headers = EV.format(t=created["token"]), {**JSON, **_akey(created)}
    r = await api.client.patch(url, content=raw(change), headers=headers)
    assert_problem(r, expected, world, ("PATCH", change))
