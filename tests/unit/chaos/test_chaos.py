"""The chaos suite's plan and invariants (pure): each check must catch what it names."""

from pathlib import Path

import pytest

from chaos import invariants as inv
from chaos.churn import Change
from chaos.kraft import active_controller
from chaos.load import Answer, Write
from chaos.plan import (
    INFRA,
    KILL_EACH,
    ONE_API,
    ONE_BROKER,
    WORKERS,
    fault_named,
    full_plan,
    quick_plan,
)
from chaos.stack import GROUPS, PORT_COUNT, PORTS, stack_env


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
    expected = {(c, act) for c in (*INFRA, *WORKERS, *ONE_BROKER) for act in ("kill", "pause")}
    assert expected <= singles
    assert {
        ("api-1", "kill"),
        ("api", "kill"),
        ("gateway", "kill"),
        ("relay", KILL_EACH),
    } <= singles
    assert any(len(f.targets) == 2 for f in plan)
    assert len({f.name for f in plan}) == len(plan)


def test_every_fault_target_is_a_process_or_a_group_of_the_stack() -> None:
    processes = {"postgres", "redis", "soketi", "gateway", "availability", "invalidator"}
    processes |= {"notifier", "kafka-controller", "kafka-broker"}
    processes |= {p for members in GROUPS.values() for p in members} | set(GROUPS)
    for seed in range(10):
        for fault in full_plan() + quick_plan(seed):
            assert set(fault.targets) <= processes, fault


def test_the_quick_plan_is_seeded_and_kills_a_broker_and_an_api_process() -> None:
    assert quick_plan(7) == quick_plan(7)
    plans = {tuple(quick_plan(seed)) for seed in range(20)}
    assert len(plans) > 1
    for plan in plans:
        broker, api, worker, paused = plan
        assert broker.action == "kill" and broker.targets[0] in ONE_BROKER and broker.one_broker
        assert api.action == "kill" and api.targets[0] in ONE_API
        assert worker.action == "kill" and worker.targets[0] in WORKERS
        assert paused.action == "pause"


def test_faults_are_found_by_name() -> None:
    assert fault_named("kill each relay in turn").action == KILL_EACH
    assert fault_named("pause postgres for 15 s").hold_s == 15
    assert fault_named("kill api-2").targets == ("api-2",)
    with pytest.raises(ValueError):
        fault_named("melt kafka")


def test_the_chaos_stack_ports_are_distinct_and_kafka_is_three_brokers() -> None:
    env = stack_env(14100, Path("/tmp/x"))
    ports = [int(env[name]) for name in PORTS]
    assert len(set(ports)) == len(ports) and max(ports) < 14100 + PORT_COUNT
    brokers = env["KAFKA_BOOTSTRAP_SERVERS"].split(",")
    assert env["KAFKA_BROKERS"] == "3" and len(brokers) == 3
    used = set(ports) | {int(b.rsplit(":", 1)[1]) for b in brokers}
    used |= {int(env["KAFKA_CONTROLLER_PORT"]) + i for i in range(3)} | {int(env["API_PORT"]) + 1}
    assert len(used) == PORT_COUNT  # no broker, controller or second API port shared


RAFT = [
    "[2026-11-30 11:07:27,238] INFO [RaftManager id=2] Completed transition to Leader("
    "localVoterNode=VoterNode(voterKey=ReplicaKey(id=2, directoryId=Y), epoch=1) from x",
    "[2026-11-30 11:07:29,608] INFO [RaftManager id=3] Completed transition to FollowerState("
    "fetchTimeoutMs=2000, epoch=1, leader=2, leaderEndpoints=Endpoints(...)) from y",
    "[2026-11-30 11:07:28,000] INFO [RaftManager id=1] Completed transition to CandidateState(",
]


def test_the_active_controller_is_the_latest_leader_named() -> None:
    assert active_controller(RAFT) == 2
    later = "[2026-11-30 11:09:00,000] INFO [RaftManager id=1] Completed transition to Leader("
    assert active_controller([*RAFT, later]) == 1
    follower = (
        "[2026-11-30 11:10:00,000] INFO [RaftManager id=2] Completed transition to "
        "FollowerState(fetchTimeoutMs=2000, epoch=3, leader=3, x)"
    )
    assert active_controller([*RAFT, later, follower]) == 3
    assert active_controller(RAFT[2:]) is None


def c(subject: str, value: str | None, acked: bool = True, version: int | None = None) -> Change:
    return Change("x", "tok", subject, value, acked, refused=False, version=version)


def test_a_lost_join_rename_leave_or_delete_is_caught() -> None:
    changes = [c("p", "a", version=2), c("p", "b", version=3), c("p", None, acked=False)]
    assert inv.possible_states(changes) == {"p": {"b", None}}
    assert inv.changes_committed(changes, {"p": "b"}, {"tok": 3}) == []
    assert inv.changes_committed(changes, {}, {"tok": 3}) == []  # the unanswered leave held
    assert inv.changes_committed(changes, {"p": "a"}, {"tok": 3})  # the acked rename lost
    assert inv.changes_committed(changes, {"p": "b"}, {"tok": 2})  # version below an ack
    deleted = [c("e", "chaos"), c("e", None)]
    assert inv.changes_committed(deleted, {"e": "chaos"}, {})  # an acked delete undone
    refused = Change("rename", "tok", "p", "z", acked=False, refused=True)
    assert inv.possible_states([c("p", "a"), refused]) == {"p": {"a"}}


def test_participants_nobody_asked_for_and_undeleted_events_are_caught() -> None:
    changes = [c("p", "a")]
    assert inv.no_unasked_participants(changes, {"c9"}, {"p": "a", "q": "c9"}) == []
    assert inv.no_unasked_participants(changes, set(), {"p": "a", "q": "c9"})
    assert inv.deleted_gone({"t": 404}) == []
    assert inv.deleted_gone({"t": 200})


def test_acked_changes_missing_on_kafka_are_caught() -> None:
    changes = [c("p", "a", version=4), c("p", None)]  # a delete names no version
    assert inv.changes_on_kafka(changes, {"tok": "E"}, {("E", 4)}) == []
    assert inv.changes_on_kafka(changes, {"tok": "E"}, set())


def test_one_broker_down_must_go_unnoticed() -> None:
    assert inv.unnoticed([a("ok", seconds=0.3)], converged_s=2.0) == []
    assert inv.unnoticed([a("ok", seconds=1.4)], converged_s=2.0)
    assert inv.unnoticed([a("ok")], converged_s=30.0)


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


def test_memory_is_compared_for_kept_processes_and_never_for_a_kafka_jvm() -> None:
    from chaos.run import same_process

    before = {"api-1": (10, 90.0, 100.0), "relay-1": (11, 80.0, 90.0), "kafka-2": (12, 170.0, 1)}
    after = {"api-1": (10, 95.0, 100.0), "relay-1": (99, 80.0, 90.0), "kafka-2": (12, 340.0, 1)}
    assert same_process(before, after) == ({"api-1": 90.0}, {"api-1": 95.0})
