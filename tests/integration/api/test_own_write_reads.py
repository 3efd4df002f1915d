"""A writer reading its own write on real PostgreSQL and Redis: the API brings the view it
holds forward by its own PUTs without a snapshot read, and the bytes are those of a full
rebuild from the database; a version some other write made reads PostgreSQL."""

from typing import Any

from overlap_shared.queries import load_snapshot_by_token
from overlap_shared.view import render_view
from prometheus_client import REGISTRY

from tests.integration.conftest import Api

# The spring-forward night in New York: the grid has missing slots (02:00-03:00).
DST_EVENT = {"timezone": "America/New_York", "dates": ["2026-03-07", "2026-03-08"],
             "day_start": "00:00", "day_end": "06:00", "slot_minutes": 15}  # fmt: skip


def avail(token: str) -> str:
    return f"/api/events/{token}/participants/me/availability"


def own_builds() -> float:
    return REGISTRY.get_sample_value("view_rebuilds_total", {"how": "own"}) or 0.0


async def put(api: Api, token: str, key: str, body: dict[str, Any]) -> int:
    r = await api.client.put(avail(token), json=body, headers={"X-Participant-Key": key})
    assert r.status_code == 200, r.text
    return int(r.json()["version"])


async def full_rebuild(api: Api, token: str) -> bytes:
    async with api.resources.engine.connect() as conn:
        snap = await load_snapshot_by_token(conn, token)
    assert snap is not None
    event, people = snap
    return render_view(event, people, retention_days=api.resources.settings.retention_days)


async def test_a_writer_reads_its_own_writes_without_sql_as_a_full_rebuild(api: Api) -> None:
    token = (await api.create_event(**DST_EVENT))["token"]
    keys = [(await api.join(token, f"Own {i}"))["participant_key"] for i in range(4)]
    version = await put(api, token, keys[0], {"available": [[0, 8]], "if_needed": [[8, 10]]})
    await api.client.get(f"/api/events/{token}", params={"min_version": version})  # held now
    bodies = [
        {"available": [[4, 12], [40, 44]]},
        {"available": [[20, 32]], "if_needed": [[36, 40]]},  # around the missing hour
        {"if_needed": [[2, 3]]},
        {},
    ]
    for key, body in zip(keys, bodies, strict=True):
        version = await put(api, token, key, body)
        built = own_builds()
        api.sql.reset()
        r = await api.client.get(f"/api/events/{token}", params={"min_version": version})
        assert r.status_code == 200
        assert api.sql.statements == []  # no snapshot read
        assert own_builds() == built + 1
        assert r.json()["version"] == version
        assert r.content == await full_rebuild(api, token)


async def test_a_version_another_write_made_is_read_from_postgresql(api: Api) -> None:
    token = (await api.create_event(**DST_EVENT))["token"]
    key = (await api.join(token, "First"))["participant_key"]
    version = await put(api, token, key, {"available": [[0, 8]]})
    await api.client.get(f"/api/events/{token}", params={"min_version": version})  # held now
    await api.join(token, "Second")  # a version that is not a PUT of this process
    version = await put(api, token, key, {"available": [[8, 16]]})
    built = own_builds()
    api.sql.reset()
    r = await api.client.get(f"/api/events/{token}", params={"min_version": version})
    assert len(api.sql.statements) == 1  # the snapshot
    assert own_builds() == built
    assert r.content == await full_rebuild(api, token)
    assert [p["name"] for p in r.json()["participants"]] == ["First", "Second"]
