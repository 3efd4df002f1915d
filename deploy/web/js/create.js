// The "new event" form: dates or weekdays, zone (the browser's by default), window, slot size.

import { api } from "./api.js";
import { setAdminKey } from "./store.js";
import { viewerZone } from "./time.js";

const WEEKDAYS = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"], ["sun", "Sun"]];
const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

export function setupCreate(onCreated) {
  const form = document.getElementById("create-form");
  const $ = (id) => document.getElementById(id);
  const dates = new Set();

  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("zones").replaceChildren(...zones.map((z) => Object.assign(document.createElement("option"), { value: z })));
  $("zone").value = viewerZone;

  for (let h = 0; h <= 24; h++) {
    const v = `${String(h).padStart(2, "0")}:00`;
    if (h < 24) $("day-start").append(new Option(v, v, false, h === 9));
    if (h > 0) $("day-end").append(new Option(v, v, false, h === 17));
  }
  $("weekdays-box").replaceChildren(
    ...WEEKDAYS.map(([v, label]) => {
      const l = document.createElement("label");
      l.innerHTML = `<input type="checkbox" name="weekday" value="${v}" ${["mon", "tue", "wed", "thu", "fri"].includes(v) ? "checked" : ""}> ${label}`;
      return l;
    }),
  );

  const renderDates = () => {
    const list = [...dates].sort();
    $("date-list").replaceChildren(
      ...list.map((d) => {
        const li = document.createElement("li");
        li.textContent = d;
        const x = Object.assign(document.createElement("button"), { type: "button", textContent: "×", title: `remove ${d}` });
        x.onclick = () => {
          dates.delete(d);
          renderDates();
        };
        li.append(x);
        return li;
      }),
    );
  };
  const today = new Date();
  $("date-input").value = iso(today);
  $("date-add").onclick = () => {
    if ($("date-input").value && dates.size < 62) dates.add($("date-input").value);
    renderDates();
  };
  $("date-week").onclick = () => {
    for (let k = 0; k < 7 && dates.size < 62; k++) dates.add(iso(new Date(today.getFullYear(), today.getMonth(), today.getDate() + k)));
    renderDates();
  };
  $("date-clear").onclick = () => {
    dates.clear();
    renderDates();
  };
  form.kind.forEach((r) =>
    r.addEventListener("change", () => {
      $("dates-box").hidden = form.kind.value !== "dates";
      $("weekdays-box").hidden = form.kind.value !== "weekdays";
    }),
  );

  form.onsubmit = async (e) => {
    e.preventDefault();
    $("create-error").textContent = "";
    const body = {
      title: form.title.value,
      description: form.description.value,
      timezone: form.timezone.value.trim(),
      day_start: form.day_start.value,
      day_end: form.day_end.value,
      slot_minutes: Number(form.slot_minutes.value),
    };
    if (form.kind.value === "dates") {
      if (!dates.size && $("date-input").value) dates.add($("date-input").value);
      body.dates = [...dates].sort();
    } else {
      body.weekdays = [...form.querySelectorAll('input[name="weekday"]:checked')].map((c) => c.value);
    }
    try {
      const { data } = await api("POST", "/events", { body });
      setAdminKey(data.token, data.admin_key);
      onCreated(data.token);
    } catch (err) {
      $("create-error").textContent = err.message;
    }
  };
}
