"""Inject each fault of a plan under load, then check that everything converges."""

import asyncio
import time
from dataclasses import dataclass, field

from chaos import invariants as inv
from chaos.load import Load
from chaos.plan import KILL_EACH, Fault, Timing
from chaos.stack import Stack
from chaos.truth import Truth


@dataclass
class Result:
    fault: str
    requests: int
    errors: dict[str, int]
    errors_until_s: float  # after recovery began (restart or SIGCONT)
    slowest_s: float  # the longest any request took
    converged_s: float | None  # None: the invariants did not hold within the limit
    waited_on: list[str]  # the invariants that did not hold yet when the load stopped
    violations: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.converged_s is not None and not any(self.violations.values())


async def check(load: Load, truth: Truth, writes: list[inv.Write]) -> dict[str, list[str]]:
    """The convergence invariants, once."""
    versions = {t: v for t, v in (await truth.versions()).items() if t in load.event_ids}
    subjects, participants = await truth.stored_state(list(load.event_ids))
    churn = load.churn
    unconfirmed = churn.deleted - churn.confirmed_gone
    gone = {t: (await load.client.get(f"/api/events/{t}")).status_code for t in unconfirmed}
    churn.confirmed_gone |= {t for t, status in gone.items() if status == 404}
    return {
        "committed writes in PostgreSQL": inv.committed_writes(
            writes, await truth.stored_bits(), versions
        ),
        "committed changes in PostgreSQL": inv.changes_committed(load.changes, subjects, versions)
        + inv.no_unasked_participants(load.changes, churn.unanswered_joins, participants),
        "acked writes on Kafka": inv.reached_kafka(writes, load.event_ids, truth.seen)
        + inv.changes_on_kafka(load.changes, load.event_ids, truth.seen),
        "views in Redis current": inv.views_current(await truth.cached(load.tokens), versions),
        "pages current": inv.pages_current({p.token: p.version for p in load.pages}, versions),
        "deleted events gone": inv.deleted_gone(gone),
    }


async def converge(
    load: Load, truth: Truth, writes: list[inv.Write], limit_s: float
) -> tuple[float | None, dict[str, list[str]], list[str]]:
    """Check until the convergence invariants hold: (seconds it took or None, the last
    result, the checks that did not hold at first)."""
    started = time.monotonic()
    waited_on: list[str] | None = None
    while True:
        try:
            found = await check(load, truth, writes)
        except Exception as exc:  # a store still coming back
            found = {"stores reachable": [f"{type(exc).__name__}: {exc}"[:200]]}
        elapsed = time.monotonic() - started
        if waited_on is None:
            waited_on = [name for name, problems in found.items() if problems]
        if not any(found.values()):
            return elapsed, found, waited_on
        if elapsed > limit_s:
            return None, found, waited_on
        await asyncio.sleep(0.5)


async def supervise(stack: Stack) -> None:
    """Restart a process that died on its own (as an orchestrator would); it is reported."""
    while True:
        await asyncio.to_thread(stack.check_apps)
        await asyncio.sleep(1)


async def inject(stack: Stack, fault: Fault, timing: Timing, truth: Truth) -> float:
    """Apply the fault, hold it, undo it; returns when recovery began (monotonic)."""
    names = [n for target in fault.targets for n in stack.members(target)]
    hold = fault.hold_s or timing.fault_s
    if fault.action == KILL_EACH:
        return await kill_each(stack, names, hold / len(names), truth)
    stack.faulted.update(names)
    try:
        for name in names:
            await asyncio.to_thread(stack.kill if fault.action == "kill" else stack.pause, name)
        await asyncio.sleep(hold)
        recovery = time.monotonic()
        if fault.action == "kill":
            await asyncio.to_thread(stack.restart, names)
        else:
            for name in names:
                stack.resume(name)
    finally:
        stack.faulted.difference_update(names)
    return recovery


async def kill_each(stack: Stack, names: list[str], hold_s: float, truth: Truth) -> float:
    """Kill each process in turn, bringing it back before the next (a relay has no
    readiness probe: back means connected to PostgreSQL, waiting for the lock); returns
    when the last one's recovery began."""
    recovery = time.monotonic()
    for name in names:
        stack.faulted.add(name)
        try:
            await asyncio.to_thread(stack.kill, name)
            await asyncio.sleep(hold_s)
            recovery = time.monotonic()
            await asyncio.to_thread(stack.restart, [name])
        finally:
            stack.faulted.discard(name)
        deadline = time.monotonic() + 120
        while name.startswith("relay") and time.monotonic() < deadline:
            if await truth.relays_connected() >= len(names):
                break
            await asyncio.sleep(0.5)
    return recovery


Memory = dict[str, tuple[int, float, float]]  # component -> (main pid, PSS MiB, RSS MiB)


def same_process(before: Memory, after: Memory) -> tuple[dict[str, float], dict[str, float]]:
    """PSS before and after of the components whose main process was not replaced. Not
    the Kafka nodes: a JVM's heap fills up to its -Xmx (``KAFKA_HEAP``) over its first
    minutes, bounded by that, not by its size at the last fault."""
    kept = [
        n
        for n in before.keys() & after.keys()
        if before[n][0] == after[n][0] and not n.startswith("kafka")
    ]
    return {n: before[n][1] for n in kept}, {n: after[n][1] for n in kept}


async def scenario(stack: Stack, load: Load, truth: Truth, fault: Fault, timing: Timing) -> Result:
    memory_before = stack.memory()
    exits_before = len(stack.unexpected_exits)
    recording = load.start(timing.write_rate, timing.read_rate, timing.churn_rate)
    await asyncio.sleep(timing.steady_s)
    recovery = await inject(stack, fault, timing, truth)
    await asyncio.sleep(timing.after_s)
    await load.stop()
    converged, found, waited_on = await converge(load, truth, load.all_writes, timing.converge_s)
    answers = recording.answers
    found["no request hung"] = inv.no_hangs(answers)
    found["read-your-writes"] = inv.no_stale_reads(answers)
    found["only fast 503s"] = inv.only_503s(answers, fault.database_down)
    found["no unexpected exits"] = stack.unexpected_exits[exits_before:]
    found["memory bounded"] = inv.memory_bounded(*same_process(memory_before, stack.memory()))
    if fault.one_broker and timing.one_broker_limits:
        found["one broker down unnoticed"] = inv.unnoticed(answers, converged)
    return Result(
        fault.name,
        len(answers),
        inv.errors_by_kind(answers),
        inv.errors_until(answers, recovery),
        max((a.seconds for a in answers), default=0.0),
        converged,
        waited_on,
        found,
    )


async def run_plan(
    stack: Stack, plan: list[Fault], timing: Timing, seed: int, *, soak_s: float = 0
) -> tuple[list[Result], dict[str, tuple[float, ...]]]:
    """Run every fault in turn (or, with ``soak_s``, one long stretch with no fault);
    also returns each component's (PSS, RSS) at the start and (PSS, RSS) at the end."""
    load = Load(stack.api_url, pusher_of(stack), seed)
    truth = Truth(stack)
    supervisor = asyncio.create_task(supervise(stack))
    try:
        await load.setup(events=4, participants=5)
        await asyncio.sleep(1)  # pages subscribed
        start_memory = stack.memory()
        if soak_s:
            results = [await soak(stack, load, truth, timing, soak_s)]
        else:
            results = []
            for fault in plan:
                results.append(await scenario(stack, load, truth, fault, timing))
                print(f"[chaos] {fault.name}: {verdict(results[-1])}", flush=True)
        end_memory = stack.memory()
    finally:
        supervisor.cancel()
        await load.close()
        await truth.close()
    both = sorted(start_memory.keys() & end_memory.keys())
    return results, {n: (*start_memory[n][1:], *end_memory[n][1:]) for n in both}


async def soak(stack: Stack, load: Load, truth: Truth, timing: Timing, seconds: float) -> Result:
    """Mixed load with no fault: no error at all, memory flat after the first minute."""
    recording = load.start(timing.write_rate, timing.read_rate, timing.churn_rate)
    warm = min(60.0, seconds / 5)
    await asyncio.sleep(warm)
    warmed = stack.memory()
    await asyncio.sleep(seconds - warm)
    await load.stop()
    converged, found, waited_on = await converge(load, truth, load.all_writes, timing.converge_s)
    errors = inv.errors_by_kind(recording.answers)
    found["no error"] = [f"{errors}"] if errors else []
    found["no unexpected exits"] = list(stack.unexpected_exits)
    found["memory flat"] = inv.memory_bounded(
        *same_process(warmed, stack.memory()), inv.MEMORY_FLAT
    )
    return Result(
        f"soak {seconds:.0f} s",
        len(recording.answers),
        errors,
        0.0,
        max((a.seconds for a in recording.answers), default=0.0),
        converged,
        waited_on,
        found,
    )


def verdict(result: Result) -> str:
    """One line of progress: ok, or what failed."""
    if result.ok:
        return "ok"
    failed = [f"{name}: {problems[:2]}" for name, problems in result.violations.items() if problems]
    return "FAILED " + ("; ".join(failed) or "did not converge")[:600]


def pusher_of(stack: Stack) -> dict[str, str]:
    return {
        "host": "127.0.0.1",
        "port": stack.env["SOKETI_PORT"],  # pages connect to soketi directly
        "key": stack.env.get("PUSHER_KEY", "overlap-local-key"),
    }
