"""Which faults a run injects, and for how long (pure).

Targets name one process or a group of them (chaos.stack.GROUPS): ``kafka`` is the whole
3-broker cluster, ``kafka-controller`` the active controller, ``kafka-broker`` a broker that
is not it, ``api`` both API processes, ``relay`` both relays."""

import random
from dataclasses import dataclass

INFRA = ("kafka", "redis", "soketi", "postgres")
WORKERS = ("relay", "availability", "invalidator", "notifier")
ONE_BROKER = ("kafka-controller", "kafka-broker")  # one of the three: the rest carry on
ONE_API = ("api-1", "api-2")  # one of the two: the gateway sends to the other
ACTIONS = ("kill", "pause")  # SIGKILL then restart; SIGSTOP then SIGCONT
KILL_EACH = "kill each"  # the group's processes one after another, each back before the next
PAIRS = (
    ("kafka", "redis"),
    ("postgres", "kafka"),
    ("postgres", "redis"),
    ("availability", "redis"),
    ("notifier", "soketi"),
    ("relay", "kafka"),
    ("availability", "invalidator"),
)


@dataclass(frozen=True)
class Fault:
    targets: tuple[str, ...]
    action: str
    hold_s: float | None = None  # how long it lasts, when not the timing's fault_s

    @property
    def name(self) -> str:
        held = f" for {self.hold_s:.0f} s" if self.hold_s else ""
        if self.action == KILL_EACH:
            return f"kill each {'+'.join(self.targets)} in turn{held}"
        return f"{self.action} {'+'.join(self.targets)}{held}"

    @property
    def database_down(self) -> bool:
        """PostgreSQL refuses connections: answers must be fast 503s (a paused one hangs
        connections instead, so there they must only come within the request timeout)."""
        return "postgres" in self.targets and self.action == "kill"

    @property
    def one_broker(self) -> bool:
        """One broker of three is down: nobody may notice (no request past 1 s, consumers
        keep up)."""
        return len(self.targets) == 1 and self.targets[0] in ONE_BROKER


@dataclass(frozen=True)
class Timing:
    steady_s: float  # load before the fault
    fault_s: float  # how long the fault lasts
    after_s: float  # load after recovery, before the checks
    converge_s: float  # the longest the invariants may take to hold again
    write_rate: float  # PUTs per second, all participants together
    read_rate: float  # GETs per second
    churn_rate: float = 2.0  # joins, renames, leaves, removals, event edits and deletes /s
    # One broker down: no request past 1 s, views current within 10 s. Timing: checked by
    # make chaos, not by the seeded run of make test (whose verdicts hold no timing).
    one_broker_limits: bool = False


FULL = Timing(
    steady_s=2,
    fault_s=6,
    after_s=3,
    converge_s=60,
    write_rate=20,
    read_rate=60,
    one_broker_limits=True,
)
QUICK = Timing(steady_s=1.5, fault_s=3, after_s=2, converge_s=60, write_rate=15, read_rate=40)
SOAK = Timing(steady_s=0, fault_s=0, after_s=0, converge_s=60, write_rate=20, read_rate=80)


LONG_PAUSE_S = 15  # longer than any timeout of the API's: requests must still get answers


def full_plan() -> list[Fault]:
    """Every component alone, killed and paused; one broker (the controller, another);
    one API process, both, the gateway, each relay in turn; then the pairs, killed and
    paused; then PostgreSQL and Redis paused for longer than the API waits for them."""
    singles = [Fault((c,), a) for c in (*INFRA, *WORKERS, *ONE_BROKER) for a in ACTIONS]
    processes = [Fault((p,), "kill") for p in ("api-1", "api", "gateway")]
    processes.append(Fault(("relay",), KILL_EACH))
    pairs = [Fault(pair, a) for pair in PAIRS for a in ACTIONS]
    long = [Fault((c,), "pause", LONG_PAUSE_S) for c in ("postgres", "redis")]
    return singles + processes + pairs + long


def quick_plan(seed: int) -> list[Fault]:
    """The seeded short run: one broker killed, one API process killed, one worker killed
    and one pause of anything, each drawn by ``seed``."""
    rng = random.Random(seed)
    return [
        Fault((rng.choice(ONE_BROKER),), "kill"),
        Fault((rng.choice(ONE_API),), "kill"),
        Fault((rng.choice(WORKERS),), "kill"),
        Fault((rng.choice((*INFRA, *WORKERS, *ONE_BROKER, "gateway")),), "pause"),
    ]


def fault_named(name: str) -> Fault:
    """The full plan's fault of that name, or "kill|pause TARGET[+TARGET]" (``--only``)."""
    for fault in full_plan():
        if fault.name == name:
            return fault
    action, _, targets = name.partition(" ")
    if action not in ACTIONS or not targets:
        raise ValueError(f"no fault named {name!r}")
    return Fault(tuple(targets.split("+")), action)
