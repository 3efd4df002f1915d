// The group's heat map (colour by available + 0.5 × if-needed, relative to the number of
// participants), who is free on hover or tap (a tap's pointer "leaves" at once, so only a
// mouse leaving clears it), and the best-times list.

import { buildGrid } from "./grid.js";
import { inRanges } from "./time.js";

export class Heatmap {
  /** onHover(i): the page refreshes names that are older than the counts. */
  constructor(el, whoEl, onHover = () => {}) {
    this.el = el;
    this.onHover = onHover;
    this.whoEl = whoEl;
    this.cells = [];
    this.layKey = null;
    this.view = null;
    this.hovered = -1;
    el.onpointerover = el.onclick = (e) => {
      const i = e.target.dataset?.i;
      if (i !== undefined) {
        this.showWho(Number(i));
        this.onHover(Number(i));
      }
    };
    el.onpointerleave = (e) => e.pointerType === "mouse" && this.showWho(-1);
  }

  /** Rebuild the cells when the grid's shape changed, then colour them. */
  render(view, lay, layKey, heatmap = view.heatmap) {
    this.view = view;
    if (layKey !== this.layKey) {
      this.cells = buildGrid(this.el, lay, { cell: "cell" });
      this.layKey = layKey;
    }
    const total = view.participants.length;
    const people = Math.max(1, total);
    const final = view.event.final;
    this.cells.forEach((cell, i) => {
      const a = heatmap.available[i] || 0;
      const n = heatmap.if_needed[i] || 0;
      const frac = Math.min(1, (a + 0.5 * n) / people);
      cell.dataset.available = String(a);
      cell.dataset.ifNeeded = String(n);
      cell.style.background = frac > 0 ? `hsl(140 ${40 + 20 * frac}% ${94 - 59 * frac}%)` : "";
      cell.classList.toggle("final", !!final && final.start <= i && i < final.end);
      const label = lay.missing.has(i) ? `${lay.title(i)}` : `${lay.title(i)}, ${a} of ${total} available${n ? `, ${n} if needed` : ""}`;
      cell.setAttribute("aria-label", label);
    });
    this.lay = lay;
    if (this.hovered >= 0) this.showWho(this.hovered);
  }

  showWho(i) {
    this.cells.forEach((c) => c.classList.remove("hover"));
    this.hovered = i;
    if (i < 0 || !this.view) {
      this.whoEl.innerHTML = '<p class="muted">Hover or tap a time to see who is free.</p>';
      return;
    }
    this.cells[i]?.classList.add("hover");
    const ps = this.view.participants;
    const free = ps.filter((p) => inRanges(p.available, i)).map((p) => p.name);
    const maybe = ps.filter((p) => inRanges(p.if_needed, i)).map((p) => p.name);
    const busy = ps.filter((p) => !inRanges(p.available, i) && !inRanges(p.if_needed, i)).map((p) => p.name);
    const section = (label, names) =>
      names.length ? `<p><strong>${label} (${names.length})</strong></p><ul>${names.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "";
    this.whoEl.innerHTML =
      `<h3>${esc(this.lay.title(i))}</h3>` +
      (section("Available", free) + section("If needed", maybe) + section("Not free", busy) ||
        '<p class="muted">Nobody has joined yet.</p>');
  }
}

export function renderBest(ol, view, lay, onFinalize) {
  const names = new Map(view.participants.map((p) => [p.id, p.name]));
  ol.replaceChildren();
  if (!view.best.length) {
    ol.innerHTML = '<li class="muted">No times yet: paint your availability.</li>';
    return;
  }
  for (const b of view.best) {
    const li = document.createElement("li");
    const who = b.available.map((id) => names.get(id)).filter(Boolean);
    const maybe = b.if_needed.map((id) => names.get(id)).filter(Boolean);
    li.innerHTML =
      `<div>${esc(lay.rangeLabel(b.start, b.end))}</div>` +
      `<div class="score">${who.length} available${maybe.length ? `, ${maybe.length} if needed` : ""}` +
      ` · score ${b.score.toFixed(2)}</div>`;
    li.title = [...who, ...maybe.map((n) => `${n} (if needed)`)].join(", ");
    if (onFinalize) {
      const btn = Object.assign(document.createElement("button"), { type: "button", textContent: "Finalize" });
      btn.className = "finalize";
      btn.onclick = () => onFinalize(b.start, b.end);
      li.firstChild.append(btn);
    }
    ol.append(li);
  }
}

export const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
