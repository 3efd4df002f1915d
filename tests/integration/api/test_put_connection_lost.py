"""The PUT's statement goes on a connection of its own asyncpg pool: a connection lost
under it is a 503 the client may retry, and the pool drops it (the next PUT gets a working
connection), as SQLAlchemy does for its own statements."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DisconnectionError

from tests.integration.conftest import Api

PUT = "/api/events/{token}/participants/me/availability"


async def test_a_lost_connection_is_dropped_and_raised_as_a_disconnection(api: Api) -> None:
    with pytest.raises(DisconnectionError):
        async with api.resources.driver() as conn:
            await conn.close()  # as when PostgreSQL restarts under it
            await conn.fetchrow("select 1")
    for _ in range(api.resources.settings.write_concurrency + 1):  # every pooled one works
        async with api.resources.driver() as conn:
            assert await conn.fetchval("select 1") == 1


async def test_a_connection_whose_backend_was_just_terminated_is_a_disconnection(
    api: Api,
) -> None:
    """The server's error reaches the idle connection as its next statement goes out: asyncpg
    refuses it (InternalClientError), which is a lost connection too, not a 500."""
    with pytest.raises(DisconnectionError):
        async with api.resources.driver() as victim:
            pid = await victim.fetchval("select pg_backend_pid()")
            async with api.resources.reading() as admin:
                await admin.execute(text("select pg_terminate_backend(:p)"), {"p": pid})
                await admin.commit()
            await victim.fetchrow("select 1")
    async with api.resources.driver() as conn:
        assert await conn.fetchval("select 1") == 1


async def test_a_put_whose_connection_was_terminated_is_a_503_then_the_next_one_succeeds(
    api: Api,
) -> None:
    """Either the pool sees the connection closed before handing it out (asyncpg reconnects:
    every PUT succeeds), or a PUT meets it: one 503 with Retry-After, never a 500."""
    created = await api.create_event()
    token = created["token"]
    me = await api.join(token, "Ada")
    headers = {"X-Participant-Key": me["participant_key"]}
    async with api.resources.driver() as victim:  # back in the pool, closed under it
        pid = await victim.fetchval("select pg_backend_pid()")
        async with api.resources.reading() as admin:  # another pooled connection
            await admin.execute(text("select pg_terminate_backend(:p)"), {"p": pid})
            await admin.commit()
    answers: list[int] = []
    for _ in range(api.resources.settings.write_concurrency + 2):  # handed out by then
        r = await api.client.put(PUT.format(token=token), json={"available": [[0, 2]]},
                                 headers=headers)  # fmt: skip
        answers.append(r.status_code)
        if r.status_code == 503:
            assert r.headers["retry-after"] == "2"
            break
    again = await api.client.put(PUT.format(token=token), json={"available": [[1, 3]]},
                                 headers=headers)  # fmt: skip
    assert set(answers) <= {200, 503} and 503 not in answers[:-1], answers
    assert again.status_code == 200, again.text  # that connection was dropped from the pool
