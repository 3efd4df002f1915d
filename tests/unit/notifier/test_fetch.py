"""The notifier's two feeds fetch differently: the views topic (on the write → websocket
path) at the shared settings, the domain topic (mostly records it skips) less often."""

from overlap_notifier.app import domain_fetch
from overlap_notifier.settings import Settings
from overlap_shared.worker import Fetch


def test_the_domain_feed_polls_and_lingers_on_its_own_settings() -> None:
    settings = Settings(
        consumer_poll_ms=50,
        consumer_linger_ms=25,
        notifier_domain_poll_ms=300,
        notifier_domain_linger_ms=200,
        consumer_commit_interval_ms=700,
    )
    views, domain = Fetch.from_settings(settings), domain_fetch(settings)
    assert (views.poll_ms, views.linger_ms) == (50, 25)
    assert (domain.poll_ms, domain.linger_ms) == (300, 200)
    assert domain.commit_interval_ms == views.commit_interval_ms == 700


def test_by_default_the_domain_feed_wakes_less_often_than_the_views_feed() -> None:
    settings = Settings()
    views, domain = Fetch.from_settings(settings), domain_fetch(settings)
    assert domain.poll_ms > views.poll_ms
    assert domain.linger_ms > views.linger_ms
