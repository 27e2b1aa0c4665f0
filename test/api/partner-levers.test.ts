/**
 * The partner webhooks' levers, with real receivers on loopback: a secret rotation signs with
 * both secrets during the overlap and the new one only after it; an admin resends a delivery
 * or replays an endpoint from an event or a time, in order; two instances send each event
 * once; no secret reaches a log line.
 */
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { startApi } from "../../src/app/app.js";
import { rowsOf } from "../../src/db/batch-sql.js";
import { openDatabase } from "../../src/db/client.js";
import { createLogger } from "../../src/kit/logger.js";
import { testConfig } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { NEEDS_POSTGRES } from "../support/db.js";
import { appendEvents, call, createEndpoint, deliveryLog, eventIdOf, partnerEnv, usePartnerApi } from "../support/partner-api.js";

const TYPES = ["PARTICIPANT_JOINED", "PARTICIPANT_LEFT"];
const ctx = usePartnerApi();
const secrets: string[] = [];

const verifies = (secret: string, request: { body: string; headers: Record<string, string> }) => {
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch {
    return false;
  }
};

describe("secret rotation", () => {
  it("signs with both secrets during the overlap, then with the new one only", async () => {
    const r = await ctx.receiver();
    const { id, secret: old } = await createEndpoint(ctx.api, ctx.admin, r.url, TYPES);
    const rotated = await call(ctx.api, ctx.admin, "mutation ($id: ID!) { rotatePartnerEndpointSecret(id: $id) { secret endpoint { previousSecretExpiresAt } } }", { id });
    const fresh = rotated.data.rotatePartnerEndpointSecret.secret as string;
    secrets.push(old, fresh);
    const overlapEnds = new Date(rotated.data.rotatePartnerEndpointSecret.endpoint.previousSecretExpiresAt).getTime();
    expect(overlapEnds - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const team = await createCareTeam(ctx.test.database.db);
    await appendEvents(ctx.test.database.db, team.consultation.id, 1);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(1);
    expect(r.received[0]!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect([verifies(old, r.received[0]!), verifies(fresh, r.received[0]!)]).toEqual([true, true]);
    // The overlap ends (as if 24 hours had passed).
    await ctx.test.database.db.execute(sql`update partner_endpoints set previous_secret_until = now() - interval '1 second' where id = ${id}`);
    await appendEvents(ctx.test.database.db, team.consultation.id, 1);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(2);
    expect([verifies(old, r.received[1]!), verifies(fresh, r.received[1]!)]).toEqual([false, true]);
    expect((await call(ctx.api, ctx.admin, "query ($id: ID!) { partnerEndpoint(id: $id) { previousSecretExpiresAt } }", { id })).data.partnerEndpoint.previousSecretExpiresAt).toBeNull();
  });
});

describe("redelivery and replay", () => {
  it("resends one delivery with the same webhook-id, and replays from an event or a time, in order", async () => {
    const r = await ctx.receiver();
    const { id, secret } = await createEndpoint(ctx.api, ctx.admin, r.url, TYPES);
    secrets.push(secret);
    const team = await createCareTeam(ctx.test.database.db);
    const [before] = rowsOf<{ now: string }>(await ctx.test.database.db.execute(sql`select now()::text as now`));
    const logged = (await appendEvents(ctx.test.database.db, team.consultation.id, 4)).map(eventIdOf);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(4);
    await expect.poll(async () => (await deliveryLog(ctx.api, ctx.admin, id)).map((d) => d.status)).toEqual(Array(4).fill("DELIVERED"));
    const [, , third] = (await deliveryLog(ctx.api, ctx.admin, id)).reverse();
    const resent = await call(ctx.api, ctx.admin, "mutation ($id: ID!) { redeliverPartnerDelivery(id: $id) { eventId origin } }", { id: third.id });
    expect(resent.data.redeliverPartnerDelivery).toEqual({ eventId: logged[2], origin: "REDELIVERY" });
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(5);
    const replay = (variables: Record<string, unknown>) =>
      call(ctx.api, ctx.admin, "mutation ($id: ID!, $e: ID, $t: DateTime) { replayPartnerEndpoint(id: $id, fromEventId: $e, fromTime: $t) { id } }", { id, ...variables });
    expect((await replay({ e: logged[1] })).codes).toEqual([]);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(8);
    expect((await replay({ t: new Date(before!.now).toISOString() })).codes).toEqual([]);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(12);
    expect(r.verified(secret).map((d) => d.id)).toEqual([...logged, logged[2], ...logged.slice(1), ...logged]);
    const origins = (await deliveryLog(ctx.api, ctx.admin, id)).map((d) => d.origin);
    expect(origins.filter((o) => o === "REPLAY")).toHaveLength(7);
    // Each lever is on the audit trail, with the endpoint as its target.
    const trail = rowsOf<{ action: string }>(await ctx.test.database.db.execute(sql`select action from audit_events where target_id = ${id} and outcome = 'allowed' order by id`));
    expect(trail.map((t) => t.action)).toEqual(["partnerEndpoint.create", "partnerDelivery.redeliver", "partnerEndpoint.replay", "partnerEndpoint.replay"]);
    expect((await replay({})).codes).toEqual(["BAD_USER_INPUT"]);
    expect((await replay({ e: logged[0], t: new Date().toISOString() })).codes).toEqual(["BAD_USER_INPUT"]);
    expect((await replay({ e: "not-an-event" })).codes).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("two instances on one database", () => {
  it(`send each event once${NEEDS_POSTGRES}`, { skip: NEEDS_POSTGRES !== "" }, async () => {
    if (!ctx.test.url) return;
    const second = await openDatabase({ url: ctx.test.url, poolMax: 5 });
    const other = await startApi(testConfig({ ...partnerEnv(), DATABASE_URL: ctx.test.url }), createLogger("silent"), { database: second });
    try {
      const receivers = [await ctx.receiver(), await ctx.receiver()];
      const endpoints = await Promise.all(receivers.map((r) => createEndpoint(ctx.api, ctx.admin, r.url, TYPES)));
      await other.partners.refresh();
      const teams = await Promise.all([1, 2, 3, 4].map(() => createCareTeam(ctx.test.database.db)));
      const logged = await Promise.all(teams.map((t, i) => appendEvents(i % 2 === 0 ? ctx.test.database.db : second.db, t.consultation.id, 10)));
      for (const [n, r] of receivers.entries()) {
        await expect.poll(() => r.received.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(40);
        const got = r.verified(endpoints[n]!.secret);
        teams.forEach((t, i) => expect(got.filter((d) => d.payload.data.consultationId === t.consultation.id).map((d) => d.id)).toEqual(logged[i]!.map(eventIdOf)));
      }
      // One attempt each (recorded at each lane's next look).
      const attempts = async () =>
        rowsOf<{ n: number }>(await ctx.test.database.db.execute(sql`select count(*)::int as n from partner_delivery_attempts a join partner_deliveries d on d.id = a.delivery_id where d.endpoint_id = any(${`{${endpoints.map((e) => e.id).join(",")}}`}::uuid[])`))[0]!.n;
      await expect.poll(attempts, { timeout: 10_000 }).toBe(80);
    } finally {
      await other.stop();
      await second.close();
    }
  });
});

describe("secrets", () => {
  it("appear in no log line, error, audit record or delivery log", async () => {
    expect(secrets.length).toBeGreaterThan(0);
    const tables = ["partner_deliveries", "partner_delivery_attempts", "audit_events"];
    const rows = await Promise.all(tables.map(async (table) => JSON.stringify(rowsOf(await ctx.test.database.db.execute(sql.raw(`select * from ${table}`))))));
    const everything = [...ctx.logs, ...rows].join("\n");
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.slice("whsec_".length));
    }
  });
});
