// The fleet pages against a hub with a real broker (see fleet_browser_test.cpp, which plays the
// units): a technician sees a unit's health live, takes a snapshot, enrols a second unit with the
// pairing code the page shows, sees a unit go offline and revokes one; a teacher records now.
// Usage: node fleet.mjs CONFIG.json
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cfg, check, step, finish, session, pageIs, shot, unexpectedErrors } from "./lib.mjs";

const unitRow = (page, id) => page.locator(`#units tr[data-unit="${id}"]`);

let tech;
await step("a technician sees the unit online with its health", async () => {
  tech = await session("technician");
  await pageIs(tech, "#/units");
  const row = unitRow(tech, cfg.unit);
  await row.locator(".badge", { hasText: "online" }).waitFor({ timeout: 15000 });
  const text = await row.textContent();
  for (const want of ["idle", "20.4 GB free of 31.9 GB", "54.2 °C", "4 segments (4.2 MB)", cfg.room]) {
    check(text.includes(want), `"${want}" in the unit's row, got: ${text}`);
  }
  check(!text.includes("Sun") || /\d\d:\d\d/.test(text), "a last-seen time");
});

await step("the technician takes a snapshot from the unit", async () => {
  await unitRow(tech, cfg.unit).getByRole("button", { name: /Snapshot/ }).click();
  const img = tech.locator("#unit-detail img.snapshot");
  await img.waitFor({ timeout: 20000 });
  await tech.waitForFunction(() => { const i = document.querySelector("#unit-detail img.snapshot"); return i && i.complete && i.naturalWidth === 640; });
  await tech.locator("#command-status, #unit-detail [role=status]").filter({ hasText: "done" }).first().waitFor();
  await shot(tech, "technician-snapshot");
});

await step("a teacher starts and stops the room's unit now", async () => {
  const teacher = await session("teacher");
  await pageIs(teacher, "#/teacher");
  const form = teacher.locator("#record-now-form");
  await form.getByLabel("Room").selectOption({ label: cfg.room });
  await form.getByLabel("Title").fill("Group work, unplanned");
  await form.getByRole("button", { name: "Start recording" }).click();
  await teacher.locator("#command-status", { hasText: "Start: done" }).waitFor({ timeout: 20000 });
  await shot(teacher, "teacher-record-now");
  await unitRow(tech, cfg.unit).getByText("recording").waitFor({ timeout: 15000 });
  await form.getByRole("button", { name: "Stop recording" }).click();
  await teacher.locator("#command-status", { hasText: "Stop: done" }).waitFor({ timeout: 20000 });
  check(unexpectedErrors(teacher).length === 0, `no console errors, got ${unexpectedErrors(teacher)}`);
  await teacher.context().close();
});

await step("the technician adds and enrols a second unit with the pairing code shown", async () => {
  const form = tech.locator("#add-unit-form");
  await form.getByLabel("Name").fill("Science lab camera");
  await form.getByLabel(/Id/).fill("science-lab");
  await form.getByLabel("Room").selectOption({ label: "Science lab" });
  await form.getByRole("button", { name: "Add unit" }).click();
  const code = tech.locator("#pairing-code");
  await code.waitFor();
  const text = (await code.textContent()).trim();
  check(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){5}$/.test(text), `a pairing code, got ${text}`);
  await shot(tech, "technician-pairing-code");
  writeFileSync(join(cfg.dir, "code"), text);
  await unitRow(tech, "science-lab").locator(".badge", { hasText: "online" }).waitFor({ timeout: 20000 });
});

await step("the technician sees a unit go offline when it drops off", async () => {
  writeFileSync(join(cfg.dir, "drop"), "");
  await unitRow(tech, cfg.unit).locator(".badge", { hasText: "offline" }).waitFor({ timeout: 20000 });
  await shot(tech, "technician-units");
});

await step("the technician revokes a unit", async () => {
  await unitRow(tech, "science-lab").getByRole("button", { name: /Revoke/ }).click();
  await unitRow(tech, "science-lab").locator(".badge", { hasText: "revoked" }).waitFor({ timeout: 10000 });
  check(unexpectedErrors(tech).length === 0, `no console errors, got ${unexpectedErrors(tech)}`);
});

await finish();
