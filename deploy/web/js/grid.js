// A days × times grid of cells (CSS grid): header row of days, label column of times.
// For assistive technology it is a table of rows (role=row with display: contents, so the
// CSS grid still places every cell): a header row of column headers, then one row per time
// with a row header and one cell per day, each named like "Tue 1 Dec 09:30".
// Cells carry data-i (the slot index); slots that do not exist get class "missing".

const el = (tag, className, role, text = "") => {
  const node = document.createElement(tag);
  node.className = className;
  node.setAttribute("role", role);
  node.textContent = text;
  return node;
};

/** Text for screen readers only (a header with no visible text still needs one). */
const srOnly = (text) => Object.assign(document.createElement("span"), { className: "sr-only", textContent: text });

/** roles: {cell: "gridcell" | "cell"}; idPrefix names the cells (aria-activedescendant). */
export function buildGrid(root, lay, { cell: cellRole = "gridcell", idPrefix = "" } = {}) {
  root.replaceChildren();
  root.style.gridTemplateColumns = `auto repeat(${lay.days}, minmax(2.2rem, 1fr))`;
  root.style.gridTemplateRows = `auto repeat(${lay.perDay}, ${lay.perDay > 48 ? 12 : 18}px)`;
  const cells = new Array(lay.days * lay.perDay);
  const head = el("div", "gridrow", "row");
  const corner = el("div", "head corner", "columnheader");
  corner.append(srOnly("Time"));
  head.append(corner);
  for (let d = 0; d < lay.days; d++) {
    const h = el("div", "head", "columnheader");
    const [top, bottom] = lay.dayLabelParts(d);
    h.append(Object.assign(document.createElement("span"), { textContent: top }), document.createElement("br"), bottom);
    h.setAttribute("aria-label", `${top} ${bottom}`.trim());
    head.append(h);
  }
  root.append(head);
  const labelEvery = lay.slotMinutes === 15 ? 4 : lay.slotMinutes === 30 ? 2 : 1;
  for (let r = 0; r < lay.perDay; r++) {
    const row = el("div", "gridrow", "row");
    const label = el("div", "tlabel", "rowheader", r % labelEvery === 0 ? lay.rowLabels[r] : "");
    if (r % labelEvery) label.append(srOnly(lay.rowLabels[r]));
    row.append(label);
    for (let d = 0; d < lay.days; d++) {
      const i = lay.index(d, r);
      const cell = el("div", "cell" + (r % labelEvery === 0 ? " hour" : ""), cellRole);
      cell.dataset.i = String(i);
      if (idPrefix) cell.id = `${idPrefix}${i}`;
      cell.title = lay.title(i);
      if (lay.missing.has(i)) {
        cell.classList.add("missing");
        if (cellRole === "gridcell") cell.setAttribute("aria-disabled", "true");
      }
      cells[i] = cell;
      row.append(cell);
    }
    root.append(row);
  }
  return cells;
}

/** The slot index under a viewport point, or -1. */
export function cellAt(x, y) {
  const node = document.elementFromPoint(x, y);
  return node && node.classList.contains("cell") && node.dataset.i !== undefined ? Number(node.dataset.i) : -1;
}
