"""What every browser test needs: Debian's Chromium (driven by Playwright), the whole stack
behind the gateway, guards that fail a test on page errors and CSP violations, waits that
work under the page's CSP, and the painting gestures (mouse drag, saved state)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from launcher.local import app_stack
from tests.conftest import Services
from tests.servers import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def gateway(
    services: Services, migrated: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if os.environ.get("OVERLAP_E2E_GATEWAY"):  # a stack that is already running
        yield os.environ["OVERLAP_E2E_GATEWAY"].rstrip("/")
        return
    with app_stack(tmp_path_factory.mktemp("browser-stack"), services.database_url) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser test needs the `playwright` package (dev dependency)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


# Records every CSP violation the page sees (the event fires for blocked scripts, styles,
# connections and frames alike); runs before the page's own scripts.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def guard(page: Any, label: str, errors: list[str]) -> None:
    """Collect the page's uncaught errors and CSP violations (console and DOM event)."""
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.on("pageerror", lambda exc: errors.append(f"{label}: {exc}"))

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            errors.append(f"{label}: CSP: {message.text}")

    page.on("console", on_console)


def open_under_csp(page: Any, url: str) -> None:
    answer = page.goto(url)
    policy = answer.header_value("content-security-policy") or ""
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy


def csp_violations(*pages: Any) -> list[str]:
    return [v for page in pages for v in page.evaluate("window.__cspViolations || []")]


def wait_for_js(page: Any, expression: str, timeout_ms: int = 10_000) -> None:
    """Poll ``expression`` until it is true. Not ``page.wait_for_function``: its polling
    evaluates the string inside the page, which the page's CSP (no ``unsafe-eval``) refuses."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_ms} ms: {expression}")


def drag(page: Any, start: int, end: int) -> None:
    a = page.locator(f"#mine .cell[data-i='{start}']").bounding_box()
    b = page.locator(f"#mine .cell[data-i='{end}']").bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    page.mouse.up()


def wait_saved(page: Any) -> None:
    page.wait_for_selector("#save-status[data-state='saved']", timeout=10_000)
