"""Parsing what vegeta reports, and its JSON target lines."""

import base64
import json

import pytest

from bench.vegeta import Target, intended_latencies, parse_report

REPORT = json.dumps(
    {
        "latencies": {
            "total": 16573384,
            "mean": 331467,
            "50th": 292841,
            "90th": 449178,
            "95th": 471201,
            "99th": 1118995,
            "max": 1118995,
            "min": 214920,
        },
        "requests": 50,
        "rate": 51.1,
        "throughput": 50.9,
        "success": 0.98,
        "status_codes": {"200": 49, "503": 1},
        "errors": ["503 Service Unavailable"],
    }
)


def test_parse_report_converts_nanoseconds_to_milliseconds() -> None:
    r = parse_report(REPORT)
    assert r["requests"] == 50
    assert r["throughput"] == 50.9
    assert r["success"] == 0.98
    assert r["status_codes"] == {"200": 49, "503": 1}
    assert r["latency_ms"]["p50"] == pytest.approx(0.292841)
    assert r["latency_ms"]["p99"] == pytest.approx(1.118995)
    assert r["latency_ms"]["mean"] == pytest.approx(0.331467)
    assert r["errors"] == ["503 Service Unavailable"]


def test_parse_report_tolerates_an_empty_attack() -> None:
    r = parse_report('{"latencies": {}, "requests": 0, "status_codes": null, "errors": null}')
    assert r["requests"] == 0 and r["latency_ms"] == {} and r["status_codes"] == {}


def row(ts_ns: int, latency_ns: int, seq: int) -> list[str]:
    return [str(ts_ns), "200", str(latency_ns), "0", "10", "", "", "", str(seq), "GET", "u", ""]


def test_intended_latency_charges_a_late_send() -> None:
    # 10 req/s: hits every 100 ms; seq 2 was sent 50 ms late.
    rows = [
        row(1_000_000_000, 1_000_000, 0),
        row(1_100_000_000, 2_000_000, 1),
        row(1_250_000_000, 1_000_000, 2),
    ]
    lat, worst = intended_latencies(rows, rate=10)
    assert lat == pytest.approx([1.0, 2.0, 51.0])
    assert worst == pytest.approx(50.0)


def test_intended_latency_of_no_rows() -> None:
    assert intended_latencies([], rate=10) == ([], 0.0)


def test_target_line_is_vegeta_json_format() -> None:
    t = Target("PUT", "http://h/x", {"X-Participant-Key": "k"}, b'{"a":1}')
    doc = json.loads(t.line())
    assert doc == {
        "method": "PUT",
        "url": "http://h/x",
        "header": {"X-Participant-Key": ["k"]},
        "body": base64.b64encode(b'{"a":1}').decode(),
    }
    assert json.loads(Target("GET", "http://h/").line()) == {"method": "GET", "url": "http://h/"}
