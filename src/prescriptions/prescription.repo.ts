/** Reads of the clinic's `prescriptions` table, in the JSON shape the existing app writes. */
import { desc } from "drizzle-orm";
import { anyOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { prescriptions, type LegacyMedication } from "../db/schema.js";
import type { MedicationRecord, PrescriptionRecord } from "./prescription.model.js";

export class PrescriptionRepo {
  constructor(private readonly db: Db) {}

  async byIds(ids: readonly string[]): Promise<PrescriptionRecord[]> {
    const rows = await this.db.select().from(prescriptions).where(anyOf(prescriptions.id, ids));
    return rows.map((row) => ({ ...row, medications: parseMedications(row.medications) }));
  }

  /** Newest first. */
  async byConsultationIds(consultationIds: readonly string[]): Promise<PrescriptionRecord[]> {
    const rows = await this.db
      .select()
      .from(prescriptions)
      .where(anyOf(prescriptions.consultationId, consultationIds))
      .orderBy(desc(prescriptions.createdAt), desc(prescriptions.id));
    return rows.map((row) => ({ ...row, medications: parseMedications(row.medications) }));
  }
}

/**
 * The legacy column is free JSON written by older app versions: keep what has the documented
 * shape, and never fail a whole read over one odd entry.
 */
export function parseMedications(value: unknown): MedicationRecord[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isLegacyMedication).map((m) => ({
    name: m.name,
    dosage: m.dosage,
    frequency: m.frequency,
    durationDays: Number.isInteger(m.duration_days) ? (m.duration_days as number) : null,
    instructions: typeof m.instructions === "string" ? m.instructions : null,
  }));
}

function isLegacyMedication(value: unknown): value is LegacyMedication {
  const m = value as Partial<LegacyMedication> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    typeof m.name === "string" &&
    typeof m.dosage === "string" &&
    typeof m.frequency === "string"
  );
}
