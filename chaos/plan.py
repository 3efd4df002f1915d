"""Which faults a run injects, and for how long (pure)."""

import random
from dataclasses import dataclass

INFRA = ("kafka", "redis", "soketi", "postgres")
WORKERS = ("relay", "availability", "invalidator", "notifier")
ACTIONS = ("kill", "pause")  # SIGKILL then restart; SIGSTOP then SIGCONT
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
        return f"{self.action} {'+'.join(self.targets)}{held}"

    @property
    def database_down(self) -> bool:
        """PostgreSQL refuses connections: answers must be fast 503s (a paused one hangs
        connections instead, so there they must only come within the request timeout)."""
        return "postgres" in self.targets and self.action == "kill"


@dataclass(frozen=True)
class Timing:
    steady_s: float  # load before the fault
    fault_s: float  # how long the fault lasts
    after_s: float  # load after recovery, before the checks
    converge_s: float  # the longest the invariants may take to hold again
    write_rate: float  # PUTs per second, all participants together
    read_rate: float  # GETs per second


FULL = Timing(steady_s=2, fault_s=6, after_s=3, converge_s=60, write_rate=20, read_rate=60)
QUICK = Timing(steady_s=1.5, fault_s=3, after_s=2, converge_s=60, write_rate=15, read_rate=40)
SOAK = Timing(steady_s=0, fault_s=0, after_s=0, converge_s=60, write_rate=20, read_rate=80)


LONG_PAUSE_S = 15  # longer than any timeout of the API's: requests must still get answers


def full_plan() -> list[Fault]:
    """Every component alone, killed and paused, then the pairs, killed and paused, then
    PostgreSQL and Redis paused for longer than the API waits for them."""
    singles = [Fault((c,), a) for c in (*INFRA, *WORKERS) for a in ACTIONS]
    pairs = [Fault(pair, a) for pair in PAIRS for a in ACTIONS]
    long = [Fault((c,), "pause", LONG_PAUSE_S) for c in ("postgres", "redis")]
    return singles + pairs + long


def quick_plan(seed: int) -> list[Fault]:
    """The seeded short run: one infrastructure kill, one worker kill, one pause of
    anything and one pair, each drawn by ``seed``."""
    rng = random.Random(seed)
    return [
        Fault((rng.choice(INFRA),), "kill"),
        Fault((rng.choice(WORKERS),), "kill"),
        Fault((rng.choice((*INFRA, *WORKERS)),), "pause"),
        Fault(rng.choice(PAIRS), rng.choice(ACTIONS)),
    ]
