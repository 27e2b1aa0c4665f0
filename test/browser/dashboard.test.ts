/**
 * The live dashboard in a real headless browser (Debian's chromium driven by playwright-core):
 * the page renders today's consultations, and a webhook sent to the API changes what it shows,
 * live. Skipped, saying why, where no browser is installed.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { startHms } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";
import { frontDeskScene } from "../support/frontdesk-scene.js";
import { createCareTeamWithRoom, createConsultation } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { eq } from "drizzle-orm";
import { appointments } from "../../src/db/schema.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;

/**
 * A browser context whose local time is `hour` o'clock now, whatever the hour the test runs at
 * (a whole-hour Etc/GMT zone): "today" on the page is then the same for every run.
 */
function zoneAt(hour: number): string {
  const offset = ((hour - new Date().getUTCHours() + 36) % 24) - 12; // -12..+11, local = UTC + offset
  return offset === 0 ? "Etc/GMT" : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`; // Etc/GMT signs are inverted
}

describe.skipIf(!CHROMIUM)(`the live dashboard${CHROMIUM ? "" : " (skipped: no chromium; .ci/run installs Debian's chromium)"}`, () => {
  let browser: import("playwright-core").Browser;

  beforeAll(async () => {
    test = await createTestDatabase();
    // The 100ms stand-in: the front desk's no-show ends a room it provisioned.
    const stack = await startHms();
    hms = stack.hms;
    api = await startTestApi(test, { ...stack.env, JOIN_GRACE_MINUTES: "0" });
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await hms?.close();
    await test?.close();
  });

  it("shows the patient waiting, then the call active, as webhooks arrive", async () => {
    // Booked for now, not the builder's default of an hour ahead: after 23:00 that is tomorrow,
    // and the dashboard shows today's consultations only.
    const team = await createCareTeamWithRoom(test.database.db);
    const token = await api.tokenFor(team.doctor.user.id);
    const [open, patientJoin, doctorJoin] = scriptedCall(
      team.parties,
      new Date(Date.now() - 120_000), // the doctor joins a minute ago: half the attendance bar overlaps
    );

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${api.url}/dashboard`);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    const row = page.locator(`tr[data-id="${team.consultation.id}"]`);
    await row.waitFor({ timeout: 10_000 }).catch(async (e) => { throw new Error(`${e.message}; status: ${await page.textContent("#connection")}`); });
    await expect.poll(() => row.locator(".status .status-text").textContent()).toBe("PENDING");
    await expect.poll(() => page.textContent("#connection"), { timeout: 10_000 }).toBe("Live.");

    await api.webhook(open);
    await api.webhook(patientJoin);
    await expect.poll(() => row.locator(".presence").textContent(), { timeout: 10_000 }).toBe("Patient waiting");

    await api.webhook(doctorJoin);
    await expect.poll(() => row.locator(".status .status-text").textContent(), { timeout: 10_000 }).toBe("ACTIVE");
    expect(await row.locator(".presence").textContent()).toBe("doctor + patient");
    expect(await row.textContent()).toContain(team.patient.user.fullName);
    // The attendance bar: the patient's interval, the doctor's, and their overlap highlighted.
    await expect.poll(() => row.locator(".attendance .bar i").count(), { timeout: 10_000 }).toBe(3);
    expect(await row.locator(".bar .both").count()).toBe(1);
    expect(await row.locator(".bar .doctor").count()).toBe(1);
    expect(await row.locator(".bar .patient").count()).toBe(1);
    // The bar is redrawn as the attendance query answers: wait for the drawn overlap.
    await expect.poll(async () => (await row.locator(".bar .both").first().boundingBox())?.width ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: `${process.env.TMPDIR ?? "/tmp"}/dashboard-test.png` });
    expect(errors).toEqual([]);
  }, 60_000);

  it("falls back to Server-Sent Events where WebSockets cannot connect, and still goes live", async () => {
    // Booked for now, not the builder's default of an hour ahead: after 23:00 that is tomorrow,
    // and the dashboard shows today's consultations only.
    const team = await createCareTeamWithRoom(test.database.db);
    const token = await api.tokenFor(team.doctor.user.id);
    const [open, patientJoin, doctorJoin] = scriptedCall(
      team.parties,
      new Date(Date.now() - 60_000),
    );
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // A proxy that lets no WebSocket through: every upgrade on /graphql is closed at once.
    await page.routeWebSocket(/\/graphql$/, (ws) => ws.close({ code: 1011, reason: "blocked by proxy" }));
    await page.goto(`${api.url}/dashboard`);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    const row = page.locator(`tr[data-id="${team.consultation.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    // An event between the page load and the fallback is not missed: the stream starts at liveCursor.
    await api.webhook(open);
    await api.webhook(patientJoin);
    await expect.poll(() => page.textContent("#connection"), { timeout: 15_000 }).toBe("Live (Server-Sent Events).");
    await expect.poll(() => row.locator(".presence").textContent(), { timeout: 10_000 }).toBe("Patient waiting");
    await api.webhook(doctorJoin);
    await expect.poll(() => row.locator(".status .status-text").textContent(), { timeout: 10_000 }).toBe("ACTIVE");
    expect(errors).toEqual([]);
  }, 60_000);

  it("shows a doctor the front desk: who waits (longest first), running late, no-shows, call quality, why a side left; readable at 800 px", async () => {
    const scene = await frontDeskScene(test, api);
    // Midday on the page, so the scene (booked up to 20 min ago) is today's at any hour the test runs.
    const page = await (await browser.newContext({ viewport: { width: 800, height: 900 }, timezoneId: zoneAt(12) })).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.clock.install(); // the page's clock, moved by hand below (the waiting minutes tick)
    await page.goto(`${api.url}/dashboard`);
    await page.fill("#token", scene.doctorToken);
    await page.click("button[type=submit]");
    const row = (id: string) => page.locator(`tr[data-id="${id}"]`);
    await row(scene.waitingLong).waitFor({ timeout: 10_000 });

    await expect.poll(() => row(scene.waitingLong).locator(".waiting-cell").textContent(), { timeout: 10_000 }).toBe(`${scene.patientName}, waiting 7 min`);
    expect(await row(scene.waitingLong).locator(".when").textContent()).toContain("running 15 min late");
    expect(await row(scene.waitingShort).locator(".waiting-cell").textContent()).toBe(`${scene.doctorName}, waiting 2 min`);
    // Longest waiting first: the order is the server's `since`.
    const ids = await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    expect(ids.slice(0, 2)).toEqual([scene.waitingLong, scene.waitingShort]);
    // The minutes tick with no new data: two minutes later on the page's clock (a second more may have passed).
    await page.clock.fastForward(120_000);
    expect(await row(scene.waitingLong).locator(".waiting-cell").textContent()).toMatch(new RegExp(`^${scene.patientName}, waiting (9|10) min$`));
    expect(await row(scene.waitingShort).locator(".waiting-cell").textContent()).toMatch(new RegExp(`^${scene.doctorName}, waiting (4|5) min$`));
    expect(await row(scene.noShow).locator(".status").textContent()).toContain("No-show: doctor (patient waited 1 min)");
    const badge = row(scene.poorCall).locator(".quality .q-poor");
    expect(await badge.textContent()).toBe("P 2/5");
    expect(await badge.getAttribute("title")).toContain("poor for");
    expect(await row(scene.poorCall).locator(".status .times").textContent()).toMatch(/–now$/);
    const left = row(scene.patientLeft).locator(".presence .left");
    expect(await left.textContent()).toBe("patient left");
    expect(await left.getAttribute("title")).toBe("patient: left (client request)");
    expect(await page.locator("#legend").isVisible()).toBe(true);
    // Reads at 800 px: nothing wider than the window.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(800);
    await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT ?? `${process.env.TMPDIR ?? "/tmp"}/dashboard-frontdesk.png`, fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it("keeps a call booked before midnight on the page after it, and not one from before the shift", async () => {
    const running = await createCareTeamWithRoom(test.database.db);
    await test.database.db.update(appointments).set({ scheduledAt: new Date(Date.now() - 3 * 3_600_000) }).where(eq(appointments.id, running.appointment.id));
    const earlier = await createConsultation(test.database.db, { doctorId: running.doctor.doctor.id, patientId: running.patient.patient.id, scheduledAt: new Date(Date.now() - 7 * 3_600_000) });
    // 01:xx on the page: the first was booked at 22:xx yesterday (within the six-hour shift), the other at 18:xx.
    const page = await (await browser.newContext({ timezoneId: zoneAt(1) })).newPage();
    await page.goto(`${api.url}/dashboard`);
    await page.fill("#token", await api.tokenFor(running.doctor.user.id));
    await page.click("button[type=submit]");
    await page.locator(`tr[data-id="${running.consultation.id}"]`).waitFor({ timeout: 10_000 });
    // Both come from the same page query: the first shown means the answer is in.
    expect(await page.locator(`tr[data-id="${earlier.consultation.id}"]`).count()).toBe(0);
  }, 60_000);

  it("is off in production unless DASHBOARD_ENABLED", async () => {
    const prod = await startTestApi(test, { NODE_ENV: "production" });
    try {
      expect((await fetch(`${prod.url}/dashboard`)).status).toBe(404);
    } finally {
      await prod.stop();
    }
  });
});
