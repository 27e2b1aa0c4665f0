import { eq } from "drizzle-orm";
import { appointments, videoConsultations } from "../../src/db/schema.js";
import { startTestApi, type TestApi } from "./api.js";
import { createCareTeam } from "./builders.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { startHmsStandIn, type HmsStandIn } from "./hms-stand-in.js";

export const HMS_CREDS = { accessKey: "64ef0ea4ca5848f0e3d4663a", appSecret: "test-app-secret-0123456789abcdef0123456789" };
export const HMS_TEMPLATE = "6512f0c1a7b3c2d4e5f60718";

/** A 100ms stand-in and the API environment that points at it. */
export async function startHms(): Promise<{ hms: HmsStandIn; env: Record<string, string> }> {
  const hms = await startHmsStandIn(HMS_CREDS);
  return {
    hms,
    env: {
      HMS_ACCESS_KEY: HMS_CREDS.accessKey,
      HMS_APP_SECRET: HMS_CREDS.appSecret,
      HMS_TEMPLATE_ID: HMS_TEMPLATE,
      HMS_API_BASE_URL: hms.baseUrl,
      HMS_TIMEOUT_MS: "500",
    },
  };
}

/** Everything a video test needs: a database, the 100ms stand-in, and the API wired to it. */
export async function startVideoStack(extraEnv: Record<string, string> = {}) {
  const test = await createTestDatabase();
  const { hms, env } = await startHms();
  const api = await startTestApi(test, { ...env, ...extraEnv });
  return {
    test,
    hms,
    api,
    stop: async () => {
      await api.stop();
      await hms.close();
      await test.close();
    },
  };
}

/**
 * A doctor and a patient with a video appointment starting now and no consultation row yet
 * (as the clinic's app books it), plus each side's bearer token.
 */
export async function videoBooking(test: TestDatabase, api: TestApi) {
  const t = await createCareTeam(test.database.db);
  await test.database.db.delete(videoConsultations).where(eq(videoConsultations.id, t.consultation.id));
  const [appointment] = await test.database.db
    .update(appointments)
    .set({ scheduledAt: new Date() })
    .where(eq(appointments.id, t.appointment.id))
    .returning();
  return {
    ...t,
    appointment: appointment!,
    doctorToken: await api.tokenFor(t.doctor.user.id),
    patientToken: await api.tokenFor(t.patient.user.id),
  };
}

export const codeOf = (result: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) =>
  result.errors?.[0]?.extensions?.code;
