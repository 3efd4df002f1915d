"""Commit-after-delivery bookkeeping: a batch's records are tracked in order, the ones a
feed hands over are settled by their delivery, the rest at once."""

from overlap_notifier.commits import Tracker

from tests.unit.records import record


def test_claimed_records_wait_for_delivery_and_the_rest_settle_at_once() -> None:
    tracker = Tracker()
    batch = [record(b"a", offset=10), record(b"b", offset=11), record(b"c", offset=12)]
    tracker.register(batch)
    waiting = tracker.claim(batch[1])
    assert tracker.claim(batch[1]) is waiting  # handed over again (a retry): the same entry
    tracker.settle_unclaimed()
    assert tracker.unsettled == 1
    assert set(tracker.committable().values()) == {11}  # up to the first unsettled record
    waiting.settle()
    assert set(tracker.committable().values()) == {13}
