// Overlap's page: "/" creates an event, "/e/<token>" shows one. Plain ES modules.

import { api, ApiError, enc } from "./api.js";
import { setupCreate } from "./create.js";
import { Heatmap, renderBest } from "./heatmap.js";
import { CalendarImport } from "./importer.js";
import { OrganiserPanel } from "./organiser.js";
import { Painter } from "./paint.js";
import { Presence } from "./presence.js";
import { connectRealtime } from "./realtime.js";
import { renderExpiry } from "./retention.js";
import { Saver } from "./saver.js";
import * as store from "./store.js";
import { fromRanges, layout, toRanges } from "./time.js";

const $ = (id) => document.getElementById(id);
const POLL_FALLBACK_MS = 4000; // while the realtime channel is not live
const POLL_SAFETY_MS = 30000; // while it is: a safety net for missed messages
const status = document.body.dataset;

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

function route() {
  const m = location.pathname.match(/^\/e\/([A-Za-z0-9_-]{16,128})\/?$/);
  if (m) {
    // "/e/<token>#admin=<key>" hands the organiser's key to this browser (seed script, other device).
    const admin = new URLSearchParams(location.hash.slice(1)).get("admin");
    if (admin) {
      store.setAdminKey(m[1], admin);
      history.replaceState(null, "", location.pathname);
    }
    $("create").hidden = true;
    new EventPage(m[1]).start();
  } else {
    $("create").hidden = false;
    $("event").hidden = true;
    setupCreate((token) => {
      history.pushState(null, "", `/e/${token}`);
      route();
    });
  }
}

class EventPage {
  constructor(token) {
    this.token = token;
    this.path = `/events/${enc(token)}`;
    this.view = null;
    this.etag = null;
    this.layKey = null;
    this.fetching = null;
    this.wantVersion = 0;
    this.live = false;
    this.painter = null;
    this.heat = new Heatmap($("group"), $("who"), () => {
      if (this.namesStale) this.refresh(this.view.version, "realtime").catch(() => {});
    });
    this.me = store.participant(token);
    this.admin = store.adminKey(token);
    this.presence = new Presence($("presence"));
    this.importer = new CalendarImport({
      painter: () => this.painter,
      view: () => this.view,
      save: (marks) => this.saver.schedule(this.body(marks)),
    });
    this.saver = new Saver({
      send: (body) => this.sendAvailability(body),
      persist: (body) => store.setPendingSave(token, body),
      onStatus: (state, text) => {
        $("save-status").dataset.state = state;
        $("save-status").textContent = text;
      },
      onSaved: (answer) => this.refresh(answer.version, "save"),
    });
  }

  async start() {
    $("event").hidden = false;
    $("share-link").value = `${location.origin}/e/${this.token}`;
    $("copy-link").onclick = () => this.copyLink();
    $("join-form").onsubmit = (e) => this.join(e);
    $("leave").onclick = () => this.forget();
    document.querySelectorAll('input[name="brush"]').forEach((r) =>
      r.addEventListener("change", () => this.painter && (this.painter.brush = Number(r.value))),
    );
    if (this.admin) {
      this.organiser = new OrganiserPanel({
        token: this.token, path: this.path, adminKey: this.admin, notice,
        onChanged: (version) => this.refresh(version, "save"),
      });
    }
    $("ics-link").href = `/api${this.path}/calendar.ics`;
    try {
      await this.refresh(0, "load");
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return this.gone();
      notice(`Could not load the event: ${err.message}`);
    }
    await this.loadMe();
    this.setLive(false, "connecting");
    this.pollLoop();
    if (this.view) {
      this.client = await connectRealtime({
        eventId: this.view.event.id,
        token: this.token,
        participantKey: () => this.me?.key,
        onEvent: (name, data) => this.onRealtime(name, data),
        onState: (state, why) => this.setLive(state === "live", why),
      });
      this.presence.attach(this.client, this.view.event.id, this.me?.id);
    }
  }

  setLive(live, why = "") {
    this.live = live;
    $("live").hidden = false;
    status.realtime = live ? "live" : "polling";
    $("live").dataset.state = live ? "live" : "polling";
    $("live").textContent = live ? "live" : "polling";
    $("live").title = live ? "live updates" : `live updates unavailable (${why}): checking every few seconds`;
  }

  async pollLoop() {
    for (;;) {
      await new Promise((r) => setTimeout(r, this.live ? POLL_SAFETY_MS : POLL_FALLBACK_MS));
      if (this.deleted) return;
      if (document.visibilityState === "hidden" && this.live) continue;
      try {
        await this.refresh(0, "poll");
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return this.gone();
      }
    }
  }

  onRealtime(name, data) {
    if (name === "event.deleted") return this.gone();
    const version = Number(data.version) || 0;
    if (this.view && version <= this.view.version) return;
    if (name === "view.updated" && data.heatmap && this.view && data.heatmap.available?.length === this.view.event.slot_count) {
      // The counts came with the message: paint them now; names and best times follow
      // with a lazy, jittered fetch (spreads the load when many people watch one event).
      this.view = { ...this.view, version, heatmap: data.heatmap };
      this.namesStale = true;
      this.heat.render(this.view, this.lay, this.layKey);
      status.lastUpdate = "realtime";
      status.version = String(version);
      clearTimeout(this.lazy);
      this.lazy = setTimeout(() => this.refresh(version, "realtime").catch(() => {}), 1000 + Math.random() * 2000);
      return;
    }
    this.refresh(version, "realtime").catch(() => {});
  }

  /** Fetch the view (at least version minVersion); concurrent calls share one request. */
  async refresh(minVersion, source) {
    this.wantVersion = Math.max(this.wantVersion, minVersion);
    if (this.fetching) {
      this.again = this.again || source;
      return this.fetching;
    }
    this.fetching = (async () => {
      try {
        do {
          const src = this.again || source;
          this.again = null;
          const want = this.wantVersion;
          const headers = this.etag && (!want || (this.view && this.view.version >= want)) ? { "If-None-Match": this.etag } : {};
          const query = want && (!this.view || want > this.view.version) ? `?min_version=${want}` : "";
          const res = await api("GET", this.path + query, { headers });
          if (res.status === 200 && (!this.view || res.data.version >= this.view.version)) {
            this.etag = res.etag;
            this.render(res.data, src);
          }
        } while (this.again);
      } finally {
        this.fetching = null;
      }
    })();
    return this.fetching;
  }

  render(view, source) {
    const changed = !this.view || JSON.stringify(view.heatmap) !== JSON.stringify(this.view.heatmap);
    this.presence.noteView(this.view, view);
    this.organiser?.render(view);
    this.view = view;
    this.namesStale = false;
    const ev = view.event;
    const layKey = JSON.stringify([ev.slot_count, ev.slots_per_day, ev.dates, ev.weekdays, ev.day_start, ev.slot_minutes, ev.timezone]);
    if (layKey !== this.layKey) this.lay = layout(view);
    document.title = `${ev.title} — Overlap`;
    $("ev-title").textContent = ev.title;
    $("ev-desc").textContent = ev.description;
    $("ev-meta").textContent = this.lay.zoneNote;
    renderExpiry($("ev-expiry"), ev);
    $("people-count").textContent = `(${view.participants.length})`;
    $("legend-max").textContent = String(view.participants.length);
    this.heat.render(view, this.lay, layKey);
    if (this.me && layKey !== this.layKey && this.painter) this.relayoutMine(view);
    this.layKey = layKey;
    renderBest($("best"), view, this.lay, this.admin && ev.status === "open" ? (s, e) => this.organiser.finalize(s, e, this.lay) : null);
    $("final-box").hidden = !ev.final;
    if (ev.final) $("final-time").textContent = this.lay.rangeLabel(ev.final.start, ev.final.end);
    if (changed) status.lastUpdate = source;
    status.version = String(view.version);
    const mine = this.me && view.participants.some((p) => p.id === this.me.id);
    if (this.me && this.meLoaded && !mine && view.version > (this.meSince || 0)) {
      // Removed by the organiser (or left from another tab).
      this.forget();
    }
  }

  async loadMe() {
    if (!this.me) return this.showJoin();
    try {
      const { data } = await api("GET", `${this.path}/participants/me`, { headers: { "X-Participant-Key": this.me.key } });
      const queued = store.pendingSave(this.token);
      this.showMe();
      this.saver.known({ available: data.available, if_needed: data.if_needed });
      const body = queued || data;
      this.buildPainter(fromRanges(this.view.event.slot_count, body.available, body.if_needed));
      this.meLoaded = true;
      this.meSince = data.version;
      if (queued) this.saver.schedule(queued); // saved while offline before a reload
    } catch (err) {
      if (err instanceof ApiError && (err.status === 403 || err.status === 404 || err.status === 401)) return this.forget();
      notice(`Could not load your availability: ${err.message}`);
    }
  }

  /** The grid changed shape (the organiser edited it): repaint mine from the server's remap. */
  relayoutMine(view) {
    const mine = view.participants.find((p) => p.id === this.me.id);
    const marks = mine ? fromRanges(view.event.slot_count, mine.available, mine.if_needed) : new Uint8Array(view.event.slot_count);
    if (mine) this.saver.known({ available: mine.available, if_needed: mine.if_needed });
    this.buildPainter(marks);
  }

  buildPainter(marks) {
    const count = this.view.event.slot_count;
    const fresh = marks.length === count ? marks : new Uint8Array(count);
    $("mine").hidden = false;
    this.painter = new Painter($("mine"), this.lay, fresh, (m) => this.importer.reviewing || this.saver.schedule(this.body(m)));
    this.painter.brush = Number(document.querySelector('input[name="brush"]:checked').value);
  }

  body(marks) {
    return { available: toRanges(marks, 1), if_needed: toRanges(marks, 2) };
  }

  async sendAvailability(body) {
    const { data } = await api("PUT", `${this.path}/participants/me/availability`, {
      body,
      headers: { "X-Participant-Key": this.me.key },
    });
    return data;
  }

  showJoin() {
    $("join-form").hidden = false;
    $("me-box").hidden = true;
    $("mine").hidden = true;
  }

  showMe() {
    $("join-form").hidden = true;
    $("me-box").hidden = false;
    $("me-name").textContent = this.me.name;
  }

  async join(e) {
    e.preventDefault();
    $("join-error").textContent = "";
    const name = e.target.name.value;
    try {
      const { data } = await api("POST", `${this.path}/participants`, { body: { name } });
      this.me = { key: data.participant_key, id: data.participant.id, name: data.participant.name };
      store.setParticipant(this.token, this.me);
      this.showMe();
      this.saver.known({ available: [], if_needed: [] });
      this.buildPainter(new Uint8Array(this.view.event.slot_count));
      this.meLoaded = true;
      this.meSince = data.version;
      this.refresh(data.version, "save").catch(() => {});
      if (this.client) this.presence.attach(this.client, this.view.event.id, this.me.id);
      $("mine").focus({ preventScroll: true });
    } catch (err) {
      $("join-error").textContent = err.status === 409 ? "That name is taken in this event: pick another." : err.message;
    }
  }

  forget() {
    store.setParticipant(this.token, null);
    store.setPendingSave(this.token, null);
    this.me = null;
    this.meLoaded = false;
    this.painter = null;
    $("mine").replaceChildren();
    if (this.client && this.view) this.presence.attach(this.client, this.view.event.id, null);
    this.showJoin();
  }

  async copyLink() {
    const link = $("share-link").value;
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      $("share-link").select();
      document.execCommand?.("copy");
    }
    $("copy-done").hidden = false;
    setTimeout(() => ($("copy-done").hidden = true), 1500);
  }

  gone() {
    this.deleted = true;
    $("event").hidden = true;
    notice("This event does not exist (the link is wrong, or the organiser deleted it).");
  }
}

window.addEventListener("popstate", () => location.reload());
route();
