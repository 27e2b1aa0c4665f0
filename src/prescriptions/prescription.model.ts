/** A prescription as the API uses it; medications in camelCase, mapped from the legacy JSON. */
export interface MedicationRecord {
  name: string;
  dosage: string;
  frequency: string;
  durationDays: number | null;
  instructions: string | null;
}

export interface PrescriptionRecord {
  id: string;
  appointmentId: string;
  consultationId: string | null;
  doctorId: string;
  patientId: string;
  medications: MedicationRecord[];
  diagnosis: string | null;
  notes: string | null;
  createdAt: Date;
}
