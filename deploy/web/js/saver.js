// Saving one's availability: debounced (300 ms), deduplicated (a body equal to the last
// saved one is not sent), one request in flight at a time (the newest body wins), and
// queued while offline: retried with backoff, at once when the browser is back online,
// and kept in localStorage so a reload does not lose it.

import { isOffline } from "./api.js";

export class Saver {
  /**
   * send(body) -> Promise of the answer; onStatus(state, text) with state one of
   * saved | pending | saving | offline | error; onSaved(answer) after each success.
   */
  constructor({ send, onStatus, onSaved, persist, delayMs = 300 }) {
    Object.assign(this, { send, onStatus, onSaved, persist, delayMs });
    this.pending = null; // the newest body not yet acknowledged
    this.lastSaved = null; // JSON of the last body the server acknowledged
    this.inflight = false;
    this.timer = null;
    this.failures = 0;
    this.onOnline = () => this.flushNow();
    window.addEventListener("online", this.onOnline);
  }

  /** The body the server already has (so an unchanged grid is not re-sent). */
  known(body) {
    this.lastSaved = JSON.stringify(body);
  }

  schedule(body) {
    this.pending = body;
    this.persist(body);
    this.onStatus("pending", "Unsaved changes…");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  flushNow() {
    clearTimeout(this.timer);
    this.timer = null;
    return this.flush();
  }

  async flush() {
    this.timer = null;
    if (this.inflight || !this.pending) return;
    const body = this.pending;
    const json = JSON.stringify(body);
    if (json === this.lastSaved) {
      this.pending = null;
      this.persist(null);
      this.onStatus("saved", "All changes saved");
      return;
    }
    this.pending = null;
    this.inflight = true;
    this.onStatus("saving", "Saving…");
    try {
      const answer = await this.send(body);
      this.lastSaved = json;
      this.failures = 0;
      if (!this.pending) this.persist(null);
      this.onStatus(this.pending ? "pending" : "saved", this.pending ? "Unsaved changes…" : "All changes saved");
      this.onSaved(answer);
    } catch (err) {
      if (isOffline(err)) {
        if (!this.pending) this.pending = body; // a newer body replaces the failed one
        this.failures += 1;
        const wait = Math.min(15000, 1000 * 2 ** (this.failures - 1)) * (0.75 + Math.random() / 2);
        this.onStatus("offline", `Offline: changes kept, retrying in ${Math.round(wait / 1000)} s`);
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.flush(), wait);
      } else {
        this.persist(null);
        this.onStatus("error", `Not saved: ${err.message}`);
      }
    } finally {
      this.inflight = false;
    }
    if (this.pending && !this.timer) this.timer = setTimeout(() => this.flush(), this.delayMs);
  }
}
