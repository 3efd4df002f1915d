"""A worker's fetch settings: the poll and the pause after each batch come from the
settings (the notifier's and the invalidator's defaults differ from the others')."""

from overlap_invalidator.settings import Settings as InvalidatorSettings
from overlap_notifier.settings import Settings as NotifierSettings
from overlap_shared.settings import WorkerSettings
from overlap_shared.worker import Fetch


def test_fetch_takes_the_poll_and_the_linger_from_the_settings() -> None:
    fetch = Fetch.from_settings(WorkerSettings(consumer_poll_ms=40, consumer_linger_ms=15))
    assert (fetch.poll_ms, fetch.linger_ms) == (40, 15)


def test_every_worker_lingers_and_the_notifier_and_the_invalidator_poll_less_often() -> None:
    plain = Fetch.from_settings(WorkerSettings())
    assert plain.linger_ms > 0
    for settings in (NotifierSettings(), InvalidatorSettings()):
        fetch = Fetch.from_settings(settings)
        assert fetch.poll_ms > plain.poll_ms
        assert fetch.linger_ms >= plain.linger_ms


async def test_linger_sleeps_its_time_and_not_at_all_when_zero() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    await Fetch(linger_ms=0).linger(sleep)
    assert slept == []
    await Fetch(linger_ms=25).linger(sleep)
    assert slept == [0.025]
