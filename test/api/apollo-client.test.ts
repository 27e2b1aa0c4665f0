/**
 * The real Apollo Client 4 against a started server, as a frontend would use it: an HTTP link
 * and a graphql-ws link split by operation type, typed documents from codegen. A consultation
 * fetched by query is updated in the normalized cache by subscription events; a reconnect
 * with the last event id resumes without a gap; errors arrive with their contract codes.
 */
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { eq } from "drizzle-orm";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { videoConsultations } from "../../src/db/schema.js";
import { ConsultationDocument, JoinConsultationDocument, LiveConsultationDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

function apolloClient(token: string) {
  const ws = createClient({
    url: api.url.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    new GraphQLWsLink(ws),
    new HttpLink({ uri: `${api.url}/graphql`, headers: { authorization: `Bearer ${token}` } }),
  );
  return { client: new ApolloClient({ link, cache: new InMemoryCache() }), ws };
}

async function call() {
  const t = await createCareTeam(test.database.db);
  const roomId = `room-${t.consultation.id}`;
  await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, t.consultation.id));
  return {
    ...t,
    doctorToken: await api.tokenFor(t.doctor.user.id),
    webhooks: scriptedCall({ roomId, doctorUserId: t.doctor.user.id, patientUserId: t.patient.user.id }, new Date(Date.now() - 3_600_000)),
  };
}

const until = async (check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe("Apollo Client", () => {
  it("keeps a queried consultation current in the normalized cache from subscription events", async () => {
    const c = await call();
    const { client, ws } = apolloClient(c.doctorToken);
    const { data } = await client.query({ query: ConsultationDocument, variables: { id: c.consultation.id } });
    expect(data?.consultation?.status).toBe("PENDING");
    expect(data?.consultation?.participants.map((p) => p.online)).toEqual([false, false]);

    const seen: string[] = [];
    const subscription = client.subscribe({ query: LiveConsultationDocument, variables: { consultationId: c.consultation.id } }).subscribe({
      next: ({ data: event }) => event && seen.push(event.consultationEvents.type),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [open, patientJoin, doctorJoin] = c.webhooks;
    for (const event of [open, patientJoin, doctorJoin]) await api.webhook(event);
    await until(() => seen.includes("STATUS_CHANGED"));

    const cached = client.readQuery({ query: ConsultationDocument, variables: { id: c.consultation.id } });
    expect(cached?.consultation?.status).toBe("ACTIVE");
    expect(cached?.consultation?.participants.map((p) => [p.role, p.online])).toEqual([
      ["DOCTOR", true],
      ["PATIENT", true],
    ]);
    subscription.unsubscribe();
    await ws.dispose();
  });

  it("resumes after a reconnect from the last event id, with no gap and no duplicate", async () => {
    const c = await call();
    const first = apolloClient(c.doctorToken);
    const ids: string[] = [];
    const sub = first.client.subscribe({ query: LiveConsultationDocument, variables: { consultationId: c.consultation.id } }).subscribe({
      next: ({ data }) => data && ids.push(data.consultationEvents.id),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [open, patientJoin, doctorJoin, doctorLeave, patientLeave, close] = c.webhooks;
    for (const event of [open, patientJoin, doctorJoin]) await api.webhook(event);
    await until(() => ids.length === 3);
    sub.unsubscribe();
    await first.ws.dispose(); // the dashboard's connection drops...
    for (const event of [doctorLeave, patientLeave, close]) await api.webhook(event); // ...while the call goes on

    const second = apolloClient(c.doctorToken);
    const resumed: string[] = [];
    const again = second.client
      .subscribe({ query: LiveConsultationDocument, variables: { consultationId: c.consultation.id, after: ids.at(-1)! } })
      .subscribe({ next: ({ data }) => data && resumed.push(data.consultationEvents.id) });
    await until(() => resumed.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { data } = await second.client.query({ query: ConsultationDocument, variables: { id: c.consultation.id }, fetchPolicy: "network-only" });
    const log = data!.consultation!.events.edges.map((e) => e.node.id);
    expect([...ids, ...resumed]).toEqual(log);
    again.unsubscribe();
    await second.ws.dispose();
  });

  it("surfaces errors with their contract codes", async () => {
    const c = await call();
    const { client, ws } = apolloClient(c.doctorToken);
    const error = await client.query({ query: ConsultationDocument, variables: { id: "not-a-uuid" } }).catch((e: unknown) => e);
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const other = await call();
    const denied = await client.mutate({ mutation: JoinConsultationDocument, variables: { consultationId: other.consultation.id } }).catch((e: unknown) => e);
    expect((denied as CombinedGraphQLErrors).errors[0]?.extensions?.code).toBe("NOT_FOUND");
    await ws.dispose();
  });
});
