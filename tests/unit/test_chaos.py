"""The chaos suite's plan and invariants (pure): each check must catch what it names."""

from chaos import invariants as inv
from chaos.load import Answer, Write
from chaos.plan import INFRA, WORKERS, full_plan, quick_plan


def w(pid: str, bits: int, version: int | None, refused: bool = False) -> Write:
    return Write("tok", pid, bits, version, refused)


def test_the_last_acknowledged_write_or_a_later_unanswered_one_may_be_stored() -> None:
    writes = [w("a", 1, 2), w("a", 2, None), w("a", 4, 3), w("a", 8, None), w("b", 16, None)]
    assert inv.possible_bits(writes) == {"a": {4, 8}, "b": {0, 16}}
    assert inv.possible_bits([w("a", 1, None, refused=True)]) == {}


def test_a_lost_write_and_a_version_going_back_are_caught() -> None:
    writes = [w("a", 1, 2), w("a", 4, 3)]
    assert inv.committed_writes(writes, {"a": 4}, {"tok": 3}) == []
    assert inv.committed_writes(writes, {"a": 1}, {"tok": 3})  # the acked 4 was lost
    assert inv.committed_writes(writes, {"a": 4}, {"tok": 2})  # version below an ack


def test_an_acknowledged_write_missing_on_kafka_is_caught() -> None:
    writes = [w("a", 1, 2), w("a", 4, 3), w("a", 8, None)]
    ids = {"tok": "E"}
    assert inv.reached_kafka(writes, ids, {("E", 2), ("E", 3)}) == []
    assert inv.reached_kafka(writes, ids, {("E", 2)}) == [
        "1 acked writes not on Kafka, e.g. ['event tok v3']"
    ]


def test_stale_views_and_pages_are_caught_expired_views_are_not() -> None:
    assert inv.views_current({"t": None, "u": 5}, {"t": 3, "u": 5}) == []
    assert inv.views_current({"t": 2}, {"t": 3})
    assert inv.pages_current({"t": 3}, {"t": 3}) == []
    assert inv.pages_current({"t": 2}, {"t": 3})


def a(outcome: str, seconds: float = 0.01, started: float = 0) -> Answer:
    return Answer("write", started, seconds, outcome)


def test_hangs_stale_reads_and_server_errors_are_caught() -> None:
    assert inv.no_hangs([a("ok"), a("conn")]) == []
    assert inv.no_hangs([a("timeout")])
    assert inv.no_stale_reads([a("stale")])
    assert inv.only_503s([a("503"), a("conn")], database_down=False) == []
    assert inv.only_503s([a("5xx")], database_down=False)
    assert inv.only_503s([a("503-no-retry-after")], database_down=False)
    assert inv.only_503s([a("503", seconds=9)], database_down=False) == []
    assert inv.only_503s([a("503", seconds=9)], database_down=True)


def test_memory_growth_beyond_the_bound_is_caught() -> None:
    assert inv.memory_bounded({"api": 100}, {"api": 200}) == []
    assert inv.memory_bounded({"api": 100}, {"api": 260})
    assert inv.memory_bounded({"api": 100}, {"api": 200}, inv.MEMORY_FLAT)
    assert inv.memory_bounded({"api": 100}, {}) == []  # restarted: not compared


def test_errors_are_counted_by_kind_and_timed_from_the_fault_end() -> None:
    answers = [a("ok", started=1), a("conn", started=2), a("503", started=14), a("503")]
    assert inv.errors_by_kind(answers) == {"503": 2, "conn": 1}
    assert inv.errors_until(answers, recovery=10) == 4
    assert inv.errors_until([a("ok", started=30)], recovery=10) == 0


def test_the_full_plan_kills_and_pauses_every_component_alone_and_in_pairs() -> None:
    plan = full_plan()
    singles = {(f.targets[0], f.action) for f in plan if len(f.targets) == 1}
    assert singles == {(c, act) for c in (*INFRA, *WORKERS) for act in ("kill", "pause")}
    assert any(len(f.targets) == 2 for f in plan)
    assert len({f.name for f in plan}) == len(plan)


def test_the_quick_plan_is_seeded_and_covers_each_kind_of_fault() -> None:
    assert quick_plan(7) == quick_plan(7)
    plans = {tuple(quick_plan(seed)) for seed in range(20)}
    assert len(plans) > 1
    for plan in plans:
        first, second, third, pair = plan
        assert first.action == "kill" and first.targets[0] in INFRA
        assert second.action == "kill" and second.targets[0] in WORKERS
        assert third.action == "pause"
        assert len(pair.targets) == 2


def test_the_table_names_each_fault_its_errors_and_what_failed() -> None:
    from chaos.report import table
    from chaos.run import Result

    good = Result("kill kafka", 100, {}, 0.0, 0.2, 0.5, [], {"pages current": []})
    bad = Result(
        "kill redis",
        requests=90,
        errors={"503": 3},
        errors_until_s=1.5,
        slowest_s=0.4,
        converged_s=None,
        waited_on=["views in Redis current"],
        violations={"views in Redis current": ["view abc at v2, database at v3"]},
    )
    out = table([good, bad], {"api": (80.0, 90.0, 85.0, 95.0)}, "# Chaos")
    assert "| kill kafka | 100 | none | 0.20 s | 0.0 s | 0.5 s | all hold |" in out
    assert "| kill redis | 90 | 503 3 |" in out
    assert "never (views in Redis current)" in out
    assert "FAILED views in Redis current: view abc at v2, database at v3" in out
    assert "| api | 90 MiB | 95 MiB | 80 MiB | 85 MiB |" in out
    assert "1/2 faults: every invariant held." in out
