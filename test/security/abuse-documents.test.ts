/**
 * Documents that cost the server far more than they weigh, sent to the real API process:
 * a chain of fragments that each spread the next one twice (2²⁴ paths in 985 bytes) is
 * refused within milliseconds on every transport, anonymous or signed in, while /healthz keeps
 * answering; a page size hidden in a variable's default is weighed like the literal one.
 * Every request has a deadline and the process is killed afterwards, so a regression fails
 * in seconds and leaves nothing running.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "graphql-ws";
import { signAccessToken } from "../../src/auth/access-token.js";
import { ensureStopped, realApiEnv, skipReason, startRealApi, type RealApi } from "../faults/real-api.js";
import { attack, connectedClient, firstPassing, fragmentChain, postGraphql, refusedSubscription } from "../support/abuse.js";
import { TEST_JWT_SECRET } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

/** Bounds with headroom for a loaded 2-core machine; the old code took 45 s per document. */
const REFUSAL_MS = 50;
const HEALTHZ_MS = 200;
const ROUNDS = 7;
const PARALLEL = 6;
const ATTEMPTS = 3;
const withinBounds = (run: { fastestMs: number; slowestHealthzMs: number }) => run.fastestMs < REFUSAL_MS && run.slowestHealthzMs < HEALTHZ_MS;

const HTTP_CHAIN = fragmentChain(24);
const WS_CHAIN = fragmentChain(24, { operation: "subscription", on: "Subscription", leaf: "myConsultationEvents { id }" });

let test: TestDatabase;
let api: RealApi | undefined;
let url: string;
let doctorToken: string;
let client: Client | undefined;

describe.skipIf(skipReason !== null)(`Abuse documents${skipReason ? ` (${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase({ driver: "postgres" });
    const team = await createCareTeam(test.database.db);
    doctorToken = await signAccessToken(TEST_JWT_SECRET, team.doctor.user.id);
    api = await startRealApi(realApiEnv(test.url!, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000", RECONCILE_INTERVAL_SECONDS: "0" }));
    url = api.url;
    await postGraphql(url, { query: "{ me { id } }" }, { authorization: `Bearer ${doctorToken}` }); // warm the pipeline
  }, 60_000);

  afterAll(async () => {
    await client?.dispose();
    await ensureStopped(api);
    await test?.close();
  });

  it("the fragment chain weighs under 1 KB", () => {
    expect(Buffer.byteLength(HTTP_CHAIN)).toBeLessThan(1000);
  });

  const httpWays = [
    ["anonymous", "the fast path", {}],
    ["anonymous", "the Express route", { origin: "https://elsewhere.example" }],
    ["signed in", "the fast path", { authorization: "doctor" }],
    ["signed in", "the Express route", { authorization: "doctor", origin: "https://elsewhere.example" }],
  ] as const;

  describe.each(httpWays)("the fragment chain, %s, over HTTP through %s", (_who, _way, given) => {
    const headers = (): Record<string, string> => {
      const { authorization, ...rest } = given as { authorization?: string; origin?: string };
      return authorization ? { ...rest, authorization: `Bearer ${doctorToken}` } : { ...rest };
    };

    it(`is refused as too complex in under ${REFUSAL_MS} ms, /healthz answering within ${HEALTHZ_MS} ms`, async () => {
      const send = () => postGraphql(url, { query: HTTP_CHAIN }, headers());
      const run = await firstPassing(ATTEMPTS, () => attack(url, send, ROUNDS, PARALLEL), withinBounds);
      for (const answer of run.answers) {
        expect(answer.status).toBe(400);
        expect(answer.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(answer.errors?.[0]?.message).toMatch(/^Query is too complex/);
      }
      expect(run.fastestMs).toBeLessThan(REFUSAL_MS);
      expect(run.slowestHealthzMs).toBeLessThan(HEALTHZ_MS);
    });
  });

  describe("over graphql-ws, signed in", () => {
    it(`refuses the subscription fragment chain in under ${REFUSAL_MS} ms, /healthz answering within ${HEALTHZ_MS} ms`, async () => {
      client = await connectedClient(url, doctorToken);
      const ws = client;
      const send = () => refusedSubscription(ws, { query: WS_CHAIN });
      const run = await firstPassing(ATTEMPTS, () => attack(url, send, ROUNDS, PARALLEL), withinBounds);
      for (const answer of run.answers) {
        expect(answer.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(answer.errors?.[0]?.message).toMatch(/^Query is too complex/);
      }
      expect(run.fastestMs).toBeLessThan(REFUSAL_MS);
      expect(run.slowestHealthzMs).toBeLessThan(HEALTHZ_MS);
    });
  });

  describe("a page size in a variable's default", () => {
    // 100 × 100 events, each with its consultation's participants and prescriptions.
    const httpQuery = (first: string) =>
      `consultations(first: ${first}) { edges { node { events(first: ${first}) { edges { node { consultation { participants { userId } prescriptions { id } } } } } } } }`;
    const wsQuery = (first: string) =>
      `myConsultationEvents { consultation { events(first: ${first}) { edges { node { consultation { events(first: ${first}) { edges { node { id } } } } } } } } }`;

    it("is refused over HTTP exactly like the literal `first: 100`", async () => {
      const auth = { authorization: `Bearer ${doctorToken}` };
      const literal = await postGraphql(url, { query: `query { ${httpQuery("100")} }` }, auth);
      const hidden = await postGraphql(url, { query: `query ($f: Int = 100) { ${httpQuery("$f")} }`, variables: {} }, auth);
      const nullVariables = await postGraphql(url, { query: `query ($f: Int = 100) { ${httpQuery("$f")} }` }, auth);
      expect(literal.status).toBe(400);
      expect(literal.errors?.[0]?.message).toMatch(/^Query is too complex/);
      for (const answer of [hidden, nullVariables]) {
        expect(answer.status).toBe(literal.status);
        expect(answer.errors).toEqual(literal.errors);
      }
    });

    it("is refused over graphql-ws exactly like the literal `first: 100`", async () => {
      const ws = await connectedClient(url, doctorToken);
      try {
        const literal = await refusedSubscription(ws, { query: `subscription { ${wsQuery("100")} }` });
        const hidden = await refusedSubscription(ws, { query: `subscription ($f: Int = 100) { ${wsQuery("$f")} }`, variables: {} });
        expect(literal.errors?.[0]?.message).toMatch(/^Query is too complex/);
        expect(hidden.errors).toEqual(literal.errors);
      } finally {
        await ws.dispose();
      }
    });

    it("still accepts an ordinary page given by a variable", async () => {
      const answer = await postGraphql(
        url,
        { query: `query ($f: Int = 20) { consultations(first: $f) { edges { node { id events(first: $f) { edges { cursor } } } } } }`, variables: {} },
        { authorization: `Bearer ${doctorToken}` },
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.status).toBe(200);
    });
  });
});
