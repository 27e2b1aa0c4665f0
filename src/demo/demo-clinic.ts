/**
 * The first-run experience: on a new embedded database with no auth configured, seed a tiny
 * demo clinic and a generated secret kept in the data directory, so `npm start` can print
 * working bearer tokens. Never used in production or with DATABASE_URL (see main/app).
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { count } from "drizzle-orm";
import type { Config } from "../config/config.js";
import type { Db } from "../db/client.js";
import { appointments, doctors, patients, users, videoConsultations } from "../db/schema.js";

export interface DemoClinic {
  doctorUserId: string;
  patientUserId: string;
  adminUserId: string;
  consultationId: string;
}

/** The embedded demo: embedded database, development, and no verifier configured. */
export function isDemoMode(config: Pick<Config, "database" | "isProduction" | "auth">): boolean {
  const { auth } = config;
  return !config.database.url && !config.isProduction && !auth.jwtSecret && !auth.jwksUrl;
}

/** The data directory's auth secret, generated on first use. */
export async function demoSecret(dataDir: string): Promise<string> {
  const existing = await readDemoSecret(dataDir);
  if (existing) return existing;
  const secret = randomBytes(32).toString("base64url");
  await writeFile(join(dataDir, "demo-auth-secret"), secret + "\n", { mode: 0o600 });
  return secret;
}

/** The data directory's auth secret, or null before the demo's first start. */
export async function readDemoSecret(dataDir: string): Promise<string | null> {
  const existing = await readFile(join(dataDir, "demo-auth-secret"), "utf8").catch(() => null);
  return existing && existing.trim().length >= 32 ? existing.trim() : null;
}

/** Seeds the demo clinic when the database has no users yet; returns it (or the existing one). */
export async function ensureDemoClinic(db: Db): Promise<DemoClinic | null> {
  const [row] = await db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) === 0) return seedDemoClinic(db);
  return findDemoClinic(db);
}

const EMAILS = { doctor: "dr.rivera@demo.clinic", patient: "sam.patel@demo.clinic", admin: "admin@demo.clinic" };

async function seedDemoClinic(db: Db): Promise<DemoClinic> {
  return db.transaction(async (tx) => {
    const [doctorUser, patientUser, adminUser] = await tx
      .insert(users)
      .values([
        { email: EMAILS.doctor, fullName: "Dr. Alex Rivera", role: "doctor" },
        { email: EMAILS.patient, fullName: "Sam Patel", role: "patient" },
        { email: EMAILS.admin, fullName: "Clinic Admin", role: "admin" },
      ])
      .returning({ id: users.id });
    const [doctor] = await tx
      .insert(doctors)
      .values({ userId: doctorUser!.id, specialty: "General practice", licenseNumber: "DEMO-0001" })
      .returning({ id: doctors.id });
    const [patient] = await tx.insert(patients).values({ userId: patientUser!.id }).returning({ id: patients.id });
    const inOneHour = new Date(Math.ceil((Date.now() + 3_600_000) / 900_000) * 900_000);
    const [appointment] = await tx
      .insert(appointments)
      .values({ doctorId: doctor!.id, patientId: patient!.id, scheduledAt: inOneHour, reason: "Follow-up" })
      .returning({ id: appointments.id });
    const [consultation] = await tx
      .insert(videoConsultations)
      .values({ appointmentId: appointment!.id, doctorId: doctor!.id, patientId: patient!.id })
      .returning({ id: videoConsultations.id });
    return {
      doctorUserId: doctorUser!.id,
      patientUserId: patientUser!.id,
      adminUserId: adminUser!.id,
      consultationId: consultation!.id,
    };
  });
}

async function findDemoClinic(db: Db): Promise<DemoClinic | null> {
  const rows = await db.select({ id: users.id, email: users.email }).from(users);
  const idOf = (email: string) => rows.find((r) => r.email === email)?.id;
  const [consultation] = await db.select({ id: videoConsultations.id }).from(videoConsultations).limit(1);
  const [doctorUserId, patientUserId, adminUserId] = [idOf(EMAILS.doctor), idOf(EMAILS.patient), idOf(EMAILS.admin)];
  if (!doctorUserId || !patientUserId || !adminUserId || !consultation) return null;
  return { doctorUserId, patientUserId, adminUserId, consultationId: consultation.id };
}
