// A days × times grid of cells (CSS grid): header row of days, label column of times.
// Cells carry data-i (the slot index); slots that do not exist get class "missing".

export function buildGrid(el, lay) {
  el.replaceChildren();
  el.style.gridTemplateColumns = `auto repeat(${lay.days}, minmax(2.2rem, 1fr))`;
  el.style.gridTemplateRows = `auto repeat(${lay.perDay}, ${lay.perDay > 48 ? 10 : 16}px)`;
  const cells = new Array(lay.days * lay.perDay);
  el.append(Object.assign(document.createElement("div"), { className: "head" }));
  for (let d = 0; d < lay.days; d++) {
    el.append(Object.assign(document.createElement("div"), { className: "head", textContent: lay.dayLabels[d] }));
  }
  const labelEvery = lay.slotMinutes === 15 ? 4 : lay.slotMinutes === 30 ? 2 : 1;
  for (let r = 0; r < lay.perDay; r++) {
    const label = document.createElement("div");
    label.className = "tlabel";
    label.textContent = r % labelEvery === 0 ? lay.rowLabels[r] : "";
    el.append(label);
    for (let d = 0; d < lay.days; d++) {
      const i = lay.index(d, r);
      const cell = document.createElement("div");
      cell.className = "cell" + (r % labelEvery === 0 ? " hour" : "");
      cell.dataset.i = String(i);
      cell.setAttribute("role", "gridcell");
      cell.title = lay.title(i);
      if (lay.missing.has(i)) cell.classList.add("missing");
      cells[i] = cell;
      el.append(cell);
    }
  }
  return cells;
}

/** The slot index under a viewport point, or -1. */
export function cellAt(x, y) {
  const el = document.elementFromPoint(x, y);
  return el && el.classList.contains("cell") && el.dataset.i !== undefined ? Number(el.dataset.i) : -1;
}
