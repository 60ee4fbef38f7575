// Building elements and showing values: times in the school's time zone (hub.timezone, from
// /api/v1/health; the browser's until it is known), sizes, durations, and "—" for whatever the hub
// did not send.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "class") el.className = v;
    else if (k === "value" && (tag === "input" || tag === "select" || tag === "textarea")) el.value = v;
    else if (k === "selected") el.selected = true;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

export const dash = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));

let zone; // undefined = the browser's
let dateTime;
let timeOnly;
let parts;
// Shows every time in `tz` (an IANA name such as "Europe/London"); an unknown name keeps the browser's.
export function setZone(tz) {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz || undefined });
    zone = tz || undefined;
  } catch {
    zone = undefined;
  }
  dateTime = new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  timeOnly = new Intl.DateTimeFormat(undefined, { timeZone: zone, hour: "2-digit", minute: "2-digit" });
  parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
setZone(undefined);

export function zoneName() {
  return zone || Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
}

// The wall-clock fields of `d` in the school's zone.
function wall(d) {
  const f = {};
  for (const p of parts.formatToParts(d)) f[p.type] = p.value;
  return { y: +f.year, mo: +f.month, d: +f.day, h: +f.hour, mi: +f.minute, s: +f.second };
}

export function fmtTime(iso, timeOnlyWanted) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return (timeOnlyWanted ? timeOnly : dateTime).format(d);
}

export function fmtDuration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "—";
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}` : `${mm}:${String(ss).padStart(2, "0")}`;
}

export const fmtOffset = (ms) => fmtDuration(ms);

export function fmtBytes(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

// <input type=datetime-local> speaks wall-clock time without a zone: the school's, here.
export function toLocalInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  const w = wall(d);
  return `${w.y}-${p(w.mo)}-${p(w.d)}T${p(w.h)}:${p(w.mi)}`;
}
export function fromLocalInput(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v || "");
  if (!m) return v; // the hub says what is wrong with it
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // The zone's offset at that moment (twice: the first guess may sit across a DST change).
  const offset = (t) => {
    const w = wall(new Date(t));
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - t;
  };
  let t = asUtc - offset(asUtc);
  t = asUtc - offset(t);
  return new Date(t).toISOString();
}
