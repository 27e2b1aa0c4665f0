/**
 * 100ms failing, slow or not configured: mutations answer UPSTREAM_UNAVAILABLE in bounded
 * time, the database is left as it was, and the same call succeeds once 100ms is back.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { videoConsultations } from "../../src/db/schema.js";
import {
  CancelConsultationDocument,
  EndConsultationDocument,
  JoinConsultationDocument,
  StartConsultationDocument,
} from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import type { TestDatabase } from "../support/db.js";
import { codeOf, startVideoStack, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

let test: TestDatabase;
let api: TestApi;
let unconfigured: TestApi;
let hms: HmsStandIn;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ test, api, hms, stop } = await startVideoStack());
  unconfigured = await startTestApi(test);
});

afterAll(async () => {
  await unconfigured?.stop();
  await stop?.();
});

const booking = () => videoBooking(test, api);

const rowsFor = (appointmentId: string) =>
  test.database.db.select().from(videoConsultations).where(eq(videoConsultations.appointmentId, appointmentId));

describe("100ms failing", () => {
  it("start: UPSTREAM_UNAVAILABLE, nothing left behind, and a retry succeeds", async () => {
    const t = await booking();
    hms.failNext(3, 503);
    const failed = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
    expect(codeOf(failed)).toBe("UPSTREAM_UNAVAILABLE");
    expect(JSON.stringify(failed)).not.toMatch(/503|api\.100ms|stand-in|Failed query/);
    expect(await rowsFor(t.appointment.id)).toHaveLength(0);

    const retried = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
    expect(retried.errors).toBeUndefined();
    expect(retried.data?.startConsultation.roomId).toBeTruthy();
    expect(await rowsFor(t.appointment.id)).toHaveLength(1);
  });

  it("end: UPSTREAM_UNAVAILABLE leaves the consultation and room as they were; a retry ends it", async () => {
    const t = await booking();
    const { data } = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
    const { id, roomId } = data!.startConsultation;
    hms.failNext(3, 500);
    expect(codeOf(await api.gql(EndConsultationDocument, { consultationId: id }, t.doctorToken))).toBe("UPSTREAM_UNAVAILABLE");
    const [row] = await rowsFor(t.appointment.id);
    expect(row).toMatchObject({ status: "pending", endedAt: null });
    expect(row!.doctorToken).not.toBeNull();
    expect(hms.rooms.get(roomId!)?.enabled).toBe(true);

    const retried = await api.gql(EndConsultationDocument, { consultationId: id }, t.doctorToken);
    expect(retried.data?.endConsultation.status).toBe("COMPLETED");
    expect(hms.rooms.get(roomId!)?.enabled).toBe(false);
  });

  it("cancel: UPSTREAM_UNAVAILABLE leaves it PENDING; a retry cancels it", async () => {
    const t = await booking();
    const { data } = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.patientToken);
    hms.failNext(3, 500);
    expect(codeOf(await api.gql(CancelConsultationDocument, { consultationId: data!.startConsultation.id }, t.patientToken))).toBe(
      "UPSTREAM_UNAVAILABLE",
    );
    expect((await rowsFor(t.appointment.id))[0]?.status).toBe("pending");
    const retried = await api.gql(CancelConsultationDocument, { consultationId: data!.startConsultation.id }, t.patientToken);
    expect(retried.data?.cancelConsultation.status).toBe("CANCELLED");
  });

  it("a join still gets its token when 100ms is down once the room exists (tokens are signed locally)", async () => {
    const t = await booking();
    const { data } = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.patientToken);
    hms.failNext(5, 500);
    const joined = await api.gql(JoinConsultationDocument, { consultationId: data!.startConsultation.id }, t.patientToken);
    expect(joined.errors).toBeUndefined();
    expect(joined.data?.joinConsultation.roomId).toBe(data!.startConsultation.roomId);
  });
});

describe("100ms slow", () => {
  it("answers UPSTREAM_UNAVAILABLE within a bounded time while the server stays responsive", async () => {
    const t = await booking();
    hms.delayNext(3, 4000); // each attempt outlives HMS_TIMEOUT_MS=500
    const began = Date.now();
    const pending = api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
    const health = await fetch(`${api.url}/healthz`);
    expect(health.status).toBe(200);
    const result = await pending;
    const elapsed = Date.now() - began;
    expect(codeOf(result)).toBe("UPSTREAM_UNAVAILABLE");
    // 3 attempts of 500 ms plus backoff: well under the 4 s each held response would take.
    expect(elapsed).toBeLessThan(3900);
    expect(await rowsFor(t.appointment.id)).toHaveLength(0);

    // 100ms did create the room before the answers timed out: the retry finds that same room.
    const roomsBefore = hms.rooms.size;
    const retried = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
    expect(retried.errors).toBeUndefined();
    expect(hms.rooms.size).toBe(roomsBefore);
    expect(hms.rooms.get(retried.data!.startConsultation.roomId!)?.name).toBe(`consultation-${retried.data!.startConsultation.id}`);
  });
});

describe("100ms not configured", () => {
  it("answers UPSTREAM_UNAVAILABLE saying so, and changes nothing", async () => {
    const t = await booking();
    const token = await unconfigured.tokenFor(t.doctor.user.id);
    const result = await unconfigured.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, token);
    expect(codeOf(result)).toBe("UPSTREAM_UNAVAILABLE");
    expect(result.errors?.[0]?.message).toContain("not configured");
    expect(await rowsFor(t.appointment.id)).toHaveLength(0);
  });
});
