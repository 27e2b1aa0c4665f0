/**
 * One event, many subscriptions: each distinct (document, variables, rights, log position)
 * executes it once and shares the result; subscriptions that differ in any of them get their
 * own, so one viewer never receives a payload resolved for another.
 */
import { GraphQLID, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from "graphql";
import { Repeater } from "@graphql-yoga/subscription";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../src/auth/viewer.js";
import { resolutionKey, type GraphQLContext } from "../../src/graphql/context.js";
import { sharedSubscribe } from "../../src/transport/shared-subscribe.js";

interface Event {
  id: string;
}

/** A schema whose `event.seenBy` reads the viewer's rights from the context, as `attendance` does. */
function schemaOver(source: () => AsyncIterable<Event>, executions: { count: number }) {
  const event = new GraphQLObjectType<Event, GraphQLContext>({
    name: "Event",
    fields: {
      id: { type: GraphQLID },
      seenBy: {
        type: GraphQLString,
        resolve: (_e, _a, ctx) => {
          executions.count++;
          const v = ctx.auth.viewer!;
          return `${v.role}:${v.doctorId ?? v.patientId ?? "-"}:${ctx.logPosition}`;
        },
      },
    },
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: { event: { type: event, args: { tag: { type: GraphQLString } }, subscribe: source, resolve: (e: Event) => e } },
    }),
  });
}

const viewer = (role: Viewer["role"], link: string | null): Viewer => ({
  userId: `user-${role}-${link}`,
  role,
  doctorId: role === "doctor" ? link : null,
  patientId: role === "patient" ? link : null,
});
const contextOf = (v: Viewer, logPosition = 7) => ({ auth: { viewer: v }, logPosition }) as unknown as GraphQLContext;

/** Pushes the same event objects to every subscription, as the hub does. */
function broadcaster() {
  const pushes: Array<(e: Event) => Promise<unknown>> = [];
  const source = () => new Repeater<Event>((push) => void pushes.push(push));
  return { source, send: (e: Event) => Promise.all(pushes.map((push) => push(e))) };
}

async function run(subscriptions: Array<{ context: GraphQLContext; tag?: string }>, events: Event[]) {
  const hub = broadcaster();
  const executions = { count: 0 };
  const schema = schemaOver(hub.source, executions);
  const subscribe = sharedSubscribe((c) => resolutionKey(c as GraphQLContext));
  const document = parse("subscription($tag: String) { event(tag: $tag) { id seenBy } }");
  const streams = await Promise.all(
    subscriptions.map(async ({ context, tag }) => (await subscribe({ schema, document, contextValue: context, variableValues: { tag } })) as AsyncGenerator<ExecutionResult>),
  );
  const received = streams.map(() => [] as unknown[]);
  const reading = streams.map(async (stream, i) => {
    for await (const result of stream) {
      received[i]!.push(result);
      if (received[i]!.length === events.length) return;
    }
  });
  for (const event of events) await hub.send(event);
  await Promise.all(reading);
  return { received, executions: executions.count };
}

describe("sharedSubscribe", () => {
  it("executes an event once for subscriptions with the same document, variables and rights, and hands each the same result", async () => {
    const admin = (n: number) => contextOf({ ...viewer("admin", null), userId: `admin-${n}` });
    const events = [{ id: "e1" }, { id: "e2" }];
    const { received, executions } = await run([{ context: admin(1) }, { context: admin(2) }, { context: admin(3) }], events);
    expect(executions).toBe(2);
    expect(received[0]).toEqual([{ data: { event: { id: "e1", seenBy: "admin:-:7" } } }, { data: { event: { id: "e2", seenBy: "admin:-:7" } } }]);
    expect(received[1]![0]).toBe(received[0]![0]);
    expect(received[2]![1]).toBe(received[0]![1]);
  });

  it("gives viewers with different rights on the same document their own payloads", async () => {
    const { received, executions } = await run(
      [{ context: contextOf(viewer("admin", null)) }, { context: contextOf(viewer("doctor", "d1")) }, { context: contextOf(viewer("doctor", "d2")) }, { context: contextOf(viewer("patient", "p1")) }],
      [{ id: "e1" }],
    );
    expect(executions).toBe(4);
    expect(received.map((r) => (r[0] as ExecutionResult<{ event: { seenBy: string } }>).data!.event.seenBy)).toEqual([
      "admin:-:7",
      "doctor:d1:7",
      "doctor:d2:7",
      "patient:p1:7",
    ]);
  });

  it("does not share between different variables or log positions", async () => {
    const admin = viewer("admin", null);
    const { received, executions } = await run(
      [{ context: contextOf(admin), tag: "a" }, { context: contextOf(admin), tag: "b" }, { context: contextOf(admin, 8), tag: "a" }],
      [{ id: "e1" }],
    );
    expect(executions).toBe(3);
    expect(received[0]![0]).not.toBe(received[1]![0]);
    expect((received[2]![0] as ExecutionResult<{ event: { seenBy: string } }>).data!.event.seenBy).toBe("admin:-:8");
  });

  it("holds no function of its own per subscription: what an idle subscription keeps is data, its methods shared", async () => {
    const hub = broadcaster();
    const schema = schemaOver(hub.source, { count: 0 });
    const subscribe = sharedSubscribe((c) => resolutionKey(c as GraphQLContext));
    const document = parse("subscription { event { id } }");
    const [a, b] = (await Promise.all([1, 2].map(() => subscribe({ schema, document, contextValue: contextOf(viewer("admin", null)) })))) as AsyncGenerator<ExecutionResult>[];
    const waiting = a!.next();
    const own = (stream: object) => Object.values(stream).filter((value) => typeof value === "function");
    expect(own(a!)).toEqual([]);
    expect(a!.next).toBe(b!.next);
    expect(a!.return).toBe(b!.return);
    await a!.return(undefined);
    await b!.return(undefined);
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
  });
});
