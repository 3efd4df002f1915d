"""The audit's verdict (scripts/audit.py): findings against the waivers file, and the report.

A waiver names a finding (its advisory id, and optionally the package) with a reason and
an expiry date. An expired waiver waives nothing: the finding fails the audit again until
it is fixed or the waiver is renewed with a new reason. Pure functions; no network.
"""

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    ecosystem: str  # pypi, npm (soketi's lock) or vendored (deploy/web/vendor)
    package: str
    version: str
    id: str  # the advisory: PYSEC-..., GHSA-..., CVE-...
    summary: str
    fixed_in: str


@dataclass(frozen=True)
class NotChecked:
    ecosystem: str
    what: str
    why: str


@dataclass(frozen=True)
class Waiver:
    id: str
    package: str
    reason: str
    expires: date

    def covers(self, finding: Finding) -> bool:
        return self.id == finding.id and self.package in ("", finding.package)


def load_waivers(path: Path) -> list[Waiver]:
    """The waivers file; a waiver without a reason or an expiry date is refused."""
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text()).get("waiver", [])
    waivers = []
    for entry in entries:
        reason, expires = str(entry.get("reason", "")).strip(), entry.get("expires")
        if not entry.get("id") or not reason or not isinstance(expires, date):
            raise ValueError(f"{path.name}: a waiver needs id, reason and expires: {entry}")
        waivers.append(Waiver(str(entry["id"]), str(entry.get("package", "")), reason, expires))
    return waivers


def report(
    findings: list[Finding],
    skipped: list[NotChecked],
    checked: int,
    waivers: list[Waiver],
    today: date,
) -> tuple[list[str], bool]:
    """The report's lines, and whether the audit failed (an unwaived or expired finding)."""
    lines, failed = [], False
    for f in sorted(findings, key=lambda f: (f.ecosystem, f.package, f.id)):
        waiver = next((w for w in waivers if w.covers(f)), None)
        what = f"{f.ecosystem} {f.package} {f.version} {f.id}: {f.summary}"
        fix = f" (fixed in {f.fixed_in})" if f.fixed_in else ""
        if waiver and waiver.expires >= today:
            lines.append(f"WAIVED      {what} -- until {waiver.expires}: {waiver.reason}")
        elif waiver:
            failed = True
            lines.append(f"FINDING     {what}{fix} -- waiver EXPIRED on {waiver.expires}")
        else:
            failed = True
            lines.append(f"FINDING     {what}{fix}")
    for s in skipped:
        lines.append(f"NOT CHECKED {s.ecosystem} {s.what}: {s.why}")
    for w in waivers:
        if not any(w.covers(f) for f in findings):
            lines.append(
                f"STALE       waiver {w.id} ({w.package or 'any package'}): no such finding"
            )
    by_ecosystem: dict[str, int] = {}
    for s in skipped:
        by_ecosystem[s.ecosystem] = by_ecosystem.get(s.ecosystem, 0) + 1
    not_checked = ", ".join(f"{n} {e}" for e, n in sorted(by_ecosystem.items())) or "none"
    lines.append(
        f"audit: {checked} checked, NOT CHECKED: {not_checked}; {len(findings)} finding(s), "
        f"{'FAILED' if failed else 'no unwaived finding'}"
    )
    return lines, failed
