/**
 * An instance killed (SIGKILL, the real entry point on PostgreSQL) while it is delivering a
 * partner webhook: the receiver holds the request open, the process dies, another one starts
 * on the same database. Once the dead instance's lease has ended the delivery is sent again
 * (at least once: the partner dedupes by `webhook-id`), and every event after it follows, in
 * order, each acknowledged once: nothing is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_JWT_SECRET } from "../support/api.js";
import { signAccessToken } from "../../src/auth/access-token.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { appendEvents, eventIdOf, partnerEnv } from "../support/partner-api.js";
import { startReceiver, type Receiver } from "../support/partner-receiver.js";
import { ensureStopped, realApiEnv, skipReason, startRealApi, type RealApi } from "./real-api.js";

let test: TestDatabase;
let receiver: Receiver;
let first: RealApi | undefined;
let second: RealApi | undefined;

// A short timeout keeps the dead instance's lease short (timeout + 5 s).
const ENV = partnerEnv({ PARTNER_WEBHOOKS_TIMEOUT_MS: "3000" });

describe.skipIf(skipReason !== null)(`A partner webhook sender killed mid-delivery${skipReason ? ` (${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase({ driver: "postgres" });
    receiver = await startReceiver();
  }, 60_000);

  afterAll(async () => {
    await ensureStopped(first);
    await ensureStopped(second);
    await receiver?.close();
    await test?.close();
  });

  it("loses nothing: the interrupted delivery is sent again, then the rest in order", async () => {
    first = await startRealApi(realApiEnv(test.url!, ENV));
    const admin = await signAccessToken(TEST_JWT_SECRET, (await createUser(test.database.db, "admin")).id);
    const created = await fetch(`${first.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: `mutation { createPartnerEndpoint(input: { url: "${receiver.url}", eventTypes: [PARTICIPANT_JOINED, PARTICIPANT_LEFT] }) { secret } }` }),
    });
    const secret = ((await created.json()) as any).data.createPartnerEndpoint.secret as string;
    // The first delivery hangs at the partner (its answer never comes); the rest are answered.
    receiver.answer = (_request, index) => (index === 0 ? "hang" : { status: 204 });
    const team = await createCareTeam(test.database.db);
    const logged = await appendEvents(test.database.db, team.consultation.id, 5);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    first.process.child.kill("SIGKILL");
    await first.process.exited;
    second = await startRealApi(realApiEnv(test.url!, ENV));
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(6);
    const ids = receiver.verified(secret).map((d) => d.id);
    expect(ids).toEqual([eventIdOf(logged[0]!), ...logged.map(eventIdOf)]);
    await expect.poll(() => receiver.received.slice(1).every((r) => r.answeredAt !== undefined)).toBe(true);
  }, 90_000);
});
