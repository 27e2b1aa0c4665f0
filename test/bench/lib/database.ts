/**
 * A fresh PostgreSQL database per scenario (created, migrated with the API's own migrations,
 * seeded with plain SQL, dropped at the end) and the seeds the scenarios need.
 */
import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { openDatabase } from "../../../src/db/client.js";
import { migrateDatabase } from "../../../src/db/migrate.js";

export type Sql = postgres.Sql;

export interface BenchDatabase {
  name: string;
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

const created = new Map<string, string>();

/** application_name of the harness's own connections to a bench database. */
export const HARNESS_APPLICATION = "bench-harness";

export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  created.set(name, serverUrl);
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const database = await openDatabase({ url, poolMax: 2 });
  try {
    await migrateDatabase(database);
  } finally {
    await database.close();
  }
  // Named, so that counts of the API's connections (pg_stat_activity) can leave the harness out.
  const sql = postgres(url, { max: 4, onnotice: () => {}, connection: { application_name: HARNESS_APPLICATION } });
  return {
    name,
    url,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      await dropDatabase(name);
    },
  };
}

/**
 * `BENCH_KEEP_DATABASES=1` leaves every database in place (named on stderr), to look at what
 * minutes of traffic left behind (EXPLAIN, table sizes); drop them by hand afterwards.
 */
const keep = process.env.BENCH_KEEP_DATABASES === "1";

/**
 * Roles a scenario created for one of its databases (the peer's, scenario 12): PostgreSQL keeps
 * roles outside any database, so they are dropped right after it (kept with it under
 * BENCH_KEEP_DATABASES=1).
 */
const rolesOf = new Map<string, string[]>();

/** Call before creating them: the roles are dropped with the database, even after a failure. */
export function dropRolesWith(database: string, roles: readonly string[]): void {
  rolesOf.set(database, [...(rolesOf.get(database) ?? []), ...roles]);
}

async function dropDatabase(name: string): Promise<void> {
  const serverUrl = created.get(name);
  if (!serverUrl) return;
  const roles = rolesOf.get(name) ?? [];
  if (keep) {
    created.delete(name);
    rolesOf.delete(name);
    process.stderr.write(`kept database ${name}${roles.length ? ` and roles ${roles.join(", ")}` : ""} (BENCH_KEEP_DATABASES=1)\n`);
    return;
  }
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    created.delete(name);
    for (const role of roles) await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
    rolesOf.delete(name);
  } finally {
    await admin.end();
  }
}

/** Drops every database this run created and has not dropped yet. */
export async function dropAllCreated(): Promise<void> {
  for (const name of [...created.keys()]) await dropDatabase(name).catch(() => undefined);
}

export interface CareTeam {
  doctorUserId: string;
  doctorId: string;
  patientUserId: string;
  patientId: string;
  appointmentId: string;
  consultationId: string;
  roomId: string;
}

/**
 * `count` doctors, each with one patient and one video consultation scheduled at
 * `scheduledAt`, PENDING, with a 100ms room id already set (as after startConsultation).
 */
export async function seedCareTeams(sql: Sql, count: number, scheduledAt = new Date()): Promise<CareTeam[]> {
  const teams: CareTeam[] = Array.from({ length: count }, () => ({
    doctorUserId: randomUUID(),
    doctorId: randomUUID(),
    patientUserId: randomUUID(),
    patientId: randomUUID(),
    appointmentId: randomUUID(),
    consultationId: randomUUID(),
    roomId: randomBytes(12).toString("hex"),
  }));
  for (let i = 0; i < teams.length; i += 2000) {
    const chunk = teams.slice(i, i + 2000);
    const col = <K extends keyof CareTeam>(k: K) => chunk.map((t) => t[k]);
    await sql.begin(async (tx) => {
      await tx`insert into users (id, email, full_name, role)
        select u, 'd-' || u || '@bench.test', 'Dr Bench ' || left(u::text, 8), 'doctor' from unnest(${col("doctorUserId")}::uuid[]) u`;
      await tx`insert into users (id, email, full_name, role)
        select u, 'p-' || u || '@bench.test', 'Patient Bench ' || left(u::text, 8), 'patient' from unnest(${col("patientUserId")}::uuid[]) u`;
      await tx`insert into doctors (id, user_id, specialty, license_number)
        select d, u, 'General practice', 'LIC-' || left(d::text, 8) from unnest(${col("doctorId")}::uuid[], ${col("doctorUserId")}::uuid[]) as t(d, u)`;
      await tx`insert into patients (id, user_id)
        select p, u from unnest(${col("patientId")}::uuid[], ${col("patientUserId")}::uuid[]) as t(p, u)`;
      await tx`insert into appointments (id, patient_id, doctor_id, scheduled_at, duration_minutes, type, status)
        select a, p, d, ${scheduledAt}, 30, 'video', 'confirmed'
        from unnest(${col("appointmentId")}::uuid[], ${col("patientId")}::uuid[], ${col("doctorId")}::uuid[]) as t(a, p, d)`;
      await tx`insert into video_consultations (id, appointment_id, doctor_id, patient_id, room_id, status)
        select c, a, d, p, r, 'pending'
        from unnest(${col("consultationId")}::uuid[], ${col("appointmentId")}::uuid[], ${col("doctorId")}::uuid[],
                    ${col("patientId")}::uuid[], ${col("roomId")}::text[]) as t(c, a, d, p, r)`;
    });
  }
  return teams;
}

/** Admin users (they see every consultation's events). */
export async function seedAdmins(sql: Sql, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await sql`insert into users (id, email, full_name, role)
    select u, 'a-' || u || '@bench.test', 'Admin ' || left(u::text, 8), 'admin' from unnest(${ids}::uuid[]) u`;
  return ids;
}

/**
 * One doctor with `count` consultations (each with its own patient), spread over the coming
 * days; every other one has a presence row (the patient waiting), like a real dashboard.
 */
export async function seedBusyDoctor(sql: Sql, count: number): Promise<{ doctorUserId: string; doctorId: string; consultationIds: string[] }> {
  const [team] = await seedCareTeams(sql, 1);
  const doctorId = team!.doctorId;
  await sql`delete from video_consultations where id = ${team!.consultationId}`;
  await sql`delete from appointments where id = ${team!.appointmentId}`;
  const patients = Array.from({ length: count }, () => ({ userId: randomUUID(), patientId: randomUUID(), appointmentId: randomUUID(), consultationId: randomUUID() }));
  const col = <K extends keyof (typeof patients)[number]>(k: K) => patients.map((p) => p[k]);
  const base = Date.now() + 3_600_000;
  await sql.begin(async (tx) => {
    await tx`insert into users (id, email, full_name, role)
      select u, 'p-' || u || '@bench.test', 'Patient Bench ' || left(u::text, 8), 'patient' from unnest(${col("userId")}::uuid[]) u`;
    await tx`insert into patients (id, user_id) select p, u from unnest(${col("patientId")}::uuid[], ${col("userId")}::uuid[]) as t(p, u)`;
    await tx`insert into appointments (id, patient_id, doctor_id, scheduled_at, duration_minutes, type, status)
      select a, p, ${doctorId}, to_timestamp(${base / 1000}::float8 + (ord * 37 % ${count}) * 1800), 30, 'video', 'confirmed'
      from unnest(${col("appointmentId")}::uuid[], ${col("patientId")}::uuid[]) with ordinality as t(a, p, ord)`;
    await tx`insert into video_consultations (id, appointment_id, doctor_id, patient_id, status)
      select c, a, ${doctorId}, p, case when ord % 3 = 0 then 'completed' else 'pending' end
      from unnest(${col("consultationId")}::uuid[], ${col("appointmentId")}::uuid[], ${col("patientId")}::uuid[]) with ordinality as t(c, a, p, ord)`;
    await tx`insert into consultation_live (consultation_id, patient_online, patient_peer_id, patient_joined_at)
      select c, true, 'peer-' || ord, now() from unnest(${col("consultationId")}::uuid[]) with ordinality as t(c, ord) where ord % 2 = 0`;
  });
  return { doctorUserId: team!.doctorUserId, doctorId, consultationIds: col("consultationId") };
}

/**
 * `perConsultation` PARTICIPANT_JOINED/LEFT events (the patient coming and going) for each
 * consultation, interleaved across consultations in log order. Returns the first id written.
 */
export async function seedEvents(sql: Sql, consultationIds: readonly string[], perConsultation: number): Promise<{ firstId: number; lastId: number }> {
  const [row] = await sql<{ first: string; last: string }[]>`
    with inserted as (
      insert into consultation_events (consultation_id, type, occurred_at, status, side, peer_id, joined_at, dedupe_key)
      select c,
             case when n % 2 = 0 then 'PARTICIPANT_JOINED' else 'PARTICIPANT_LEFT' end,
             timestamptz '2026-01-01T08:00:00Z' + n * interval '1 second',
             'pending', 'patient', 'peer-' || (n / 2),
             timestamptz '2026-01-01T08:00:00Z' + (n - n % 2) * interval '1 second',
             case when n % 2 = 0 then 'joined' else 'left' end || ':patient:' || n
      from generate_series(0, ${perConsultation - 1}) n, unnest(${[...consultationIds]}::uuid[]) with ordinality as t(c, ord)
      order by n, ord
      returning id
    )
    select min(id)::text as first, max(id)::text as last from inserted`;
  return { firstId: Number(row!.first), lastId: Number(row!.last) };
}
