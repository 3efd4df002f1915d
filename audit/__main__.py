"""`make audit` entry point: check every lock, print the report, exit 1 on a finding that is
not waived (registry trouble is reported as NOT CHECKED and does not fail)."""

import asyncio
import sys
from datetime import date

from audit.registries import (
    AXE,
    SOKETI,
    WAIVERS,
    check_python,
    check_vendored,
    locked_python,
    npm_audit,
    python_export,
)
from audit.verdict import load_waivers, report


def main() -> int:
    waivers = load_waivers(WAIVERS)
    pins = locked_python(python_export())
    parts = [
        asyncio.run(check_python(pins)),
        npm_audit("npm", SOKETI, "deploy/local/soketi (package-lock.json)"),
        npm_audit("npm", AXE, "tests/e2e/axe (package-lock.json)"),
        check_vendored(),
    ]
    findings = [f for part in parts for f in part[0]]
    skipped = [s for part in parts for s in part[1]]
    checked = sum(part[2] for part in parts)
    lines, failed = report(findings, skipped, checked, waivers, date.today())
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
