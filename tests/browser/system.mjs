// The whole system through the pages (see system_browser_test.cpp, which runs the hub, its broker and
// classcamd as processes): enrolment from the page, a scheduled lesson recorded by the unit and
// watched by a coach, the unit going offline. Usage: node system.mjs CONFIG.json
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cfg, check, step, finish, session, pageIs } from "./lib.mjs";

const unitRow = (page, id) => page.locator(`#units tr[data-unit="${id}"]`);
const title = "Whole-system lesson";

let tech;
await step("a technician enrols the unit with the pairing code the page shows", async () => {
  tech = await session("technician");
  await pageIs(tech, "#/units");
  await unitRow(tech, cfg.unit).getByRole("button", { name: /Pairing code/ }).click();
  const code = (await tech.locator("#pairing-code").textContent()).trim();
  writeFileSync(join(cfg.dir, "code"), code);
  await unitRow(tech, cfg.unit).locator(".badge", { hasText: "online" }).waitFor({ timeout: 60000 });
  await unitRow(tech, cfg.unit).getByText(/free of/).waitFor({ timeout: 30000 });
});

let teacher;
await step("a teacher schedules an observation; the unit records and uploads it", async () => {
  teacher = await session("teacher");
  await pageIs(teacher, "#/teacher");
  // The next whole minute at least 25 s away (the form speaks minutes), for one minute.
  const [start, end] = await teacher.evaluate(() => {
    const p = (n) => String(n).padStart(2, "0");
    const local = (d) => `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    const s = new Date(Date.now() + 25000);
    s.setSeconds(0, 0);
    s.setMinutes(s.getMinutes() + 1);
    return [local(s), local(new Date(s.getTime() + 60000))];
  });
  const form = teacher.locator("#observation-form");
  await form.getByLabel("Title").fill(title);
  await form.getByLabel("Room").selectOption({ label: cfg.room });
  await form.getByLabel(/^Starts/).fill(start);
  await form.getByLabel(/^Ends/).fill(end);
  await form.getByLabel(/Mr Jones/).check();
  await form.getByRole("button", { name: "Schedule" }).click();
  await teacher.locator("#observations tr", { hasText: title }).waitFor();
  // The technician sees the unit recording while the lesson runs.
  await unitRow(tech, cfg.unit).getByText("recording").waitFor({ timeout: 120000 });
  await teacher.goto(`${cfg.url}/#/recordings`);
  await teacher.locator("#recordings tr", { hasText: "ready" }).first().waitFor({ timeout: 240000 });
});

await step("the teacher shares it; the coach plays it and comments at a timestamp; the teacher sees it", async () => {
  await teacher.locator("#recordings tr", { hasText: "ready" }).first().getByRole("link").click();
  await teacher.locator("#share-form").getByLabel("Person").selectOption({ label: "Mr Jones (coach)" });
  await teacher.locator("#share-form").getByRole("button", { name: "Share" }).click();
  await teacher.locator("#sharing li", { hasText: "Mr Jones" }).waitFor();
  const coach = await session("coach");
  await coach.locator("#shared a").first().click();
  await coach.waitForFunction(() => document.querySelector("#video") && document.querySelector("#video").readyState >= 1, null, { timeout: 20000 });
  await coach.evaluate(() => { const v = document.querySelector("#video"); v.muted = true; return v.play(); });
  await coach.waitForFunction(() => document.querySelector("#video").currentTime > 1.0, null, { timeout: 20000 });
  check(await coach.evaluate(() => document.querySelector("#video").error === null), "no media error");
  const duration = await coach.evaluate(() => document.querySelector("#video").duration);
  check(duration > 20, `most of a one-minute lesson, got ${duration} s`);
  await coach.evaluate(() => { const v = document.querySelector("#video"); v.pause(); v.currentTime = 12; });
  await coach.waitForFunction(() => !document.querySelector("#video").seeking);
  await coach.locator("#comment-form").getByLabel("Tag").selectOption("strength");
  await coach.locator("#comment-form").getByLabel("Comment").fill("Clear instructions before the group work.");
  await coach.locator("#comment-form").getByRole("button", { name: "Add comment" }).click();
  await coach.locator("#comments li", { hasText: "Clear instructions" }).waitFor();
  await teacher.reload();
  await teacher.locator("#comments li", { hasText: "Clear instructions" }).waitFor({ timeout: 15000 });
  check((await teacher.locator("#comments li", { hasText: "Clear instructions" }).textContent()).includes("0:12"), "at 0:12");
});

await step("the technician sees the unit go offline when its daemon stops", async () => {
  writeFileSync(join(cfg.dir, "stop-unit"), "");
  await unitRow(tech, cfg.unit).locator(".badge", { hasText: "offline" }).waitFor({ timeout: 60000 });
});

// For the log: what the lesson became.
const recs = await teacher.evaluate(async () => (await (await fetch("/api/v1/recordings")).json()).recordings);
for (const r of recs || []) console.log(`     recording "${r.title}": ${r.state}, ${r.segments_received} segments`);

await finish();
