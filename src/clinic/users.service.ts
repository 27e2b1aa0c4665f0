/**
 * The clinic's users as the API knows them: the signed-in user's own record (`me`), and the
 * viewer behind a token's subject (its role and, for a doctor or a patient, which one), read
 * from the legacy `users` row on every authentication so a changed role takes effect at once;
 * and many users' viewers in one read, for the open streams that re-check their users' rights.
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
    return user && viewerFrom(user);
  };

  /** `viewerOf` for many users at once, in one statement: each id's Viewer (or null) in order. */
  readonly viewersOf = async (userIds: readonly string[]): Promise<Array<Viewer | null>> => {
    const found = new Map((await this.clinic.findUsers(userIds)).map((user) => [user.id, viewerFrom(user)]));
    return userIds.map((id) => found.get(id) ?? null);
  };
}

function viewerFrom(user: UserRecord): Viewer {
  return { userId: user.id, role: user.role, doctorId: user.doctorId, patientId: user.patientId };
}
