"""The page's newer parts in Debian's Chromium on the whole stack: presence across two
contexts, the organiser's live edits (grid change with its warning, removing a participant,
finalize then reopen), an .ics import across a DST change reviewed before saving, axe-core
on the create and event pages (0 serious or critical violations), and touch painting at
390 px. Screenshots of each state go to test-artifacts/page-*.png."""

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.browser_kit import (
    ARTIFACTS,
    browser,
    csp_violations,
    drag,
    gateway,
    guard,
    open_under_csp,
    wait_saved,
)

__all__ = ["browser", "gateway"]  # the fixtures, used by name
AXE = Path(__file__).parent / "axe/node_modules/axe-core/axe.min.js"


def new_event(gateway: str, dates: list[str], day_end: str = "13:00") -> dict[str, Any]:
    answer = httpx.post(
        f"{gateway}/api/events",
        json={
            "title": "Page tools",
            "timezone": "Europe/Berlin",
            "dates": dates,
            "day_start": "09:00",
            "day_end": day_end,
            "slot_minutes": 30,
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def soon(days: int) -> list[str]:
    return [(date.today() + timedelta(days=3 + k)).isoformat() for k in range(days)]


def open_page(browser: Any, url: str, errors: list[str], label: str, **options: Any) -> Any:
    ctx = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin", **options)
    page = ctx.new_page()
    guard(page, label, errors)
    open_under_csp(page, url)
    page.wait_for_selector("#group .cell")
    return page


def join(page: Any, name: str) -> None:
    page.fill("#join-form input[name=name]", name)
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#mine .cell")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)


def test_presence_and_the_organisers_live_edits(gateway: str, browser: Any) -> None:
    created = new_event(gateway, soon(3))
    url = f"{gateway}/e/{created['token']}"
    errors: list[str] = []
    organiser = open_page(browser, f"{url}#admin={created['admin_key']}", errors, "organiser")
    join(organiser, "Olga")
    guest = open_page(browser, url, errors, "guest")
    join(guest, "Gus")
    # Presence: each sees the other; the painter is marked while they paint.
    organiser.wait_for_selector("#presence li:has-text('Gus')", timeout=15_000)
    guest.wait_for_selector("#presence li:has-text('Olga')", timeout=15_000)
    organiser.wait_for_selector("#presence li:has-text('Olga (you)')")
    drag(guest, 0, 9)  # day 1 09:00 .. day 2 09:30
    wait_saved(guest)
    organiser.wait_for_selector("#presence li:has-text('Gus') .painting", timeout=30_000)
    shot(organiser, "presence")
    # At most 8 names, then "and N more" (the page's own function, this browser first).
    shown = organiser.evaluate(
        """import("/js/presence.js").then(({ shownMembers }) => {
             const ids = Array.from({ length: 11 }, (_, k) => [`p${k}`, `Name ${k}`]);
             const { shown, more } = shownMembers(new Map(ids), "p7");
             return [shown.length, shown[0][0], more];
           })"""
    )
    assert shown == [8, "p7", 3]

    # The organiser shortens the window: warned first (Gus's availability is remapped).
    organiser.click("#organiser summary")
    organiser.fill("#edit-form input[name=day_end]", "12:00")
    organiser.click("#edit-form button[type=submit]")
    organiser.wait_for_selector("#edit-warning:not([hidden])")
    assert "remaps the availability of 1 person" in organiser.inner_text("#edit-warning-text")
    shot(organiser, "edit-warning")
    organiser.click("#edit-apply")
    guest.wait_for_selector("#group .cell[data-i='17']", timeout=15_000)  # 3 days x 6 rows
    guest.wait_for_selector("#group .cell[data-i='18']", state="detached", timeout=15_000)
    assert guest.locator("#mine .cell").count() == 18
    assert guest.get_attribute("#mine .cell[data-i='6']", "data-mark") == "1"  # day 2 09:00 kept

    # The organiser removes Gus (after a confirmation); Gus's page asks to join again.
    prompts: list[str] = []

    def confirm(dialog: Any) -> None:
        prompts.append(dialog.message)
        dialog.accept()

    organiser.on("dialog", confirm)
    organiser.click("#organiser-people button[aria-label='remove Gus']")
    guest.wait_for_selector("#join-form:not([hidden])", timeout=15_000)
    assert prompts and "Remove Gus" in prompts[0]
    organiser.wait_for_selector("#organiser-people li:has-text('Gus')", state="detached")
    organiser.wait_for_selector("#presence li:has-text('Gus')", state="detached", timeout=15_000)
    shot(organiser, "participant-removed")
    # Presence goes when the page goes.
    join(guest, "Hana")
    organiser.wait_for_selector("#presence li:has-text('Hana')", timeout=15_000)
    guest.context.close()
    organiser.wait_for_selector("#presence li:has-text('Hana')", state="detached", timeout=30_000)
    # The admin link can be copied again.
    organiser.click("#copy-admin")
    assert organiser.input_value("#admin-link").endswith(f"#admin={created['admin_key']}")
    assert not errors, errors
    assert csp_violations(organiser) == []
    organiser.context.close()


def test_the_organiser_finalizes_then_reopens(gateway: str, browser: Any) -> None:
    created = new_event(gateway, soon(2))
    url = f"{gateway}/e/{created['token']}"
    errors: list[str] = []
    organiser = open_page(browser, f"{url}#admin={created['admin_key']}", errors, "reopener")
    guest = open_page(browser, url, errors, "reopen-guest")
    join(organiser, "Olga")
    drag(organiser, 0, 3)
    wait_saved(organiser)
    organiser.on("dialog", lambda d: d.accept())
    organiser.wait_for_selector("#best li button.finalize", timeout=15_000)
    organiser.click("#best li button.finalize >> nth=0")
    organiser.wait_for_selector("#reopen:not([hidden])", timeout=15_000)
    guest.wait_for_selector("#final-box:not([hidden])", timeout=15_000)
    assert guest.is_hidden("#reopen")  # the button is the organiser's alone
    shot(organiser, "finalized")
    organiser.click("#reopen")
    organiser.wait_for_selector("#final-box", state="hidden", timeout=15_000)
    organiser.wait_for_selector("#best li button.finalize", timeout=15_000)  # offered again
    guest.wait_for_selector("#final-box", state="hidden", timeout=15_000)  # pushed to others
    view = httpx.get(f"{gateway}/api/events/{created['token']}", timeout=10).json()
    assert view["event"]["status"] == "open" and view["event"]["final"] is None
    assert not errors, errors
    assert csp_violations(organiser) == []
    guest.context.close()
    organiser.context.close()


WEEKLY_ACROSS_DST = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//overlap test//EN\r
BEGIN:VEVENT\r
UID:weekly@test\r
DTSTART;TZID=Europe/Berlin:20270301T100000\r
DTEND;TZID=Europe/Berlin:20270301T110000\r
RRULE:FREQ=WEEKLY;BYDAY=MO\r
SUMMARY:Team meeting\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:holiday@test\r
DTSTART;VALUE=DATE:20270323\r
DTEND;VALUE=DATE:20270324\r
TRANSP:TRANSPARENT\r
SUMMARY:Free all day\r
END:VEVENT\r
END:VCALENDAR\r
"""


# The marks in slot order (the DOM holds the grid row by row).
SLOT_MARKS = "cs => cs.sort((a, b) => a.dataset.i - b.dataset.i).map(c => c.dataset.mark)"


def test_a_calendar_import_prefills_the_grid_across_a_dst_change(
    gateway: str, browser: Any
) -> None:
    # Mondays 22 and 29 March 2027: Berlin moves to summer time on the 28th.
    created = new_event(gateway, ["2027-03-22", "2027-03-29"])
    errors: list[str] = []
    page = open_page(browser, f"{gateway}/e/{created['token']}", errors, "importer")
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.post_data or "") if r.method == "PUT" else None)
    join(page, "Ines")
    page.set_input_files(
        "#ics-file",
        files=[
            {"name": "work.ics", "mimeType": "text/calendar", "buffer": WEEKLY_ACROSS_DST.encode()}
        ],
    )
    page.wait_for_selector("#import-review:not([hidden])")
    marks = "".join(page.eval_on_selector_all("#mine .cell", SLOT_MARKS))
    # 10:00-11:00 local (rows 2 and 3) is busy on both Mondays, before and after the change.
    assert marks == "11001111" + "11001111", marks
    # Read: the two Mondays' meetings and the free day (which blocks nothing).
    assert "3 calendar events read; 4 slots are busy" in page.inner_text("#import-summary")
    page.wait_for_timeout(600)
    assert puts == []  # reviewed before saving: nothing sent yet
    shot(page, "import-review")
    page.click("#import-save")
    wait_saved(page)
    assert len(puts) == 1 and '"available":[[0,2],[4,10],[12,16]]' in puts[0].replace(" ", "")
    # A bad file gets a clear error and leaves the grid alone.
    page.set_input_files(
        "#ics-file", files=[{"name": "notes.ics", "mimeType": "text/calendar", "buffer": b"hello"}]
    )
    page.wait_for_selector("#import-error:has-text('Could not read that calendar')")
    assert "not an iCalendar" in page.inner_text("#import-error")
    shot(page, "import-error")
    assert not errors, errors
    assert csp_violations(page) == []
    page.context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text() + "\n;0")
    return list(
        page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
            "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))"
        )
    )


def serious(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_axe_finds_nothing_serious_on_the_create_and_event_pages(
    gateway: str, browser: Any
) -> None:
    assert AXE.exists(), "npm ci --prefix tests/e2e/axe (make browser does it)"
    ctx = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    page = ctx.new_page()
    errors: list[str] = []
    guard(page, "axe", errors)
    open_under_csp(page, f"{gateway}/")
    page.wait_for_selector("#create-form")
    assert page.is_hidden("#live")  # no channel here: no "offline" badge
    shot(page, "create")
    create_found = axe_violations(page)
    print("create page:", create_found)
    assert serious(create_found) == [], create_found
    created = new_event(gateway, soon(3))
    open_under_csp(page, f"{gateway}/e/{created['token']}#admin={created['admin_key']}")
    page.wait_for_selector("#group .cell")
    join(page, "Axel")
    drag(page, 0, 10)
    wait_saved(page)
    page.click("#organiser summary")
    page.hover("#group .cell[data-i='1']")
    page.wait_for_selector("#who:has-text('Axel')")
    label = page.get_attribute("#group .cell[data-i='1']", "aria-label") or ""
    assert label.endswith(", 1 of 1 available"), label
    assert page.get_attribute("#mine .cell[data-i='1']", "aria-label", timeout=5000).endswith(
        ", available"
    )
    event_found = axe_violations(page)
    print("event page:", event_found)
    assert serious(event_found) == [], event_found
    shot(page, "event-organiser")
    assert not errors, errors
    ctx.close()


def touch_drag(page: Any, start: str, end: str) -> None:
    """Tap-and-drag with real touch events (Chromium makes the pointer events from them)."""
    cdp = page.context.new_cdp_session(page)
    a, b = page.locator(start).bounding_box(), page.locator(end).bounding_box()
    points = [(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)]
    points += [
        (
            points[0][0] + (b["x"] + b["width"] / 2 - points[0][0]) * k / 6,
            points[0][1] + (b["y"] + b["height"] / 2 - points[0][1]) * k / 6,
        )
        for k in range(1, 7)
    ]
    kind = "touchStart"
    for x, y in points:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        kind = "touchMove"
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_touch_painting_and_tapping_at_390_px(gateway: str, browser: Any) -> None:
    created = new_event(gateway, soon(7))
    errors: list[str] = []
    page = open_page(
        browser,
        f"{gateway}/e/{created['token']}",
        errors,
        "phone",
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
    )
    join(page, "Tess")
    touch_drag(page, "#mine .cell[data-i='1']", "#mine .cell[data-i='11']")  # days 1-2, 09:30-11:00
    wait_saved(page)
    painted = page.eval_on_selector_all(
        "#mine .cell[data-mark='1']", "cs => cs.map(c => +c.dataset.i).sort((a, b) => a - b)"
    )
    assert painted == [1, 2, 3, 9, 10, 11], painted
    # The day headers do not run into each other, and the page does not scroll sideways.
    boxes = page.eval_on_selector_all(
        "#group .head:not(.corner)",
        "hs => hs.map(h => { const r = h.getBoundingClientRect();"
        " return [r.left, r.right, h.scrollWidth <= h.clientWidth + 1]; })",
    )
    assert all(fits for _, _, fits in boxes), boxes
    assert all(boxes[k][1] <= boxes[k + 1][0] + 0.5 for k in range(len(boxes) - 1)), boxes
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Tapping a cell of the heat map shows who is free then.
    page.wait_for_selector("#group .cell[data-i='2'][data-available='1']", timeout=15_000)
    page.tap("#group .cell[data-i='2']")
    page.wait_for_selector("#who:has-text('Tess')")
    assert "Available (1)" in page.inner_text("#who")
    shot(page, "touch-390")
    assert not errors, errors
    page.context.close()


PURE_PARTS = """Promise.all([import("/js/calendar.js"), import("/js/organiser.js")])
.then(([cal, org]) => {
  const iso = (ms) => new Date(ms).toISOString();
  const weekly = { event: { dates: null, weekdays: ["mon", "sun"], timezone: "America/New_York",
    day_start: "09:00", slot_minutes: 60, slots_per_day: 2 }, slots: { starts_utc: null } };
  const ev = { kind: "dates", title: "T", description: null, timezone: "Europe/Berlin",
    dates: ["2027-03-22"], weekdays: null, day_start: "09:00", day_end: "13:00", slot_minutes: 30 };
  const form = { title: "T", description: "", timezone: "Europe/Berlin", kind: "dates",
    dates: "2027-03-22", weekdays: [], day_start: "09:00", day_end: "13:00", slot_minutes: 30 };
  const people = [{ available: [[0, 2]], if_needed: [] }, { available: [], if_needed: [] }];
  return {
    berlin: [90, 210].map((minutes) => iso(cal.wallToUtc("Europe/Berlin", 2027, 3, 28, minutes))),
    weekdays: cal.slotSpans(weekly, new Date(2027, 2, 10)).map(([s]) => iso(s)),
    prefill: Array.from(cal.prefill([[0, 10], [10, 20], [20, 30], null], [[5, 12]])),
    unchanged: org.changedFields(ev, form),
    longer: org.changedFields(ev, { ...form, day_end: "14:00" }),
    remap: org.gridWarning(ev, { day_end: "14:00" }, people),
    clear: org.gridWarning(ev, { weekdays: ["mon"] }, people),
    title: org.gridWarning(ev, { title: "U" }, people),
  };
})"""


def test_the_pages_pure_parts(gateway: str, browser: Any) -> None:
    """Zone arithmetic, slot instants of a weekdays event, the pre-fill and the organiser's
    edit diff and warning, run in the browser from the page's own modules."""
    ctx = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    page = ctx.new_page()
    open_under_csp(page, f"{gateway}/")
    got = page.evaluate(PURE_PARTS)
    # Berlin on 28 March 2027: 01:30 is still CET (UTC+1), 03:30 already CEST (UTC+2).
    assert got["berlin"] == ["2027-03-28T00:30:00.000Z", "2027-03-28T01:30:00.000Z"]
    # Seen on Wed 10 March: next Monday (15th) and Sunday (14th, US summer time from 02:00).
    assert got["weekdays"] == [
        "2027-03-15T13:00:00.000Z",
        "2027-03-15T14:00:00.000Z",
        "2027-03-14T13:00:00.000Z",
        "2027-03-14T14:00:00.000Z",
    ]
    assert got["prefill"] == [0, 0, 1, 0]
    assert got["unchanged"] == {} and got["longer"] == {"day_end": "14:00"}
    assert got["remap"].startswith("This change remaps the availability of 1 person")
    assert got["clear"].startswith("This change clears the availability of 1 person")
    assert got["title"] == ""
    assert csp_violations(page) == []
    ctx.close()
