// What the browser scenarios share: Chromium from Debian (headless), named steps that report and
// count failures, signed-in pages per person, screenshots when CLASSCAM_SCREENSHOTS is set.
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const shots = process.env.CLASSCAM_SCREENSHOTS || "";
if (shots) mkdirSync(shots, { recursive: true });

export const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    // The live view's push-to-talk: a fake microphone (a beep), its permission granted.
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
});

let failures = 0;

export function check(cond, what) {
  if (!cond) throw new Error(`expected: ${what}`);
}

export async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
  }
}

export async function finish() {
  await browser.close();
  console.log(failures ? `${failures} step(s) failed` : "all browser steps passed");
  process.exit(failures ? 1 : 0);
}

// A page for one person (signed in when `who` names one of cfg.people). Console errors are kept in
// page.errors (CSP violations show up there); dialogs (confirmations) are accepted.
// `init` is a script run in every document before the page's own (bypassCSP lets it in: the pages
// allow only their own scripts).
export async function session(who, { width = 1280, height = 900, init = "" } = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width, height }, locale: "en-GB",
    timezoneId: "Europe/London", bypassCSP: !!init });
  if (init) await context.addInitScript({ content: init });
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") page.errors.push(m.text());
  });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("dialog", (d) => d.accept());
  if (who) await login(page, cfg.people[who]);
  return page;
}

export async function login(page, person) {
  await page.goto(`${cfg.url}/#/login`);
  await page.getByLabel("Login").fill(person.login);
  await page.getByLabel("Password").fill(person.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(() => location.hash !== "#/login" && location.hash !== "");
  await page.locator("#logout").waitFor();
}

export async function pageIs(page, hash) {
  await page.waitForFunction((h) => location.hash === h, hash);
}

export async function shot(page, name) {
  if (!shots) return;
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// Browser console errors other than failed loads: refusals (4xx) the page is expected to show.
export function unexpectedErrors(page) {
  return page.errors.filter((e) => !/the server responded with a status of 4\d\d/.test(e));
}
