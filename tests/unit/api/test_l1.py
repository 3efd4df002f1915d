from overlap_api.reads.l1 import VersionedL1

from tests.unit.clock import Clock


def test_entries_expire() -> None:
    clock = Clock()
    l1: VersionedL1[bytes] = VersionedL1(ttl_s=2, max_entries=10, clock=clock)
    l1.put("t", 3, b"v3")
    assert l1.get("t") == (3, b"v3")
    clock.now = 2.5
    assert l1.get("t") is None


def test_an_announced_version_evicts_and_refuses_older_views() -> None:
    l1: VersionedL1[bytes] = VersionedL1(ttl_s=60, max_entries=10, clock=Clock())
    l1.put("t", 3, b"v3")
    l1.forget("t", 5)
    assert l1.get("t") is None
    assert not l1.put("t", 4, b"v4")  # a read that raced the announcement
    assert l1.put("t", 5, b"v5") and l1.get("t") == (5, b"v5")


def test_size_is_bounded() -> None:
    l1: VersionedL1[bytes] = VersionedL1(ttl_s=60, max_entries=3, clock=Clock())
    for i in range(10):
        l1.put(f"t{i}", 1, b"x")
        l1.forget(f"f{i}", i)
    assert len(l1) == 3 and l1.get("t9") == (1, b"x") and l1.get("t0") is None


def test_a_read_keeps_an_entry_from_being_dropped_first() -> None:
    l1: VersionedL1[bytes] = VersionedL1(ttl_s=60, max_entries=2, clock=Clock())
    l1.put("old", 1, b"o")
    l1.put("new", 1, b"n")
    assert l1.get("old") == (1, b"o")  # now the most recently used
    l1.put("third", 1, b"t")
    assert l1.get("new") is None and l1.get("old") == (1, b"o")


def test_a_floor_outlives_its_entry() -> None:
    l1: VersionedL1[bytes] = VersionedL1(ttl_s=60, max_entries=2, clock=Clock())
    l1.forget("t", 4)
    l1.clear()
    assert not l1.put("t", 3, b"v3") and l1.put("t", 4, b"v4")
