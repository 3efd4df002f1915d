"""`make audit`'s verdict: lock parsing, what PyPI and npm answers mean, waivers that expire,
and that registry trouble is NOT CHECKED (never clean, never a failure)."""

import asyncio
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest

from audit.registries import check_one, locked_python, npm_findings, pypi_verdict
from audit.verdict import Finding, NotChecked, Waiver, load_waivers, report

TODAY = date(2026, 11, 30)
VULN = {"id": "PYSEC-2026-1", "summary": "bad", "fixed_in": ["2.0.1"], "withdrawn": None}
FINDING = Finding("pypi", "pkg", "2.0.0", "PYSEC-2026-1", "bad", "2.0.1")


def test_the_export_gives_name_and_version_without_markers_or_comments() -> None:
    export = (
        "# header\n-e ./shared\naiokafka==0.14.0\n    # via x\n"
        "uvloop==0.22 ; sys_platform != 'win32'\n"
    )
    assert locked_python(export) == [("aiokafka", "0.14.0"), ("uvloop", "0.22")]


def test_pypi_answers_for_the_locked_version_or_says_why_not() -> None:
    doc = {"info": {"version": "2.0.0"}, "vulnerabilities": [VULN]}
    assert pypi_verdict("pkg", "2.0.0", doc, per_version=True) == [FINDING]
    assert pypi_verdict("pkg", "2.0.0", doc, per_version=False) == [FINDING]  # is the latest
    older = pypi_verdict("pkg", "1.9.0", doc, per_version=False)
    assert isinstance(older, str) and "only for the latest release (2.0.0)" in older
    withdrawn = {"info": {"version": "2.0.0"}, "vulnerabilities": [{**VULN, "withdrawn": "x"}]}
    assert pypi_verdict("pkg", "2.0.0", withdrawn, per_version=True) == []
    assert isinstance(pypi_verdict("pkg", "2.0.0", {"info": {}}, per_version=True), str)


def test_npm_advisories_become_findings() -> None:
    answer = {
        "vulnerabilities": {
            "ws": {
                "via": [
                    {
                        "source": 1098392,
                        "title": "DoS",
                        "url": "https://github.com/advisories/GHSA-3h5v-q93c-6h6q",
                        "severity": "high",
                        "range": ">=8.0.0 <8.17.1",
                    }
                ]
            },
            "uws": {"via": ["ws"]},  # vulnerable through ws: no advisory of its own
        }
    }
    [found] = npm_findings("npm", answer)
    assert (found.package, found.id) == ("ws", "GHSA-3h5v-q93c-6h6q")


def test_an_unwaived_finding_fails_and_a_valid_waiver_passes() -> None:
    lines, failed = report([FINDING], [], 1, [], TODAY)
    assert failed and lines[0].startswith("FINDING") and "fixed in 2.0.1" in lines[0]
    waiver = Waiver("PYSEC-2026-1", "pkg", "not reachable from our code", date(2026, 12, 31))
    lines, failed = report([FINDING], [], 1, [waiver], TODAY)
    assert not failed and lines[0].startswith("WAIVED") and "not reachable" in lines[0]


def test_an_expired_waiver_waives_nothing() -> None:
    waiver = Waiver("PYSEC-2026-1", "", "was fine last month", date(2026, 11, 29))
    lines, failed = report([FINDING], [], 1, [waiver], TODAY)
    assert failed and "EXPIRED on 2026-11-29" in lines[0]


def test_what_was_not_checked_is_said_and_does_not_fail() -> None:
    skipped = [NotChecked("npm", "deploy/local/soketi", "405 from the audit endpoint")]
    lines, failed = report([], skipped, 90, [], TODAY)
    assert not failed
    assert "NOT CHECKED npm deploy/local/soketi: 405 from the audit endpoint" in lines
    assert lines[-1].startswith("audit: 90 checked, NOT CHECKED: 1 npm")
    clean_lines, _ = report([], [], 90, [], TODAY)
    assert "NOT CHECKED: none" in clean_lines[-1]


def test_waivers_need_a_reason_and_an_expiry(tmp_path: Path) -> None:
    good = tmp_path / "ok.toml"
    good.write_text('[[waiver]]\nid = "GHSA-1"\nreason = "why"\nexpires = 2027-01-31\n')
    assert load_waivers(good) == [Waiver("GHSA-1", "", "why", date(2027, 1, 31))]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[waiver]]\nid = "GHSA-1"\nexpires = 2027-01-31\n')
    with pytest.raises(ValueError, match="needs id, reason and expires"):
        load_waivers(bad)
    assert load_waivers(tmp_path / "missing.toml") == []


def test_the_repository_waivers_file_loads() -> None:
    root = Path(__file__).resolve().parents[3]
    for waiver in load_waivers(root / "audit-waivers.toml"):
        assert waiver.reason and waiver.expires


def answer_with(handler: Callable[[httpx.Request], httpx.Response]) -> list[Finding] | str:
    async def run() -> list[Finding] | str:
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(transport=transport) as client:
            return await check_one(client, "pkg", "2.0.0")

    return asyncio.run(run())


def test_a_registry_time_out_is_not_checked_and_a_404_falls_back_to_the_project() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    verdict = answer_with(time_out)
    assert isinstance(verdict, str) and "PyPI did not answer: ConnectTimeout" in verdict

    def project_only(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/pypi/pkg/json":
            return httpx.Response(
                200, json={"info": {"version": "2.0.0"}, "vulnerabilities": [VULN]}
            )
        return httpx.Response(404)

    assert answer_with(project_only) == [FINDING]
