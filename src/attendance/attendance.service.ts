/**
 * Attendance, the billing evidence behind `connectedSeconds`: who may read a consultation's
 * ledger, and the ledgers of many consultations derived from their facts in one batch (the
 * per-request loader calls it). The rule is `attendance.ts` (pure); the facts `attendance.repo.ts`.
 */
import { mayReadAttendance, type Parties } from "../access/access-policy.js";
import type { Viewer } from "../auth/viewer.js";
import { AppError } from "../kit/errors.js";
import { deriveAttendance, type AttendanceLedger } from "./attendance.js";
import type { AttendanceRepo } from "./attendance.repo.js";

/** A consultation's key for the ledger: its id and, once provisioned, its room. */
export interface AttendanceKey {
  id: string;
  roomId: string | null;
}

/**
 * The attendance ledger is billing evidence: the consultation's own doctor and patient, and
 * admins. Anyone else who can see the consultation gets FORBIDDEN for this field only.
 */
export function assertMayReadAttendance(viewer: Viewer, c: Parties): void {
  if (mayReadAttendance(viewer, c)) return;
  throw new AppError("FORBIDDEN", "Only the consultation's doctor, its patient and admins may read its attendance.");
}

/** Each key's ledger, in the keys' order (three statements however many). */
export function attendanceLedgers(repo: AttendanceRepo) {
  return async (keys: readonly AttendanceKey[]): Promise<AttendanceLedger[]> => {
    const facts = await repo.factsOfMany(keys);
    return keys.map((k) => {
      const f = facts.get(k.id)!;
      return deriveAttendance(f.connections, f.closes, f.deliveries, f.roomEnds);
    });
  };
}
