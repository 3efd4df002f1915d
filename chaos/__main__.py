"""python -m chaos [--quick [--seed N]] [--soak SECONDS] [--only NAME ...] [--base-port P]

Starts a stack of its own (PostgreSQL, Redis, a 3-broker Kafka cluster, soketi on other
ports, data in .local/chaos; 2 API processes behind the gateway, 2 relays), puts it under
load, injects the faults one after another, checks the invariants after each, prints the
table (also written to results/) and stops the stack.
Exit status 1 when any invariant failed.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

from chaos.plan import FULL, QUICK, SOAK, fault_named, full_plan, quick_plan
from chaos.report import table
from chaos.run import run_plan
from chaos.stack import PORT_COUNT, ROOT, Stack, stack_env


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    p.add_argument("--quick", action="store_true", help="4 seeded faults, short (make test)")
    p.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", "1")))
    p.add_argument("--soak", type=float, metavar="SECONDS", help="no faults: a long mixed load")
    p.add_argument("--only", nargs="*", help='faults by name, e.g. "kill kafka-controller"')
    p.add_argument(
        "--base-port",
        type=int,
        help=f"first of its {PORT_COUNT} ports (CHAOS_BASE_PORT or 21400; soak +1000)",
    )
    p.add_argument("--home", type=Path, help="its data and logs (.local/chaos; soak .local/soak)")
    p.add_argument("--out", type=Path, default=ROOT / "results")
    a = p.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the checker's consumer, mid-fault

    base_port = a.base_port or int(os.environ.get("CHAOS_BASE_PORT", "21400")) + (
        1000 if a.soak else 0
    )
    home = a.home or ROOT / ".local" / ("soak" if a.soak else "chaos")
    plan = quick_plan(a.seed) if a.quick else full_plan()
    if a.only:
        plan = [fault_named(name) for name in a.only]
    timing = SOAK if a.soak else QUICK if a.quick else FULL
    what = f"soak {a.soak:.0f} s" if a.soak else f"{len(plan)} faults, seed {a.seed}"
    print(f"[chaos] {what}: starting the chaos stack (ports from {base_port})", flush=True)

    stack = Stack(stack_env(base_port, home.resolve()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the stack
    started = time.monotonic()
    try:
        stack.up()
        print(f"[chaos] stack up in {time.monotonic() - started:.0f} s", flush=True)
        results, memory = asyncio.run(run_plan(stack, plan, timing, a.seed, soak_s=a.soak or 0))
    finally:
        stack.down()
    header = f"# Chaos: {what} ({time.monotonic() - started:.0f} s)"
    report = table(results, memory, header)
    print(report)
    a.out.mkdir(parents=True, exist_ok=True)
    name = "soak" if a.soak else "chaos"
    (a.out / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(report)
    sys.exit(0 if all(r.ok for r in results) else 1)


if __name__ == "__main__":
    main()
