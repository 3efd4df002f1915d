"""A view in process memory is answered before the framework, exactly as the route would."""

import orjson
from prometheus_client import REGISTRY

from tests.integration.conftest import Api

SAME = ("etag", "cache-control", "content-type", "content-length")


def hits() -> float:
    return REGISTRY.get_sample_value("cache_hits_total", {"cache": "view_l1"}) or 0.0


async def test_a_hit_is_the_route_s_answer_byte_for_byte(api: Api) -> None:
    token = (await api.create_event())["token"]
    api.wiring.local.views.forget(token)
    by_route = await api.client.get(f"/api/events/{token}")  # fills the L1
    before = hits()
    hot = await api.client.get(f"/api/events/{token}", params={"min_version": 1})
    assert hits() - before == 1
    assert (hot.status_code, hot.content) == (by_route.status_code, by_route.content)
    assert [hot.headers.get(h) for h in SAME] == [by_route.headers.get(h) for h in SAME]
    assert orjson.loads(hot.content)["version"] == 1


async def test_a_hit_honours_if_none_match(api: Api) -> None:
    token = (await api.create_event())["token"]
    await api.client.get(f"/api/events/{token}")
    before = hits()
    r = await api.client.get(f"/api/events/{token}", headers={"If-None-Match": 'W/"v1", "v9"'})
    assert (r.status_code, r.content, r.headers["etag"]) == (304, b"", '"v1"')
    assert hits() - before == 1


async def test_parameters_the_route_refuses_are_still_refused(api: Api) -> None:
    token = (await api.create_event())["token"]
    await api.client.get(f"/api/events/{token}")
    url = f"/api/events/{token}"
    assert (await api.client.get(url, params={"min_version": "abc"})).status_code == 422
    assert (await api.client.get(url, headers={"X-Min-Version": "-1"})).status_code == 422
    assert (await api.client.get(url, headers={"If-None-Match": "x" * 201})).status_code == 422


async def test_a_newer_min_version_than_memory_goes_to_the_route(api: Api) -> None:
    created = await api.create_event()
    token, key = created["token"], {"X-Admin-Key": created["admin_key"]}
    await api.client.get(f"/api/events/{token}")  # version 1 in memory
    r = await api.client.patch(f"/api/events/{token}", json={"title": "New"}, headers=key)
    assert r.status_code == 200, r.text
    fresh = await api.client.get(f"/api/events/{token}", params={"min_version": 2})
    assert fresh.json()["version"] == 2 and fresh.json()["event"]["title"] == "New"
