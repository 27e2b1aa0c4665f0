/**
 * `npm run demo`: the API on embedded PostgreSQL, wired to the 100ms STAND-IN on loopback
 * (not the real 100ms), with the demo clinic; prints the dashboard URL and tokens, then plays
 * a scripted call through the stand-in's webhooks: the patient waits, the doctor announces
 * they are running late, joins, the patient's connection drops and comes back, a prescription
 * is written, the doctor ends the call, one step every DEMO_STEP_SECONDS (20 s by default, to
 * watch it; printed at the start). Ctrl-C stops it. `npm start` never uses any of this: it always talks
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

say(`The scripted call starts in ${pause / 1000} s: open the dashboard now. One step every ${stepSeconds} s (DEMO_STEP_SECONDS).`);
await sleep(pause);
const id = clinic.consultationId;
const { startConsultation } = await gql<{ startConsultation: { roomId: string } }>(doctor, `mutation($a: ID!) { startConsultation(appointmentId: $a) { roomId } }`, {
  a: row!.appointmentId,
});
const roomId = startConsultation.roomId;
const joinCall = (token: string) => gql(token, `mutation($c: ID!) { joinConsultation(consultationId: $c) { token } }`, { c: id });
const quality = (token: string, score: number) => gql(token, `mutation($c: ID!, $s: Int!) { reportCallQuality(consultationId: $c, score: $s) { outcome } }`, { c: id, s: score });
const patientState = async () =>
  (await gql<{ consultation: { participants: Array<{ role: string; state: string }> } }>(doctor, `query($c: ID!) { consultation(id: $c) { participants { role state } } }`, { c: id }))
    .consultation.participants.find((p) => p.role === "PATIENT")!.state;
/** Until the API shows it (webhooks are applied just after they are acknowledged). */
async function until(what: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await what()); i++) await sleep(50);
}

await joinCall(patient);
const patientPeer = await hms.joinPeer(roomId, { userId: clinic.patientUserId, role: "patient", name: "Sam" });
say("The patient joined and is waiting (dashboard: 'Patient waiting', and the Waiting column counts the minutes).");
await sleep(pause);
await gql(doctor, `mutation($c: ID!) { announceDelay(consultationId: $c, minutes: 10) { id } }`, { c: id });
say("The doctor is running 10 min late: the patient's app and the dashboard show the new expected start.");
await sleep(pause);
await joinCall(doctor);
await hms.joinPeer(roomId, { userId: clinic.doctorUserId, role: "doctor", name: "Dr. Rivera" });
await until(async () => (await patientState()) === "ONLINE");
await quality(patient, 4);
await quality(doctor, 5);
say("The doctor joined: the consultation is ACTIVE, connected time ticks, both apps report their call quality.");
await sleep(pause);
await quality(patient, 1).catch(() => undefined);
// The patient's network drops: 100ms reports "websocket closed" once it gives up on the connection.
await hms.killPeer(roomId, patientPeer.id, { leaveAfterMs: Math.min(pause / 2, 3_000) });
await until(async () => (await patientState()) === "RECONNECTING");
say("The patient's connection dropped ('websocket closed'): RECONNECTING, and the doctor is waiting again.");
await sleep(pause);
await joinCall(patient);
await hms.joinPeer(roomId, { userId: clinic.patientUserId, role: "patient", name: "Sam" });
await until(async () => (await patientState()) === "ONLINE");
say("The patient is back: both in the room again (the attendance bars show the gap; hover the quality badge).");
await sleep(pause);
await gql(doctor, `mutation($i: CreatePrescriptionInput!) { createPrescription(input: $i) { id } }`, {
  i: { consultationId: id, idempotencyKey: "demo-1", medications: [{ name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily", durationDays: 7 }] },
});
say("The doctor wrote a prescription.");
await sleep(pause);
await gql(doctor, `mutation($c: ID!) { endConsultation(consultationId: $c) { status } }`, { c: id });
say("The doctor ended the call for both sides: COMPLETED (hover 'left' for why each side left). Ctrl-C to stop the demo.");

const shutdown = async () => {
  await api.stop();
  await hms.close();
  process.exit(0);
};
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());
if (process.env.DEMO_EXIT_WHEN_DONE) await shutdown();
