"""Write the AsyncAPI documents FastStream generates for Overlap's topics.

One document per service: the API's (what it publishes on the domain topic, with the event
catalog's schema) and each worker's (what it consumes and publishes). Used by
``make asyncapi``; the output folder is not committed.
"""

import sys
from pathlib import Path

from faststream.specification import AsyncAPI
from overlap_availability.app import create_app as availability_app
from overlap_availability.settings import Settings as AvailabilitySettings
from overlap_invalidator.app import create_app as invalidator_app
from overlap_invalidator.settings import Settings as InvalidatorSettings
from overlap_notifier.app import create_app as notifier_app
from overlap_notifier.settings import Settings as NotifierSettings
from overlap_shared import events
from overlap_shared.settings import ServiceSettings
from overlap_shared.worker import create_broker


def api_document() -> str:
    settings = ServiceSettings()
    broker = create_broker(settings, "api")
    broker.publisher(
        settings.domain_topic,
        title="to_domain_events",
        description="Domain events relayed from the outbox; key = event id, ordered per event.",
        schema=events.DomainEvent,
    )
    spec = AsyncAPI(broker, title="overlap-api", description="Publishes the domain events")
    return spec.to_specification().to_json()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/asyncapi")
    out.mkdir(parents=True, exist_ok=True)
    (out / "api.json").write_text(api_document())
    workers = {
        "availability": availability_app(AvailabilitySettings()),
        "cache-invalidator": invalidator_app(InvalidatorSettings()),
        "notifier": notifier_app(NotifierSettings()),
    }
    for name, app in workers.items():
        (out / f"{name}.json").write_text(app.schema.to_specification().to_json())
    print(f"AsyncAPI documents written to {out}/")


if __name__ == "__main__":
    main()
