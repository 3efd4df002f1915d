// The organiser's panel (this browser holds the admin key): edit the event (a grid change
// is warned about first, saying how many people's availability it remaps or clears),
// remove a participant (after a confirmation), finalize a best time or reopen the event,
// show the key, copy the admin link, download the CSV. All through the API: PATCH
// /events/<token> with If-Match, DELETE /events/<token>/participants/<id>,
// POST /events/<token>/finalize and /reopen.

import { api, ApiError } from "./api.js";
import { downloadExport } from "./retention.js";

const $ = (id) => document.getElementById(id);
const GRID_FIELDS = ["timezone", "dates", "weekdays", "day_start", "day_end", "slot_minutes"];

/** The fields of the edit form that differ from the event (dates/weekdays as lists). */
export function changedFields(ev, form) {
  const dates = form.kind === "dates" ? form.dates.split(/[\s,]+/).filter(Boolean).sort() : null;
  const weekdays = form.kind === "weekdays" ? form.weekdays : null;
  const wanted = { title: form.title, description: form.description, timezone: form.timezone, day_start: form.day_start, day_end: form.day_end, slot_minutes: form.slot_minutes };
  if (dates) wanted.dates = dates;
  if (weekdays) wanted.weekdays = weekdays;
  const now = { ...ev, description: ev.description || "" };
  return Object.fromEntries(Object.entries(wanted).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(now[k])));
}

/** What a grid change does to people's availability, or "" when the grid stays. */
export function gridWarning(ev, changes, participants) {
  if (!GRID_FIELDS.some((k) => k in changes)) return "";
  const marked = participants.filter((p) => p.available.length || p.if_needed.length).length;
  if (!marked) return "";
  const people = marked === 1 ? "1 person" : `${marked} people`;
  const kindChanges = ("dates" in changes && ev.kind !== "dates") || ("weekdays" in changes && ev.kind !== "weekdays");
  return kindChanges
    ? `This change clears the availability of ${people} (the days change from ${ev.kind} to ${ev.kind === "dates" ? "weekdays" : "dates"}).`
    : `This change remaps the availability of ${people}: times outside the new grid are cleared.`;
}

export class OrganiserPanel {
  /** onChanged(version) after a successful write; notice(text) for failures. */
  constructor({ token, path, adminKey, onChanged, notice }) {
    Object.assign(this, { token, path, adminKey, onChanged, notice, view: null });
    $("admin-box").hidden = false;
    $("organiser").hidden = false;
    $("show-admin-key").onclick = () => {
      $("admin-key").textContent = adminKey;
      $("admin-key").hidden = false;
    };
    $("export-csv").onclick = () => downloadExport(path, adminKey).catch((err) => notice(err.message));
    $("edit-form").onsubmit = (e) => this.submit(e);
    $("edit-apply").onclick = () => this.apply();
    $("edit-cancel").onclick = () => this.disarm();
    $("copy-admin").onclick = () => this.copyAdminLink();
    $("reopen").onclick = () => this.reopen();
    $("edit-form").kind.forEach((r) => r.addEventListener("change", () => this.showKind()));
  }

  render(view) {
    const first = !this.view;
    this.view = view;
    if (first || !$("edit-form").contains(document.activeElement)) this.fill(view.event);
    $("organiser-people").replaceChildren(...view.participants.map((p) => this.personRow(p)));
    $("organiser-people-empty").hidden = view.participants.length > 0;
    $("reopen").hidden = view.event.status !== "finalized";
  }

  fill(ev) {
    const form = $("edit-form");
    form.title.value = ev.title;
    form.description.value = ev.description || "";
    form.timezone.value = ev.timezone;
    form.kind.value = ev.kind;
    form.dates.value = (ev.dates || []).join(", ");
    form.querySelectorAll('input[name="weekday"]').forEach((c) => (c.checked = (ev.weekdays || []).includes(c.value)));
    form.day_start.value = ev.day_start.slice(0, 5);
    form.day_end.value = ev.day_end.slice(0, 5);
    form.slot_minutes.value = String(ev.slot_minutes);
    this.showKind();
  }

  showKind() {
    const kind = $("edit-form").kind.value;
    $("edit-dates").hidden = kind !== "dates";
    $("edit-weekdays").hidden = kind !== "weekdays";
  }

  personRow(p) {
    const li = document.createElement("li");
    li.textContent = p.name;
    const btn = Object.assign(document.createElement("button"), { type: "button", className: "link remove", textContent: "remove" });
    btn.setAttribute("aria-label", `remove ${p.name}`);
    btn.onclick = () => this.remove(p);
    li.append(" ", btn);
    return li;
  }

  formValues() {
    const form = $("edit-form");
    return {
      title: form.title.value, description: form.description.value, timezone: form.timezone.value.trim(),
      kind: form.kind.value, dates: form.dates.value,
      weekdays: [...form.querySelectorAll('input[name="weekday"]:checked')].map((c) => c.value),
      day_start: form.day_start.value, day_end: form.day_end.value, slot_minutes: Number(form.slot_minutes.value),
    };
  }

  submit(e) {
    e.preventDefault();
    $("edit-error").textContent = "";
    this.changes = changedFields(this.view.event, this.formValues());
    if (!Object.keys(this.changes).length) return ($("edit-error").textContent = "Nothing changed.");
    const warning = gridWarning(this.view.event, this.changes, this.view.participants);
    if (!warning) return this.apply();
    $("edit-warning-text").textContent = warning;
    $("edit-warning").hidden = false;
    $("edit-apply").focus();
  }

  disarm() {
    $("edit-warning").hidden = true;
    this.changes = null;
  }

  async apply() {
    const changes = this.changes;
    this.disarm();
    if (!changes) return;
    try {
      const headers = { "X-Admin-Key": this.adminKey, "If-Match": `"v${this.view.version}"` };
      const { data } = await api("PATCH", this.path, { body: changes, headers });
      $("edit-done").hidden = false;
      setTimeout(() => ($("edit-done").hidden = true), 2000);
      document.activeElement?.blur?.();
      await this.onChanged(data.version);
    } catch (err) {
      $("edit-error").textContent =
        err instanceof ApiError && err.status === 412 ? "The event changed meanwhile: check it and save again." : `Not saved: ${err.message}`;
      if (err instanceof ApiError && err.status === 412) this.onChanged(0);
    }
  }

  async remove(p) {
    if (!confirm(`Remove ${p.name} and their availability from this event? This cannot be undone.`)) return;
    try {
      await api("DELETE", `${this.path}/participants/${encodeURIComponent(p.id)}`, { headers: { "X-Admin-Key": this.adminKey } });
      await this.onChanged(this.view.version + 1);
    } catch (err) {
      this.notice(`Could not remove ${p.name}: ${err.message}`);
    }
  }

  async finalize(start, end, lay) {
    if (!confirm(`Make ${lay.rangeLabel(start, end)} the final time?`)) return;
    try {
      const { data } = await api("POST", `${this.path}/finalize`, { body: { start, end }, headers: { "X-Admin-Key": this.adminKey } });
      await this.onChanged(data.version);
    } catch (err) {
      this.notice(`Could not finalize: ${err.message}`);
    }
  }

  async reopen() {
    if (!confirm("Reopen the event? The final time is cleared and people can change their times again.")) return;
    try {
      const { data } = await api("POST", `${this.path}/reopen`, { headers: { "X-Admin-Key": this.adminKey } });
      await this.onChanged(data.version);
    } catch (err) {
      this.notice(`Could not reopen: ${err.message}`);
    }
  }

  async copyAdminLink() {
    const link = `${location.origin}/e/${this.token}#admin=${this.adminKey}`;
    $("admin-link").value = link;
    $("admin-link").hidden = false;
    try {
      await navigator.clipboard.writeText(link);
      $("copy-admin-done").hidden = false;
    } catch {
      $("admin-link").select();
    }
  }
}
