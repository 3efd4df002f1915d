"""What the registries say about the locked dependencies (``python -m audit``).

What is checked:
- the Python lock (``uv export --frozen`` of every workspace package), against PyPI's JSON
  API: ``/pypi/<name>/<version>/json`` when the registry serves it, else the project
  endpoint, whose ``vulnerabilities`` are those of the latest release, so they answer only
  when the locked version is the latest;
- the npm locks of the local stack's soketi and of the page test's axe-core runner
  (``npm audit --package-lock-only``);
- the vendored pusher-js (``npm audit`` of a one-package lock of its version).

What a registry cannot answer (an endpoint it does not serve, a time-out, an error) is
reported as NOT CHECKED, never as clean. A finding fails the audit unless a waiver in
``audit-waivers.toml`` names it with a reason and an expiry date that has not passed.
Exit status: 0 no unwaived finding (some may be not checked), 1 an unwaived finding or a
bad or expired waiver. Registry trouble alone never fails it, so CI is not made flaky.
"""

import asyncio
import json
import subprocess
import tempfile
from pathlib import Path

import httpx

from audit.verdict import Finding, NotChecked

ROOT = Path(__file__).resolve().parents[1]
SOKETI = ROOT / "deploy" / "local" / "soketi"
AXE = ROOT / "tests" / "e2e" / "axe"  # the page test's axe-core runner
PUSHER_JS = ROOT / "deploy" / "web" / "vendor" / "pusher.min.js"
WAIVERS = ROOT / "audit-waivers.toml"
PYPI = "https://pypi.org/pypi"
TIMEOUT_S = 20.0
CONCURRENCY = 8


Result = tuple[list[Finding], list[NotChecked], int]  # findings, not checked, checked


def locked_python(export: str) -> list[tuple[str, str]]:
    """(name, version) pairs of ``uv export`` requirement lines (comments, markers dropped)."""
    pins = []
    for line in export.splitlines():
        spec = line.split(";", 1)[0].strip()
        if spec and not spec.startswith(("#", "-")) and "==" in spec:
            name, version = spec.split("==", 1)
            pins.append((name.strip(), version.strip()))
    return pins


def pypi_verdict(name: str, version: str, doc: dict, *, per_version: bool) -> list[Finding] | str:
    """Findings from a PyPI JSON document, or why it cannot answer for ``version``."""
    latest = str(doc.get("info", {}).get("version", ""))
    if not per_version and latest != version:
        return f"PyPI here answers only for the latest release ({latest}), locked {version}"
    if "vulnerabilities" not in doc:
        return "PyPI's answer carries no vulnerability data"
    return [
        Finding(
            "pypi",
            name,
            version,
            str(v["id"]),
            str(v.get("summary") or v.get("details", ""))[:120],
            ",".join(v.get("fixed_in") or []),
        )
        for v in doc["vulnerabilities"]
        if not v.get("withdrawn")
    ]


async def check_one(client: httpx.AsyncClient, name: str, version: str) -> list[Finding] | str:
    try:
        answer = await client.get(f"{PYPI}/{name}/{version}/json")
        if answer.status_code == 404:
            answer = await client.get(f"{PYPI}/{name}/json")
            answer.raise_for_status()
            return pypi_verdict(name, version, answer.json(), per_version=False)
        answer.raise_for_status()
        return pypi_verdict(name, version, answer.json(), per_version=True)
    except (httpx.HTTPError, ValueError) as exc:
        return f"PyPI did not answer: {type(exc).__name__}: {str(exc)[:80]}"


async def check_python(pins: list[tuple[str, str]]) -> Result:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=True) as client:

        async def one(name: str, version: str) -> list[Finding] | str:
            async with gate:
                return await check_one(client, name, version)

        verdicts = await asyncio.gather(*(one(n, v) for n, v in pins))
    findings: list[Finding] = []
    skipped: list[NotChecked] = []
    for (name, version), verdict in zip(pins, verdicts, strict=True):
        if isinstance(verdict, str):
            skipped.append(NotChecked("pypi", f"{name}=={version}", verdict))
        else:
            findings += verdict
    return findings, skipped, len(pins) - len(skipped)


def npm_findings(ecosystem: str, report_json: dict) -> list[Finding]:
    """Findings of an ``npm audit --json`` report (advisories under ``via``)."""
    found = []
    for name, entry in (report_json.get("vulnerabilities") or {}).items():
        for via in entry.get("via", []):
            if isinstance(via, dict):  # a string names another vulnerable package instead
                advisory = str(via.get("url", "")).rsplit("/", 1)[-1] or str(via.get("source"))
                summary = f"{via.get('severity', '?')}: {via.get('title', '')}"[:120]
                found.append(
                    Finding(ecosystem, name, str(via.get("range", "")), advisory, summary, "")
                )
    return found


def npm_audit(ecosystem: str, folder: Path, what: str) -> Result:
    try:
        run = subprocess.run(
            ["npm", "audit", "--json", "--package-lock-only", "--audit-level=none"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        report_json = json.loads(run.stdout or "{}")
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        return [], [NotChecked(ecosystem, what, f"npm audit did not run: {exc}"[:160])], 0
    if "error" in report_json or "vulnerabilities" not in report_json:
        error = report_json.get("error") or {}
        why = str(error.get("summary") or report_json.get("message") or run.stderr.strip())
        return [], [NotChecked(ecosystem, what, f"npm's audit endpoint: {why}"[:160])], 0
    return npm_findings(ecosystem, report_json), [], 1


def vendored_pusher_version() -> str:
    text = PUSHER_JS.read_text(errors="replace")
    start = text.index('"8.') if '"8.' in text else -1
    return text[start + 1 : text.index('"', start + 1)] if start >= 0 else "unknown"


def check_vendored() -> Result:
    version = vendored_pusher_version()
    lock = {
        "name": "vendored",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"dependencies": {"pusher-js": version}},
            "node_modules/pusher-js": {"version": version},
        },
    }
    with tempfile.TemporaryDirectory(prefix="overlap-audit-") as folder:
        Path(folder, "package.json").write_text(
            json.dumps({"name": "vendored", "dependencies": {"pusher-js": version}})
        )
        Path(folder, "package-lock.json").write_text(json.dumps(lock))
        return npm_audit("vendored", Path(folder), f"deploy/web/vendor pusher-js@{version}")


def python_export() -> str:
    args = ["uv", "export", "--frozen", "--all-packages", "--no-hashes", "--no-emit-workspace"]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True).stdout
