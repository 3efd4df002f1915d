"""Browser security headers and CORS through the real nginx gateway (deploy/local/apps.sh,
the template compose uses too): every header on the page (`/`, `/e/<token>`), its files,
the API's answers and problems, and the API's own 429s; CORS_ORIGINS allows a listed
origin and no other."""

from collections.abc import Iterator

import httpx
import pytest

from launcher.local import app_stack
from tests.conftest import Services

FRONTEND = "https://frontend.example"
CREATE_LIMIT = 2
EVENT = {
    "title": "Headers",
    "timezone": "Europe/Berlin",
    "dates": ["2026-12-01"],
    "day_start": "09:00",
    "day_end": "11:00",
    "slot_minutes": 30,
}
PLAIN = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.fixture(scope="module")
def gateway(
    services: Services, migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    extra = {"CORS_ORIGINS": FRONTEND, "RATE_CREATE_EVENT_PER_MINUTE": str(CREATE_LIMIT)}
    with app_stack(tmp_path_factory.mktemp("headers-stack"), services.database_url, **extra) as url:
        yield url


@pytest.fixture(scope="module")
def token(gateway: str) -> str:
    created = httpx.post(f"{gateway}/api/events", json=EVENT, timeout=10)
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


def directives(answer: httpx.Response) -> dict[str, str]:
    policies = answer.headers.get_list("content-security-policy")
    assert len(policies) == 1, policies  # one policy, never a second one from another level
    parts = (p.strip().split(" ", 1) for p in policies[0].split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def assert_secure(answer: httpx.Response, gateway: str) -> None:
    for name, value in PLAIN.items():
        assert answer.headers.get_list(name) == [value], (answer.url, name)
    csp = directives(answer)
    host = gateway.removeprefix("http://")
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["connect-src"].split() == ["'self'", f"ws://{host}", f"wss://{host}"]
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
    assert "unsafe" not in answer.headers["content-security-policy"]
    features = answer.headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in features
    assert "strict-transport-security" not in answer.headers  # plain HTTP: never HSTS
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/e/{token}",
        "/js/app.js",
        "/vendor/pusher.min.js",
        "/api/healthz",
        "/api/events/{token}",
        "/api/events/{token}/best-times",
        "/api/events/{token}/calendar.ics",  # a 409 problem: not finalized
        "/api/events/AAAAAAAAAAAAAAAAAAAAAAAA",  # a 404 problem
    ],
)
def test_every_answer_carries_the_security_headers(gateway: str, token: str, path: str) -> None:
    answer = httpx.get(gateway + path.format(token=token), timeout=10)
    assert answer.status_code in (200, 404, 409), answer.text
    assert_secure(answer, gateway)


def test_the_page_is_the_page(gateway: str, token: str) -> None:
    page = httpx.get(f"{gateway}/e/{token}", timeout=10)
    assert page.status_code == 200 and '<script type="module" src="/js/app.js">' in page.text


def test_hsts_only_over_tls(gateway: str) -> None:
    behind_tls = httpx.get(f"{gateway}/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    hsts = behind_tls.headers.get_list("strict-transport-security")
    assert hsts == ["max-age=31536000; includeSubDomains"]


def test_the_api_docs_have_their_own_policy(gateway: str) -> None:
    docs = httpx.get(f"{gateway}/api/docs", timeout=10)
    assert docs.status_code == 200
    csp = directives(docs)
    assert "https://cdn.jsdelivr.net" in csp["script-src"] and csp["frame-ancestors"] == "'none'"


def test_the_apis_429_passes_through_and_a_made_up_client_address_does_not_help(
    gateway: str,
) -> None:
    """The gateway replaces X-Forwarded-For with the peer's address: every request below is
    the same client, whatever it claims (earlier tests here may have created one event)."""
    answers = []
    for i in range(CREATE_LIMIT + 1):
        claimed = {"X-Forwarded-For": f"192.0.2.{i + 1}"}
        answers.append(httpx.post(f"{gateway}/api/events", json=EVENT, headers=claimed, timeout=10))
    codes = [a.status_code for a in answers]
    assert set(codes) <= {201, 429} and codes[-1] == 429, codes
    assert codes.count(201) <= CREATE_LIMIT, codes
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "event creations per minute" in refused.json()["detail"]
    assert_secure(refused, gateway)


def preflight(gateway: str, token: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{gateway}/api/events/{token}/participants",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )


def test_cors_allows_a_listed_origin(gateway: str, token: str) -> None:
    allowed = preflight(gateway, token, FRONTEND)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == FRONTEND
    assert "POST" in allowed.headers["access-control-allow-methods"]
    read = httpx.get(f"{gateway}/api/events/{token}", headers={"Origin": FRONTEND}, timeout=10)
    assert read.headers["access-control-allow-origin"] == FRONTEND


def test_cors_refuses_an_unlisted_origin(gateway: str, token: str) -> None:
    refused = preflight(gateway, token, "https://evil.example")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    read = httpx.get(
        f"{gateway}/api/events/{token}", headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert "access-control-allow-origin" not in read.headers
