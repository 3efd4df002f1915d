"""The least-recently-used map behind the per-process caches."""

from overlap_shared.lru import Lru


def test_past_its_bound_the_least_recently_used_key_goes() -> None:
    lru: Lru[str, int] = Lru(max_items=2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "a" is now the most recently used
    lru.put("c", 3)
    assert lru.get("b") is None
    assert (lru.get("a"), lru.get("c"), len(lru)) == (1, 3, 2)


def test_unbounded_it_names_its_oldest_for_an_owner_that_trims() -> None:
    lru: Lru[int, str] = Lru()
    for key in range(5):
        lru.put(key, str(key))
    lru.put(0, "again")
    assert lru.oldest() == 1
    assert lru.pop(1) == "1"
    assert lru.pop(1) is None
    assert (lru.oldest(), len(lru)) == (2, 4)
