// Import busy times from a calendar file (.ics): the API expands it (POST /api/calendar/busy,
// nothing stored) in the event's window and zone; here the busy intervals become a grid that
// is available outside them, which the participant reviews before saving.

import { api } from "./api.js";
import { zoneOffsetMinutes } from "./time.js";

export const MAX_FILE_BYTES = 256 * 1024; // as the gateway and the API
const DAY_MS = 86400000;
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** UTC ms of a wall-clock time (y, m 1-12, d, minutes after midnight) in `zone`. */
export function wallToUtc(zone, y, m, d, minutes) {
  const naive = Date.UTC(y, m - 1, d, 0, minutes);
  const first = naive - zoneOffsetMinutes(zone, new Date(naive)) * 60000;
  return naive - zoneOffsetMinutes(zone, new Date(first)) * 60000;
}

/** The event's dates as [y, m, d]: its own, or the next 7 days' dates of its weekdays. */
function eventDays(ev, today = new Date()) {
  if (ev.dates) return ev.dates.map((s) => s.split("-").map(Number));
  const t = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  const week = Array.from({ length: 7 }, (_, k) => new Date(t + k * DAY_MS));
  return ev.weekdays.map((w) => {
    const day = week.find((x) => WEEKDAYS[(x.getUTCDay() + 6) % 7] === w);
    return [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
  });
}

/** [startMs, endMs] of every slot (null for a slot that does not exist). */
export function slotSpans(view, today = new Date()) {
  const ev = view.event;
  const len = ev.slot_minutes * 60000;
  const starts = view.slots.starts_utc;
  if (starts) return starts.map((s) => (s ? [Date.parse(s), Date.parse(s) + len] : null));
  const dayStart = Number(ev.day_start.slice(0, 2)) * 60 + Number(ev.day_start.slice(3, 5));
  return eventDays(ev, today).flatMap(([y, m, d]) =>
    Array.from({ length: ev.slots_per_day }, (_, r) => {
      const s = wallToUtc(ev.timezone, y, m, d, dayStart + r * ev.slot_minutes);
      return [s, s + len];
    }),
  );
}

/** Marks: 1 (available) where no busy interval overlaps the slot, else 0. */
export function prefill(spans, busy) {
  return Uint8Array.from(spans, (span) => (span && !busy.some(([s, e]) => s < span[1] && span[0] < e) ? 1 : 0));
}

/** Ask the API for the file's busy intervals over the slots' span; throws with a clear message. */
export async function busyTimes(file, view, spans) {
  if (file.size > MAX_FILE_BYTES) throw new Error(`That file is ${Math.round(file.size / 1024)} KB; the limit is 256 KB. Export a shorter range of your calendar.`);
  const present = spans.filter(Boolean);
  const start = new Date(Math.min(...present.map((s) => s[0]))).toISOString();
  const end = new Date(Math.max(...present.map((s) => s[1]))).toISOString();
  const query = new URLSearchParams({ start, end, zone: view.event.timezone });
  const { data } = await api("POST", `/calendar/busy?${query}`, { raw: file, contentType: "text/calendar" });
  return { busy: data.busy.map((b) => [Date.parse(b.start), Date.parse(b.end)]), occurrences: data.occurrences };
}
