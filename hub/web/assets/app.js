// classcam pages: one small single-page app with hash routes, no framework. Every element is built
// with DOM calls (never innerHTML), so text from the hub cannot become markup. Pages that show
// changing things poll the API every 5 s; the poll stops when the page changes.
import { api, ApiError, explain } from "./api.js";
import { h, clear, fmtTime, fmtDuration, fmtBytes, fmtOffset, dash, toLocalInput, fromLocalInput, zoneName, setZone } from "./ui.js";
import { playerPage } from "./player.js";
import { livePage } from "./live.js";

const state = { me: null, poll: null, directory: null, view: null };
// Each route renders into a fresh view, so a slow page that finishes after the user moved on
// fills a detached element instead of the new page.
const main = () => state.view;

function toast(text) {
  const t = document.getElementById("toast");
  const d = h("div", {}, text);
  t.append(d);
  setTimeout(() => d.remove(), 5000);
}

// Shows a failure where it happened: what went wrong and what to do.
function errorBox(err) {
  return h("div", { class: "error", role: "alert" }, explain(err));
}

// Runs an action from a button or form, showing its error next to `where` (or as a page error).
async function act(where, fn) {
  const old = where.querySelector(":scope > .error");
  if (old) old.remove();
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signedOut();
    const box = errorBox(err);
    const heading = where.querySelector(":scope > h1, :scope > h2");
    if (heading) heading.after(box);
    else where.prepend(box);
    return undefined;
  }
}

// Polls for the page shown in `view`; a page that is no longer shown does not start polling.
function every(ms, fn, view) {
  if (view && !view.isConnected) return;
  stopPolling();
  state.poll = setInterval(() => {
    fn().catch((err) => {
      if (err instanceof ApiError && err.status === 401) signedOut();
    });
  }, ms);
}
function stopPolling() {
  if (state.poll) clearInterval(state.poll);
  state.poll = null;
}

function signedOut() {
  state.me = null;
  stopPolling();
  if (location.hash !== "#/login") location.hash = "#/login";
  else route();
}

async function directory() {
  if (!state.directory) state.directory = (await api("GET", "/api/v1/directory")).people || [];
  return state.directory;
}

// ---------------------------------------------------------------- header and routing

const homes = { teacher: "#/teacher", coach: "#/coach", technician: "#/units", admin: "#/admin" };
const navs = {
  teacher: [["#/teacher", "Lessons"], ["#/recordings", "Recordings"]],
  coach: [["#/coach", "Shared with me"]],
  technician: [["#/units", "Rooms and units"]],
  admin: [["#/admin", "Users"], ["#/settings", "Retention"], ["#/audit", "Audit log"], ["#/units", "Rooms and units"], ["#/recordings", "Recordings"]],
};

function header() {
  const top = document.getElementById("top");
  clear(top);
  top.append(h("span", { class: "brand" }, "classcam"));
  if (!state.me) return;
  const nav = h("nav", { "aria-label": "Main" });
  for (const [href, text] of navs[state.me.role] || []) {
    const a = h("a", { href }, text);
    if (location.hash.startsWith(href)) a.setAttribute("aria-current", "page");
    nav.append(a);
  }
  top.append(nav);
  const logout = h("button", { type: "button", class: "secondary", id: "logout" }, "Sign out");
  logout.addEventListener("click", async () => {
    try {
      await api("POST", "/api/v1/auth/logout");
    } catch {
      /* signed out either way */
    }
    state.directory = null;
    signedOut();
  });
  top.append(
    h("div", { class: "who" },
      h("span", {}, `${state.me.display_name} (${state.me.role})`),
      h("a", { href: "#/password" }, "Change password"),
      logout),
  );
}

const routes = [
  [/^#\/login$/, loginPage, false],
  [/^#\/password$/, passwordPage, true],
  [/^#\/teacher$/, teacherPage, true],
  [/^#\/coach$/, coachPage, true],
  [/^#\/recordings$/, recordingsPage, true],
  [/^#\/recordings\/([^/]+)$/, (m) => playerPage(ctx(), decodeURIComponent(m[1])), true],
  [/^#\/live\/([^/?]+)(?:\?(.*))?$/, (m) => livePage(ctx(), decodeURIComponent(m[1]), m[2] || ""), true],
  [/^#\/units$/, unitsPage, true],
  [/^#\/admin$/, usersPage, true],
  [/^#\/settings$/, settingsPage, true],
  [/^#\/audit$/, auditPage, true],
];

// What the player module needs from here.
function ctx() {
  return { state, main, act, every, errorBox, toast, directory, signedOut };
}

async function route() {
  stopPolling();
  const root = document.getElementById("main");
  clear(root);
  const m = h("div", {});
  state.view = m;
  root.append(m);
  if (!state.me && location.hash !== "#/login") {
    try {
      state.me = await api("GET", "/api/v1/me");
    } catch {
      location.hash = "#/login";
      return;
    }
  }
  let hash = location.hash || "";
  if (state.me && (hash === "" || hash === "#/" || hash === "#/login")) {
    location.hash = homes[state.me.role] || "#/password";
    return;
  }
  header();
  for (const [re, page] of routes) {
    const match = hash.match(re);
    if (!match) continue;
    try {
      await page(match);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signedOut();
      m.append(errorBox(err));
    }
    if (state.view === m) root.focus({ preventScroll: true });
    return;
  }
  m.append(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "#/" }, "Go to your start page")));
}

window.addEventListener("hashchange", route);
// A module script runs once the document is parsed. Times are shown in the school's zone, which the
// hub's health route tells anyone; without it (an old hub, a network error) the browser's is used.
api("GET", "/api/v1/health")
  .then((health) => setZone(health.timezone))
  .catch(() => {})
  .finally(route);

// ---------------------------------------------------------------- everyone

async function loginPage() {
  const m = main();
  const form = h("form", { class: "stack", id: "login-form" },
    h("label", {}, "Login", h("input", { name: "login", autocomplete: "username", required: true, autocapitalize: "none" })),
    h("label", {}, "Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign in")));
  m.append(h("section", { class: "card login" }, h("h1", {}, "Sign in to classcam"), form));
  form.elements.login.focus();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const old = form.querySelector(":scope > .error");
    if (old) old.remove();
    api("POST", "/api/v1/auth/login", { login: form.elements.login.value.trim(), password: form.elements.password.value })
      .then((me) => {
        state.me = me;
        location.hash = homes[me.role] || "#/password";
      })
      .catch((err) => {
        const text = err instanceof ApiError && err.status === 401
          ? "The login or the password is wrong. Check both (passwords are case-sensitive) and try again; an administrator can reset a forgotten password."
          : explain(err);
        form.prepend(h("div", { class: "error", role: "alert" }, text));
        form.elements.password.select();
      });
  });
}

async function passwordPage() {
  const m = main();
  const form = h("form", { class: "stack", id: "password-form" },
    h("label", {}, "Current password", h("input", { name: "current", type: "password", autocomplete: "current-password", required: true })),
    h("label", {}, "New password (at least 10 characters)", h("input", { name: "next", type: "password", autocomplete: "new-password", required: true, minlength: 10 })),
    h("label", {}, "New password again", h("input", { name: "again", type: "password", autocomplete: "new-password", required: true, minlength: 10 })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Change password")));
  m.append(h("h1", {}, "Change your password"), h("section", { class: "card" }, form));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(form, async () => {
      if (form.elements.next.value !== form.elements.again.value) {
        throw new ApiError(400, "new password: the two entries differ; type the same new password twice", "new_password");
      }
      await api("POST", "/api/v1/me/password", { current_password: form.elements.current.value, new_password: form.elements.next.value });
      toast("Password changed. Sign in with the new password.");
      signedOut();
    });
  });
}

// ---------------------------------------------------------------- teacher

function recordingRow(r, withOwner) {
  const segs = r.expected_segments ? `${dash(r.segments_received)}/${r.expected_segments}` : dash(r.segments_received);
  return h("tr", {},
    h("td", {}, h("a", { href: `#/recordings/${encodeURIComponent(r.id)}` }, r.title || "(untitled)")),
    h("td", {}, fmtTime(r.started_at)),
    h("td", {}, dash(r.room_name)),
    withOwner ? h("td", {}, dash(r.owner_name)) : null,
    h("td", {}, stateBadge(r.state), r.state === "recording" ? h("span", { class: "small muted" }, ` ${segs} segments`) : null),
    h("td", {}, r.duration_ms ? fmtDuration(r.duration_ms) : "—"),
  );
}

function stateBadge(s) {
  const cls = { ready: "ok", recording: "warn", complete: "warn", joining: "warn", failed: "bad" }[s] || "idle";
  return h("span", { class: `badge ${cls}` }, dash(s));
}

function recordingsTable(list, withOwner, empty) {
  if (!list.length) return h("p", { class: "muted" }, empty);
  return h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "Title"), h("th", {}, "Started"), h("th", {}, "Room"), withOwner ? h("th", {}, "Teacher") : null, h("th", {}, "State"), h("th", {}, "Length"))),
    h("tbody", {}, ...list.map((r) => recordingRow(r, withOwner)))));
}

async function teacherPage() {
  const m = main();
  m.append(h("h1", {}, "Lessons"));
  const nowSection = h("section", { class: "card", id: "record-now" }, h("h2", {}, "Record now"));
  const obsSection = h("section", { class: "card", id: "observations" }, h("h2", {}, "Observations"));
  const newSection = h("section", { class: "card", id: "new-observation" }, h("h2", {}, "Schedule an observation"));
  m.append(h("div", { class: "grid2" }, newSection, nowSection), obsSection);

  const [rooms, people] = await Promise.all([api("GET", "/api/v1/rooms").then((r) => r.rooms || []), directory()]);
  recordNow(nowSection, rooms);
  observationForm(newSection, rooms, people, () => refresh());

  const list = h("div", {});
  obsSection.append(list);
  const asks = h("div", { id: "live-asks" });
  m.querySelector("h1").after(asks);
  async function refresh() {
    const from = new Date(Date.now() - 12 * 3600e3).toISOString();
    const obs = (await api("GET", `/api/v1/observations?from=${encodeURIComponent(from)}`)).observations || [];
    clear(list);
    list.append(observationsTable(obs, list, refresh));
    await liveRequests(asks, obs);
  }
  await refresh();
  every(5000, refresh, m);
}

// Coaches asking to watch the teacher's lesson under way live: accept here or on the live view.
async function liveRequests(where, obs) {
  const now = Date.now();
  const mine = obs.filter((o) => o.teacher_id === state.me.id && o.state === "scheduled" &&
    Date.parse(o.start) <= now && now < Date.parse(o.end) && (o.unit_ids || []).length);
  const notes = [];
  for (const o of mine) {
    const unit = o.unit_ids[0];
    const base = `/api/v1/live/${encodeURIComponent(unit)}`;
    const st = await api("GET", base).catch(() => null);
    if (!st || !(st.requests || []).length) continue;
    const accept = h("button", { type: "button" }, "Accept");
    accept.addEventListener("click", () => act(where, async () => {
      await api("POST", `${base}/consent`);
      toast(`Live accepted for "${o.title}".`);
      clear(where);
    }));
    notes.push(h("div", { class: "notice", role: "alert" },
      h("p", {}, `${st.requests.map((a) => a.name).join(", ")} ${st.requests.length > 1 ? "ask" : "asks"} to watch "${o.title}" live.`),
      h("div", { class: "actions" }, accept, h("a", { href: `#/live/${encodeURIComponent(unit)}`, class: "button-link" }, "Open the live view"))));
  }
  clear(where);
  where.append(...notes);
}

function observationsTable(obs, where, refresh) {
  if (!obs.length) return h("p", { class: "muted" }, "No observations from today on. Schedule one above.");
  obs.sort((a, b) => a.start.localeCompare(b.start));
  return h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "Title"), h("th", {}, "When"), h("th", {}, "Room"), h("th", {}, "Teacher"), h("th", {}, "Coaches"), h("th", {}, "State"), h("th", {}, ""))),
    h("tbody", {}, ...obs.map((o) => {
      const cancel = (o.you_may || []).includes("change") && o.state === "scheduled"
        ? h("button", { type: "button", class: "danger", "aria-label": `Cancel ${o.title}` }, "Cancel") : null;
      if (cancel) {
        cancel.addEventListener("click", () => act(where, async () => {
          if (!confirm(`Cancel the observation "${o.title}"?`)) return;
          await api("DELETE", `/api/v1/observations/${encodeURIComponent(o.id)}`);
          await refresh();
        }));
      }
      const now = Date.now();
      const underWay = Date.parse(o.start) <= now && now < Date.parse(o.end) && o.state !== "cancelled";
      const live = underWay && (o.unit_ids || []).length
        ? h("a", { href: `#/live/${encodeURIComponent(o.unit_ids[0])}`, class: "button-link", "aria-label": `Watch ${o.title} live` }, "Watch live") : null;
      return h("tr", {},
        h("td", {}, o.title),
        h("td", {}, `${fmtTime(o.start)} – ${fmtTime(o.end, true)}`),
        h("td", {}, dash(o.room_name)),
        h("td", {}, dash(o.teacher_name)),
        h("td", {}, (o.coaches || []).map((c) => c.display_name).join(", ") || "—"),
        h("td", {}, stateBadge(o.state)),
        h("td", {}, live, cancel));
    }))));
}

function observationForm(section, rooms, people, done) {
  const start = new Date(Date.now() + 3600e3);
  start.setMinutes(0, 0, 0);
  const end = new Date(start.getTime() + 50 * 60e3);
  const coaches = people.filter((p) => p.role === "coach" || (p.role === "teacher" && p.id !== state.me.id));
  const form = h("form", { class: "stack", id: "observation-form" },
    h("label", {}, "Title", h("input", { name: "title", required: true, maxlength: 200, placeholder: "Year 8 maths" })),
    h("label", {}, "Room", h("select", { name: "room", required: true }, ...rooms.map((r) => h("option", { value: r.id }, r.name)))),
    h("label", {}, `Starts (${zoneName()})`, h("input", { name: "start", type: "datetime-local", required: true, value: toLocalInput(start) })),
    h("label", {}, `Ends (${zoneName()})`, h("input", { name: "end", type: "datetime-local", required: true, value: toLocalInput(end) })),
    h("fieldset", {}, h("legend", {}, "Coaches invited"),
      coaches.length ? null : h("p", { class: "muted small" }, "No coaches have accounts yet."),
      ...coaches.map((c) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "coach", value: c.id }), `${c.display_name} (${c.role})`))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "live_allowed" }),
      "The invited coaches may watch live without asking me on the day"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Schedule")));
  if (!rooms.length) section.append(h("p", { class: "muted" }, "There are no rooms yet: ask a technician to add one."));
  section.append(form);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(form, async () => {
      const coach_ids = [...form.querySelectorAll("input[name=coach]:checked")].map((i) => i.value);
      const o = await api("POST", "/api/v1/observations", {
        title: form.elements.title.value.trim(),
        room_id: form.elements.room.value,
        start: fromLocalInput(form.elements.start.value),
        end: fromLocalInput(form.elements.end.value),
        coach_ids,
        live_allowed: form.elements.live_allowed.checked,
      });
      toast(`Scheduled "${o.title}".`);
      form.elements.title.value = "";
      await done();
    });
  });
}

// Start or stop a room's unit at once; the command's outcome is polled until it settles.
function recordNow(section, rooms) {
  // Only rooms the caller teaches in (the hub says so in you_may; older hubs do not).
  const withUnits = rooms.filter((r) => Array.isArray(r.unit_ids) && r.unit_ids.length &&
    (!Array.isArray(r.you_may) || r.you_may.includes("record")));
  if (!rooms.some((r) => Array.isArray(r.unit_ids))) {
    section.append(h("p", { class: "muted" }, "This hub does not list the rooms' cameras yet, so recording now is not available here."));
    return;
  }
  if (!withUnits.length) {
    section.append(h("p", { class: "muted" }, rooms.some((r) => Array.isArray(r.unit_ids) && r.unit_ids.length)
      ? "You can record now in a room you teach in (its default teacher, or the teacher of its current or next observation): none at the moment."
      : "No room has a camera unit yet: ask a technician to enrol one."));
    return;
  }
  const status = h("p", { role: "status", class: "small", id: "command-status" });
  const form = h("form", { class: "stack", id: "record-now-form" },
    h("label", {}, "Room", h("select", { name: "unit" }, ...withUnits.flatMap((r) => r.unit_ids.map((u) => h("option", { value: u }, r.unit_ids.length > 1 ? `${r.name} (${u})` : r.name))))),
    h("label", {}, "Title", h("input", { name: "title", value: "Impromptu observation", maxlength: 200 })),
    h("div", { class: "actions" },
      h("button", { type: "button", name: "start" }, "Start recording"),
      h("button", { type: "button", name: "stop", class: "secondary" }, "Stop recording"),
      h("button", { type: "button", name: "live", class: "secondary" }, "Watch live")),
    status);
  section.append(form);
  const send = (action) => act(form, async () => {
    const unit = form.elements.unit.value;
    const args = action === "start" ? { title: form.elements.title.value.trim() || "Impromptu observation" } : {};
    const c = await api("POST", `/api/v1/units/${encodeURIComponent(unit)}/commands`, { action, args, expires_in_s: 120 });
    status.textContent = `${action === "start" ? "Start" : "Stop"}: sent, waiting for the unit…`;
    await followCommand(unit, c, status, action === "start" ? "Start" : "Stop");
  });
  form.elements.start.addEventListener("click", () => send("start"));
  form.elements.stop.addEventListener("click", () => send("stop"));
  form.elements.live.addEventListener("click", () => { location.hash = `#/live/${encodeURIComponent(form.elements.unit.value)}`; });
}

const commandWords = {
  ok: "done",
  failed: "the unit tried and failed",
  rejected: "the unit refused",
  expired: "the unit did not answer in time: is it online? Ask a technician to check it",
};

async function followCommand(unit, c, status, what) {
  for (let i = 0; i < 60 && c && c.state === "sent"; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    c = await api("GET", `/api/v1/units/${encodeURIComponent(unit)}/commands/${encodeURIComponent(c.id)}`);
  }
  const s = c ? c.state : "sent";
  status.textContent = `${what}: ${commandWords[s] || "still waiting for the unit"}${c && c.detail ? ` (${c.detail})` : ""}.`;
  return c;
}

async function recordingsPage() {
  const m = main();
  m.append(h("h1", {}, "Recordings"));
  const mine = h("section", { class: "card", id: "recordings" });
  m.append(mine);
  async function refresh() {
    const list = (await api("GET", "/api/v1/recordings")).recordings || [];
    const own = list.filter((r) => r.owner_id === state.me.id);
    const other = list.filter((r) => r.owner_id !== state.me.id);
    clear(mine);
    if (state.me.role === "teacher") {
      mine.append(h("h2", {}, "My recordings"), recordingsTable(own, false, "No recordings yet. Recordings of your observations appear here as they upload."));
      if (other.length) mine.append(h("h2", {}, "Shared with me"), recordingsTable(other, true, ""));
    } else {
      mine.append(recordingsTable(list, true, "No recordings."));
    }
  }
  await refresh();
  every(5000, refresh, m);
}

// ---------------------------------------------------------------- coach

async function coachPage() {
  const m = main();
  m.append(h("h1", {}, "Shared with me"));
  const recs = h("section", { class: "card", id: "shared" }, h("h2", {}, "Recordings"));
  const obs = h("section", { class: "card", id: "invited" }, h("h2", {}, "Observations you are invited to"));
  m.append(recs, obs);
  const recList = h("div", {});
  const obsList = h("div", {});
  recs.append(recList);
  obs.append(obsList);
  async function refresh() {
    const [r, o] = await Promise.all([
      api("GET", "/api/v1/recordings"),
      api("GET", `/api/v1/observations?from=${encodeURIComponent(new Date(Date.now() - 12 * 3600e3).toISOString())}`),
    ]);
    clear(recList);
    recList.append(recordingsTable(r.recordings || [], true, "Nothing has been shared with you yet. A teacher shares a recording from its page."));
    clear(obsList);
    obsList.append(observationsTable(o.observations || [], obsList, refresh));
  }
  await refresh();
  every(5000, refresh, m);
}

// ---------------------------------------------------------------- technician

function onlineBadge(u) {
  if (u.revoked) return h("span", { class: "badge bad" }, "revoked");
  if (u.online === true) return h("span", { class: "badge ok" }, "online");
  if (u.online === false) return h("span", { class: "badge bad" }, u.enrolled === false ? "not enrolled" : "offline");
  return h("span", { class: "badge idle" }, "—");
}

function temp(t) {
  return t && typeof t.cpu_temp_c === "number" ? `${t.cpu_temp_c.toFixed(1)} °C` : "—";
}
function disk(t) {
  if (!t || typeof t.disk_free_bytes !== "number") return "—";
  return typeof t.disk_total_bytes === "number" ? `${fmtBytes(t.disk_free_bytes)} free of ${fmtBytes(t.disk_total_bytes)}` : `${fmtBytes(t.disk_free_bytes)} free`;
}
function backlog(t) {
  if (!t || typeof t.spool_backlog_segments !== "number") return "—";
  const aside = typeof t.spool_set_aside_segments === "number" && t.spool_set_aside_segments > 0
    ? `, ${t.spool_set_aside_segments} set aside` : "";
  return `${t.spool_backlog_segments} segments (${fmtBytes(t.spool_backlog_bytes || 0)})${aside}`;
}

async function unitsPage() {
  const m = main();
  m.append(h("h1", {}, "Rooms and units"));
  const unitsSec = h("section", { class: "card", id: "units" }, h("h2", {}, "Units"));
  const detail = h("section", { class: "card", id: "unit-detail", "aria-live": "polite" }, h("h2", {}, "Enrolment and snapshots"),
    h("p", { class: "muted" }, "Choose “Pairing code” or “Snapshot” on a unit."));
  const roomsSec = h("section", { class: "card", id: "rooms" }, h("h2", {}, "Rooms"));
  const addUnit = h("section", { class: "card", id: "add-unit" }, h("h2", {}, "Add a unit"));
  m.append(unitsSec, h("div", { class: "grid2" }, detail, addUnit), roomsSec);
  const unitsList = h("div", {});
  const roomsList = h("div", {});
  unitsSec.append(unitsList);
  roomsSec.append(roomsList);

  let rooms = [];
  async function refresh() {
    const [r, u] = await Promise.all([api("GET", "/api/v1/rooms"), api("GET", "/api/v1/units")]);
    rooms = r.rooms || [];
    const units = u.units || [];
    const roomName = (id) => (rooms.find((x) => x.id === id) || {}).name || "—";
    clear(unitsList);
    unitsList.append(units.length ? h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, ...["Unit", "Room", "Status", "Recorder", "Last seen", "Disk", "Temperature", "Upload backlog", "Last error", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...units.map((un) => {
        const t = un.telemetry || null;
        const code = h("button", { type: "button", class: "secondary" }, "Pairing code");
        const snap = h("button", { type: "button", class: "secondary" }, "Snapshot");
        const revoke = h("button", { type: "button", class: "danger" }, "Revoke");
        code.setAttribute("aria-label", `Pairing code for ${un.name || un.id}`);
        snap.setAttribute("aria-label", `Snapshot from ${un.name || un.id}`);
        revoke.setAttribute("aria-label", `Revoke ${un.name || un.id}`);
        code.addEventListener("click", () => pairingCode(detail, un));
        snap.addEventListener("click", () => snapshot(detail, un));
        revoke.addEventListener("click", () => act(unitsSec, async () => {
          if (!confirm(`Revoke ${un.name || un.id}? It stops working at once and must be enrolled again with a new pairing code.`)) return;
          await api("POST", `/api/v1/units/${encodeURIComponent(un.id)}/revoke`);
          toast(`${un.name || un.id} revoked.`);
          await refresh();
        }));
        if (un.revoked) revoke.disabled = true;
        return h("tr", { "data-unit": un.id },
          h("td", {}, h("strong", {}, dash(un.name)), h("div", { class: "small muted" }, un.id)),
          h("td", {}, roomName(un.room_id)),
          h("td", {}, onlineBadge(un)),
          h("td", {}, dash(un.state || (t && t.state))),
          h("td", {}, fmtTime(un.last_seen_at)),
          h("td", {}, disk(t)),
          h("td", {}, temp(t)),
          h("td", {}, backlog(t)),
          h("td", {}, un.last_error ? h("span", { class: "small" }, un.last_error) : "—"),
          h("td", {}, h("div", { class: "actions" }, code, snap,
            state.me.role === "technician" && un.room_id && !un.revoked
              ? h("a", { href: `#/live/${encodeURIComponent(un.id)}`, class: "button-link", "aria-label": `Framing preview of ${un.name || un.id}` }, "Framing preview") : null,
            revoke)));
      })))) : h("p", { class: "muted" }, "No units yet. Add one, then enrol it with a pairing code."));
    clear(roomsList);
    roomsList.append(rooms.length ? h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Room"), h("th", {}, "Default teacher"), h("th", {}, "Units"))),
      h("tbody", {}, ...rooms.map((ro) => h("tr", {},
        h("td", {}, ro.name), h("td", {}, dash(ro.default_teacher_name)),
        h("td", {}, Array.isArray(ro.unit_ids) ? (ro.unit_ids.join(", ") || "—") : units.filter((x) => x.room_id === ro.id).map((x) => x.id).join(", ") || "—")))))
      : h("p", { class: "muted" }, "No rooms yet."));
    const sel = addUnit.querySelector("select[name=room]");
    if (sel && sel.options.length !== rooms.length + 1) {
      clear(sel);
      sel.append(h("option", { value: "" }, "(no room)"), ...rooms.map((ro) => h("option", { value: ro.id }, ro.name)));
    }
  }

  const unitForm = h("form", { class: "stack", id: "add-unit-form" },
    h("label", {}, "Name", h("input", { name: "name", required: true, placeholder: "Room 12 camera" })),
    h("label", {}, "Id (optional: a-z, 0-9, -)", h("input", { name: "id", pattern: "[a-z0-9][a-z0-9\\-]{0,63}", placeholder: "room-12" })),
    h("label", {}, "Room", h("select", { name: "room" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add unit")));
  addUnit.append(unitForm);
  unitForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(unitForm, async () => {
      const body = { name: unitForm.elements.name.value.trim() };
      if (unitForm.elements.id.value.trim()) body.id = unitForm.elements.id.value.trim();
      if (unitForm.elements.room.value) body.room_id = unitForm.elements.room.value;
      const r = await api("POST", "/api/v1/units", body);
      unitForm.reset();
      await refresh();
      await pairingCode(detail, r.unit || r);
    });
  });

  const roomForm = h("form", { class: "inline", id: "add-room-form" },
    h("label", {}, "New room", h("input", { name: "name", required: true, placeholder: "Room 12" })),
    h("button", { type: "submit" }, "Add room"));
  roomsSec.append(roomForm);
  roomForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(roomForm, async () => {
      await api("POST", "/api/v1/rooms", { name: roomForm.elements.name.value.trim() });
      roomForm.reset();
      await refresh();
    });
  });

  await refresh();
  every(5000, refresh, m);
}

async function pairingCode(detail, unit) {
  clear(detail);
  detail.append(h("h2", {}, `Enrol ${unit.name || unit.id}`));
  await act(detail, async () => {
    const r = await api("POST", `/api/v1/units/${encodeURIComponent(unit.id)}/pairing-code`);
    detail.append(
      h("p", {}, "Pairing code:"),
      h("p", {}, h("span", { class: "secret", id: "pairing-code" }, r.code)),
      h("p", { class: "small" }, `Valid until ${fmtTime(r.expires_at)}, once. On the unit run:`),
      h("pre", { class: "small" }, `classcamctl enroll --hub ${location.origin} --code ${r.code}`),
      h("p", { class: "small muted" }, "A new code replaces this one. The unit checks the hub's certificate against the code, so a wrong hub address is refused."));
  });
}

async function snapshot(detail, unit) {
  clear(detail);
  detail.append(h("h2", {}, `Snapshot from ${unit.name || unit.id}`));
  const status = h("p", { role: "status" }, "Asking the unit for a picture…");
  detail.append(status);
  await act(detail, async () => {
    const c = await api("POST", `/api/v1/units/${encodeURIComponent(unit.id)}/commands`, { action: "snapshot", args: {}, expires_in_s: 60 });
    const done = await followCommand(unit.id, c, status, "Snapshot");
    if (!done || done.state !== "ok") return;
    const res = await fetch(`/api/v1/units/${encodeURIComponent(unit.id)}/snapshot`, { credentials: "same-origin" });
    if (!res.ok) throw await ApiError.from(res);
    const url = URL.createObjectURL(await res.blob());
    detail.append(h("img", { class: "snapshot", src: url, alt: `What ${unit.name || unit.id} sees now` }));
  });
}

// ---------------------------------------------------------------- admin

const roles = ["teacher", "coach", "technician", "admin"];

async function usersPage() {
  const m = main();
  m.append(h("h1", {}, "Users and roles"));
  const listSec = h("section", { class: "card", id: "users" });
  const addSec = h("section", { class: "card", id: "add-user" }, h("h2", {}, "Add a person"));
  const out = h("div", { "aria-live": "polite" });
  m.append(listSec, addSec);
  async function refresh() {
    const users = (await api("GET", "/api/v1/users")).users || [];
    clear(listSec);
    listSec.append(h("h2", {}, "People"), out, h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Login"), h("th", {}, "Name"), h("th", {}, "Role"), h("th", {}, "Account"), h("th", {}, ""))),
      h("tbody", {}, ...users.map((u) => {
        const role = h("select", { "aria-label": `Role of ${u.login}` }, ...roles.map((r) => h("option", { value: r, selected: r === u.role }, r)));
        role.addEventListener("change", () => act(listSec, async () => {
          await api("PATCH", `/api/v1/users/${encodeURIComponent(u.id)}`, { role: role.value });
          toast(`${u.login} is now ${role.value}.`);
          await refresh();
        }));
        const toggle = h("button", { type: "button", class: u.disabled ? "secondary" : "danger" }, u.disabled ? "Enable" : "Disable");
        toggle.setAttribute("aria-label", `${u.disabled ? "Enable" : "Disable"} ${u.login}`);
        toggle.addEventListener("click", () => act(listSec, async () => {
          await api("PATCH", `/api/v1/users/${encodeURIComponent(u.id)}`, { disabled: !u.disabled });
          await refresh();
        }));
        const reset = h("button", { type: "button", class: "secondary" }, "Reset password");
        reset.setAttribute("aria-label", `Reset the password of ${u.login}`);
        reset.addEventListener("click", () => act(listSec, async () => {
          if (!confirm(`Reset the password of ${u.login}? Their sessions end.`)) return;
          const r = await api("POST", `/api/v1/users/${encodeURIComponent(u.id)}/password`);
          clear(out);
          out.append(h("div", { class: "notice" }, `New password for ${u.login} (shown once): `, h("span", { class: "secret" }, r.password)));
        }));
        return h("tr", {}, h("td", {}, u.login), h("td", {}, u.display_name), h("td", {}, role),
          h("td", {}, u.disabled ? h("span", { class: "badge bad" }, "disabled") : h("span", { class: "badge ok" }, "active")),
          h("td", {}, h("div", { class: "actions" }, toggle, reset)));
      })))));
  }
  const form = h("form", { class: "stack", id: "add-user-form" },
    h("label", {}, "Login (a-z, 0-9, . _ -)", h("input", { name: "login", required: true, pattern: "[a-z0-9._\\-]+", autocapitalize: "none" })),
    h("label", {}, "Name shown", h("input", { name: "display_name", required: true })),
    h("label", {}, "Role", h("select", { name: "role" }, ...roles.map((r) => h("option", { value: r }, r)))),
    h("label", {}, "Password (leave empty to generate one)", h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: 10 })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add person")));
  addSec.append(form);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(form, async () => {
      const body = { login: form.elements.login.value.trim(), display_name: form.elements.display_name.value.trim(), role: form.elements.role.value };
      if (form.elements.password.value) body.password = form.elements.password.value;
      const r = await api("POST", "/api/v1/users", body);
      form.reset();
      clear(out);
      out.append(h("div", { class: "notice" }, `Added ${r.user.login}.`, r.password ? h("span", {}, " Their password (shown once): ", h("span", { class: "secret" }, r.password)) : null));
      state.directory = null;
      await refresh();
    });
  });
  await refresh();
}

async function settingsPage() {
  const m = main();
  m.append(h("h1", {}, "Retention"));
  const s = await api("GET", "/api/v1/settings");
  const form = h("form", { class: "stack", id: "settings-form" },
    h("label", {}, "Keep recordings for this many days (0 keeps them forever)",
      h("input", { name: "days", type: "number", min: 0, max: 36500, required: true, value: String(s.retention_days) })),
    h("p", { class: "small muted" }, "Recordings that started longer ago are deleted at the next retention run, each deletion in the audit log."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save")));
  m.append(h("section", { class: "card" }, form));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(form, async () => {
      const r = await api("PATCH", "/api/v1/settings", { retention_days: Number(form.elements.days.value) });
      toast(r.retention_days === 0 ? "Recordings are kept forever." : `Recordings are kept for ${r.retention_days} days.`);
    });
  });
}

async function auditPage() {
  const m = main();
  m.append(h("h1", {}, "Audit log"));
  const filter = h("form", { class: "inline", id: "audit-filter" },
    h("label", {}, "Action", h("input", { name: "action", placeholder: "recording.view" })),
    h("button", { type: "submit" }, "Filter"));
  const sec = h("section", { class: "card", id: "audit" }, filter);
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "secondary" }, "Older entries");
  sec.append(h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, ...["When", "Who", "Action", "What", "From", "Detail"].map((t) => h("th", {}, t)))), body)), more);
  m.append(sec);
  let last = null;
  async function load(reset) {
    const q = new URLSearchParams({ limit: "100" });
    if (filter.elements.action.value.trim()) q.set("action", filter.elements.action.value.trim());
    if (!reset && last) q.set("before_id", last);
    const entries = (await api("GET", `/api/v1/audit?${q}`)).entries || [];
    if (reset) clear(body);
    for (const e of entries) {
      body.append(h("tr", {}, h("td", {}, fmtTime(e.at)), h("td", {}, `${dash(e.actor_name || e.actor_id)} (${e.actor_kind})`),
        h("td", {}, e.action), h("td", {}, `${dash(e.target_kind)} ${e.target_id || ""}`), h("td", {}, dash(e.address)), h("td", { class: "small" }, dash(e.detail))));
    }
    if (entries.length) last = entries[entries.length - 1].id;
    more.disabled = entries.length < 100;
  }
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    last = null;
    act(sec, () => load(true));
  });
  more.addEventListener("click", () => act(sec, () => load(false)));
  await load(true);
}
