"""Which node of the chaos stack's KRaft cluster is the active controller, read from the
nodes' logs (a client's metadata names a random broker as "controller" under KRaft; the
Raft state changes each node logs are the truth). Pure."""

import re
from collections.abc import Iterable

# "[<time>] INFO [RaftManager id=2] Completed transition to Leader(..." on the new leader,
# "... Completed transition to FollowerState(fetchTimeoutMs=.., epoch=3, leader=2, ..." on
# the others.
_TRANSITION = re.compile(
    r"^\[(?P<time>[^\]]+)\] INFO \[RaftManager id=(?P<node>\d+)\] Completed transition to "
    r"(?:(?P<leader>Leader)\(|FollowerState\(.*?\bleader=(?P<followed>\d+))"
)


def active_controller(lines: Iterable[str]) -> int | None:
    """The node id named leader by the latest transition in ``lines`` (None: none yet)."""
    latest: tuple[str, int] | None = None
    for line in lines:
        m = _TRANSITION.match(line)
        if m is None:
            continue
        leader = int(m["node"]) if m["leader"] else int(m["followed"])
        if latest is None or m["time"] >= latest[0]:
            latest = (m["time"], leader)
    return None if latest is None else latest[1]
