"""GET /api/events/{token}/export.csv on real PostgreSQL: the organiser's key only."""

import csv
import io
from datetime import datetime

from tests.integration.conftest import Api


async def test_the_organiser_downloads_everyones_availability_in_local_time(api: Api) -> None:
    created = await api.create_event(
        timezone="America/New_York",
        dates=["2026-03-07", "2026-03-08"],
        day_start="01:00",
        day_end="04:00",
    )
    token = created["token"]
    for name, ranges in (("Ana", [[0, 3]]), ("Bo", [[10, 12]])):
        key = (await api.join(token, name))["participant_key"]
        r = await api.client.put(
            f"/api/events/{token}/participants/me/availability",
            json={"available": ranges, "if_needed": []},
            headers={"X-Participant-Key": key},
        )
        assert r.status_code == 200, r.text
    r = await api.client.get(
        f"/api/events/{token}/export.csv", headers={"X-Admin-Key": created["admin_key"]}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["day", "start", "end", "start_utc", "available", "if_needed", "Ana", "Bo"]
    assert len(rows) == 1 + 10  # 02:00 and 02:30 on 2026-03-08 do not exist in New York
    assert rows[1] == ["2026-03-07", "01:00", "01:30", "2026-03-07T06:00:00Z", "1", "0", "yes", ""]
    assert rows[-2] == ["2026-03-08", "03:00", "03:30", "2026-03-08T07:00:00Z", "1", "0", "", "yes"]


async def test_only_the_organisers_key_opens_the_export(api: Api) -> None:
    mine, other = await api.create_event(), await api.create_event()
    url = f"/api/events/{mine['token']}/export.csv"
    assert (await api.client.get(url)).status_code == 401
    participant = (await api.join(mine["token"], "Nosy"))["participant_key"]
    for key in (other["admin_key"], participant):
        r = await api.client.get(url, headers={"X-Admin-Key": key})
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
    missing = "A" * 22
    r = await api.client.get(
        f"/api/events/{missing}/export.csv", headers={"X-Admin-Key": mine["admin_key"]}
    )
    assert r.status_code == 404


async def test_writes_answer_with_expires_at_and_a_write_pushes_it_back(api: Api) -> None:
    created = await api.create_event(dates=["2025-06-02"])  # past: the last write counts
    first = created["event"]["expires_at"]
    assert first is not None and first.endswith("Z")
    key = (await api.join(created["token"], "Eve"))["participant_key"]
    r = await api.client.put(
        f"/api/events/{created['token']}/participants/me/availability",
        json={"available": [[0, 1]], "if_needed": []},
        headers={"X-Participant-Key": key},
    )
    view = await api.client.get(f"/api/events/{created['token']}?min_version={r.json()['version']}")
    pushed = view.json()["event"]["expires_at"]
    assert datetime.fromisoformat(pushed) > datetime.fromisoformat(first)
