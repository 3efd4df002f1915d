"""The availability worker lingers after a batch on its own setting, not the shared one,
counted from the batch's start: its interval is how many writes of one event a refresh
covers while writes keep coming."""

from overlap_availability.app import view_fetch
from overlap_availability.settings import Settings
from overlap_shared.worker import Fetch


def test_the_worker_lingers_on_its_own_setting() -> None:
    settings = Settings(consumer_linger_ms=25, availability_linger_ms=70, consumer_poll_ms=10)
    fetch = view_fetch(settings)
    assert (fetch.linger_ms, fetch.linger_from_start) == (70, True)
    assert not fetch.pauses_after(1, behind=0, max_records=settings.batch_max_records)
    assert fetch.pauses_after(2, behind=0, max_records=settings.batch_max_records)
    assert fetch.poll_ms == 10  # the rest as the shared settings say


def test_by_default_the_worker_lingers_longer_than_the_shared_default() -> None:
    settings = Settings()
    assert view_fetch(settings).linger_ms > Fetch.from_settings(settings).linger_ms
