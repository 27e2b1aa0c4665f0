/** The audit trail as admins read it: newest first, filtered, paged. */
import { mayReadAuditTrail } from "../access/access-policy.js";
import type { Viewer } from "../auth/viewer.js";
import { checkPageSize } from "../kit/paging.js";
import { AppError } from "../kit/errors.js";
import { parseId } from "../kit/ids.js";
import { decodeAuditCursor } from "./audit.cursor.js";
import type { AuditPageRow, AuditRepo } from "./audit.repo.js";

export interface AuditFilter {
  consultationId?: string | null;
  actorId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export class AuditQueries {
  constructor(
    private readonly repo: AuditRepo,
    private readonly maxPageSize: number,
  ) {}

  /** Admins only (FORBIDDEN otherwise). */
  async page(viewer: Viewer, filter: AuditFilter | null, first: number, after: string | null): Promise<{ rows: AuditPageRow[]; hasNextPage: boolean }> {
    if (!mayReadAuditTrail(viewer)) throw new AppError("FORBIDDEN", "Only admins can read the audit trail");
    const size = checkPageSize(first, this.maxPageSize);
    const rows = await this.repo.page({
      consultationId: filter?.consultationId != null ? parseId(filter.consultationId, "filter.consultationId") : undefined,
      actorId: filter?.actorId != null ? parseId(filter.actorId, "filter.actorId") : undefined,
      from: filter?.from ?? undefined,
      to: filter?.to ?? undefined,
      before: after != null ? decodeAuditCursor(after) : undefined,
      limit: size + 1,
    });
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }
}
