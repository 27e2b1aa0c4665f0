/**
 * Reading consultations as the viewer may see them: one, a page (cursor-paged, soonest
 * first), and a consultation's timeline. Resolvers and the subscription service call these.
 */
import type { VisibleConsultations } from "./visible-consultations.js";
import { checkPageSize } from "../kit/paging.js";
import type { Viewer } from "../auth/viewer.js";
import { AppError, badInput } from "../kit/errors.js";
import { parseId } from "../kit/ids.js";
import { decodeConsultationCursor } from "./consultation.cursor.js";
import type { ConsultationFound, ConsultationListRow, ConsultationRecord, ConsultationStatus, TimelineRequest } from "./consultation.model.js";
import type { TimelineEventRow } from "./timeline-rows.js";
import type { ConsultationRepo } from "./consultation.repo.js";
import { decodeEventId } from "./event-cursor.js";
import type { EventLogRepo } from "../live/event-log.repo.js";

export interface ListConsultationsArgs {
  statuses?: readonly ConsultationStatus[] | null | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
  first: number;
  after?: string | null | undefined;
}

/** The arguments of `Consultation.events`. */
export interface TimelineArgs {
  first: number;
  after: string | null;
}

export interface ConsultationPage {
  /** Each row's cursor is `ConsultationEdge.of`'s to encode, when a query asks for it. */
  items: ConsultationListRow[];
  hasNextPage: boolean;
}

export class ConsultationService {
  constructor(
    private readonly repo: ConsultationRepo,
    private readonly maxPageSize: number,
    private readonly events_: EventLogRepo,
  ) {}

  /**
   * Null when the consultation does not exist or the viewer may not see it: the same answer.
   * Read with what its fields show (appointment, people, presence) and, given `events`, the
   * page of its timeline that `events(first, after)` shows, in the same statement, for the
   * caller's loaders.
   */
  find(visible: VisibleConsultations, id: string, events?: TimelineArgs | null): Promise<ConsultationFound | null> {
    return visible.findRow(id, "id", events ? this.#timelineRequest(events) : undefined);
  }

  /**
   * A page of one (already visible) consultation's timeline, oldest first; `read`: its rows
   * when they came with the consultation (`find` with these arguments).
   */
  async events(consultationId: string, first: number, after: string | null, read?: TimelineEventRow[]): Promise<{ rows: TimelineEventRow[]; hasNextPage: boolean }> {
    const size = checkPageSize(first, this.maxPageSize);
    const rows = read ?? (await this.events_.page(consultationId, after != null ? decodeEventId(after) : 0, size + 1));
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }

  /** What `events(first, after)` reads; none when it refuses them (the field then answers with that error itself). */
  #timelineRequest({ first, after }: TimelineArgs): TimelineRequest | undefined {
    try {
      return { afterId: after != null ? decodeEventId(after) : 0, limit: checkPageSize(first, this.maxPageSize) + 1 };
    } catch (error) {
      if (error instanceof AppError) return undefined;
      throw error;
    }
  }

  /** Whether a consultation with this id exists at all (to audit denied reads). */
  async exists(id: string): Promise<boolean> {
    return (await this.repo.byIds([parseId(id, "id")])).length > 0;
  }

  /** The viewer's consultations, soonest appointment first (all of them for an admin). */
  async list(visible: VisibleConsultations, args: ListConsultationsArgs): Promise<ConsultationPage> {
    const first = checkPageSize(args.first, this.maxPageSize);
    if (args.from && args.to && args.from >= args.to) throw badInput("filter.from must be before filter.to", "filter");
    const rows = await visible.list({
      statuses: args.statuses ?? undefined,
      from: args.from ?? undefined,
      to: args.to ?? undefined,
      after: args.after != null ? decodeConsultationCursor(args.after) : undefined,
      limit: first + 1,
    });
    const items = rows.length > first ? rows.slice(0, first) : rows;
    return { items, hasNextPage: rows.length > first };
  }
}
