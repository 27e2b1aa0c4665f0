/**
 * Partner webhooks reach public addresses only, unless allow-listed: creation refuses
 * loopback, private, link-local and metadata addresses (written as such or behind a name that
 * resolves to one); delivery checks again when it connects (an endpoint saved under an
 * allow-list that is gone is refused), and follows no redirect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { appendEvents, call, createEndpoint, deliveryLog, partnerEnv } from "../support/partner-api.js";
import { startReceiver, type Receiver } from "../support/partner-receiver.js";

let test: TestDatabase;
const receivers: Receiver[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await test?.close();
});

async function withApi<T>(env: Record<string, string>, run: (api: TestApi, admin: string) => Promise<T>): Promise<T> {
  const api = await startTestApi(test, env);
  try {
    return await run(api, await api.tokenFor((await createUser(test.database.db, "admin")).id));
  } finally {
    await api.stop();
  }
}

const CREATE = "mutation ($input: CreatePartnerEndpointInput!) { createPartnerEndpoint(input: $input) { endpoint { id } } }";
const create = (api: TestApi, admin: string, url: string) => call(api, admin, CREATE, { input: { url, eventTypes: ["STATUS_CHANGED"] } });

describe("creating an endpoint", () => {
  it("refuses every address that is not public, however written, unless allow-listed", async () => {
    const r = await startReceiver();
    receivers.push(r);
    const refused = [
      `http://127.0.0.1:${r.port}/hooks`,
      `http://localhost:${r.port}/hooks`,
      "http://2130706433/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://0.0.0.0/",
      "http://10.1.2.3/",
      "http://172.16.0.1/",
      "http://192.168.1.1/",
      "http://100.100.100.200/",
      "http://169.254.169.254/latest/meta-data/",
      "http://[fd00:ec2::254]/",
      "http://[fe80::1]/",
      "http://[fc00::1]/",
    ];
    await withApi({ ...partnerEnv(), PARTNER_WEBHOOKS_ALLOW_HOSTS: "" }, async (api, admin) => {
      for (const url of refused) {
        const { errors } = await create(api, admin, url);
        expect(errors.map((e) => [e.extensions.code, e.extensions.field]), url).toEqual([["BAD_USER_INPUT", "input.url"]]);
      }
      // A public address is accepted (nothing is sent: no event of its type is logged before it goes).
      const accepted = await create(api, admin, "http://93.184.216.34/hooks");
      expect(accepted.codes).toEqual([]);
      await call(api, admin, "mutation ($id: ID!) { deletePartnerEndpoint(id: $id) }", { id: accepted.data.createPartnerEndpoint.endpoint.id });
    });
    await withApi({ ...partnerEnv(), PARTNER_WEBHOOKS_ALLOW_HTTP: "false", PARTNER_WEBHOOKS_ALLOW_HOSTS: "" }, async (api, admin) => {
      expect((await create(api, admin, "http://93.184.216.34/hooks")).errors[0].message).toMatch(/https/);
    });
    // Allow-listed by name, by address and by range.
    for (const allow of ["localhost", "127.0.0.1", "127.0.0.0/8"]) {
      await withApi({ ...partnerEnv(), PARTNER_WEBHOOKS_ALLOW_HOSTS: allow }, async (api, admin) => {
        const url = allow === "localhost" ? `http://localhost:${r.port}/hooks` : `http://127.0.0.1:${r.port}/hooks`;
        const created = await create(api, admin, url);
        expect(created.codes, allow).toEqual([]);
        await call(api, admin, "mutation ($id: ID!) { deletePartnerEndpoint(id: $id) }", { id: created.data.createPartnerEndpoint.endpoint.id });
      });
    }
  });
});

describe("delivering", () => {
  it("checks the address again when it connects: an endpoint saved under an allow-list since removed gets nothing", async () => {
    const r = await startReceiver();
    receivers.push(r);
    const { id } = await withApi(partnerEnv(), (api, admin) => createEndpoint(api, admin, r.url, ["PARTICIPANT_JOINED"]));
    await withApi({ ...partnerEnv(), PARTNER_WEBHOOKS_ALLOW_HOSTS: "" }, async (api, admin) => {
      const team = await createCareTeam(test.database.db);
      await appendEvents(test.database.db, team.consultation.id, 1);
      await expect.poll(async () => (await deliveryLog(api, admin, id))[0]?.attempts.length ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const [delivery] = await deliveryLog(api, admin, id);
      expect(delivery.status).toBe("PENDING");
      expect(new Set(delivery.attempts.map((a: any) => `${a.statusCode} ${a.errorClass}`))).toEqual(new Set(["null address_refused"]));
    });
    expect(r.received).toEqual([]);
  });

  it("follows no redirect, even to an allowed address", async () => {
    const inside = await startReceiver();
    const redirecting = await startReceiver(() => ({ status: 307, headers: { location: inside.url } }));
    receivers.push(inside, redirecting);
    await withApi(partnerEnv(), async (api, admin) => {
      const { id } = await createEndpoint(api, admin, redirecting.url, ["PARTICIPANT_JOINED"]);
      const team = await createCareTeam(test.database.db);
      await appendEvents(test.database.db, team.consultation.id, 1);
      await expect.poll(() => redirecting.received.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const [delivery] = await deliveryLog(api, admin, id);
      expect(delivery.attempts[0]).toEqual({ attempt: 1, statusCode: 307, errorClass: "redirect" });
      await call(api, admin, "mutation ($id: ID!) { deletePartnerEndpoint(id: $id) }", { id });
    });
    expect(inside.received).toEqual([]);
  });
});
