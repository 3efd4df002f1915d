"""The web page in headless Chromium (Debian's, driven by Playwright) against the whole stack
behind the gateway: two browser contexts on one event; one paints (mouse drag, keyboard,
while offline), the other sees its heat map change without reloading, through the realtime
channel (pusher-js -> gateway /app/ -> soketi <- notifier). Screenshots go to test-artifacts/.
The pages run under the gateway's Content-Security-Policy; any violation fails the test.
"""

import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.browser_kit import (
    ARTIFACTS,
    browser,
    csp_violations,
    drag,
    gateway,
    guard,
    open_under_csp,
    wait_for_js,
    wait_saved,
)

__all__ = ["browser", "gateway"]  # the fixtures, used by name

VIEWER_ZONE = "America/New_York"
ROWS = 8  # 09:00-13:00 in 30-minute slots
DAYS = 3


def create_event(gateway: str) -> dict[str, Any]:
    first = date.today() + timedelta(days=3)
    answer = httpx.post(
        f"{gateway}/api/events",
        json={
            "title": "Browser test",
            "timezone": "Europe/Berlin",
            "dates": [(first + timedelta(days=k)).isoformat() for k in range(DAYS)],
            "day_start": "09:00",
            "day_end": "13:00",
            "slot_minutes": 30,
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def slot(day: int, row: int) -> int:
    return day * ROWS + row


@dataclass
class Live:
    """The two pages on one event: the organiser viewing, a participant painting."""

    gateway: str
    token: str
    errors: list[str] = field(default_factory=list)
    puts: list[str] = field(default_factory=list)  # the painter's PUT bodies
    realtime: bool = False  # the page's channel is live (else it polls)
    viewer: Any = None
    painter: Any = None


def open_viewer(live: Live, browser: Any, admin_key: str) -> Any:
    """The organiser (admin key handed over in the URL hash), in another zone and locale."""
    context = browser.new_context(locale="en-GB", timezone_id=VIEWER_ZONE)
    live.viewer = context.new_page()
    guard(live.viewer, "viewer", live.errors)
    open_under_csp(live.viewer, f"{live.gateway}/e/{live.token}#admin={admin_key}")
    live.viewer.wait_for_selector("#group .cell")
    # The realtime channel is subscribed (pusher-js through the gateway, auth by the API).
    # Without the realtime routes the page falls back to polling (If-None-Match every 4 s);
    # the test then still checks the live change, and says which path carried it.
    config = httpx.get(f"{live.gateway}/api/realtime/config", timeout=5)
    live.realtime = config.status_code == 200
    if live.realtime:
        live.viewer.wait_for_selector("body[data-realtime='live']", timeout=15_000)
    else:
        warnings.warn("no /api/realtime/config: live updates checked via polling", stacklevel=1)
    return context


def check_times_in_the_viewers_zone(live: Live) -> None:
    """The first row is 09:00 Berlin on day one, shown in the viewer's zone; nobody yet."""
    view = httpx.get(f"{live.gateway}/api/events/{live.token}", timeout=10).json()
    first_start = datetime.fromisoformat(view["slots"]["starts_utc"][0].replace("Z", "+00:00"))
    expected = first_start.astimezone(ZoneInfo(VIEWER_ZONE)).strftime("%H:%M")
    viewer = live.viewer
    assert viewer.inner_text("#group .tlabel >> nth=0") == expected
    assert viewer.get_attribute(f"#group .cell[data-i='{slot(0, 0)}']", "data-available") == "0"


def join_and_drag(live: Live, browser: Any) -> Any:
    """The painter joins with a name and paints a rectangle by mouse drag: one save."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    painter = live.painter = context.new_page()
    guard(painter, "painter", live.errors)
    painter.on(
        "request",
        lambda r: live.puts.append(r.post_data or "") if r.method == "PUT" else None,
    )
    open_under_csp(painter, f"{live.gateway}/e/{live.token}")
    painter.fill("#join-form input[name=name]", "Paula")
    painter.click("#join-form button[type=submit]")
    painter.wait_for_selector("#mine .cell")
    drag(painter, slot(0, 0), slot(1, 3))
    wait_saved(painter)
    assert len(live.puts) == 1, live.puts  # one stroke -> one debounced save
    assert '"available":[[0,4],[8,12]]' in live.puts[0].replace(" ", "")
    return context


def check_the_viewer_sees_it_live(live: Live) -> None:
    """The viewer's heat map changes without a reload, pushed through the realtime channel."""
    viewer = live.viewer
    viewer.wait_for_selector(
        f"#group .cell[data-i='{slot(1, 3)}'][data-available='1']", timeout=10_000
    )
    source = viewer.evaluate("document.body.dataset.lastUpdate")
    print(f"viewer's heat map changed through: {source}")
    assert source == ("realtime" if live.realtime else "poll")
    viewer.hover(f"#group .cell[data-i='{slot(0, 1)}']")
    viewer.wait_for_selector("#who:has-text('Paula')", timeout=10_000)


def paint_by_keyboard(live: Live) -> None:
    """The "if needed" brush: the cursor is where the drag ended (day 1, row 3); two steps
    right to day 3, space paints; a quick paint-and-erase is deduplicated (the body equals
    what the server has: no request)."""
    painter, puts = live.painter, live.puts
    painter.check("input[name=brush][value='2']")
    painter.focus("#mine")
    painter.keyboard.press("ArrowRight")
    painter.keyboard.press("ArrowRight")
    painter.keyboard.press("Space")
    wait_saved(painter)
    assert len(puts) == 2 and '"if_needed":[[19,20]]' in puts[1].replace(" ", ""), puts
    painter.keyboard.press("ArrowDown")
    painter.keyboard.press("Space")
    painter.keyboard.press("Space")
    painter.wait_for_timeout(700)
    assert len(puts) == 2, puts
    live.viewer.wait_for_selector(f"#group .cell[data-i='{slot(2, 3)}'][data-if-needed='1']")


def paint_offline(live: Live, painter_context: Any) -> None:
    """Offline: the save is queued, then sent when the browser is back."""
    painter_context.set_offline(True)
    live.painter.keyboard.press("ArrowDown")
    live.painter.keyboard.press("Space")
    live.painter.wait_for_selector("#save-status[data-state='offline']", timeout=5_000)
    painter_context.set_offline(False)
    wait_saved(live.painter)
    live.viewer.wait_for_selector(f"#group .cell[data-i='{slot(2, 5)}'][data-if-needed='1']")


def finalize_the_best_time(live: Live) -> None:
    """The organiser finalizes the first best time; both pages show it; the .ics works."""
    viewer = live.viewer
    viewer.wait_for_selector("#best li button.finalize")
    viewer.on("dialog", lambda d: d.accept())
    viewer.click("#best li button.finalize >> nth=0")
    viewer.wait_for_selector("#final-box:not([hidden])")
    live.painter.wait_for_selector("#final-box:not([hidden])", timeout=10_000)
    href = viewer.get_attribute("#ics-link", "href")
    ics = httpx.get(f"{live.gateway}{href}", timeout=10)
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text


def test_two_browsers_paint_and_watch_live(gateway: str, browser: Any) -> None:
    created = create_event(gateway)
    live = Live(gateway, created["token"])
    viewer_ctx = open_viewer(live, browser, created["admin_key"])
    check_times_in_the_viewers_zone(live)
    painter_ctx = join_and_drag(live, browser)
    check_the_viewer_sees_it_live(live)
    paint_by_keyboard(live)
    paint_offline(live, painter_ctx)
    finalize_the_best_time(live)

    ARTIFACTS.mkdir(exist_ok=True)
    live.viewer.screenshot(path=str(ARTIFACTS / "browser-viewer.png"), full_page=True)
    live.painter.screenshot(path=str(ARTIFACTS / "browser-painter.png"), full_page=True)
    assert not live.errors, live.errors
    assert csp_violations(live.viewer, live.painter) == []
    viewer_ctx.close()
    painter_ctx.close()


def test_create_an_event_from_the_page(gateway: str, browser: Any) -> None:
    ctx = browser.new_context(locale="en-GB", timezone_id="Asia/Tokyo")
    page = ctx.new_page()
    errors: list[str] = []
    guard(page, "creator", errors)
    open_under_csp(page, f"{gateway}/")
    assert page.input_value("#zone") == "Asia/Tokyo"  # the browser's zone by default
    page.fill("input[name=title]", "Weekly sync")
    page.check("input[name=kind][value=weekdays]")
    page.select_option("#day-start", "10:00")
    page.select_option("#day-end", "12:00")
    page.select_option("select[name=slot_minutes]", "60")
    page.click("#create-form button[type=submit]")
    page.wait_for_url(f"{gateway}/e/**")
    token = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#admin-box:not([hidden])")
    assert page.input_value("#share-link") == f"{gateway}/e/{token}"
    assert page.evaluate(f"JSON.parse(localStorage.getItem('overlap:admin:{token}'))")
    view = httpx.get(f"{gateway}/api/events/{token}", timeout=10).json()
    assert view["event"]["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert view["event"]["timezone"] == "Asia/Tokyo" and view["event"]["slot_count"] == 10
    assert page.locator("#group .cell").count() == 10
    # Retention: the page says until when the event is kept; the organiser can export it.
    expires = datetime.fromisoformat(view["event"]["expires_at"]).astimezone(ZoneInfo("Asia/Tokyo"))
    page.wait_for_selector("#ev-expiry:not([hidden])")
    assert f"Kept until {expires.day} {expires:%B %Y}" in page.inner_text("#ev-expiry")
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0] == "day,start,end,start_utc,available,if_needed"
    assert rows[1] == "mon,10:00,11:00,,0,0" and len(rows) == 1 + 10
    assert not errors, errors
    assert csp_violations(page) == []
    ctx.close()


def test_an_injected_inline_script_is_blocked_and_reported(gateway: str, browser: Any) -> None:
    """The CSP really applies, and the guard above really sees violations."""
    ctx = browser.new_context()
    page = ctx.new_page()
    errors: list[str] = []
    guard(page, "page", errors)
    open_under_csp(page, f"{gateway}/")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__injected = true";
          document.head.append(s);
        }"""
    )
    wait_for_js(page, "window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected === undefined")
    assert any("script-src" in v for v in csp_violations(page)), csp_violations(page)
    ctx.close()
