// What this browser remembers: the organiser's admin key and the participant key per event,
// and saves not yet acknowledged (so a reload while offline does not lose them).

const get = (k) => {
  try {
    return JSON.parse(localStorage.getItem(k));
  } catch {
    return null;
  }
};
const put = (k, v) => {
  try {
    if (v === null || v === undefined) localStorage.removeItem(k);
    else localStorage.setItem(k, JSON.stringify(v));
  } catch {
    /* storage full or disabled: keep working without it */
  }
};

export const adminKey = (token) => get(`overlap:admin:${token}`);
export const setAdminKey = (token, key) => put(`overlap:admin:${token}`, key);
/** {key, id, name} of this browser's participant in the event, or null. */
export const participant = (token) => get(`overlap:participant:${token}`);
export const setParticipant = (token, p) => put(`overlap:participant:${token}`, p);
export const pendingSave = (token) => get(`overlap:pending:${token}`);
export const setPendingSave = (token, body) => put(`overlap:pending:${token}`, body);
