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

    @property
    def name(self) -> str:
        return f"{self.action} {'+'.join(self.targets)}"

    @property
    def database_down(self) -> bool:
        return "postgres" in self.targets


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


def full_plan() -> list[Fault]:
    """Every component alone, killed and paused, then the pairs, killed and paused."""
    singles = [Fault((c,), a) for c in (*INFRA, *WORKERS) for a in ACTIONS]
    return singles + [Fault(pair, a) for pair in PAIRS for a in ACTIONS]


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
