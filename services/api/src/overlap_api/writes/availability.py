"""PUT availability in one SQL statement: the hot write path.

One statement (so one round trip, and atomic on its own: it runs outside an explicit
transaction) locks the event row and bumps its version, replaces the caller's bitmaps and
inserts the outbox row, all or nothing. The ranges are checked against the event's slot
grid first; the grid comes from a small per-process cache and the statement only writes
when the event's grid still has the fingerprint the ranges were checked against (checked
on the locked row). On a cold cache or a changed grid the statement writes nothing and
returns the current grid: the ranges are checked again and the statement is sent once
more (two round trips, the most a PUT takes).

The outbox payload is the ``AvailabilityChanged`` message as ``events.encode`` renders it,
with the new version and the participant's id spliced in by the statement.

The statement carries the request's deadline (``not_after``, wall clock) and writes nothing
once PostgreSQL's clock has passed it, checked on the locked row. Being one statement in
autocommit, it would otherwise still run whenever PostgreSQL gets to it: a paused server
(``make chaos``: 15 s) runs it after the API answered 503, maybe after a later write of the
same person that was acknowledged, whose bits it would then overwrite. Waiting on the row
lock of that later write, it re-checks the deadline once the lock is granted (PostgreSQL
re-evaluates the update's condition on the new row), and finds it passed. This assumes the
API's and PostgreSQL's clocks agree (one host, or NTP: an error of δ leaves a window of δ).
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
from overlap_shared import events
from overlap_shared.bitmaps import (
    RangeError,
    bits_to_ranges,
    check_disjoint,
    check_range_budget,
    from_bytes,
    ranges_to_bits,
    to_bytes,
)
from overlap_shared.lru import Lru
from overlap_shared.slots import SlotGrid
from overlap_shared.snapshots import grid_of
from sqlalchemy import text

from overlap_api.http.errors import EventNotFound, Forbidden, Unavailable
from overlap_api.http.monitoring import counted
from overlap_api.keys import MAX_KEY_LENGTH, key_hash
from overlap_api.participants import service
from overlap_api.participants.lookup import NOT_A_PARTICIPANT
from overlap_api.participants.schemas import AvailabilityPut
from overlap_api.writes.own_writes import OwnWrite

if TYPE_CHECKING:  # resources.py imports this module (its GridCache)
    from overlap_api.resources import Resources

GRID = (
    "md5(concat_ws('|', {t}.timezone, {t}.kind, {t}.dates::text, {t}.weekdays::text, "
    "{t}.day_start, {t}.day_end, {t}.slot_minutes))"
)
PUT_STATEMENT = text(f"""
with cur as (
  select id, timezone, kind, dates, weekdays, day_start, day_end, slot_minutes,
         {GRID.format(t="events")} as grid
  from events where token = :token
), me as (
  select p.id from participants p join cur on p.event_id = cur.id
  where p.key_hash = :key_hash
), ev as (
  update events e set version = e.version + 1, updated_at = now()
  from me
  where e.token = :token and {GRID.format(t="e")} = :grid
    and (cast(:not_after as timestamptz) is null or clock_timestamp() < :not_after)
  returning e.id, e.version, e.updated_at
), upd as (
  update participants p set available = :available, if_needed = :if_needed, updated_at = now()
  from ev, me where p.id = me.id
  returning p.id
), ob as (
  insert into outbox (message_id, topic, key, payload, headers)
  select :message_id, :topic, convert_to(ev.id::text, 'UTF8'),
         convert_to(:head || ev.version::text || :middle || upd.id::text || :tail, 'UTF8'),
         '{{"type": "AvailabilityChanged"}}'::jsonb
  from ev, upd
  returning 1
)
select cur.id as event_id, cur.grid, cur.timezone, cur.kind, cur.dates, cur.weekdays,
       cur.day_start, cur.day_end, cur.slot_minutes, (select id from me) as participant_id,
       (select version from ev) as new_version, (select updated_at from ev) as updated_at,
       (select id from upd) as written,
       (select count(*) from ob) as queued,
       coalesce(clock_timestamp() >= :not_after, false) as late
from cur
""")
# The same statement for asyncpg, which takes $1..$n: sent straight on the pooled
# connection's asyncpg connection (``Resources.driver``), it skips SQLAlchemy's execution
# context and result, about 0.4 ms of the API's CPU per PUT (issue #15).
PUT_PARAMS = ("token", "key_hash", "grid", "available", "if_needed", "message_id", "topic",
              "head", "middle", "tail", "not_after")  # fmt: skip
PUT_SQL = re.sub(r"(?<!:):(\w+)", lambda m: f"${PUT_PARAMS.index(m[1]) + 1}", PUT_STATEMENT.text)
Ranges = tuple[list[list[int]], list[list[int]]]  # a PUT's (available, if_needed)
VERSION_MARK = 987_654_321_987  # placeholders rendered by events.encode, then cut out
PERSON_MARK = uuid.UUID(int=0xC0FFEE)


@dataclass(frozen=True)
class KnownGrid:
    """An event's grid as last read, with the fingerprint the statement checks."""

    event_id: uuid.UUID
    fingerprint: str
    grid: SlotGrid
    missing: tuple[int, ...]


class GridCache(Lru[str, KnownGrid]):
    """Token → :class:`KnownGrid`, the most recently used ``max_items`` events (per process)."""

    def __init__(self, max_items: int = 4096) -> None:
        super().__init__(max_items)


def bitmaps(ranges: Ranges, known: KnownGrid) -> tuple[int, int] | None:
    """The two bitsets of a PUT's (available, if-needed) ranges on this grid; None when a
    range does not fit or there are too many (the transactional path then answers, with its
    order of errors) (pure)."""
    n = known.grid.slot_count
    try:
        available = ranges_to_bits(ranges[0], n, known.missing)
        if_needed = ranges_to_bits(ranges[1], n, known.missing)
        check_disjoint(available, if_needed)
        check_range_budget(available, if_needed)  # bounds the view (README, "View engine")
    except RangeError:
        return None
    return available, if_needed


def encoded_change(
    message_id: uuid.UUID,
    occurred_at: datetime,
    event_id: uuid.UUID,
    token: str,
    version: int,
    participant_id: uuid.UUID,
    counts: tuple[int, int],
) -> str:
    """The ``AvailabilityChanged`` message as ``events.encode`` renders it, without its
    pydantic models (a tenth of a PUT's CPU went to them: issue #15); every value is known
    valid here (the unit tests compare the two renderings) (pure)."""
    return orjson.dumps(
        {
            "id": str(message_id),
            "type": "AvailabilityChanged",
            "schema_version": events.SCHEMA_VERSION,
            "occurred_at": occurred_at,
            "event_id": str(event_id),  # asyncpg's UUID: not orjson's
            "token": token,
            "version": version,
            "data": {
                "participant_id": str(participant_id),
                "available_slots": counts[0],
                "if_needed_slots": counts[1],
            },
        },
        option=orjson.OPT_UTC_Z,
    ).decode()


def payload_parts(
    event_id: uuid.UUID, token: str, available: int, if_needed: int
) -> tuple[uuid.UUID, str, str, str]:
    """The message id and the encoded message cut around its version and participant id."""
    message_id = uuid.uuid4()
    counts = (available.bit_count(), if_needed.bit_count())
    now = datetime.now(UTC)
    encoded = encoded_change(message_id, now, event_id, token, VERSION_MARK, PERSON_MARK, counts)
    head, rest = encoded.split(str(VERSION_MARK), 1)
    middle, tail = rest.split(str(PERSON_MARK), 1)
    return message_id, head, middle, tail


def known_grid(row: Any) -> KnownGrid:
    """The grid of a row of the statement (an asyncpg record: its fields by name)."""
    fields = SimpleNamespace(**dict(row))
    grid = grid_of(fields)
    return KnownGrid(fields.event_id, fields.grid, grid, grid.missing())


async def replace_availability(
    resources: "Resources",
    token: str,
    participant_key: str | None,
    ranges: Ranges,
    not_after: datetime | None,
) -> dict[str, Any]:
    """PUT availability: the one statement when it can answer (noted in the process's
    ``own_writes``), else the transactional path (no key, ranges off the grid: its errors,
    in its order); the answer's body. ``not_after``: the request's deadline
    (``http.deadline.not_after``)."""
    topic = resources.settings.domain_topic
    async with resources.driver() as conn:
        written = await put_availability(
            conn, resources.grids, token, participant_key, ranges, topic, not_after
        )
    if written is not None:
        resources.own_writes.note(token, written)
        available, if_needed = from_bytes(written.available), from_bytes(written.if_needed)
        return availability_answer(written.version, available, if_needed)
    body = AvailabilityPut(available=ranges[0], if_needed=ranges[1])
    async with resources.transaction() as conn:
        locked, available, if_needed = await service.set_availability(
            conn, token, participant_key, body, topic
        )
    return availability_answer(locked.version, available, if_needed)


def availability_answer(version: int, available: int, if_needed: int) -> dict[str, Any]:
    return {
        "version": version,
        "available": bits_to_ranges(available),
        "if_needed": bits_to_ranges(if_needed),
    }


async def put_availability(
    conn: asyncpg.Connection,
    grids: GridCache,
    token: str,
    participant_key: str | None,
    ranges: Ranges,
    topic: str,
    not_after: datetime | None = None,
) -> OwnWrite | None:
    """Replace the caller's availability: the write as stored (its version, bits, time).
    404 and 403 as the transactional path; None when the request is not a plain valid PUT
    (no key, a range off the grid): the transactional path answers it then. Nothing is
    written once PostgreSQL's clock passes ``not_after`` (the request's deadline): 503."""
    if not participant_key or len(participant_key) > MAX_KEY_LENGTH:
        return None
    digest = key_hash(participant_key)
    known = grids.get(token)
    for _ in range(2):
        bits = bitmaps(ranges, known) if known is not None else None
        params: dict[str, Any] = {
            "token": token, "key_hash": digest, "topic": topic, "not_after": not_after
        }  # fmt: skip
        params |= _write_params(token, known, bits)
        counted(PUT_SQL)
        row = await conn.fetchrow(PUT_SQL, *(params[name] for name in PUT_PARAMS))
        if row is None:
            raise EventNotFound()
        if row["participant_id"] is None:
            raise Forbidden(NOT_A_PARTICIPANT)
        if bits is not None and row["written"] is not None:
            person = uuid.UUID(bytes=row["participant_id"].bytes)  # asyncpg's UUID: a plain one
            return OwnWrite(int(row["new_version"]), person, params["available"],
                            params["if_needed"], row["updated_at"])  # fmt: skip
        if row["late"]:
            raise Unavailable("the request's deadline passed before PostgreSQL ran its write")
        fresh = known_grid(row)  # cold cache, a changed grid, or ranges off the cached grid
        grids.put(token, fresh)
        if known is not None and bits is None and fresh.fingerprint == known.fingerprint:
            return None  # off the current grid indeed
        known = fresh
    return None  # the grid changed twice in a row: let the transactional path answer


def _write_params(token: str, known: KnownGrid | None, bits: tuple[int, int] | None) -> dict:
    """The statement's values for a write, or ones that write nothing (no known grid)."""
    if known is None or bits is None:  # the fingerprint never matches: only reads the grid
        return dict(grid="", available=b"", if_needed=b"", message_id=uuid.uuid4(),
                    head="", middle="", tail="")  # fmt: skip
    available, if_needed = bits
    n = known.grid.slot_count
    message_id, head, middle, tail = payload_parts(known.event_id, token, available, if_needed)
    return dict(grid=known.fingerprint, available=to_bytes(available, n),
                if_needed=to_bytes(if_needed, n), message_id=message_id,
                head=head, middle=middle, tail=tail)  # fmt: skip
