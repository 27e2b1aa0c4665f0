/**
 * Rate limits: per user on the costly mutations, per client IP on requests without a valid
 * token and on webhook authentication failures; in-process by default, shared across
 * instances through PostgreSQL when configured.
 */
import { NEEDS_POSTGRES } from "../support/db.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JoinConsultationDocument, MeDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createConsultation } from "../support/builders.js";
import type { TestDatabase } from "../support/db.js";
import { codeOf, startVideoStack, videoBooking } from "../support/hms-env.js";

let test: TestDatabase;
let api: TestApi;
let stop: () => Promise<void>;
const LIMITS = {
  RATE_LIMIT_MUTATIONS_PER_MINUTE: "3",
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3",
  RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE: "2",
};

/** One-minute windows: start a burst with time to spare before one turns. */
async function freshWindowRoom() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

beforeAll(async () => {
  ({ test, api, stop } = await startVideoStack(LIMITS));
});

afterAll(async () => {
  await stop?.();
});

async function joinable() {
  const t = await videoBooking(test, api);
  const { consultation } = await createConsultation(test.database.db, {
    doctorId: t.doctor.doctor.id,
    patientId: t.patient.patient.id,
    scheduledAt: new Date(),
  });
  return { ...t, consultationId: consultation.id };
}

describe("rate limits", () => {
  it("limit joinConsultation per user, with a retry hint, without affecting other users", async () => {
    await freshWindowRoom();
    const a = await joinable();
    const b = await joinable();
    for (let i = 0; i < 3; i++) {
      expect((await api.gql(JoinConsultationDocument, { consultationId: a.consultationId }, a.patientToken)).errors).toBeUndefined();
    }
    const limited = await api.gql(JoinConsultationDocument, { consultationId: a.consultationId }, a.patientToken);
    expect(codeOf(limited)).toBe("RATE_LIMITED");
    expect(limited.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect((await api.gql(JoinConsultationDocument, { consultationId: b.consultationId }, b.patientToken)).errors).toBeUndefined();
  }, 90_000);

  it("limit requests without a valid token per IP: HTTP 429 with Retry-After", async () => {
    await freshWindowRoom();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${api.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ me { id } }" }) });
      statuses.push(last.status);
      if (i < 3) await last.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await last!.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe("RATE_LIMITED");
  }, 90_000);

  it("limit webhook authentication failures per IP: 429 with Retry-After", async () => {
    await freshWindowRoom();
    const attempt = () =>
      fetch(`${api.url}/webhooks/100ms`, { method: "POST", headers: { "x-hms-webhook-secret": "guess-guess-guess" }, body: "{}" });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await attempt()).status);
    expect(statuses).toEqual([401, 401, 429]);
  }, 90_000);
});

describe.skipIf(!process.env.TEST_DATABASE_URL && !process.env.DATABASE_URL)(`shared through PostgreSQL${NEEDS_POSTGRES}`, () => {
  it("counts one user's calls on two instances together", async () => {
    await freshWindowRoom();
    const env = { RATE_LIMIT_STORE: "postgres", RATE_LIMIT_MUTATIONS_PER_MINUTE: "3" };
    const one = await startTestApi(test, env);
    const two = await startTestApi(test, env);
    try {
      const t = await joinable();
      const results = [];
      for (const instance of [one, two, one, two]) {
        results.push(codeOf(await instance.gql(MeDocument, {}, t.doctorToken)) ?? "ok");
        results.push(codeOf(await instance.gql(JoinConsultationDocument, { consultationId: t.consultationId }, t.doctorToken)) ?? "ok");
      }
      expect(results.filter((r) => r === "RATE_LIMITED")).toHaveLength(1);
      expect(results.at(-1)).toBe("RATE_LIMITED");
    } finally {
      await one.stop();
      await two.stop();
    }
  }, 90_000);
});
