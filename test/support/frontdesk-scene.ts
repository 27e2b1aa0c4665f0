/**
 * A doctor's front desk at one moment, for the browser test and the README's screenshot: a
 * patient waiting 7 min for a doctor running 15 min late, the doctor waiting 2 min in another
 * room, a call on a poor connection, a patient who left before the doctor came, and a
 * no-show of the doctor. All the doctor's, booked today; the API runs with the 100ms stand-in
 * and JOIN_GRACE_MINUTES=0.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { consultationColumns } from "../../src/consultations/consultation.repo.js";
import { appointments, users, videoConsultations } from "../../src/db/schema.js";
import type { TestApi } from "./api.js";
import { createConsultation, createPatient, createDoctor } from "./builders.js";
import type { TestDatabase } from "./db.js";
import { peerJoinSuccess, peerLeaveSuccess, sessionOpenSuccess } from "./hms-webhooks.js";

export async function frontDeskScene(test: TestDatabase, api: TestApi) {
  const db = test.database.db;
  const doctor = await createDoctor(db, { fullName: "Dr. Ana Rivera" });
  const doctorToken = await api.tokenFor(doctor.user.id);
  const post = async (query: string) => {
    const { json } = await api.post({ query }, { authorization: `Bearer ${doctorToken}` });
    if (json.errors) throw new Error(JSON.stringify(json.errors));
    return json.data;
  };
  const now = Date.now();
  /** A consultation of this doctor with a new patient, its room provisioned through the API. */
  const booking = async (patientName: string, minutesAgo: number, durationMinutes = 30) => {
    const patient = await createPatient(db, { fullName: patientName });
    const { appointment } = await createConsultation(db, { doctorId: doctor.doctor.id, patientId: patient.patient.id, scheduledAt: new Date(now - minutesAgo * 60_000) });
    await db.update(appointments).set({ durationMinutes }).where(eq(appointments.id, appointment.id));
    const started = await post(`mutation { startConsultation(appointmentId: "${appointment.id}") { id roomId } }`);
    return { id: started.startConsultation.id as string, roomId: started.startConsultation.roomId as string, patientUserId: patient.user.id, patientToken: await api.tokenFor(patient.user.id) };
  };
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const room = (b: { roomId: string }, startedAt: Date) => ({ roomId: b.roomId, roomName: "consultation-x", templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: startedAt });
  const peer = (userId: string, role: string, joinedAt: Date) => ({ peerId: randomUUID(), userId, userName: role, userData: "", role, joinedAt });
  const ago = (minutes: number) => new Date(now - minutes * 60_000);
  const send = async (...webhooks: unknown[]) => {
    for (const w of webhooks) if ((await api.webhook(w)) !== 200) throw new Error("webhook refused");
  };

  const waitingLong = await booking("Sam Patel", 5);
  const s1 = room(waitingLong, ago(7));
  await send(sessionOpenSuccess(ctx, s1), peerJoinSuccess(ctx, s1, peer(waitingLong.patientUserId, "patient", ago(7))));
  await post(`mutation { announceDelay(consultationId: "${waitingLong.id}", minutes: 15) { id } }`);

  const waitingShort = await booking("Lea Novak", 1);
  const s2 = room(waitingShort, ago(2));
  await send(sessionOpenSuccess(ctx, s2), peerJoinSuccess(ctx, s2, peer(doctor.user.id, "doctor", ago(2))));

  const poorCall = await booking("Omar Haddad", 20);
  const s3 = room(poorCall, ago(12));
  await send(sessionOpenSuccess(ctx, s3), peerJoinSuccess(ctx, s3, peer(poorCall.patientUserId, "patient", ago(12))), peerJoinSuccess(ctx, s3, peer(doctor.user.id, "doctor", ago(11))));
  const { json } = await api.post({ query: `mutation { reportCallQuality(consultationId: "${poorCall.id}", score: 2) { outcome } }` }, { authorization: `Bearer ${poorCall.patientToken}` });
  if (json.data?.reportCallQuality?.outcome !== "ACCEPTED") throw new Error(JSON.stringify(json));

  const patientLeft = await booking("Mia Costa", 3);
  const s4 = room(patientLeft, ago(4));
  const mia = peer(patientLeft.patientUserId, "patient", ago(4));
  await send(sessionOpenSuccess(ctx, s4), peerJoinSuccess(ctx, s4, mia), peerLeaveSuccess(ctx, s4, mia, { leftAt: ago(3), reason: "client request" }));

  // Booked for 1 min, 3 min ago, the window (no grace) closed 2 min ago: the patient waited 1 min, the doctor never came.
  const noShow = await booking("Noah Berg", 3, 1);
  const s5 = room(noShow, ago(3));
  const noah = peer(noShow.patientUserId, "patient", ago(3));
  await send(sessionOpenSuccess(ctx, s5), peerJoinSuccess(ctx, s5, noah), peerLeaveSuccess(ctx, s5, noah, { leftAt: ago(2), reason: "client request" }));
  // Expired as the reconciler would (its sweep would also ask the stand-in who is in the other rooms).
  const [record] = await db.select(consultationColumns).from(videoConsultations).where(eq(videoConsultations.id, noShow.id));
  await api.api.services.commands.expire(record!);

  const [patientUser] = await db.select({ fullName: users.fullName }).from(users).where(eq(users.id, waitingLong.patientUserId));
  return {
    doctorToken,
    doctorName: doctor.user.fullName,
    patientName: patientUser!.fullName,
    waitingLong: waitingLong.id,
    waitingShort: waitingShort.id,
    poorCall: poorCall.id,
    patientLeft: patientLeft.id,
    noShow: noShow.id,
  };
}
