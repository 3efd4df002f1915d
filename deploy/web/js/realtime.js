// Live updates through the Pusher protocol (pusher-js; soketi behind the gateway at /app/,
// or Pusher itself when the API's realtime config names no host). Channel
// private-event-<event id>, authorized by POST /api/realtime/auth with X-Event-Token.
// onState("live" | "polling") tells the page whether to fall back to polling. The client
// also carries the presence channel (presence.js): its auth sends the participant key,
// read at each authorization (a participant may join after the connection opened).

import { api } from "./api.js";

export async function connectRealtime({ eventId, token, participantKey, onEvent, onState }) {
  if (!window.Pusher) {
    onState("polling", "pusher-js not loaded");
    return null;
  }
  let cfg;
  try {
    cfg = (await api("GET", "/realtime/config")).data;
  } catch (err) {
    onState("polling", `no realtime config: ${err.message}`);
    return null;
  }
  const secure = location.protocol === "https:";
  const port = Number(location.port) || (secure ? 443 : 80);
  const options = cfg.host
    ? // A Pusher-protocol server: reach it through this page's gateway (/app/ is proxied).
      { wsHost: location.hostname, wsPort: port, wssPort: port, forceTLS: secure, cluster: cfg.cluster || "mt1", enabledTransports: ["ws", "wss"] }
    : { cluster: cfg.cluster, forceTLS: true };
  const client = new window.Pusher(cfg.key, {
    ...options,
    disableStats: true,
    channelAuthorization: {
      endpoint: "/api/realtime/auth",
      transport: "ajax",
      headersProvider: () => {
        const key = participantKey();
        return key ? { "X-Event-Token": token, "X-Participant-Key": key } : { "X-Event-Token": token };
      },
    },
  });
  const channel = client.subscribe(`private-event-${eventId}`);
  let subscribed = false;
  channel.bind("pusher:subscription_succeeded", () => {
    subscribed = true;
    onState("live");
  });
  channel.bind("pusher:subscription_error", (err) => onState("polling", `subscription refused (${err?.status})`));
  client.connection.bind("state_changed", ({ current }) => {
    if (current === "connected" && subscribed) onState("live");
    else if (current !== "connected") onState("polling", current);
  });
  for (const name of ["view.updated", "event.updated", "event.deleted"]) {
    channel.bind(name, (data) => onEvent(name, data || {}));
  }
  return client;
}
