/**
 * Validates a prescription before anything is written. Errors name the offending field by its
 * path in the mutation's input (`input.medications[2].dosage`), all of them at once.
 */
import { AppError } from "../kit/errors.js";
import { textProblem } from "../kit/text.js";
import type { MedicationRecord } from "./prescription.model.js";

export const LIMITS = {
  medications: { min: 1, max: 20 },
  name: 200,
  dosage: 100,
  frequency: 100,
  instructions: 1000,
  durationDays: { min: 1, max: 365 },
  diagnosis: 2000,
  notes: 4000,
  idempotencyKey: 128,
} as const;

export interface PrescriptionInput {
  consultationId: string;
  medications: ReadonlyArray<{
    name: string;
    dosage: string;
    frequency: string;
    durationDays?: number | null;
    instructions?: string | null;
  }>;
  diagnosis?: string | null;
  notes?: string | null;
  idempotencyKey?: string | null;
}

export interface ValidPrescription {
  consultationId: string;
  medications: MedicationRecord[];
  diagnosis: string | null;
  notes: string | null;
  idempotencyKey: string | null;
}

type Problem = { field: string; message: string };

export function validatePrescription(input: PrescriptionInput): ValidPrescription {
  const problems: Problem[] = [];
  const required = (value: string, field: string, max: number) => {
    const trimmed = value.trim();
    const problem = textProblem(trimmed);
    if (problem) problems.push({ field, message: problem });
    else if (trimmed.length === 0) problems.push({ field, message: "must not be blank" });
    else if (trimmed.length > max) problems.push({ field, message: `must be at most ${max} characters` });
    return trimmed;
  };
  const optional = (value: string | null | undefined, field: string, max: number) => {
    const trimmed = value?.trim() || null;
    const problem = trimmed ? textProblem(trimmed) : null;
    if (problem) problems.push({ field, message: problem });
    else if (trimmed && trimmed.length > max) problems.push({ field, message: `must be at most ${max} characters` });
    return trimmed;
  };
  const count = input.medications.length;
  if (count < LIMITS.medications.min || count > LIMITS.medications.max) {
    problems.push({ field: "input.medications", message: `must list ${LIMITS.medications.min} to ${LIMITS.medications.max} medications` });
  }
  const medications = input.medications.slice(0, LIMITS.medications.max).map((m, i) => {
    const at = `input.medications[${i}]`;
    const days = m.durationDays ?? null;
    if (days !== null && (!Number.isInteger(days) || days < LIMITS.durationDays.min || days > LIMITS.durationDays.max)) {
      problems.push({ field: `${at}.durationDays`, message: `must be between ${LIMITS.durationDays.min} and ${LIMITS.durationDays.max}` });
    }
    return {
      name: required(m.name, `${at}.name`, LIMITS.name),
      dosage: required(m.dosage, `${at}.dosage`, LIMITS.dosage),
      frequency: required(m.frequency, `${at}.frequency`, LIMITS.frequency),
      durationDays: days,
      instructions: optional(m.instructions, `${at}.instructions`, LIMITS.instructions),
    };
  });
  const valid: ValidPrescription = {
    consultationId: input.consultationId,
    medications,
    diagnosis: optional(input.diagnosis, "input.diagnosis", LIMITS.diagnosis),
    notes: optional(input.notes, "input.notes", LIMITS.notes),
    idempotencyKey: optional(input.idempotencyKey, "input.idempotencyKey", LIMITS.idempotencyKey),
  };
  if (problems.length > 0) {
    const [first] = problems;
    throw new AppError("BAD_USER_INPUT", `${first!.field} ${first!.message}`, { field: first!.field, problems });
  }
  return valid;
}
