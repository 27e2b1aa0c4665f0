import { eq, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Viewer } from "./viewer.js";

/**
 * The SQL condition limiting rows to the viewer's own: a patient's, a doctor's; undefined
 * (everything) for an admin. A doctor or patient user without its profile row sees nothing.
 */
export function ownedBy(viewer: Viewer, columns: { doctorId: AnyPgColumn; patientId: AnyPgColumn }): SQL | undefined {
  switch (viewer.role) {
    case "admin":
      return undefined;
    case "doctor":
      return viewer.doctorId ? eq(columns.doctorId, viewer.doctorId) : sql`false`;
    case "patient":
      return viewer.patientId ? eq(columns.patientId, viewer.patientId) : sql`false`;
  }
}
