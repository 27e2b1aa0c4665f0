/**
 * The migrations apply on an empty database and on the clinic's deployed one (legacy DDL
 * with rows), leave every legacy column, constraint and index exactly as it was, and end
 * both databases in the same shape. Runs on each available driver.
 */
import { count, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { users } from "../../src/db/schema.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { catalogSnapshot, LEGACY_TABLES } from "../support/catalog.js";
import { createTestDatabase, serverUrl, type TestDatabase } from "../support/db.js";

const drivers = serverUrl() ? (["postgres", "embedded"] as const) : (["embedded"] as const);

const LEGACY_ROWS = `
INSERT INTO users (id, email, full_name, role) VALUES
  ('11111111-1111-4111-8111-111111111111', 'doc@old.clinic', 'Old Doctor', 'doctor'),
  ('22222222-2222-4222-8222-222222222222', 'pat@old.clinic', 'Old Patient', 'patient');
INSERT INTO doctors (id, user_id, specialty, license_number) VALUES
  ('33333333-3333-4333-8333-333333333333', '11111111-1111-4111-8111-111111111111', 'Cardiology', 'L-1');
INSERT INTO patients (id, user_id) VALUES
  ('44444444-4444-4444-8444-444444444444', '22222222-2222-4222-8222-222222222222');
INSERT INTO appointments (id, patient_id, doctor_id, scheduled_at) VALUES
  ('55555555-5555-4555-8555-555555555555', '44444444-4444-4444-8444-444444444444', '33333333-3333-4333-8333-333333333333', '2026-01-05T10:00:00Z');
INSERT INTO video_consultations (id, appointment_id, doctor_id, patient_id, room_id, patient_token, doctor_token) VALUES
  ('66666666-6666-4666-8666-666666666666', '55555555-5555-4555-8555-555555555555', '33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444', 'legacy-room', 'pt', 'dt');
`;

describe.each(drivers)("migrations on %s", (driver) => {
  const opened: TestDatabase[] = [];
  const open = async (options: Parameters<typeof createTestDatabase>[0]) => {
    const test = await createTestDatabase({ ...options, driver });
    opened.push(test);
    return test;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
  });

  it("apply on an empty database and create the legacy tables as deployed", async () => {
    const fresh = await open({ migrate: true });
    const reference = await open({ legacy: true, migrate: false });
    expect(await catalogSnapshot(fresh.database, LEGACY_TABLES)).toEqual(
      await catalogSnapshot(reference.database, LEGACY_TABLES),
    );
  });

  it("apply over the deployed legacy tables with rows, changing none of them", async () => {
    const legacy = await open({ legacy: true, migrate: false });
    await legacy.exec(LEGACY_ROWS);
    const before = await catalogSnapshot(legacy.database, LEGACY_TABLES);
    expect(before.constraints.length).toBeGreaterThan(10);

    await migrateDatabase(legacy.database);
    await migrateDatabase(legacy.database); // a second start is a no-op

    expect(await catalogSnapshot(legacy.database, LEGACY_TABLES)).toEqual(before);
    const [row] = await legacy.database.db.select({ n: count() }).from(users);
    expect(row?.n).toBe(2);
    const [doctor] = await legacy.database.db.select().from(users).where(eq(users.email, "doc@old.clinic"));
    expect(doctor?.fullName).toBe("Old Doctor");
  });

  it("leave an empty and a legacy database in the same shape, API tables included", async () => {
    const fresh = await open({ migrate: true });
    const legacy = await open({ legacy: true, migrate: true });
    const tables = await fresh.database.rows<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    const names = tables.map((t) => t.table_name);
    expect(names).toEqual(expect.arrayContaining(LEGACY_TABLES));
    expect(await catalogSnapshot(legacy.database, names)).toEqual(await catalogSnapshot(fresh.database, names));
  });
});
