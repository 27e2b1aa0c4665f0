/**
 * The authenticated caller. The role comes from the `users` row, never from the token:
 * a token only proves who the caller is.
 */
export type UserRole = "patient" | "doctor" | "admin";

export interface Viewer {
  readonly userId: string;
  readonly role: UserRole;
  /** `doctors.id` when the user is a doctor. */
  readonly doctorId: string | null;
  /** `patients.id` when the user is a patient. */
  readonly patientId: string | null;
}
