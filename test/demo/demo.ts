/**
 * `npm run demo`: the API on embedded PostgreSQL, wired to the 100ms STAND-IN on loopback
 * (not the real 100ms), with the demo clinic; prints the dashboard URL and tokens, then plays
 * a scripted call through the stand-in's webhooks: the patient waits, the doctor joins, a
 * prescription is written, the doctor ends the call, one step every DEMO_STEP_SECONDS (20 s by
 * default, to watch it). Ctrl-C stops it. `npm start` never uses any of this: it always talks
 * to the real 100ms.
 */
import "reflect-metadata";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { eq } from "drizzle-orm";
import { startApi } from "../../src/app/app.js";
import { signAccessToken } from "../../src/auth/access-token.js";
import { parseConfig } from "../../src/config/config.js";
import { appointments, videoConsultations } from "../../src/db/schema.js";
import { createLogger } from "../../src/kit/logger.js";
import { startHmsStandIn } from "../support/hms-stand-in.js";

const HMS = { accessKey: "demo-access-key-000000000", appSecret: "demo-app-secret-not-a-real-100ms-secret" };
const WEBHOOK_SECRET = "demo-webhook-secret-0000";
const say = (text: string) => process.stdout.write(`\n[demo] ${text}\n`);

// A person's pace by default: time to look at the dashboard and read each step's line.
const stepSeconds = Number(process.env.DEMO_STEP_SECONDS ?? 20);
if (!(stepSeconds >= 0)) throw new Error(`DEMO_STEP_SECONDS=${process.env.DEMO_STEP_SECONDS}: not a number of seconds`);
const pause = stepSeconds * 1000;

const hms = await startHmsStandIn(HMS);
const dataDir = process.env.EMBEDDED_DATA_DIR ?? (await mkdtemp(join(tmpdir(), "consultation-demo-")));
const parsed = parseConfig({
  NODE_ENV: "development",
  PORT: process.env.PORT ?? "4000",
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  EMBEDDED_DATA_DIR: dataDir,
  HMS_ACCESS_KEY: HMS.accessKey,
  HMS_APP_SECRET: HMS.appSecret,
  HMS_TEMPLATE_ID: "000000000000000000000000",
  HMS_API_BASE_URL: hms.baseUrl,
  HMS_WEBHOOK_SECRET: WEBHOOK_SECRET,
  COMPLETION_GRACE_SECONDS: "10",
});
if (!parsed.ok) throw new Error(parsed.errors.join("; "));
const api = await startApi(parsed.config, createLogger(parsed.config.logLevel));
hms.configureWebhooks({ url: `${api.url}/webhooks/100ms`, headers: { "x-hms-webhook-secret": WEBHOOK_SECRET } });

const demo = api.demo!;
const clinic = demo.clinic!;
// The demo appointment starts now, so both sides may join.
const [row] = await api.database.db.select().from(videoConsultations).where(eq(videoConsultations.id, clinic.consultationId));
await api.database.db.update(appointments).set({ scheduledAt: new Date() }).where(eq(appointments.id, row!.appointmentId));

process.stdout.write(
  [
    "",
    "==================================================================================",
    " DEMO: the 100ms side is a local STAND-IN on loopback, not the real 100ms.",
    ` Stand-in:  ${hms.baseUrl}    Data: ${dataDir}`,
    ` Dashboard: ${api.url}/dashboard   (paste the Doctor or Admin token below, Connect)`,
    ` Pace:      one step every ${stepSeconds} s (DEMO_STEP_SECONDS)`,
    "==================================================================================",
    api.demoBanner ?? "",
  ].join("\n"),
);

const doctor = await signAccessToken(demo.secret, clinic.doctorUserId, { ttlSeconds: 3600 });
const patient = await signAccessToken(demo.secret, clinic.patientUserId, { ttlSeconds: 3600 });
async function gql<T>(token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: Array<{ message: string }> };
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

say(`The scripted call starts in ${pause / 1000} s: open the dashboard now.`);
await sleep(pause);
const id = clinic.consultationId;
const { startConsultation } = await gql<{ startConsultation: { roomId: string } }>(doctor, `mutation($a: ID!) { startConsultation(appointmentId: $a) { roomId } }`, {
  a: row!.appointmentId,
});
await gql(patient, `mutation($c: ID!) { joinConsultation(consultationId: $c) { token } }`, { c: id });
const patientPeer = await hms.joinPeer(startConsultation.roomId, { userId: clinic.patientUserId, role: "patient", name: "Sam" });
say("The patient joined and is waiting (dashboard: 'Patient waiting').");
await sleep(pause);
await gql(doctor, `mutation($c: ID!) { joinConsultation(consultationId: $c) { token } }`, { c: id });
await hms.joinPeer(startConsultation.roomId, { userId: clinic.doctorUserId, role: "doctor", name: "Dr. Rivera" });
say("The doctor joined: the consultation is ACTIVE and connected time ticks.");
await sleep(pause);
await gql(doctor, `mutation($i: CreatePrescriptionInput!) { createPrescription(input: $i) { id } }`, {
  i: { consultationId: id, idempotencyKey: "demo-1", medications: [{ name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily", durationDays: 7 }] },
});
say("The doctor wrote a prescription.");
await sleep(pause);
await gql(doctor, `mutation($c: ID!) { endConsultation(consultationId: $c) { status } }`, { c: id });
say("The doctor ended the call for both sides: COMPLETED. Ctrl-C to stop the demo.");
void patientPeer;

const shutdown = async () => {
  await api.stop();
  await hms.close();
  process.exit(0);
};
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());
if (process.env.DEMO_EXIT_WHEN_DONE) await shutdown();
