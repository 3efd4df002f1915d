"""The view write-back after the answer: in the background, bounded, drained on demand."""

import asyncio

import pytest
from overlap_api.reads.write_behind import WriteBehind


async def test_a_write_runs_after_the_caller_goes_on_and_drain_waits_for_it() -> None:
    release, done = asyncio.Event(), []

    async def write() -> None:
        await release.wait()
        done.append(1)

    behind = WriteBehind(limit=4)
    await behind.run(write)
    assert done == [] and behind.pending == 1  # the caller did not wait for it
    release.set()
    await behind.drain()
    assert done == [1] and behind.pending == 0


async def test_past_the_limit_the_caller_does_its_write_itself() -> None:
    release, done = asyncio.Event(), []

    async def held() -> None:
        await release.wait()
        done.append("held")

    async def inline() -> None:
        done.append("inline")

    behind = WriteBehind(limit=2)
    await behind.run(held)
    await behind.run(held)
    await behind.run(inline)  # two are running: this one is awaited here
    assert done == ["inline"] and behind.pending == 2
    release.set()
    await behind.drain()
    assert sorted(done) == ["held", "held", "inline"]


async def test_a_failed_write_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("redis went away")

    behind = WriteBehind()
    await behind.run(broken)
    await behind.drain()
    assert behind.pending == 0
    assert "view write-back failed" in caplog.text
