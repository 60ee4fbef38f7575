// The live view of a room (docs/live.md): the unit's picture and sound through the hub over WebRTC
// (WHEP: the page POSTs its offer, the answer comes back, DELETE leaves), who is watching, how far
// behind live the picture is, push-to-talk for coaches, and for the teacher: accepting coaches'
// requests, ending anyone's view, muting talkback. It reconnects by itself after a network blip.
// Everything it starts (the connection, the microphone, timers) ends when the page is left.
import { api, ApiError, explain } from "./api.js";
import { h, clear, fmtTime } from "./ui.js";

// How long a dropped connection may try to come back by itself before the page dials again.
const kDisconnectedGraceMs = 3000;
const kMaxBackoffMs = 10000;

function waitGathering(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export async function livePage(ctx, unitId, query) {
  const { main, act, every, errorBox, state } = ctx;
  const m = main();
  const base = `/api/v1/live/${encodeURIComponent(unitId)}`;
  let status = await api("GET", base);
  const may = (w) => (status.you_may || []).includes(w);
  const params = new URLSearchParams(query || "");
  // A technician's check that TURN works: relay only, no direct path.
  const relayOnly = params.get("relay") === "1";

  const title = h("h1", {}, `Live: ${status.room_name || unitId}`);
  const connState = h("span", { class: "badge idle", id: "live-connection" }, "not connected");
  const behind = h("span", { id: "live-behind", class: "muted" }, "");
  const note = h("p", { id: "live-note", role: "status", "aria-live": "polite" });
  const video = h("video", { id: "live-video", autoplay: true, playsinline: true, "aria-label": "Live picture" });
  const soundBtn = h("button", { type: "button", class: "secondary", id: "live-sound", hidden: true }, "Turn sound on");
  const leaveBtn = h("button", { type: "button", class: "secondary", id: "live-leave" }, "Leave");
  const talkBtn = h("button", { type: "button", id: "live-talk", "aria-pressed": "false", hidden: true }, "Hold to talk");
  const talkState = h("p", { id: "live-talk-state", class: "small", role: "status", "aria-live": "assertive" });
  const muteBtn = h("button", { type: "button", class: "danger", id: "live-mute", hidden: true }, "Mute talkback");
  const side = h("section", { class: "card", id: "live-people" });
  m.append(title,
    h("div", { class: "player" },
      h("div", {}, video,
        h("div", { class: "live-bar" }, connState, behind, h("span", { class: "spacer" }), soundBtn, leaveBtn),
        note,
        h("div", { class: "actions" }, talkBtn, muteBtn),
        talkState),
      side));

  let pc = null;
  let location_ = "";
  let mic = null;
  let talking = false;
  let attempt = 0;
  let retryTimer = null;
  let dropTimer = null;
  let statsTimer = null;
  let left = false;
  let waiting = false;  // refused until the teacher consents or lets this viewer back
  let lastStats = null;
  const alive = () => !left && m.isConnected;

  const setConn = (text, kind) => {
    connState.textContent = text;
    connState.className = `badge ${kind}`;
  };

  // ---- the connection ----
  async function microphone() {
    if (!may("talk") || mic) return mic;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      mic = stream.getAudioTracks()[0] || null;
      if (mic) mic.enabled = false;  // sent only while the button is held
    } catch (err) {
      talkState.textContent = `Talkback is not available: the browser gives this page no microphone (${err.name}).`;
    }
    return mic;
  }

  function closePeer() {
    if (dropTimer) clearTimeout(dropTimer);
    dropTimer = null;
    if (pc) {
      pc.onconnectionstatechange = null;
      pc.close();
    }
    pc = null;
    if (location_) {
      // keepalive: the DELETE still goes when the page is closing.
      fetch(location_, { method: "DELETE", credentials: "same-origin", keepalive: true }).catch(() => {});
    }
    location_ = "";
  }

  function retry(why, ms) {
    closePeer();
    if (!alive()) return;
    const wait = ms !== undefined ? ms : Math.min(kMaxBackoffMs, 1000 * 2 ** Math.min(attempt, 4));
    attempt++;
    setConn("reconnecting", "warn");
    note.textContent = `${why} Trying again in ${Math.round(wait / 1000)} s…`;
    retryTimer = setTimeout(connect, wait);
  }

  async function connect() {
    retryTimer = null;
    if (!alive()) return;
    setConn("connecting", "idle");
    let ice = [];
    try {
      ice = (await api("GET", "/api/v1/live/ice")).ice_servers || [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return ctx.signedOut();
    }
    const track = await microphone();
    if (!alive()) return;
    pc = new RTCPeerConnection({ iceServers: ice, iceTransportPolicy: relayOnly ? "relay" : "all" });
    const mine = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    if (track) pc.addTransceiver(track, { direction: "sendrecv" });
    else pc.addTransceiver("audio", { direction: "recvonly" });
    const stream = new MediaStream();
    pc.ontrack = (e) => {
      stream.addTrack(e.track);
      if (video.srcObject !== stream) video.srcObject = stream;
      play();
    };
    pc.onconnectionstatechange = () => {
      if (pc !== mine) return;
      const s = pc.connectionState;
      if (s === "connected") {
        if (dropTimer) clearTimeout(dropTimer);
        dropTimer = null;
        attempt = 0;
        setConn("live", "ok");
        note.textContent = "";
      } else if (s === "disconnected") {
        setConn("connection interrupted", "warn");
        // ICE often recovers by itself; dial again only if it does not.
        if (!dropTimer) dropTimer = setTimeout(() => retry("The connection dropped."), kDisconnectedGraceMs);
      } else if (s === "failed") {
        retry("The connection failed.");
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    // Non-trickle: the offer goes once the browser has gathered its candidates (TURN ones too).
    await waitGathering(pc, relayOnly ? 8000 : 4000);
    if (pc !== mine || !alive()) return;
    let res;
    try {
      res = await fetch(`${base}/whep`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/sdp", Accept: "application/sdp" },
        body: pc.localDescription.sdp,
      });
    } catch {
      return retry("Cannot reach the hub.");
    }
    if (pc !== mine || !alive()) {
      if (res.ok && res.headers.get("Location")) {
        fetch(res.headers.get("Location"), { method: "DELETE", credentials: "same-origin" }).catch(() => {});
      }
      return;
    }
    if (res.status === 201) {
      location_ = res.headers.get("Location") || "";
      try {
        await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
      } catch (err) {
        return retry(`The hub's answer was not usable (${err.message}).`);
      }
      setConn("connecting", "idle");
      return;
    }
    const err = await ApiError.from(res);
    if (res.status === 401) return ctx.signedOut();
    if (res.status === 403 && /ended your view/.test(err.message)) {
      // Not dialled again until the teacher lets them back (refreshStatus watches for it).
      closePeer();
      waiting = true;
      setConn("ended by the teacher", "bad");
      note.textContent = "The teacher ended your view. You can ask to be let back.";
      return refreshStatus().catch(() => {});
    }
    if (res.status === 403 || res.status === 400 || res.status === 415) {
      closePeer();
      setConn("refused", "bad");
      note.textContent = "";
      note.append(errorBox(err));
      return;
    }
    if (res.status === 409 && /accepted live/.test(err.message)) {
      // Waiting for the teacher: ask once, then look again every few seconds.
      closePeer();
      waiting = true;
      setConn("waiting for the teacher", "idle");
      note.textContent = "The teacher has not accepted live for this lesson yet.";
      return refreshStatus().catch(() => {});
    }
    retry(`${err.message || `The hub answered ${res.status}`}.`);
  }

  function play() {
    video.play().then(() => {
      soundBtn.hidden = !video.muted;
    }).catch(() => {
      // Autoplay with sound needs a click in most browsers: start muted and offer the sound.
      video.muted = true;
      soundBtn.hidden = false;
      video.play().catch(() => {});
    });
  }
  soundBtn.addEventListener("click", () => {
    video.muted = false;
    soundBtn.hidden = true;
    video.play().catch(() => {});
  });

  // ---- how far behind live, from the receiver's stats ----
  async function stats() {
    if (!pc || pc.connectionState !== "connected") {
      behind.textContent = "";
      return;
    }
    const report = await pc.getStats();
    let inbound = null;
    let rtt = null;
    report.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") inbound = r;
      if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded" && typeof r.currentRoundTripTime === "number") rtt = r.currentRoundTripTime;
    });
    if (!inbound) return;
    const now = { jb: inbound.jitterBufferDelay || 0, emitted: inbound.jitterBufferEmittedCount || 0,
      decode: inbound.totalDecodeTime || 0, decoded: inbound.framesDecoded || 0, freezes: inbound.freezeCount || 0 };
    const prev = lastStats || { jb: 0, emitted: 0, decode: 0, decoded: 0 };
    lastStats = now;
    const emitted = now.emitted - prev.emitted;
    const decoded = now.decoded - prev.decoded;
    const jbMs = emitted > 0 ? (1000 * (now.jb - prev.jb)) / emitted : 0;
    const decMs = decoded > 0 ? (1000 * (now.decode - prev.decode)) / decoded : 0;
    // One way of the network (half the round trip) + the jitter buffer + decoding: the picture's
    // age when shown, from the hub on. The unit-to-hub leg is not in it (a school's own network).
    const ms = Math.round((rtt !== null ? (rtt * 1000) / 2 : 0) + jbMs + decMs);
    const fps = typeof inbound.framesPerSecond === "number" ? `${Math.round(inbound.framesPerSecond)} fps` : "";
    behind.textContent = `about ${ms} ms behind live${fps ? ` · ${fps}` : ""}`;
    behind.dataset.ms = String(ms);
  }

  // ---- talkback ----
  // The hub drops a floor not renewed within live.talk_floor_s (60 s): a held button renews it.
  let renewTimer = null;
  async function setTalking(on) {
    if (on === talking || !mic) return;
    talking = on;
    if (renewTimer) clearInterval(renewTimer);
    renewTimer = on ? setInterval(() => {
      if (talking) api("POST", `${base}/talk`, { talking: true }).catch(() => setTalking(false));
    }, 20000) : null;
    if (!on) {
      mic.enabled = false;
      talkBtn.setAttribute("aria-pressed", "false");
      talkBtn.classList.remove("talking");
      talkBtn.textContent = "Hold to talk";
      talkState.textContent = "";
    }
    try {
      await api("POST", `${base}/talk`, { talking: on });
      if (on && talking) {
        mic.enabled = true;
        talkBtn.setAttribute("aria-pressed", "true");
        talkBtn.classList.add("talking");
        talkBtn.textContent = "You are talking — release to stop";
        talkState.textContent = "You are talking into the teacher's earpiece.";
      }
    } catch (err) {
      if (on) {
        talking = false;
        if (renewTimer) clearInterval(renewTimer);
        renewTimer = null;
        mic.enabled = false;
        talkState.textContent = explain(err);
      }
    }
  }
  talkBtn.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    talkBtn.setPointerCapture(e.pointerId);
    setTalking(true);
  });
  for (const ev of ["pointerup", "pointercancel", "lostpointercapture"]) talkBtn.addEventListener(ev, () => setTalking(false));
  talkBtn.addEventListener("keydown", (e) => {
    if ((e.key === " " || e.key === "Enter") && !e.repeat) {
      e.preventDefault();
      setTalking(true);
    }
  });
  talkBtn.addEventListener("keyup", (e) => {
    if (e.key === " " || e.key === "Enter") setTalking(false);
  });
  talkBtn.addEventListener("blur", () => setTalking(false));
  muteBtn.addEventListener("click", () => act(side, async () => {
    status = await api("POST", `${base}/mute`, { muted: !status.talkback_muted });
    render();
  }));

  // ---- who is watching, requests, talker ----
  function render() {
    clear(side);
    side.append(h("h2", {}, "Watching now"));
    const viewers = status.viewers || null;
    if (viewers) {
      if (!viewers.length) side.append(h("p", { class: "muted" }, "Nobody is watching."));
      side.append(h("ul", { class: "plain", id: "live-viewers" }, ...viewers.map((v) => {
        const li = h("li", {}, h("span", {}, `${v.name} (${v.role}${v.video_only ? ", picture only" : ""})`),
          h("span", { class: "muted small" }, ` since ${fmtTime(v.since, true)}`));
        if (v.user_id !== state.me.id) {
          const end = h("button", { type: "button", class: "danger small", "aria-label": `End the view of ${v.name}` }, "End view");
          end.addEventListener("click", () => act(side, async () => {
            await api("DELETE", `${base}/viewers/${encodeURIComponent(v.viewer_id)}`);
            await refreshStatus();
          }));
          li.append(" ", end);
        }
        return li;
      })));
    } else {
      side.append(h("p", { id: "live-viewer-count" }, `${status.viewer_count || 0} watching`));
    }
    if (may("moderate")) {
      const asks = status.requests || [];
      if (asks.length) {
        const accept = h("button", { type: "button", id: "live-accept" }, "Accept");
        accept.addEventListener("click", () => act(side, async () => {
          status = await api("POST", `${base}/consent`);
          render();
        }));
        side.append(h("div", { class: "notice", id: "live-requests" },
          h("p", {}, `${asks.map((a) => a.name).join(", ")} ${asks.length > 1 ? "ask" : "asks"} to watch this lesson live.`), accept));
      }
      if (status.lesson === null) invitePanel();
    } else if (may("talk") && (!status.consent || status.removed)) {
      const ask = h("button", { type: "button", id: "live-ask", disabled: !!status.asked }, status.asked ? "Asked: waiting for the teacher" : "Ask the teacher to watch live");
      ask.addEventListener("click", () => act(side, async () => {
        status = await api("POST", `${base}/requests`);
        render();
      }));
      side.append(h("p", { class: "muted" }, status.removed ? "The teacher ended your view of this lesson." : "The teacher has to accept live for this lesson before you can watch."), ask);
    }
    const talker = status.talker;
    side.append(h("p", { id: "live-talker", class: "small" },
      status.talkback_muted ? "Talkback is muted by the teacher." : talker ? `${talker.name || talker} is talking.` : "Nobody is talking."));
    talkBtn.hidden = !may("talk");
    talkBtn.disabled = !!status.talkback_muted || !mic || status.talkback === false;
    if (may("talk") && status.talkback === false) talkState.textContent = "This room's camera unit has no earpiece set up, so talkback is off.";
    muteBtn.hidden = !may("moderate");
    muteBtn.textContent = status.talkback_muted ? "Unmute talkback" : "Mute talkback";
    if (may("preview")) note.textContent = note.textContent || "Framing preview: picture only, for a limited time.";
  }

  // A manual session has no invited coaches: the teacher invites them here.
  function invitePanel() {
    const box = h("form", { class: "inline", id: "live-invite" });
    side.append(h("h2", {}, "Invite to watch"), box);
    ctx.directory().then((people) => {
      const invited = status.invited || [];
      const choices = people.filter((p) => (p.role === "coach" || p.role === "teacher") && p.id !== state.me.id);
      if (!choices.length) return box.append(h("p", { class: "muted small" }, "No coaches have accounts yet."));
      box.append(
        h("label", {}, "Coach", h("select", { name: "who" }, ...choices.map((p) => h("option", { value: p.id }, `${p.display_name}${invited.includes(p.id) ? " (invited)" : ""}`)))),
        h("button", { type: "submit" }, "Invite"));
    }).catch(() => {});
    box.addEventListener("submit", (e) => {
      e.preventDefault();
      act(side, async () => {
        status = await api("POST", `${base}/invites`, { user_id: box.elements.who.value });
        render();
      });
    });
  }

  let shown = "";
  async function refreshStatus() {
    if (!alive()) return;
    status = await api("GET", base);
    // Redrawn only when something changed, so a half-made choice in a form survives the poll.
    const now = JSON.stringify(status);
    if (now !== shown) render();
    shown = now;
    if (waiting && status.consent && !status.removed && !retryTimer) {
      waiting = false;
      note.textContent = "Accepted: connecting…";
      connect();
    }
  }

  function leave() {
    if (left) return;
    left = true;
    if (retryTimer) clearTimeout(retryTimer);
    if (statsTimer) clearInterval(statsTimer);
    if (talking) api("POST", `${base}/talk`, { talking: false }).catch(() => {});
    if (renewTimer) clearInterval(renewTimer);
    closePeer();
    if (mic) mic.stop();
    mic = null;
    window.removeEventListener("hashchange", leave);
    window.removeEventListener("pagehide", leave);
  }
  window.addEventListener("hashchange", leave);
  window.addEventListener("pagehide", leave);
  leaveBtn.addEventListener("click", () => {
    leave();
    history.length > 1 ? history.back() : (location.hash = "#/");
  });

  render();
  every(3000, refreshStatus, m);
  statsTimer = setInterval(() => {
    if (!alive()) return leave();
    stats().catch(() => {});
  }, 1000);
  connect();
}
