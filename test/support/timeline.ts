/**
 * A consultation's timeline as a client reads it (GraphQL), and the part of it that must not
 * depend on the order or the batching in which 100ms's webhooks were applied.
 */
import { expect } from "vitest";
import { ConsultationTimelineDocument } from "../gql/graphql.js";
import type { TestApi } from "./api.js";

export async function readTimeline(api: TestApi, token: string, id: string) {
  const result = await api.gql(ConsultationTimelineDocument, { id, first: 100 }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.consultation!;
}

export type Timeline = Awaited<ReturnType<typeof readTimeline>>;

/** Ids, peer ids and cursors aside, and events in time order (the log is in order of discovery). */
export function orderIndependent(c: Timeline) {
  const { id: _id, events, participants, ...state } = c;
  return {
    ...state,
    participants: participants.map(({ userId: _u, peerId: _p, fullName: _n, ...p }) => p),
    events: events.edges
      .map(({ node: { id: _e, consultation: _c, participant, ...n } }) => ({ ...n, participant: participant && { role: participant.role, online: participant.online, joinedAt: participant.joinedAt, leftAt: participant.leftAt } }))
      .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || rank(a.type) - rank(b.type)),
  };
}

const rank = (type: string) => ["PARTICIPANT_LEFT", "PARTICIPANT_JOINED", "STATUS_CHANGED", "PRESCRIPTION_CREATED"].indexOf(type);
