// Painting one's availability: drag a rectangle with mouse or touch (pointer events), or
// use the keyboard (arrows move, space paints/erases the cell, shift+arrows paint while
// moving). A drag that starts on a cell already painted with the brush erases instead.
// Each cell is named with its time and state; the grid points at the cursor's cell
// (aria-activedescendant), so a screen reader follows the keyboard.

const STATES = ["not available", "available", "if needed"];

import { buildGrid, cellAt } from "./grid.js";

export class Painter {
  /** onChange(marks) is called after every finished stroke or key press. */
  constructor(el, lay, marks, onChange) {
    this.el = el;
    this.lay = lay;
    this.marks = marks;
    this.onChange = onChange;
    this.brush = 1;
    this.cursor = 0;
    this.cells = buildGrid(el, lay, { cell: "gridcell", idPrefix: "mine-" });
    this.render();
    this.drag = null;
    el.onpointerdown = (e) => this.down(e);
    el.onpointermove = (e) => this.move(e);
    el.onpointerup = el.onpointercancel = () => this.up();
    el.onkeydown = (e) => this.key(e);
  }

  render() {
    this.cells.forEach((c, i) => {
      const mark = String(this.marks[i]);
      if (c.dataset.mark !== mark) {
        c.dataset.mark = mark;
        c.setAttribute("aria-label", `${this.lay.title(i)}, ${this.lay.missing.has(i) ? "does not exist" : STATES[this.marks[i]]}`);
      }
      c.classList.toggle("cursor", i === this.cursor);
    });
    this.el.setAttribute("aria-activedescendant", this.cells[this.cursor]?.id || "");
  }

  /** Replace every mark (an import to review); does not call onChange. */
  setMarks(marks) {
    this.marks.set(marks);
    this.render();
  }

  paintRect(from, to, value, base) {
    const { lay } = this;
    const [d0, d1] = [lay.dayOf(from), lay.dayOf(to)].sort((a, b) => a - b);
    const [r0, r1] = [lay.rowOf(from), lay.rowOf(to)].sort((a, b) => a - b);
    this.marks.set(base);
    for (let d = d0; d <= d1; d++) {
      for (let r = r0; r <= r1; r++) {
        const i = lay.index(d, r);
        if (!lay.missing.has(i)) this.marks[i] = value;
      }
    }
    this.render();
  }

  down(e) {
    const i = cellAt(e.clientX, e.clientY);
    if (i < 0 || this.lay.missing.has(i)) return;
    e.preventDefault();
    this.el.focus({ preventScroll: true });
    this.el.setPointerCapture?.(e.pointerId);
    const value = this.marks[i] === this.brush ? 0 : this.brush;
    this.drag = { from: i, to: i, value, base: this.marks.slice() };
    this.cursor = i;
    this.paintRect(i, i, value, this.drag.base);
  }

  move(e) {
    if (!this.drag) return;
    const i = cellAt(e.clientX, e.clientY);
    if (i < 0 || i === this.drag.to) return;
    this.drag.to = i;
    this.cursor = i;
    this.paintRect(this.drag.from, i, this.drag.value, this.drag.base);
  }

  up() {
    if (!this.drag) return;
    this.drag = null;
    this.onChange(this.marks);
  }

  toggle(i, value) {
    if (this.lay.missing.has(i)) return;
    this.marks[i] = value;
  }

  key(e) {
    const { lay } = this;
    const d = lay.dayOf(this.cursor), r = lay.rowOf(this.cursor);
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    if (moves[e.key]) {
      e.preventDefault();
      const [dd, dr] = moves[e.key];
      const nd = Math.min(lay.days - 1, Math.max(0, d + dd));
      const nr = Math.min(lay.perDay - 1, Math.max(0, r + dr));
      this.cursor = lay.index(nd, nr);
      if (e.shiftKey) {
        this.toggle(this.cursor, this.brush);
        this.render();
        this.onChange(this.marks);
      } else {
        this.render();
      }
      this.cells[this.cursor].scrollIntoView?.({ block: "nearest", inline: "nearest" });
    } else if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      this.toggle(this.cursor, this.marks[this.cursor] === this.brush ? 0 : this.brush);
      this.render();
      this.onChange(this.marks);
    }
  }
}
