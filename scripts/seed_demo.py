"""Create a demo event with a few participants and their availability, through the HTTP API.

    .venv/bin/python scripts/seed_demo.py [BASE_URL]     # default http://127.0.0.1:8080

Prints the page URL (``BASE_URL/e/<token>``) and the organiser's admin key. Only public API
calls are used, so it works against the gateway, an API process or a deployed instance.
"""

import argparse
import sys
from datetime import date, timedelta

import httpx

DEFAULT_BASE = "http://127.0.0.1:8080"
SLOTS_PER_DAY = 16  # 09:00-17:00 in 30-minute slots
DAYS = 5

# name -> (available, if needed) as (day, first slot, last slot exclusive) blocks
PEOPLE: dict[str, tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]] = {
    "Ada": ([(0, 0, 8), (1, 2, 12), (3, 0, 16)], [(2, 4, 8)]),
    "Grace": ([(0, 4, 12), (1, 6, 16), (3, 4, 10)], [(4, 0, 6)]),
    "Linus": ([(1, 4, 10), (3, 2, 12), (4, 8, 16)], [(0, 6, 10)]),
    "Margaret": ([(1, 0, 8), (2, 0, 16), (3, 6, 14)], [(1, 8, 12)]),
}


def ranges(blocks: list[tuple[int, int, int]]) -> list[list[int]]:
    return [[d * SLOTS_PER_DAY + s, d * SLOTS_PER_DAY + e] for d, s, e in blocks]


def seed(base: str, client: httpx.Client) -> tuple[str, str]:
    first = date.today() + timedelta(days=1)
    created = client.post(
        f"{base}/api/events",
        json={
            "title": "Overlap demo: team offsite planning",
            "description": "Seeded by scripts/seed_demo.py. Join with your name and paint.",
            "timezone": "Europe/Berlin",
            "dates": [(first + timedelta(days=k)).isoformat() for k in range(DAYS)],
            "day_start": "09:00",
            "day_end": "17:00",
            "slot_minutes": 30,
        },
    )
    created.raise_for_status()
    token, admin_key = created.json()["token"], created.json()["admin_key"]
    for name, (available, if_needed) in PEOPLE.items():
        joined = client.post(f"{base}/api/events/{token}/participants", json={"name": name})
        joined.raise_for_status()
        key = joined.json()["participant_key"]
        client.put(
            f"{base}/api/events/{token}/participants/me/availability",
            json={"available": ranges(available), "if_needed": ranges(if_needed)},
            headers={"X-Participant-Key": key},
        ).raise_for_status()
    return token, admin_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", nargs="?", default=DEFAULT_BASE)
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    try:
        with httpx.Client(timeout=10) as client:
            token, admin_key = seed(base, client)
    except httpx.HTTPError as exc:
        print(f"seed_demo: could not seed {base}: {exc}", file=sys.stderr)
        return 1
    print(f"  demo event   {base}/e/{token}")
    print(f"  organiser    {base}/e/{token}#admin={admin_key}")
    print(f"  admin key    {admin_key}   (header X-Admin-Key)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
