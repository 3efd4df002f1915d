// Slot layout and labels in the viewer's time zone.
// Dates events carry each slot's start instant (slots.starts_utc); weekdays events have no
// absolute instants, so their times are shifted by today's offset between the two zones.

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const WEEKDAY_NAMES = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };

/** Minutes east of UTC of `zone` at instant `date`. */
export function zoneOffsetMinutes(zone, date = new Date()) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(date);
  const n = Object.fromEntries(parts.map((p) => [p.type, Number(p.value)]));
  const asUtc = Date.UTC(n.year, n.month - 1, n.day, n.hour % 24, n.minute, n.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

const hhmm = (minutes) => {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
};
const parseHHMM = (s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

const fmtTime = new Intl.DateTimeFormat(undefined, { timeZone: viewerZone, hour: "2-digit", minute: "2-digit" });
const fmtDay = new Intl.DateTimeFormat(undefined, { timeZone: viewerZone, weekday: "short", month: "short", day: "numeric" });
const fmtWeekday = new Intl.DateTimeFormat(undefined, { timeZone: viewerZone, weekday: "short" });
const fmtDate = new Intl.DateTimeFormat(undefined, { timeZone: viewerZone, month: "short", day: "numeric" });
const fmtFull = new Intl.DateTimeFormat(undefined, {
  timeZone: viewerZone, weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

/**
 * Everything the grids need: days × rows, labels, a title per slot, and `label(i)` /
 * `rangeLabel(start, end)` for lists (best times, final time).
 */
export function layout(view) {
  const ev = view.event;
  const perDay = ev.slots_per_day;
  const days = ev.slot_count / perDay;
  const starts = view.slots.starts_utc;
  const missing = new Set(view.slots.missing || []);
  const dayStart = parseHHMM(ev.day_start);
  let dayLabels, dayLabelParts, rowLabels, title, zoneNote;
  if (starts) {
    const at = (i) => (starts[i] ? new Date(starts[i]) : null);
    const firstOfDay = (d) => {
      for (let r = 0; r < perDay; r++) if (at(d * perDay + r)) return at(d * perDay + r);
      return null;
    };
    dayLabels = Array.from({ length: days }, (_, d) => {
      const t = firstOfDay(d);
      return t ? fmtDay.format(t) : ev.dates[d];
    });
    dayLabelParts = (d) => {
      const t = firstOfDay(d);
      return t ? [fmtWeekday.format(t), fmtDate.format(t)] : [ev.dates[d], ""];
    };
    rowLabels = Array.from({ length: perDay }, (_, r) => {
      for (let d = 0; d < days; d++) if (at(d * perDay + r)) return fmtTime.format(at(d * perDay + r));
      return hhmm(dayStart + r * ev.slot_minutes);
    });
    title = (i) => (at(i) ? fmtFull.format(at(i)) : "does not exist (clock change)");
    zoneNote = `Times in your zone (${viewerZone}); the event's zone is ${ev.timezone}.`;
  } else {
    const shift = zoneOffsetMinutes(viewerZone) - zoneOffsetMinutes(ev.timezone);
    const names = ev.weekdays.map((w) => WEEKDAY_NAMES[w]);
    dayLabels = names;
    dayLabelParts = (d) => [names[d], ""];
    const rowMinutes = (r) => dayStart + r * ev.slot_minutes + shift;
    const dayNote = (m) => (m < 0 ? " (day before)" : m >= 1440 ? " (day after)" : "");
    rowLabels = Array.from({ length: perDay }, (_, r) => hhmm(rowMinutes(r)));
    title = (i) => {
      const m = rowMinutes(i % perDay);
      return `${names[Math.floor(i / perDay)]} ${hhmm(m)}${dayNote(m)}`;
    };
    zoneNote =
      shift === 0
        ? `Times in ${ev.timezone} (your zone has the same offset today).`
        : `Times shifted into your zone (${viewerZone}) from the event's ${ev.timezone}, by today's offset.`;
  }
  const endLabel = (i) => {
    // End of slot i-1 = start of slot i, or the last start + slot length.
    if (starts && starts[i - 1]) return fmtTime.format(new Date(Date.parse(starts[i - 1]) + ev.slot_minutes * 60000));
    const m = parseHHMM(rowLabels[(i - 1) % perDay]) + ev.slot_minutes;
    return hhmm(m);
  };
  return {
    perDay, days, missing, dayLabels, dayLabelParts, rowLabels, title, zoneNote, slotMinutes: ev.slot_minutes,
    index: (d, r) => d * perDay + r,
    dayOf: (i) => Math.floor(i / perDay),
    rowOf: (i) => i % perDay,
    rangeLabel: (s, e) => `${title(s)} – ${endLabel(e)}`,
  };
}

/** Half-open ranges [[s,e],...] of the slots where marks[i] === value. */
export function toRanges(marks, value) {
  const out = [];
  let start = -1;
  for (let i = 0; i <= marks.length; i++) {
    const on = i < marks.length && marks[i] === value;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

/** Mark slots from range lists: 1 available, 2 if needed. */
export function fromRanges(count, available, ifNeeded) {
  const marks = new Uint8Array(count);
  for (const [s, e] of ifNeeded || []) marks.fill(2, s, e);
  for (const [s, e] of available || []) marks.fill(1, s, e);
  return marks;
}

export const inRanges = (ranges, i) => ranges.some(([s, e]) => s <= i && i < e);
