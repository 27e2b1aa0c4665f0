/** One user's token against another's consultation, on every path that carries one. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CancelConsultationDocument,
  ConsultationDocument,
  ConsultationEventsDocument,
  CreatePrescriptionDocument,
  EndConsultationDocument,
  JoinConsultationDocument,
  MyConsultationEventsDocument,
} from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { codeOf } from "../support/hms-env.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let mine: Awaited<ReturnType<typeof createCareTeam>>;
let intruder: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
  mine = await createCareTeam(test.database.db);
  intruder = await api.tokenFor((await createCareTeam(test.database.db)).patient.user.id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

describe("another patient's token", () => {
  it("sees nothing and can do nothing with the consultation", async () => {
    const consultationId = mine.consultation.id;
    expect((await api.gql(ConsultationDocument, { id: consultationId }, intruder)).data?.consultation).toBeNull();
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId }, intruder))).toBe("NOT_FOUND");
    expect(codeOf(await api.gql(EndConsultationDocument, { consultationId }, intruder))).toBe("NOT_FOUND");
    expect(codeOf(await api.gql(CancelConsultationDocument, { consultationId }, intruder))).toBe("NOT_FOUND");
    const prescription = { consultationId, medications: [{ name: "x", dosage: "y", frequency: "z" }] };
    expect(codeOf(await api.gql(CreatePrescriptionDocument, { input: prescription }, intruder))).toBe("NOT_FOUND");
  });

  it("cannot subscribe to the doctor's consultation, and its dashboard stream carries none of it", async () => {
    const one = subscribe(api.url, intruder, ConsultationEventsDocument, { consultationId: mine.consultation.id });
    await expect.poll(() => JSON.stringify(one.errors)).toContain("NOT_FOUND");
    const all = subscribe(api.url, intruder, MyConsultationEventsDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    const doctor = await api.tokenFor(mine.doctor.user.id);
    await api.gql(CancelConsultationDocument, { consultationId: mine.consultation.id, reason: "test" }, doctor);
    const doctorView = subscribe(api.url, doctor, ConsultationEventsDocument, { consultationId: mine.consultation.id, after: null });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(all.results).toEqual([]);
    await Promise.all([one.dispose(), all.dispose(), doctorView.dispose()]);
  });
});
