/**
 * The consultation's doctor writes a prescription while the call is ACTIVE, or after it
 * COMPLETED within PRESCRIPTION_WINDOW_HOURS. The row goes into the clinic's table, the
 * PRESCRIPTION_CREATED event into the log and the audit record into the trail, all in one
 * transaction; a retried call with the same idempotency key returns the first prescription.
 */
import { randomUUID } from "node:crypto";
import type { Actor } from "../audit/audit.model.js";
import { entry } from "../audit/audit.model.js";
import { mayPrescribe } from "../access/access-policy.js";
import type { ConsultationRecord } from "../consultations/consultation.model.js";
import type { VisibleConsultations } from "../consultations/visible-consultations.js";
import { AppError } from "../kit/errors.js";
import type { UnitOfWork } from "../app/repos.js";
import type { PrescriptionRecord } from "./prescription.model.js";
import { validatePrescription, type PrescriptionInput } from "./prescription.validation.js";

export interface PrescriptionServiceDeps {
  transaction: UnitOfWork;
  windowHours: number;
  now?: () => Date;
}

export class PrescriptionService {
  readonly #now: () => Date;

  constructor(private readonly deps: PrescriptionServiceDeps) {
    this.#now = deps.now ?? (() => new Date());
  }

  async create(visible: VisibleConsultations, actor: Actor, input: PrescriptionInput): Promise<PrescriptionRecord> {
    const valid = validatePrescription(input);
    const consultation = await visible.get(valid.consultationId, "input.consultationId");
    if (!mayPrescribe(visible.viewer, consultation)) {
      throw new AppError("FORBIDDEN", "Only the consultation's doctor can write its prescriptions");
    }
    const id = randomUUID();
    return this.deps.transaction(async ({ prescriptionWrites: repo, eventLog, audit }) => {
      const owner = valid.idempotencyKey ? await repo.claimKey(consultation.doctorId, valid.idempotencyKey, id) : id;
      if (owner !== id) {
        const first = await repo.find(owner);
        if (first) return first;
      }
      const stateError = this.#windowError(consultation);
      if (stateError) throw stateError;
      const prescription = await repo.insert({
        id,
        appointmentId: consultation.appointmentId,
        consultationId: consultation.id,
        doctorId: consultation.doctorId,
        patientId: consultation.patientId,
        medications: valid.medications,
        diagnosis: valid.diagnosis,
        notes: valid.notes,
      });
      await eventLog.append([
        {
          consultationId: consultation.id,
          type: "PRESCRIPTION_CREATED",
          occurredAt: prescription.createdAt,
          status: consultation.status,
          prescriptionId: prescription.id,
          dedupeKey: `prescription:${prescription.id}`,
        },
      ]);
      await audit.insert([entry(actor, "prescription.create", consultation)]);
      return prescription;
    });
  }

  /** While ACTIVE, or COMPLETED less than the window ago; otherwise INVALID_STATE. */
  #windowError(c: ConsultationRecord): AppError | null {
    if (c.status === "active") return null;
    const closesAt = c.endedAt ? c.endedAt.getTime() + this.deps.windowHours * 3_600_000 : 0;
    if (c.status === "completed" && this.#now().getTime() < closesAt) return null;
    return new AppError("INVALID_STATE", `Prescriptions can be written while the call is active or up to ${this.deps.windowHours} h after it`, {
      status: c.status.toUpperCase(),
    });
  }
}
