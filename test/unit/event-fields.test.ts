/**
 * A live event's fields answer from its prepared loaders without a promise (a frame to a
 * thousand dashboards, or a replay of ten thousand, resolves no promise per field), and still
 * load what the loaders do not hold.
 */
import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { ConsultationEvent } from "../../src/live/consultation-event.type.js";
import type { GraphQLContext } from "../../src/graphql/context.js";
import { ConsultationEventResolver } from "../../src/live/consultation-event.resolver.js";
import type { EventRow } from "../../src/live/event-log.repo.js";
import { createLoaders } from "../../src/live/loaders.js";
import type { Repos } from "../../src/app/repos.js";

const at = new Date("2026-12-01T10:00:00Z");
const consultation = {
  id: "c1", appointmentId: "a1", doctorId: "d1", patientId: "p1", roomId: "r1", status: "active" as const,
  startedAt: new Date(at.getTime() - 60_000), endedAt: null, durationSeconds: null, createdAt: at, updatedAt: at,
};
const patient = { id: "p1", userId: "u-p1", fullName: "Pat Patient" };

function joined(): ConsultationEvent {
  const row = {
    id: 7, consultationId: "c1", type: "PARTICIPANT_JOINED", occurredAt: at, status: "active", previousStatus: null, side: "patient",
    peerId: "peer-1", joinedAt: at, leftReason: null, prescriptionId: null, retractsId: null, dedupeKey: "k", createdAt: at,
  } as EventRow;
  return ConsultationEvent.from(row);
}

/** Loaders over repos that count what they are asked for. */
function countingLoaders() {
  const asked: string[] = [];
  const repos = {
    consultations: { byIds: async (ids: readonly string[]) => (asked.push(`consultations ${ids}`), ids.includes("c1") ? [consultation] : []) },
    clinic: { patientsByIds: async (ids: readonly string[]) => (asked.push(`patients ${ids}`), ids.includes("p1") ? [patient] : []) },
  } as unknown as Repos;
  return { loaders: createLoaders(repos), asked };
}

describe("a live event's fields", () => {
  const resolver = new ConsultationEventResolver();

  it("answer synchronously from prepared loaders", () => {
    const { loaders, asked } = countingLoaders();
    loaders.consultation.prime("c1", consultation);
    loaders.patient.prime("p1", patient);
    const ctx = { loaders } as unknown as GraphQLContext;
    const event = joined();
    const participant = resolver.participant(event, ctx);
    expect(participant).not.toBeInstanceOf(Promise);
    expect(participant).toMatchObject({ userId: "u-p1", fullName: "Pat Patient", online: true, peerId: "peer-1" });
    expect(resolver.status(event, ctx)).toBe("active");
    expect(resolver.consultation(event, ctx)).toMatchObject({ id: "c1" });
    expect(asked).toEqual([]);
  });

  it("load what the loaders do not hold, in one batch per loader", async () => {
    const { loaders, asked } = countingLoaders();
    const ctx = { loaders } as unknown as GraphQLContext;
    const event = joined();
    const participant = resolver.participant(event, ctx);
    const status = resolver.status(event, ctx);
    expect(participant).toBeInstanceOf(Promise);
    expect(await participant).toMatchObject({ userId: "u-p1", online: true });
    expect(await status).toBe("active");
    expect(asked).toEqual(["consultations c1", "patients p1"]);
  });
});
