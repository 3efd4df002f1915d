// The calendar import's steps on the page: pick an .ics file, see the grid pre-filled as
// available outside its busy times, then save it or discard it (nothing is saved before).

import { busyTimes, prefill, slotSpans } from "./calendar.js";

const $ = (id) => document.getElementById(id);

export class CalendarImport {
  /** painter() -> the Painter or null; view() -> the view; save(marks) saves the grid. */
  constructor({ painter, view, save }) {
    Object.assign(this, { painter, view, save });
    this.reviewing = false;
    this.before = null;
    $("ics-file").onchange = () => this.read($("ics-file").files[0]);
    $("import-save").onclick = () => this.finish(true);
    $("import-discard").onclick = () => this.finish(false);
  }

  async read(file) {
    $("import-error").textContent = "";
    const painter = this.painter();
    if (!file || !painter) return;
    try {
      const view = this.view();
      const spans = slotSpans(view);
      const { busy, occurrences } = await busyTimes(file, view, spans);
      const marks = prefill(spans, busy);
      if (!this.reviewing) this.before = painter.marks.slice();
      this.reviewing = true;
      painter.setMarks(marks);
      const busySlots = spans.filter((s, i) => s && !marks[i]).length;
      $("import-summary").textContent =
        `From ${file.name}: ${occurrences} calendar events read; ${busySlots} slots are busy, ` +
        "the rest is marked available. Check the grid (you can paint it), then save.";
      $("import-review").hidden = false;
      document.body.dataset.import = "review";
    } catch (err) {
      $("import-error").textContent = `Could not read that calendar: ${err.message}`;
    } finally {
      $("ics-file").value = "";
    }
  }

  finish(keep) {
    const painter = this.painter();
    this.reviewing = false;
    $("import-review").hidden = true;
    document.body.dataset.import = keep ? "saved" : "discarded";
    if (!painter) return;
    if (keep) this.save(painter.marks);
    else if (this.before) painter.setMarks(this.before);
    this.before = null;
  }
}
