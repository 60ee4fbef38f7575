// Live observation in Chromium (run by live_browser_test.cpp inside a network namespace): the
// invited coach asks to watch, the teacher accepts on the lessons page and opens the live view; both
// see the unit's picture (the latency strip read back from every decoded frame proves it is the
// unit's and intact) with its sound; an uninvited coach is refused by the page and by the signalling
// API; the teacher ends the coach's view and the coach stays out; a technician gets a picture-only
// preview; the view comes back by itself after a network blip; relay-only goes through TURN; the
// page fits a tablet. Prints `figures {...}` lines for the test's log.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cfg, step, check, finish, session, shot, unexpectedErrors } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const reader = readFileSync(join(here, "../../bench/live/strip_reader.js"), "utf8");
const unit = cfg.unit;
const liveHash = `#/live/${unit}`;

// Asks the C++ side to do something outside the browser (a network blip) and waits until it is done.
async function ask(what, timeoutMs = 30000) {
  writeFileSync(join(cfg.dir, what), "");
  const until = Date.now() + timeoutMs;
  while (!existsSync(join(cfg.dir, `${what}.done`))) {
    if (Date.now() > until) throw new Error(`the test did not do "${what}" in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const connection = (page) => page.locator("#live-connection").textContent();

async function waitConnection(page, text, timeout = 45000) {
  await page.locator("#live-connection", { hasText: text }).waitFor({ timeout });
}

// Reads the strip from `frames` presented frames from now on; what it saw.
async function watchFrames(page, frames, timeout = 40000) {
  await page.evaluate(() => {
    if (!window.classcamLatency.started) {
      window.classcamLatency.started = true;
      window.classcamLatency.start(document.querySelector("#live-video"));
    }
  });
  const t0 = Date.now();
  const before = await page.evaluate(() => window.classcamLatency.stats());
  await page.waitForFunction(([p0, n]) => window.classcamLatency.stats().presented >= p0 + n,
    [before.presented, frames], { timeout, polling: 250 });
  const after = await page.evaluate(() => window.classcamLatency.stats());
  const presented = after.presented - before.presented;
  const read = after.count - before.count;
  return { presented, read, fps: +((1000 * presented) / (Date.now() - t0)).toFixed(1),
    unreadable: after.unreadable - before.unreadable, median_ms: after.median_ms,
    p95_ms: after.p95_ms, freezes: after.freezes, longest_gap_ms: after.longest_gap_ms };
}

// The unit's picture is intact when nearly every presented frame carries a readable strip (a
// corrupt or grey/green picture does not). When it is not, the frame shown is saved for a look.
async function intact(page, seen, what) {
  console.log(`figures ${what} ${JSON.stringify(seen)}`);
  if (seen.read >= 0.9 * seen.presented) return;
  const png = await page.evaluate(() => {
    const v = document.querySelector("#live-video");
    const c = document.createElement("canvas");
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    c.getContext("2d").drawImage(v, 0, 0);
    return c.toDataURL("image/png").split(",")[1];
  });
  const file = join(cfg.dir, `${what.replace(/\W+/g, "-")}.png`);
  writeFileSync(file, Buffer.from(png, "base64"));
  check(false, `${what}: the strip read on ${seen.read} of ${seen.presented} frames (a frame: ${file})`);
}

const coach = await session("coach", { init: reader });
const teacher = await session("teacher", { init: reader });

await step("the invited coach opens the live view and asks the teacher to accept", async () => {
  await coach.goto(`${cfg.url}/${liveHash}`);
  await waitConnection(coach, "waiting for the teacher");
  await coach.locator("#live-ask").click();
  await coach.locator("#live-ask", { hasText: "waiting for the teacher" }).waitFor();
});

await step("the teacher sees the request on the lessons page and accepts it", async () => {
  await teacher.goto(`${cfg.url}/#/teacher`);
  const notice = teacher.locator("#live-asks .notice", { hasText: "Mr Jones asks to watch" });
  await notice.waitFor({ timeout: 20000 });
  await notice.getByRole("button", { name: "Accept" }).click();
  await teacher.getByText("Live accepted").waitFor();
});

await step("the coach is let in and sees the unit's picture, with sound", async () => {
  await waitConnection(coach, "live", 60000);
  await intact(coach, await watchFrames(coach, 150), "coach");
  const audio = await coach.evaluate(() => {
    const s = document.querySelector("#live-video").srcObject;
    return s ? s.getAudioTracks().map((t) => t.readyState) : [];
  });
  check(audio.length === 1 && audio[0] === "live", `one live audio track, got ${JSON.stringify(audio)}`);
});

await step("the teacher opens the live view from the lesson's row and sees who watches", async () => {
  await teacher.getByRole("link", { name: /Watch .* live/ }).first().click();
  await teacher.waitForFunction((h) => location.hash === h, liveHash);
  await waitConnection(teacher, "live");
  await intact(teacher, await watchFrames(teacher, 150), "teacher");
  await teacher.locator("#live-viewers", { hasText: "Mr Jones" }).waitFor({ timeout: 10000 });
  await teacher.locator("#live-viewers", { hasText: "Ms Khan" }).waitFor();
  const behind = await teacher.locator("#live-behind").textContent();
  check(/behind live/.test(behind), `the page says how far behind live it is: "${behind}"`);
  await shot(teacher, "live-teacher");
});

await step("the coach holds push-to-talk: the teacher sees who talks and the unit plays it", async () => {
  const talk = coach.locator("#live-talk");
  await coach.waitForFunction(() => !document.querySelector("#live-talk").disabled, null, { timeout: 15000 });
  await ask("talk-start");
  const box = await talk.boundingBox();
  await coach.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await coach.mouse.down();
  await coach.locator("#live-talk-state", { hasText: "You are talking" }).waitFor();
  check((await talk.getAttribute("aria-pressed")) === "true", "the button shows it is held");
  await teacher.locator("#live-talker", { hasText: "Mr Jones is talking" }).waitFor({ timeout: 10000 });
  await coach.waitForTimeout(3000);
  await ask("talk-heard");  // the C++ side reads the unit's earpiece (a WAV file here)
  await coach.mouse.up();
  await teacher.locator("#live-talker", { hasText: "Nobody is talking" }).waitFor({ timeout: 10000 });
  check((await coach.locator("#live-talk-state").textContent()) === "", "the talking state clears on release");
});

await step("an uninvited coach is refused by the page and by the signalling API", async () => {
  const outsider = await session("outsider");
  await outsider.goto(`${cfg.url}/${liveHash}`);
  await outsider.getByRole("alert").filter({ hasText: "may not watch" }).waitFor();
  const status = await outsider.evaluate(async (u) => {
    const r = await fetch(`/api/v1/live/${u}/whep`, { method: "POST", headers: { "Content-Type": "application/sdp" },
      body: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\na=recvonly\r\n" });
    return r.status;
  }, unit);
  check(status === 403, `the signalling API answers 403, got ${status}`);
  await outsider.context().close();
});

await step("after a network blip the view comes back by itself", async () => {
  await ask("blip");
  await teacher.waitForFunction(() => !/^live$/.test(document.querySelector("#live-connection").textContent), null,
    { timeout: 20000 }).catch(() => {});  // ICE may ride out a short drop without ever leaving "connected"
  await waitConnection(teacher, "live", 60000);
  await intact(teacher, await watchFrames(teacher, 60), "teacher after the blip");
});

await step("the teacher ends the coach's view and the coach stays out", async () => {
  await teacher.getByRole("button", { name: "End the view of Mr Jones" }).click();
  await waitConnection(coach, "ended by the teacher", 30000);
  await teacher.waitForFunction(() => !document.querySelector("#live-viewers").textContent.includes("Mr Jones"), null,
    { timeout: 15000 });
  await coach.waitForTimeout(3000);
  check((await connection(coach)) === "ended by the teacher", `the coach stays out, shows "${await connection(coach)}"`);
});

await step("a technician's framing preview is picture only", async () => {
  const tech = await session("technician", { init: reader });
  await tech.goto(`${cfg.url}/#/units`);
  await tech.getByRole("link", { name: /Framing preview/ }).first().click();
  await waitConnection(tech, "live");
  await intact(tech, await watchFrames(tech, 60), "technician");
  // The hub answers the audio inactive: its track, if the browser made one, never unmutes.
  const audio = await tech.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const s = document.querySelector("#live-video").srcObject;
    return { tracks: s ? s.getAudioTracks().filter((t) => !t.muted).length : 0 };
  });
  check(audio.tracks === 0, `no sound reaches the technician (${JSON.stringify(audio)})`);
  await tech.locator("#live-leave").click();
  await tech.context().close();
});

await step("relay only: the view goes through the TURN server", async () => {
  const relay = await session("teacher", { init: reader });
  await relay.goto(`${cfg.url}/${liveHash}?relay=1`);
  await waitConnection(relay, "live", 60000);
  await intact(relay, await watchFrames(relay, 60), "relay");
  await ask("relay-check");  // the C++ side checks coturn allocated a relay
  await relay.context().close();
});

await step("with 2 % loss and 50 ms delay each way on the browser's leg the picture keeps playing", async () => {
  await ask("impair");
  const lossy = await session("teacher", { init: reader });
  await lossy.goto(`${cfg.url}/${liveHash}?relay=1`);
  await waitConnection(lossy, "live", 60000);
  await lossy.waitForTimeout(2000);  // past the start, where a lost keyframe packet costs most
  const seen = await watchFrames(lossy, 150, 60000);
  await ask("clear");
  console.log(`figures lossy ${JSON.stringify(seen)}`);
  // NACK/RTX repairs most losses: nearly every frame shown is whole, and it keeps moving.
  check(seen.read >= 0.8 * seen.presented, `the strip read on ${seen.read} of ${seen.presented} frames`);
  check(seen.longest_gap_ms < 2000, `no freeze longer than 2 s (longest ${seen.longest_gap_ms} ms)`);
  await lossy.context().close();
});

await step("the live view fits a tablet", async () => {
  const tablet = await session("teacher", { width: 768, height: 1024 });
  await tablet.goto(`${cfg.url}/${liveHash}`);
  await waitConnection(tablet, "live");
  const fits = await tablet.evaluate(() => document.scrollingElement.scrollWidth <= window.innerWidth + 1);
  check(fits, "no sideways scrolling at 768 px");
  await shot(tablet, "live-tablet");
  await tablet.locator("#live-leave").click();
  await tablet.context().close();
});

await step("with UDP blocked the view relays over TCP (TURN/TCP)", async () => {
  await ask("block-udp");
  try {
    const tcp = await session("teacher", { init: reader });
    await tcp.goto(`${cfg.url}/${liveHash}?relay=1`);
    await waitConnection(tcp, "live", 60000);
    await intact(tcp, await watchFrames(tcp, 60), "turn over tcp");
    await tcp.context().close();
  } finally {
    await ask("unblock-udp");
  }
});

await step("no unexpected errors in the pages", async () => {
  // Failed loads while the test's own blip had the network down are expected.
  const unexpected = (p) => unexpectedErrors(p).filter((e) => !/ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED/.test(e));
  for (const p of [teacher, coach]) check(unexpected(p).length === 0, `console errors: ${unexpected(p).join(" | ")}`);
});

await finish();
