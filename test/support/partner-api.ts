/** Partner webhooks in tests: the API's settings for loopback receivers, events in the log, and admin calls. */
import { randomUUID } from "node:crypto";
import type { Db } from "../../src/db/client.js";
import { EventLogRepo } from "../../src/live/event-log.repo.js";
import { afterAll, beforeAll } from "vitest";
import { startTestApi, type TestApi } from "./api.js";
import { createUser } from "./builders.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { startReceiver, type Receiver } from "./partner-receiver.js";

/** A fixed test key (32 bytes, base64) for sealing secrets. */
export const TEST_PARTNER_KEY = Buffer.alloc(32, 7).toString("base64");

/** Loopback receivers over http, fast retries. */
export function partnerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PARTNER_WEBHOOKS_SECRET_KEY: TEST_PARTNER_KEY,
    PARTNER_WEBHOOKS_ALLOW_HTTP: "true",
    PARTNER_WEBHOOKS_ALLOW_HOSTS: "127.0.0.1",
    PARTNER_WEBHOOKS_RETRY_SCHEDULE: "0.2,0.4,0.8",
    PARTNER_WEBHOOKS_TIMEOUT_MS: "2000",
    ...extra,
  };
}

/**
 * Appends `count` presence events to a consultation's log (joins and leaves, alternating), as
 * the live status does, one transaction each; returns their ids.
 */
export async function appendEvents(db: Db, consultationId: string, count: number): Promise<number[]> {
  for (let i = 0; i < count; i++) {
    await db.transaction((tx) =>
      new EventLogRepo(tx).append([
        { consultationId, type: i % 2 === 0 ? "PARTICIPANT_JOINED" : "PARTICIPANT_LEFT", occurredAt: new Date(), status: "pending", side: i % 4 < 2 ? "doctor" : "patient", dedupeKey: `test:${randomUUID()}` },
      ]),
    );
  }
  return (await new EventLogRepo(db).page(consultationId, 0, 10_000)).map((e) => e.id);
}

export const CREATE = `mutation ($input: CreatePartnerEndpointInput!) { createPartnerEndpoint(input: $input) { secret endpoint { id url enabled eventTypes disabledReason } } }`;

/** Creates an endpoint as an admin; returns its id and secret. */
export async function createEndpoint(api: TestApi, adminToken: string, url: string, eventTypes: string[] = ["STATUS_CHANGED", "PARTICIPANT_JOINED", "PARTICIPANT_LEFT"]): Promise<{ id: string; secret: string }> {
  const { json } = await api.post({ query: CREATE, variables: { input: { url, eventTypes, description: "test" } } }, { authorization: `Bearer ${adminToken}` });
  const created = json.data?.createPartnerEndpoint;
  if (!created) throw new Error(`createPartnerEndpoint failed: ${JSON.stringify(json.errors)}`);
  return { id: created.endpoint.id, secret: created.secret };
}

/** Runs a document as `token` and returns data and error codes. */
export async function call(api: TestApi, token: string, query: string, variables: Record<string, unknown> = {}): Promise<{ data: any; codes: string[]; errors: any[] }> {
  const { json } = await api.post({ query, variables }, { authorization: `Bearer ${token}` });
  const errors = (json.errors ?? []) as Array<{ extensions?: { code?: string } }>;
  return { data: json.data, codes: errors.map((e) => e.extensions?.code ?? "NO_CODE"), errors };
}

export interface PartnerTestApi {
  test: TestDatabase;
  api: TestApi;
  admin: string;
  /** Every log line the API wrote (debug level). */
  logs: string[];
  receivers: Receiver[];
  receiver(answer?: Receiver["answer"]): Promise<Receiver>;
}

/** A database, an API with partner webhooks on loopback and an admin, for one describe block. */
export function usePartnerApi(env: Record<string, string> = {}): PartnerTestApi {
  const ctx = { logs: [] as string[], receivers: [] as Receiver[] } as PartnerTestApi;
  ctx.receiver = async (answer) => {
    const r = await startReceiver(answer);
    ctx.receivers.push(r);
    return r;
  };
  beforeAll(async () => {
    ctx.test = await createTestDatabase();
    ctx.api = await startTestApi(ctx.test, partnerEnv(env), { logs: { write: (line) => void ctx.logs.push(line) } });
    ctx.admin = await ctx.api.tokenFor((await createUser(ctx.test.database.db, "admin")).id);
  });
  afterAll(async () => {
    await ctx.api?.stop();
    await Promise.all(ctx.receivers.map((r) => r.close()));
    await ctx.test?.close();
  });
  return ctx;
}

/** The endpoint's delivery log, newest first (one page of 100). */
export async function deliveryLog(api: TestApi, admin: string, endpointId: string): Promise<any[]> {
  const { data, errors } = await call(
    api,
    admin,
    "query ($id: ID!) { partnerDeliveries(endpointId: $id, first: 100) { edges { node { id eventId status origin attemptCount attempts { attempt statusCode errorClass } } } } }",
    { id: endpointId },
  );
  if (!data) throw new Error(JSON.stringify(errors));
  return data.partnerDeliveries.edges.map((e: any) => e.node);
}

export const eventIdOf = (logId: number): string => Buffer.from(`ev1:${logId}`).toString("base64url");
