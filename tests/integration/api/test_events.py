"""Event routes on real PostgreSQL."""

from tests.integration.conftest import Api


async def test_create_then_read_the_view(api: Api) -> None:
    created = await api.create_event(title="  Offsite  ", description="bring snacks")
    assert len(created["token"]) >= 22 and len(created["admin_key"]) >= 22
    assert created["version"] == 1
    event = created["event"]
    assert event["title"] == "Offsite"
    assert (event["slots_per_day"], event["slot_count"]) == (16, 32)
    r = await api.client.get(f"/api/events/{created['token']}")
    assert r.status_code == 200
    assert r.headers["etag"] == '"v1"'
    view = r.json()
    assert view["version"] == 1
    assert view["event"] == event
    assert view["slots"]["starts_utc"][0] == "2026-12-01T08:00:00Z"  # 09:00 in Berlin
    assert view["heatmap"]["available"] == [0] * 32
    assert view["participants"] == [] and view["best"] == []


async def test_if_none_match_gives_304(api: Api) -> None:
    token = (await api.create_event())["token"]
    r = await api.client.get(f"/api/events/{token}", headers={"If-None-Match": '"v1"'})
    assert r.status_code == 304 and r.content == b""
    r = await api.client.get(f"/api/events/{token}", headers={"If-None-Match": '"v0"'})
    assert r.status_code == 200


async def test_view_is_the_same_bytes_for_every_reader(api: Api) -> None:
    token = (await api.create_event())["token"]
    a = await api.client.get(f"/api/events/{token}")
    b = await api.client.get(f"/api/events/{token}")
    assert a.content == b.content


async def test_patch_with_if_match_and_stale_version(api: Api) -> None:
    created = await api.create_event()
    token, admin = created["token"], {"X-Admin-Key": created["admin_key"]}
    r = await api.client.patch(
        f"/api/events/{token}", json={"title": "Renamed"}, headers={**admin, "If-Match": '"v1"'}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["event"]["title"] == "Renamed"
    stale = await api.client.patch(
        f"/api/events/{token}", json={"title": "Again"}, headers={**admin, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    view = (await api.client.get(f"/api/events/{token}")).json()
    assert view["event"]["title"] == "Renamed" and view["version"] == 2


async def test_changing_the_grid_remaps_availability(api: Api) -> None:
    created = await api.create_event(slot_minutes=60, day_start="09:00", day_end="12:00")
    token, admin = created["token"], {"X-Admin-Key": created["admin_key"]}
    me = await api.join(token, "Ada")
    key = {"X-Participant-Key": me["participant_key"]}
    r = await api.client.put(
        f"/api/events/{token}/participants/me/availability",
        json={"available": [[0, 1]]},
        headers=key,
    )
    assert r.status_code == 200, r.text
    r = await api.client.patch(f"/api/events/{token}", json={"slot_minutes": 30}, headers=admin)
    assert r.status_code == 200, r.text
    view = (await api.client.get(f"/api/events/{token}")).json()
    assert view["participants"][0]["available"] == [[0, 2]]  # 09:00-10:00 in 30-min slots


async def test_finalize_and_calendar(api: Api) -> None:
    created = await api.create_event()
    token, admin = created["token"], {"X-Admin-Key": created["admin_key"]}
    before = await api.client.get(f"/api/events/{token}/calendar.ics")
    assert before.status_code == 409
    r = await api.client.post(
        f"/api/events/{token}/finalize", json={"start": 2, "end": 4}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["event"]["final"] == {"start": 2, "end": 4}
    assert r.json()["event"]["status"] == "finalized"
    ics = await api.client.get(f"/api/events/{token}/calendar.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert "DTSTART:20261201T090000Z" in ics.text  # 10:00 Berlin
    assert "DTEND:20261201T100000Z" in ics.text


async def test_finalize_across_days_is_refused(api: Api) -> None:
    created = await api.create_event()
    r = await api.client.post(
        f"/api/events/{created['token']}/finalize",
        json={"start": 15, "end": 17},
        headers={"X-Admin-Key": created["admin_key"]},
    )
    assert r.status_code == 422 and "one day" in r.json()["detail"]


async def test_reopen_undoes_finalize(api: Api) -> None:
    created = await api.create_event()
    token, admin = created["token"], {"X-Admin-Key": created["admin_key"]}
    url = f"/api/events/{token}"
    final = await api.client.post(f"{url}/finalize", json={"start": 2, "end": 4}, headers=admin)
    assert final.status_code == 200, final.text
    regrid = {"day_end": "16:00"}
    refused = await api.client.patch(url, json=regrid, headers=admin)
    assert refused.status_code == 409  # a finalized event's grid is frozen
    r = await api.client.post(f"{url}/reopen", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == final.json()["version"] + 1
    assert body["event"]["status"] == "open" and body["event"]["final"] is None
    view = (await api.client.get(url)).json()
    assert view["version"] == body["version"] and view["event"]["final"] is None
    assert (await api.client.get(f"{url}/calendar.ics")).status_code == 409
    edited = await api.client.patch(url, json=regrid, headers=admin)
    assert edited.status_code == 200, edited.text
    assert edited.json()["event"]["day_end"] == "16:00"


async def test_reopen_of_an_open_event_is_a_conflict(api: Api) -> None:
    created = await api.create_event()
    r = await api.client.post(
        f"/api/events/{created['token']}/reopen", headers={"X-Admin-Key": created["admin_key"]}
    )
    assert r.status_code == 409 and "not finalized" in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    view = (await api.client.get(f"/api/events/{created['token']}")).json()
    assert view["version"] == created["version"]  # nothing was written


async def test_delete_then_404(api: Api) -> None:
    created = await api.create_event()
    token = created["token"]
    r = await api.client.delete(
        f"/api/events/{token}", headers={"X-Admin-Key": created["admin_key"]}
    )
    assert r.status_code == 204
    gone = await api.client.get(f"/api/events/{token}")
    assert gone.status_code == 404
    assert gone.json()["title"] == "Event not found"


async def test_writes_put_their_domain_events_in_the_outbox(api: Api) -> None:
    from sqlalchemy import text

    created = await api.create_event()
    token = created["token"]
    me = await api.join(token, "Grace")
    await api.client.put(
        f"/api/events/{token}/participants/me/availability",
        json={"available": [[0, 3]]},
        headers={"X-Participant-Key": me["participant_key"]},
    )
    admin = {"X-Admin-Key": created["admin_key"]}
    await api.client.post(
        f"/api/events/{token}/finalize", json={"start": 0, "end": 1}, headers=admin
    )
    await api.client.post(f"/api/events/{token}/reopen", headers=admin)
    async with api.resources.reading() as conn:
        rows = (
            (
                await conn.execute(
                    text("select headers->>'type' from outbox where key = :k order by seq"),
                    {"k": created["event"]["id"].encode()},
                )
            )
            .scalars()
            .all()
        )
    assert rows[-5:] == [
        "EventCreated",
        "ParticipantJoined",
        "AvailabilityChanged",
        "EventFinalized",
        "EventUpdated",  # the reopen: caches drop the metadata, pages refresh
    ]


async def test_the_event_collection_answers_a_problem_not_a_redirect(api: Api) -> None:
    for method in ("GET", "POST", "DELETE"):
        r = await api.client.request(method, "/api/events/")
        assert r.status_code in (404, 405) and "location" not in r.headers, (method, r.headers)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == r.status_code
