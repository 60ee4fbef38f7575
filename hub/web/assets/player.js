// A recording's page: the player with seeking, the timeline of comments and bookmarks (a click jumps
// there), comments tagged strength/question/suggestion/note, sharing and deleting for the owner.
// While a recording is still uploading the hub serves a joined-so-far preview: the player plays the
// stable URL the hub names in Content-Location, and offers the newer preview when more has arrived.
import { api, ApiError } from "./api.js";
import { h, clear, fmtTime, fmtDuration, fmtBytes, dash } from "./ui.js";

const tags = ["strength", "question", "suggestion", "note"];

// Which URL to play: the joined file once ready, else the stable preview URL and how many segments it holds.
async function mediaSource(rec) {
  if (rec.state === "ready") return { url: rec.media_url, segments: null };
  const res = await fetch(rec.media_url, { credentials: "same-origin", headers: { Range: "bytes=0-0" } });
  if (res.status === 409) return { url: null, segments: 0 };
  if (!res.ok) throw await ApiError.from(res);
  const loc = res.headers.get("Content-Location") || rec.media_url;
  const count = (res.headers.get("X-Classcam-Segments") || "").split("/")[0];
  if (res.body) res.body.cancel().catch(() => {});
  return { url: loc, segments: Number(count) || null };
}

export async function playerPage(ctx, id) {
  const { main, act, every, toast, directory, state } = ctx;
  const m = main();
  let rec = await api("GET", `/api/v1/recordings/${encodeURIComponent(id)}`);
  const may = (w) => (rec.you_may || []).includes(w);
  const title = h("h1", {}, rec.title || "(untitled)");
  const meta = h("p", { class: "muted", id: "recording-meta" });
  m.append(title, meta);

  const showMeta = () => {
    clear(meta);
    const segs = rec.expected_segments ? `${dash(rec.segments_received)} of ${rec.expected_segments} segments` : `${dash(rec.segments_received)} segments`;
    meta.append(`${dash(rec.room_name)} · ${fmtTime(rec.started_at)} · ${dash(rec.owner_name)} · `, h("span", { id: "recording-state" }, rec.state),
      rec.state === "ready" ? ` · ${fmtDuration(rec.duration_ms)} · ${fmtBytes(rec.bytes)}` : ` · ${segs}`,
      rec.failure ? ` · ${rec.failure}` : "");
  };
  showMeta();

  if (!may("watch")) {
    m.append(h("p", { class: "notice" }, "You can see that this recording exists, but only its teacher and the people they share it with can watch it."));
    if (may("delete")) m.append(deleteButton(ctx, rec));
    return;
  }

  const video = h("video", { controls: true, preload: "metadata", id: "video", playsinline: true });
  const videoError = h("div", { role: "alert" });
  video.addEventListener("error", () => {
    clear(videoError);
    videoError.append(h("div", { class: "error" }, "The video could not be played. If the recording is still uploading, wait a little and reload the page; otherwise tell your technician."));
  });
  const newer = h("div", { class: "notice", hidden: true, id: "newer" });
  const timeline = h("div", { class: "timeline", id: "timeline", role: "group", "aria-label": "Comments and bookmarks on the timeline" });
  const played = h("div", { class: "played" });
  timeline.append(played);
  const legend = h("p", { class: "small muted" }, "Marks: ", ...tags.map((t) => h("span", { class: `tag ${t}` }, `■ ${t} `)), h("span", { class: "tag" }, "● bookmark"));

  const side = h("section", { class: "card", id: "comments-panel" }, h("h2", {}, "Comments"));
  const list = h("ul", { class: "comments", id: "comments" });
  const form = h("form", { class: "stack", id: "comment-form" },
    h("label", {}, "Tag", h("select", { name: "tag" }, ...tags.map((t) => h("option", { value: t }, t)))),
    h("label", {}, "Comment", h("textarea", { name: "text", required: true, maxlength: 4000 })),
    h("p", { class: "small muted", id: "comment-at" }, "At 0:00 (the player's position)"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add comment"), h("button", { type: "button", class: "secondary", name: "bookmark" }, "Bookmark this moment")));
  side.append(form, list);
  const left = h("div", {}, video, videoError, newer, timeline, legend);
  m.append(h("div", { class: "player" }, left, side));

  let src = { url: null, segments: null };
  const load = async (keepTime) => {
    const t = video.currentTime || 0;
    src = await mediaSource(rec);
    if (!src.url) {
      clear(videoError);
      videoError.append(h("p", { class: "notice" }, "No video has arrived from the unit yet. This page checks again every 5 seconds."));
      return;
    }
    clear(videoError);
    video.src = src.url;
    if (keepTime) video.addEventListener("loadedmetadata", () => { video.currentTime = Math.min(t, video.duration || t); }, { once: true });
  };
  await load(false);

  let comments = [];
  let bookmarks = [];
  const durationMs = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration * 1000 : rec.duration_ms || 0);
  const jump = (ms) => {
    video.currentTime = ms / 1000;
    video.focus();
  };

  function drawTimeline() {
    for (const el of [...timeline.querySelectorAll(".mark")]) el.remove();
    const total = durationMs();
    if (!total) return;
    const place = (ms, cls, label) => {
      const b = h("button", { type: "button", class: `mark ${cls}`, "aria-label": label, title: label });
      b.style.left = `${Math.min(100, (ms / total) * 100)}%`;
      b.addEventListener("click", () => jump(ms));
      timeline.append(b);
    };
    for (const c of comments) place(c.offset_ms, c.tag, `${fmtDuration(c.offset_ms)} ${c.tag}: ${c.text}`);
    for (const b of bookmarks) place(b.offset_ms, "bookmark", `${fmtDuration(b.offset_ms)} bookmark${b.label ? `: ${b.label}` : ""}`);
  }

  function drawList() {
    clear(list);
    const items = [
      ...comments.map((c) => ({ kind: "comment", at: c.offset_ms, c })),
      ...bookmarks.map((b) => ({ kind: "bookmark", at: b.offset_ms, c: b })),
    ].sort((a, b) => a.at - b.at);
    if (!items.length) list.append(h("li", { class: "muted" }, "No comments yet. Pause where something happens and add one."));
    for (const it of items) {
      const c = it.c;
      const at = h("button", { type: "button", class: "linkish", "aria-label": `Jump to ${fmtDuration(c.offset_ms)}` }, fmtDuration(c.offset_ms));
      at.addEventListener("click", () => jump(c.offset_ms));
      const mine = c.author_id === state.me.id || rec.owner_id === state.me.id;
      let del = null;
      if (mine) {
        del = h("button", { type: "button", class: "linkish small" }, "delete");
        del.setAttribute("aria-label", `Delete the ${it.kind} at ${fmtDuration(c.offset_ms)}`);
        del.addEventListener("click", () => act(side, async () => {
          await api("DELETE", `/api/v1/recordings/${encodeURIComponent(rec.id)}/${it.kind === "comment" ? "comments" : "bookmarks"}/${encodeURIComponent(c.id)}`);
          await refreshNotes();
        }));
      }
      if (it.kind === "comment") {
        list.append(h("li", { "data-offset-ms": c.offset_ms },
          h("div", { class: "head" }, at, h("span", { class: `tag ${c.tag}` }, c.tag), h("span", { class: "small muted" }, dash(c.author_name)), del),
          h("div", {}, c.text)));
      } else {
        list.append(h("li", { "data-offset-ms": c.offset_ms },
          h("div", { class: "head" }, at, h("span", { class: "tag" }, "bookmark"), h("span", { class: "small muted" }, c.source && c.source !== "user" ? c.source : ""), del),
          c.label ? h("div", {}, c.label) : null));
      }
    }
  }

  async function refreshNotes() {
    const [c, b] = await Promise.all([
      api("GET", `/api/v1/recordings/${encodeURIComponent(rec.id)}/comments`),
      api("GET", `/api/v1/recordings/${encodeURIComponent(rec.id)}/bookmarks`),
    ]);
    comments = c.comments || [];
    bookmarks = b.bookmarks || [];
    drawList();
    drawTimeline();
  }
  video.addEventListener("loadedmetadata", drawTimeline);
  video.addEventListener("durationchange", drawTimeline);
  const at = form.querySelector("#comment-at");
  video.addEventListener("timeupdate", () => {
    const total = durationMs();
    played.style.width = total ? `${Math.min(100, (video.currentTime * 1000 / total) * 100)}%` : "0";
    at.textContent = `At ${fmtDuration(video.currentTime * 1000)} (the player's position)`;
  });
  await refreshNotes();

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(form, async () => {
      await api("POST", `/api/v1/recordings/${encodeURIComponent(rec.id)}/comments`, {
        offset_ms: Math.round(video.currentTime * 1000), tag: form.elements.tag.value, text: form.elements.text.value.trim(),
      });
      form.elements.text.value = "";
      await refreshNotes();
    });
  });
  form.elements.bookmark.addEventListener("click", () => act(form, async () => {
    const label = form.elements.text.value.trim();
    await api("POST", `/api/v1/recordings/${encodeURIComponent(rec.id)}/bookmarks`, label ? { offset_ms: Math.round(video.currentTime * 1000), label } : { offset_ms: Math.round(video.currentTime * 1000) });
    toast(`Bookmarked ${fmtDuration(video.currentTime * 1000)}.`);
    await refreshNotes();
  }));

  if (may("share")) m.append(await sharePanel(ctx, rec, directory));
  if (may("delete")) m.append(deleteButton(ctx, rec));
  if (rec.state === "failed") m.append(await segmentsPanel(rec));

  // Live: comments from others, and the upload's progress until the recording is ready.
  every(5000, async () => {
    const before = rec.state;
    rec = await api("GET", `/api/v1/recordings/${encodeURIComponent(rec.id)}`);
    showMeta();
    await refreshNotes();
    if (before === "ready") return;
    if (!src.url || rec.state === "ready") {
      const wasPlaying = !video.paused;
      if (!src.url || video.paused || video.ended) {
        await load(true);
        if (wasPlaying) video.play().catch(() => {});
      } else {
        offerNewer();
      }
      return;
    }
    const probe = await mediaSource(rec);
    if (probe.url !== src.url) {
      if (video.paused && !video.currentTime) await load(false);
      else offerNewer(probe.segments);
    }
  }, m);

  function offerNewer(n) {
    clear(newer);
    newer.hidden = false;
    const b = h("button", { type: "button" }, "Load the newer part");
    b.addEventListener("click", async () => {
      newer.hidden = true;
      const wasPlaying = !video.paused;
      await load(true);
      if (wasPlaying) video.play().catch(() => {});
    });
    newer.append(rec.state === "ready" ? "The full recording is ready. " : `More has arrived${n ? ` (${n} segments)` : ""}. `, b);
  }
}

function deleteButton(ctx, rec) {
  const sec = h("section", { class: "card" });
  const b = h("button", { type: "button", class: "danger", id: "delete-recording" }, "Delete this recording");
  b.addEventListener("click", () => ctx.act(sec, async () => {
    if (!confirm(`Delete "${rec.title}" with its comments, bookmarks and shares? This cannot be undone.`)) return;
    await api("DELETE", `/api/v1/recordings/${encodeURIComponent(rec.id)}`);
    ctx.toast("Recording deleted.");
    location.hash = "#/recordings";
  }));
  sec.append(h("h2", {}, "Delete"), b);
  return sec;
}

async function sharePanel(ctx, rec, directory) {
  const sec = h("section", { class: "card", id: "sharing" }, h("h2", {}, "Shared with"));
  const list = h("ul", {});
  const people = (await directory()).filter((p) => p.id !== rec.owner_id);
  const form = h("form", { class: "inline", id: "share-form" },
    h("label", {}, "Person", h("select", { name: "person" }, ...people.map((p) => h("option", { value: p.id }, `${p.display_name} (${p.role})`)))),
    h("button", { type: "submit" }, "Share"));
  sec.append(list, form);
  async function refresh() {
    const shares = (await api("GET", `/api/v1/recordings/${encodeURIComponent(rec.id)}/shares`)).shares || [];
    clear(list);
    if (!shares.length) list.append(h("li", { class: "muted" }, "Nobody yet: only you can watch it."));
    for (const s of shares) {
      const b = h("button", { type: "button", class: "linkish" }, "stop sharing");
      b.setAttribute("aria-label", `Stop sharing with ${s.display_name}`);
      b.addEventListener("click", () => ctx.act(sec, async () => {
        await api("DELETE", `/api/v1/recordings/${encodeURIComponent(rec.id)}/shares/${encodeURIComponent(s.user_id)}`);
        await refresh();
      }));
      list.append(h("li", {}, `${s.display_name} `, b));
    }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.act(sec, async () => {
      await api("PUT", `/api/v1/recordings/${encodeURIComponent(rec.id)}/shares/${encodeURIComponent(form.elements.person.value)}`);
      await refresh();
    });
  });
  await refresh();
  return sec;
}

async function segmentsPanel(rec) {
  const sec = h("section", { class: "card", id: "segments" }, h("h2", {}, "Segments"),
    h("p", { class: "small muted" }, "The recording could not be joined into one file; its pieces can still be watched one by one."));
  const segs = (await api("GET", `/api/v1/recordings/${encodeURIComponent(rec.id)}/segments`)).segments || [];
  sec.append(h("ul", {}, ...segs.map((s) => h("li", {}, h("a", { href: s.url, target: "_blank", rel: "noopener" }, `Segment ${s.index}`), ` · ${fmtTime(s.start_utc)} · ${fmtDuration(s.duration_ms)}`))));
  return sec;
}
