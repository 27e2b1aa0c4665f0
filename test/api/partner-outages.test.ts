/**
 * Partner webhooks when partners misbehave, with real receivers on loopback: a receiver down
 * for a while gets its backlog in order once back; a receiver that does not answer holds up
 * no other endpoint; a 410 disables at once and repeated failures after the retry schedule;
 * nothing pending is lost when an endpoint is enabled again.
 */
import { describe, expect, it } from "vitest";
import { createCareTeam } from "../support/builders.js";
import { appendEvents, call, createEndpoint, deliveryLog, eventIdOf, usePartnerApi } from "../support/partner-api.js";
import type { Receiver } from "../support/partner-receiver.js";

const TYPES = ["PARTICIPANT_JOINED", "PARTICIPANT_LEFT"];

/** Each consultation's delivered event ids, in the order the receiver got them. */
function perConsultation(r: Receiver, secret: string): Map<string, string[]> {
  const byConsultation = new Map<string, string[]>();
  for (const { id, payload } of r.verified(secret)) {
    const list = byConsultation.get(payload.data.consultationId) ?? [];
    list.push(id);
    byConsultation.set(payload.data.consultationId, list);
  }
  return byConsultation;
}

const setEnabled = (ctx: { api: any; admin: string }, id: string, enabled: boolean) =>
  call(ctx.api, ctx.admin, "mutation ($id: ID!, $on: Boolean!) { setPartnerEndpointEnabled(id: $id, enabled: $on) { enabled disabledReason } }", { id, on: enabled });

describe("a receiver down for a while", () => {
  const ctx = usePartnerApi({ PARTNER_WEBHOOKS_RETRY_SCHEDULE: "0.2,0.4,0.8,1.6,3.2,6.4,12.8" });

  it("gets the backlog once back: every event, each consultation's in order", async () => {
    const r = await ctx.receiver();
    const { id, secret } = await createEndpoint(ctx.api, ctx.admin, r.url, TYPES);
    await r.down();
    const teams = [await createCareTeam(ctx.test.database.db), await createCareTeam(ctx.test.database.db)];
    const logged = await Promise.all(teams.map((t) => appendEvents(ctx.test.database.db, t.consultation.id, 5)));
    // Down: each consultation's first event is tried and refused, again and again.
    const refusals = async () => (await deliveryLog(ctx.api, ctx.admin, id)).flatMap((d) => d.attempts).filter((a) => a.errorClass === "connection_refused").length;
    await expect.poll(refusals, { timeout: 15_000 }).toBeGreaterThanOrEqual(6);
    expect(r.received).toEqual([]);
    // Its backlog, as /metrics shows it: all ten events wait.
    const backlog = async () => Number(new RegExp(`partner_webhook_backlog\\{endpoint="${id}"\\} (\\d+)`).exec(await (await fetch(`${ctx.api.url}/metrics`)).text())?.[1]);
    expect(await backlog()).toBe(10);
    await r.up();
    await expect.poll(() => r.received.length, { timeout: 30_000 }).toBe(10);
    const got = perConsultation(r, secret);
    teams.forEach((t, i) => expect(got.get(t.consultation.id)).toEqual(logged[i]!.map(eventIdOf)));
    expect((await call(ctx.api, ctx.admin, "query ($id: ID!) { partnerEndpoint(id: $id) { enabled } }", { id })).data.partnerEndpoint.enabled).toBe(true);
    await expect.poll(backlog).toBe(0);
    const metrics = await (await fetch(`${ctx.api.url}/metrics`)).text();
    expect(Number(/^partner_webhook_delivery_lag_seconds_count (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10);
    expect(metrics).toMatch(/partner_webhook_attempts_total\{outcome="retry",error_class="connection_refused"\} \d+/);
  });
});

describe("a receiver that does not answer", () => {
  const ctx = usePartnerApi({ PARTNER_WEBHOOKS_TIMEOUT_MS: "60000" });

  it("holds up no other endpoint, and gets everything in order once it answers", async () => {
    const stuck = await ctx.receiver(() => "hang");
    const healthy = await ctx.receiver();
    const slow = await createEndpoint(ctx.api, ctx.admin, stuck.url, TYPES);
    const fast = await createEndpoint(ctx.api, ctx.admin, healthy.url, TYPES);
    const teams = await Promise.all([1, 2, 3, 4, 5, 6].map(() => createCareTeam(ctx.test.database.db)));
    const logged = await Promise.all(teams.map((t) => appendEvents(ctx.test.database.db, t.consultation.id, 3)));
    // The stuck endpoint has its 4 (PARTNER_WEBHOOKS_CONCURRENCY) deliveries hanging the whole time.
    await expect.poll(() => healthy.received.length, { timeout: 15_000 }).toBe(18);
    await expect.poll(() => stuck.received.length).toBe(4);
    expect(stuck.received.every((x) => x.answeredAt === undefined)).toBe(true);
    const fastGot = perConsultation(healthy, fast.secret);
    teams.forEach((t, i) => expect(fastGot.get(t.consultation.id)).toEqual(logged[i]!.map(eventIdOf)));
    stuck.answer = () => ({ status: 200 });
    stuck.release(200);
    await expect.poll(() => stuck.received.length, { timeout: 15_000 }).toBe(18);
    const slowGot = perConsultation(stuck, slow.secret);
    teams.forEach((t, i) => expect(slowGot.get(t.consultation.id)).toEqual(logged[i]!.map(eventIdOf)));
  });
});

describe("410 and repeated failures", () => {
  const ctx = usePartnerApi({ PARTNER_WEBHOOKS_RETRY_SCHEDULE: "0.05,0.1,0.1" });

  it("410 disables the endpoint at once; enabled again, it gets what was pending", async () => {
    const r = await ctx.receiver(() => ({ status: 410 }));
    const { id, secret } = await createEndpoint(ctx.api, ctx.admin, r.url, TYPES);
    const team = await createCareTeam(ctx.test.database.db);
    const logged = await appendEvents(ctx.test.database.db, team.consultation.id, 3);
    const state = async () => (await call(ctx.api, ctx.admin, "query ($id: ID!) { partnerEndpoint(id: $id) { enabled disabledReason disabledAt } }", { id })).data.partnerEndpoint;
    await expect.poll(async () => (await state()).disabledReason, { timeout: 10_000 }).toBe("GONE");
    expect(r.received.length).toBe(1);
    // The events logged before it was disabled are planned, those after wait for it: none is lost.
    const statuses = (await deliveryLog(ctx.api, ctx.admin, id)).map((d) => d.status);
    expect(statuses.length).toBeGreaterThanOrEqual(1);
    expect(new Set(statuses)).toEqual(new Set(["PENDING"]));
    const metrics = await (await fetch(`${ctx.api.url}/metrics`)).text();
    expect(metrics).toMatch(/partner_webhook_endpoints_disabled_total\{reason="gone"\} 1/);
    expect(ctx.logs.join("\n")).toMatch(/partner endpoint disabled/);
    r.answer = () => ({ status: 204 });
    expect((await setEnabled(ctx, id, true)).data.setPartnerEndpointEnabled).toEqual({ enabled: true, disabledReason: null });
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(4);
    expect(r.verified(secret).slice(1).map((d) => d.id)).toEqual(logged.map(eventIdOf));
  });

  it("disables the endpoint when a delivery used up its retries with no success meanwhile", async () => {
    const r = await ctx.receiver(() => ({ status: 500 }));
    const { id } = await createEndpoint(ctx.api, ctx.admin, r.url, TYPES);
    const team = await createCareTeam(ctx.test.database.db);
    await appendEvents(ctx.test.database.db, team.consultation.id, 2);
    const state = async () => (await call(ctx.api, ctx.admin, "query ($id: ID!) { partnerEndpoint(id: $id) { enabled disabledReason } }", { id })).data.partnerEndpoint;
    await expect.poll(async () => (await state()).disabledReason, { timeout: 10_000 }).toBe("FAILING");
    const log = await deliveryLog(ctx.api, ctx.admin, id);
    const first = log.at(-1);
    expect(first.status).toBe("FAILED");
    expect(first.attempts).toEqual([1, 2, 3, 4].map((attempt) => ({ attempt, statusCode: 500, errorClass: "http_status" })));
    // The second event waited behind the first (planned or not yet): never sent to a disabled endpoint.
    expect(log.slice(0, -1).map((d) => d.status)).not.toContain("DELIVERED");
    expect(r.received.length).toBe(4);
    const metrics = await (await fetch(`${ctx.api.url}/metrics`)).text();
    expect(metrics).toMatch(/partner_webhook_endpoints_disabled_total\{reason="failing"\} 1/);
    expect(metrics).toMatch(/partner_webhook_attempts_total\{outcome="given_up",error_class="http_status"\} 1/);
    // Back: the second event goes out once enabled; the given-up one on an admin's redelivery.
    r.answer = () => ({ status: 200 });
    await setEnabled(ctx, id, true);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(5);
    const redelivered = await call(ctx.api, ctx.admin, "mutation ($id: ID!) { redeliverPartnerDelivery(id: $id) { origin status eventId } }", { id: first.id });
    expect(redelivered.data.redeliverPartnerDelivery).toEqual({ origin: "REDELIVERY", status: "PENDING", eventId: first.eventId });
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(6);
    expect(r.received[5]!.headers["webhook-id"]).toBe(first.eventId);
  });
});
