/**
 * The clinic's users as the API knows them: the signed-in user's own record (`me`), and the
 * viewer behind a token's subject (its role and, for a doctor or a patient, which one), read
 * from the legacy `users` row on every authentication so a changed role takes effect at once.
 */
import type { Viewer } from "../auth/viewer.js";
import type { ClinicRepo } from "./clinic.repo.js";
import type { UserRecord } from "./clinic.model.js";

export class Users {
  constructor(private readonly clinic: ClinicRepo) {}

  /** The signed-in user's own record. */
  async me(viewer: Viewer): Promise<UserRecord> {
    const user = await this.clinic.findUser(viewer.userId);
    if (!user) throw new Error("the viewer's user row vanished");
    return user;
  }

  /** The Viewer behind a token's `sub`, with the role from the users row; null if unknown. */
  readonly viewerOf = async (userId: string): Promise<Viewer | null> => {
    const user = await this.clinic.findUser(userId);
    return user && { userId: user.id, role: user.role, doctorId: user.doctorId, patientId: user.patientId };
  };
}
