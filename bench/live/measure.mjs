// Glass-to-glass latency as a page shows it (bench/live.sh): opens a page in Debian's Chromium,
// signs in first when asked, injects strip_reader.js, waits for the <video> to play and collects the
// latency of at least FRAMES frames read from the latency strip. Prints one JSON line of figures.
//   node bench/live/measure.mjs '{"url": "...", "frames": 300, "login": {"page": "...", "user": "...",
//                                "password": "..."}, "relay": false, "timeout_s": 60}'
// Run it inside the bench's network namespace: Chromium gathers no loopback candidates.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../tests/browser/package.json"));
const { chromium } = require("playwright-core");

const cfg = JSON.parse(process.argv[2]);
const frames = cfg.frames || 300;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required"],
});
try {
  // bypassCSP: the hub's pages allow only their own scripts; the reader is the bench's, injected.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // Before any navigation: the live page's URL differs from the login page's only in its hash, which
  // does not load a new document (an init script added later would never run).
  await page.addInitScript({ content: readFileSync(join(here, "strip_reader.js"), "utf8") });
  if (cfg.login) {
    await page.goto(cfg.login.page);
    await page.getByLabel("Login").fill(cfg.login.user);
    await page.getByLabel("Password").fill(cfg.login.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForLoadState("networkidle");
  }
  await page.goto(cfg.url);
  // The page's own <video>: start reading as soon as it exists.
  await page.waitForSelector("video", { timeout: 30000 });
  await page.evaluate(() => window.classcamLatency.start(document.querySelector("video")));
  const deadline = Date.now() + (cfg.timeout_s || 90) * 1000;
  for (;;) {
    const s = await page.evaluate(() => window.classcamLatency.stats());
    if (s.count >= frames) break;
    if (Date.now() > deadline) throw new Error(`only ${s.count} frames read in ${cfg.timeout_s || 90} s: ${JSON.stringify(s)}`);
    await page.waitForTimeout(500);
  }
  // Measure a window of `frames` after the start-up, not the first frames (connection set-up).
  const startAt = await page.evaluate(() => Date.now());
  await page.waitForFunction((n) => window.classcamLatency.samples.length >= n, 2 * frames,
    { timeout: (cfg.timeout_s || 90) * 1000, polling: 500 });
  const result = await page.evaluate((t0) => {
    const s = window.classcamLatency.samples.filter((x) => x.at >= t0).map((x) => x.latency_ms).sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    const span = (window.classcamLatency.samples.at(-1).at - t0) / 1000;
    return { frames: s.length, median_ms: q(0.5), p95_ms: q(0.95), fps: +(s.length / span).toFixed(1),
      ...window.classcamLatency.stats() };
  }, startAt);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
