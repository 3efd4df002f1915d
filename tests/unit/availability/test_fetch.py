"""The availability worker lingers after a batch on its own setting, not the shared one:
its pause is how many writes of one event a refresh covers."""

from overlap_availability.app import view_fetch
from overlap_availability.settings import Settings
from overlap_shared.worker import Fetch


def test_the_worker_lingers_on_its_own_setting() -> None:
    settings = Settings(consumer_linger_ms=25, availability_linger_ms=70, consumer_poll_ms=10)
    fetch = view_fetch(settings)
    assert fetch.linger_ms == 70
    assert fetch.poll_ms == 10  # the rest as the shared settings say


def test_by_default_the_worker_lingers_longer_than_the_shared_default() -> None:
    settings = Settings()
    assert view_fetch(settings).linger_ms > Fetch.from_settings(settings).linger_ms
