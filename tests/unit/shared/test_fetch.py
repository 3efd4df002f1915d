"""A worker's fetch settings: the poll and the pause after each batch come from the
settings (the notifier's and the invalidator's defaults differ from the others')."""

import pytest
from overlap_invalidator.settings import Settings as InvalidatorSettings
from overlap_notifier.settings import Settings as NotifierSettings
from overlap_shared.settings import WorkerSettings
from overlap_shared.worker import Fetch


def test_fetch_takes_the_poll_and_the_linger_from_the_settings() -> None:
    fetch = Fetch.from_settings(WorkerSettings(consumer_poll_ms=40, consumer_linger_ms=15))
    assert (fetch.poll_ms, fetch.linger_ms) == (40, 15)


def test_the_workers_gather_batches_and_the_notifier_and_the_invalidator_poll_less_often() -> None:
    plain = Fetch.from_settings(WorkerSettings())
    assert plain.linger_ms > 0 and plain.min_bytes == 1
    notifier, invalidator = (
        Fetch.from_settings(s) for s in (NotifierSettings(), InvalidatorSettings())
    )
    assert notifier.poll_ms > plain.poll_ms and invalidator.poll_ms > plain.poll_ms
    assert notifier.linger_ms >= plain.linger_ms
    # The invalidator's batch gathers in the broker (a held fetch), so it does not pause.
    assert invalidator.min_bytes >= 2**20 and invalidator.wait_ms > plain.linger_ms
    assert invalidator.linger_ms == 0


def test_the_fetch_settings_reach_the_fetch() -> None:
    fetch = Fetch.from_settings(
        WorkerSettings(consumer_fetch_min_bytes=4096, consumer_fetch_wait_ms=70)
    )
    assert (fetch.min_bytes, fetch.wait_ms) == (4096, 70)


async def test_linger_sleeps_its_time_and_not_at_all_when_zero() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    await Fetch(linger_ms=0).linger(sleep)
    assert slept == []
    await Fetch(linger_ms=25).linger(sleep)
    assert slept == [0.025]


async def test_a_linger_from_the_start_pauses_only_the_rest_of_its_interval() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    interval = Fetch(linger_ms=100, linger_from_start=True)
    await interval.linger(sleep, elapsed_s=0.03)
    assert slept == [pytest.approx(0.07)]
    await interval.linger(sleep, elapsed_s=0.1)  # the batch took the whole interval
    await interval.linger(sleep, elapsed_s=0.25)
    assert len(slept) == 1
    await Fetch(linger_ms=100).linger(sleep, elapsed_s=0.03)  # after the batch: all of it
    assert slept[1:] == [0.1]


def test_a_pause_follows_a_batch_unless_small_or_a_full_next_batch_waits() -> None:
    plain, busy_only = Fetch(linger_ms=25), Fetch(linger_ms=25, linger_min_records=2)
    assert plain.pauses_after(1, behind=0, max_records=100)
    assert not busy_only.pauses_after(1, behind=0, max_records=100)  # a lone record
    assert busy_only.pauses_after(2, behind=99, max_records=100)
    assert not busy_only.pauses_after(2, behind=100, max_records=100)  # a backlog
