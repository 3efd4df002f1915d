// Who is here now: the members of presence-event-<event id> (participants with the page
// open; the API names them), at most MAX_SHOWN then "and N more". Who is painting now:
// participants whose ranges changed in a recent view (no client messages needed), marked
// for PAINTING_MS. Viewers who have not joined cannot subscribe and see an invitation.

export const MAX_SHOWN = 8;
export const PAINTING_MS = 12000;

/** Ids of participants whose availability differs between two views (one who joined and
 * painted between them counts too: under load both can arrive in one view). */
export function changedParticipants(before, after) {
  if (!before) return [];
  const old = new Map(before.participants.map((p) => [p.id, JSON.stringify([p.available, p.if_needed])]));
  const empty = JSON.stringify([[], []]);
  return after.participants
    .filter((p) => (old.get(p.id) ?? empty) !== JSON.stringify([p.available, p.if_needed]))
    .map((p) => p.id);
}

/** The names to show (sorted, this browser's participant first) and how many are left out. */
export function shownMembers(members, meId, max = MAX_SHOWN) {
  const all = [...members.entries()].sort(([a, x], [b, y]) => (a === meId ? -1 : b === meId ? 1 : x.localeCompare(y)));
  return { shown: all.slice(0, max), more: Math.max(0, all.length - max) };
}

export class Presence {
  constructor(el) {
    this.el = el;
    this.members = new Map(); // participant id -> name
    this.painting = new Map(); // participant id -> until (ms)
    this.names = new Map();
    this.channel = null;
    this.meId = null;
    this.render();
  }

  /** Subscribe as participant meId (null: not joined, no subscription). */
  attach(client, eventId, meId) {
    this.detach();
    this.meId = meId;
    if (!client || !meId) return this.render();
    this.client = client;
    this.channel = client.subscribe(`presence-event-${eventId}`);
    this.channel.bind("pusher:subscription_succeeded", (members) => {
      this.members.clear();
      members.each((m) => this.members.set(m.id, m.info?.name || "?"));
      this.render();
    });
    this.channel.bind("pusher:member_added", (m) => {
      this.members.set(m.id, m.info?.name || "?");
      this.render();
    });
    this.channel.bind("pusher:member_removed", (m) => {
      this.members.delete(m.id);
      this.render();
    });
    this.channel.bind("pusher:subscription_error", () => this.render());
  }

  detach() {
    if (this.channel) this.client.unsubscribe(this.channel.name);
    this.channel = null;
    this.members.clear();
    this.render();
  }

  /** Note who changed between two views; they show as painting for a while. */
  noteView(before, after) {
    this.names = new Map(after.participants.map((p) => [p.id, p.name]));
    const until = Date.now() + PAINTING_MS;
    for (const id of changedParticipants(before, after)) this.painting.set(id, until);
    this.render();
    clearTimeout(this.expiry);
    if (this.painting.size) this.expiry = setTimeout(() => this.render(), PAINTING_MS + 50);
  }

  render() {
    const now = Date.now();
    for (const [id, until] of this.painting) if (until <= now) this.painting.delete(id);
    const list = document.createElement("ul");
    list.className = "here";
    const { shown, more } = shownMembers(this.members, this.meId);
    for (const [id, name] of shown) {
      const li = document.createElement("li");
      li.dataset.id = id;
      li.textContent = id === this.meId ? `${name} (you)` : name;
      if (this.painting.has(id)) li.append(Object.assign(document.createElement("span"), { className: "painting", textContent: " painting now" }));
      list.append(li);
    }
    const parts = [list];
    if (more) parts.push(Object.assign(document.createElement("p"), { className: "more", textContent: `and ${more} more` }));
    if (!this.meId) parts.push(Object.assign(document.createElement("p"), { className: "muted", textContent: "Join to see who else is here." }));
    const away = [...this.painting.keys()].filter((id) => !this.members.has(id) && this.names.has(id));
    if (away.length) parts.push(Object.assign(document.createElement("p"), { className: "painting", textContent: `Painting now: ${away.map((id) => this.names.get(id)).join(", ")}` }));
    this.el.replaceChildren(...parts);
    this.el.dataset.count = String(this.members.size);
  }
}
