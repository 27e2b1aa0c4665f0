/**
 * Loads, in one batch, what a list of events' fields need. Live events are the same objects
 * for every subscriber in this process, and every stream hands over the hub's whole read as
 * it arrives (BatchListener), so a read is prepared once and shared: one set of queries per
 * read, however many dashboards and scopes it reaches, not one per subscriber or per doctor.
 * Every subscriber was authorized for its events before they get here; the loaders hold the
 * read's consultations, their people and prescriptions, and an event's fields only ever load
 * by its own ids.
 */
import type { ConsultationListRow } from "../consultations/consultation.model.js";
import type { Loaders } from "./loaders.js";
import type { RoutedEvent } from "./event-log.repo.js";

export type Prepared = RoutedEvent & { loaders: Loaders };

export interface PrepareSources {
  loaders: () => Loaders;
  /** The events' consultations with their appointments, people and live state, in one statement. */
  rows: (consultationIds: readonly string[]) => Promise<ConsultationListRow[]>;
}

/** A `prepare` function with its own shared cache (one per service, never module-wide). */
export function preparedEvents(sources: PrepareSources): (events: readonly RoutedEvent[], rows?: readonly ConsultationListRow[]) => Promise<Prepared[]> {
  const batches = new WeakMap<readonly RoutedEvent[], Promise<Prepared[]>>();
  /** Each event's batch and place in it, for a subscriber handed the same events in another list. */
  const placed = new WeakMap<RoutedEvent, { batch: Promise<Prepared[]>; index: number }>();
  return (events, rows) => {
    const known = batches.get(events);
    if (known) return known;
    const places = events.map((e) => placed.get(e));
    if (places.every((p) => p !== undefined)) return Promise.all(places.map((p) => p!.batch.then((all) => all[p!.index]!)));
    const loading = load(sources, events, rows);
    batches.set(events, loading);
    events.forEach((e, index) => placed.set(e, { batch: loading, index }));
    // A failed load (the database away) is forgotten, so the stream's retry loads afresh.
    loading.catch(() => {
      batches.delete(events);
      for (const e of events) placed.delete(e);
    });
    return loading;
  };
}

/** Each distinct key once (a replay page holds thousands of events of a few consultations). */
function distinct<T>(items: readonly T[], key: (item: T) => string | null): string[] {
  const keys = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (k !== null) keys.add(k);
  }
  return [...keys];
}

/**
 * One statement for the consultations and all their fields' records (the dashboard's list
 * row), primed into fresh loaders, none when `given` holds them all (the hub reads them with
 * the events); a second only when the events carry prescriptions.
 */
async function load(sources: PrepareSources, events: readonly RoutedEvent[], given: readonly ConsultationListRow[] = []): Promise<Prepared[]> {
  const loaders = sources.loaders();
  const ids = distinct(events, (e) => e.consultationId);
  const held = new Set(given.map((r) => r.consultation.id));
  const missing = ids.filter((id) => !held.has(id));
  const rows = missing.length > 0 ? [...given, ...(await sources.rows(missing))] : given;
  for (const row of rows) loaders.primeRow(row);
  const found = new Set(rows.map((r) => r.consultation.id));
  for (const id of ids) if (!found.has(id)) loaders.consultation.prime(id, null);
  await Promise.all(distinct(events, (e) => (found.has(e.consultationId) ? e.prescriptionId : null)).map((id) => loaders.prescription.load(id)));
  return events.map((event) => ({ ...event, loaders }));
}
