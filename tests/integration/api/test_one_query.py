"""The view of a big event comes from exactly one SQL statement."""

import random
import uuid
from typing import Any

from overlap_api.keys import key_hash
from overlap_shared.bitmaps import to_bytes
from overlap_shared.models import Participant
from sqlalchemy import insert

from tests.integration.conftest import Api


async def test_view_of_200_participants_7_days_96_slots_is_one_statement(api: Api) -> None:
    created = await api.create_event(
        dates=[f"2026-12-{d:02d}" for d in range(1, 8)],
        day_start="00:00",
        day_end="24:00",
        slot_minutes=15,
    )
    event_id, token = uuid.UUID(created["event"]["id"]), created["token"]
    slots = created["event"]["slot_count"]
    assert slots == 7 * 96
    rng = random.Random(7)
    rows: list[dict[str, Any]] = []
    for i in range(200):
        bits = rng.getrandbits(slots)
        rows.append(
            {
                "id": uuid.uuid4(),
                "event_id": event_id,
                "name": f"p{i}",
                "name_key": f"p{i}",
                "key_hash": key_hash(uuid.uuid4().hex),
                "available": to_bytes(bits, slots),
                "if_needed": to_bytes(rng.getrandbits(slots) & ~bits, slots),
            }
        )
    async with api.resources.transaction() as conn:
        await conn.execute(insert(Participant), rows)
    api.sql.reset()
    r = await api.client.get(f"/api/events/{token}")
    assert r.status_code == 200
    assert len(api.sql.statements) == 1, api.sql.statements
    view = r.json()
    assert len(view["participants"]) == 200
    expected = [
        sum((int.from_bytes(p["available"], "little") >> s) & 1 for p in rows) for s in range(slots)
    ]
    assert view["heatmap"]["available"] == expected
