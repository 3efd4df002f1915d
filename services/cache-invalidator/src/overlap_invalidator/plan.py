"""Pure planning of a batch for the invalidator: per event the highest version (its new
floor) and the union of the tags its messages dirty, and the users whose pages are dirty."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from overlap_shared import events
from overlap_shared.intake import Inbound

from overlap_invalidator.table import tags_for


@dataclass
class Plan:
    events: dict[str, tuple[int, list[str]]] = field(default_factory=dict)  # token -> work
    users: list[str] = field(default_factory=list)
    occurred_at: list[float] = field(default_factory=list)  # for the latency histogram

    @property
    def meta_changed(self) -> list[str]:
        """Tokens whose metadata the API processes must forget (their L1)."""
        return [token for token, (_, tags) in self.events.items() if "meta" in tags]


def plan_batch(inbound: Sequence[Inbound[events.DomainEvent]]) -> Plan:
    floors: dict[str, int] = {}
    dirty: dict[str, set[str]] = {}
    users: set[str] = set()
    for item in inbound:
        head = item.head
        tags, dirty_users = tags_for(head.type, item.message)
        floors[head.token] = max(floors.get(head.token, 0), head.version)
        dirty.setdefault(head.token, set()).update(tags)
        users.update(dirty_users)
    return Plan(
        {token: (version, sorted(dirty[token])) for token, version in floors.items()},
        sorted(users),
        [item.head.occurred_at.timestamp() for item in inbound],
    )
