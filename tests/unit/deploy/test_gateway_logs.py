"""The gateway's access log never records keys: no key headers, no query strings."""

import re
import subprocess
from pathlib import Path

from launcher.local import APP_PORT_VARS
from launcher.services import stack_apps

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "deploy/gateway/overlap.conf.template"

# Variables that carry keys or could: request headers with credentials, and everything that
# includes the query string (a client may put a key there by mistake).
FORBIDDEN = {
    "http_authorization",
    "http_x_admin_key",
    "http_x_participant_key",
    "http_x_operator_key",
    "http_cookie",
    "request_uri",  # path + query string
    "request",  # the whole request line, query string included
    "args",
    "query_string",
    "is_args",
    "request_body",
}


def _directives(name: str) -> list[str]:
    """Every ``name ...;`` directive of the template (comments dropped, lines joined)."""
    text = "\n".join(line.split("#", 1)[0] for line in TEMPLATE.read_text().splitlines())
    return [m.group(1) for m in re.finditer(rf"(?m)^\s*{name}\s+([^;]*);", text)]


def _variables(log_format: str) -> set[str]:
    """The nginx variables a ``log_format`` directive's quoted strings use."""
    strings = "".join(re.findall(r"'([^']*)'", log_format))
    return set(re.findall(r"\$\{?([A-Za-z0-9_]+)", strings))


def _log_formats() -> dict[str, set[str]]:
    return {body.split()[0]: _variables(body) for body in _directives("log_format")}


def test_the_access_log_format_names_no_key_carrying_variable() -> None:
    formats = _log_formats()
    assert set(formats) == {"overlap_json"}
    variables = formats["overlap_json"]
    # The parse found the format's fields: the path and the status are logged.
    assert {"uri", "status", "request_method", "request_id"} <= variables
    assert not variables & FORBIDDEN, sorted(variables & FORBIDDEN)
    assert not {v for v in variables if v.startswith(("arg_", "cookie_", "sent_http_"))}
    assert not {v for v in variables if v.startswith("http_") and v != "http_user_agent"}


def test_every_access_log_uses_that_format() -> None:
    logs = _directives("access_log")
    assert logs, "the gateway has an access log"
    for directive in logs:
        parts = directive.split()
        assert parts == ["off"] or (len(parts) >= 2 and parts[1] == "overlap_json"), directive


def test_the_parser_would_see_a_forbidden_variable() -> None:
    """The check above can fail: the same parse finds $request_uri in the old format."""
    old = 'log_format x escape=json\n  \'{"uri":"$request_uri","k":"$http_x_admin_key"}\';'
    assert _variables(old) & FORBIDDEN == {"request_uri", "http_x_admin_key"}


APPS_SH = ROOT / "deploy/local/apps.sh"
ERROR_LINES = [
    "2026/11/30 11:13:41 [error] 7#7: *9 connect() failed (111: Connection refused) while"
    ' connecting to upstream, client: 127.0.0.1, server: , request: "GET'
    ' /api/events/abc?participant_key=SECRET&min_version=3 HTTP/1.1", upstream:'
    ' "http://127.0.0.1:8000/api/events/abc?participant_key=SECRET&min_version=3", host:'
    ' "127.0.0.1:8080", referrer: "http://page.example/e/x?admin_key=SECRET"',
    "2026/11/30 11:13:42 [error] 7#7: *10 limiting requests, excess: 200.5 by zone"
    ' "per_client", client: 127.0.0.1, server: , request: "PUT /api/x?k=SECRET HTTP/1.1",'
    ' host: "h"',
    # cut short by nginx's line limit, inside the query string
    "2026/11/30 11:13:43 [error] 7#7: *11 client intended to send too large body: 300000"
    ' bytes, client: 127.0.0.1, server: , request: "PUT /api/y?k=SECRETSECRETSECR',
]


def test_the_error_log_filter_cuts_every_query_string_and_keeps_the_paths() -> None:
    found = re.search(r"^QUERY_FILTER='([^']*)'", APPS_SH.read_text(), re.MULTILINE)
    assert found, "apps.sh defines QUERY_FILTER"
    out = subprocess.run(
        ["sed", "-E", found.group(1)],
        input="\n".join(ERROR_LINES) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "SECRET" not in out and "min_version" not in out
    assert 'request: "GET /api/events/abc HTTP/1.1"' in out
    assert 'upstream: "http://127.0.0.1:8000/api/events/abc"' in out
    assert 'referrer: "http://page.example/e/x"' in out
    assert 'request: "PUT /api/x HTTP/1.1"' in out
    assert 'request: "PUT /api/y' in out
    assert len(out.splitlines()) == len(ERROR_LINES)


STACK_PORTS = dict.fromkeys(APP_PORT_VARS, "20000")


def test_the_gateway_runs_with_its_error_log_through_the_filter() -> None:
    """nginx logs to stderr (the conf says so and -e overrides the built-in path), piped
    through the filter: nothing reaches a file unfiltered."""
    text = APPS_SH.read_text()
    assert "error_log stderr warn;" in text
    assert re.search(r'nginx -e stderr [^\n]*2>&1 \\\n\s*\| sed -u -E "\$QUERY_FILTER"', text)
    # apps.sh up starts the gateway through the launcher, as `apps.sh gateway` (the pipeline).
    assert '"$VENV_BIN/python" -m launcher up' in text
    (gateway,) = [
        a for a in stack_apps(STACK_PORTS, Path("home"), api_processes=1) if a.name == "gateway"
    ]
    assert gateway.argv == [str(APPS_SH), "gateway"]
