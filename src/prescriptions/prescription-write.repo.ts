/** Writes to the clinic's `prescriptions` table, in the JSON shape the existing app reads. */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { prescriptionRequests, prescriptions, type LegacyMedication } from "../db/schema.js";
import type { MedicationRecord, PrescriptionRecord } from "./prescription.model.js";
import { parseMedications } from "./prescription.repo.js";

export class PrescriptionWriteRepo {
  constructor(private readonly db: Db) {}

  /**
   * Claims `(doctor, key)` for `prescriptionId`; returns the prescription id that owns the key.
   * A concurrent claim waits on the unique index until the first commits, then sees its id.
   */
  async claimKey(doctorId: string, key: string, prescriptionId: string): Promise<string> {
    const [claimed] = await this.db
      .insert(prescriptionRequests)
      .values({ doctorId, idempotencyKey: key, prescriptionId })
      .onConflictDoNothing()
      .returning({ id: prescriptionRequests.prescriptionId });
    if (claimed) return claimed.id;
    const [existing] = await this.db
      .select({ id: prescriptionRequests.prescriptionId })
      .from(prescriptionRequests)
      .where(and(eq(prescriptionRequests.doctorId, doctorId), eq(prescriptionRequests.idempotencyKey, key)));
    return existing!.id;
  }

  async insert(row: Omit<PrescriptionRecord, "createdAt">): Promise<PrescriptionRecord> {
    const [inserted] = await this.db
      .insert(prescriptions)
      .values({ ...row, medications: row.medications.map(toLegacy) })
      .returning();
    return { ...inserted!, medications: parseMedications(inserted!.medications) };
  }

  async find(id: string): Promise<PrescriptionRecord | null> {
    const [row] = await this.db.select().from(prescriptions).where(eq(prescriptions.id, id));
    return row ? { ...row, medications: parseMedications(row.medications) } : null;
  }
}

/** The documented legacy shape: snake_case, optional fields left out when unset. */
function toLegacy(m: MedicationRecord): LegacyMedication {
  return {
    name: m.name,
    dosage: m.dosage,
    frequency: m.frequency,
    ...(m.durationDays !== null ? { duration_days: m.durationDays } : {}),
    ...(m.instructions !== null ? { instructions: m.instructions } : {}),
  };
}
