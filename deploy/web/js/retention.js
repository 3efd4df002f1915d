// Retention on the page: when the event will be deleted (the view's event.expires_at, pushed
// back by every change), and the organiser's CSV export to keep a copy outside Overlap.

const DATE = { year: "numeric", month: "long", day: "numeric" };

/** "Kept until 2 March 2027 …" in the reader's locale and zone; hidden when retention is off. */
export function renderExpiry(el, event) {
  el.hidden = !event.expires_at;
  if (!event.expires_at) return;
  const until = new Date(event.expires_at);
  el.textContent = `Kept until ${until.toLocaleDateString(undefined, DATE)}, then deleted; any change keeps it longer.`;
  el.title = until.toLocaleString();
}

/** Download the CSV of everyone's availability (it needs the admin key, so not a plain link). */
export async function downloadExport(path, adminKey) {
  const res = await fetch(`/api${path}/export.csv`, { headers: { "X-Admin-Key": adminKey } });
  if (!res.ok) throw new Error(`export failed: HTTP ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = "overlap-availability.csv";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
