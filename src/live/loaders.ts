/**
 * Per-request DataLoaders: every field that reaches another record goes through one, so a
 * page of N consultations costs a constant number of statements, not N.
 * Loaders are not scoped by viewer: they are only reached from records the viewer may see.
 */
import DataLoader from "dataloader";
import { groupBy } from "../kit/collections.js";
import { isPromiseLike } from "../kit/loaded.js";
import type { AttendanceLedger } from "../attendance/attendance.js";
import { attendanceLedgers, type AttendanceKey } from "../attendance/attendance.service.js";
import type { Repos } from "../app/repos.js";
import type { ConsultationListRow } from "../consultations/consultation.model.js";
import type { TimelineArgs } from "../consultations/consultation.service.js";
import type { TimelineEventRow } from "../consultations/timeline-rows.js";

/**
 * A DataLoader that also answers synchronously for what this request already holds (primed
 * from a page, or loaded before): a field over a 50-row page then resolves without 50 promises.
 */
export class Loader<K, V> extends DataLoader<K, V> {
  readonly #known: Map<K, V>;

  constructor(batch: (keys: readonly K[]) => Promise<V[]>) {
    const known = new Map<K, V>();
    super(async (keys) => {
      const values = await batch(keys);
      keys.forEach((key, i) => known.set(key, values[i]!));
      return values;
    });
    this.#known = known;
  }

  /**
   * A value is kept here only (an error or a promise goes to DataLoader): DataLoader would make
   * a promise of each, and a 50-row page primes 250 values that `get` answers without one.
   */
  override prime(key: K, value: V | PromiseLike<V> | Error): this {
    if (value instanceof Error || isPromiseLike(value)) return super.prime(key, value);
    this.#known.set(key, value);
    return this;
  }

  override load(key: K): Promise<V> {
    return this.#known.has(key) ? Promise.resolve(this.#known.get(key)!) : super.load(key);
  }

  override clear(key: K): this {
    this.#known.delete(key);
    return super.clear(key);
  }

  override clearAll(): this {
    this.#known.clear();
    return super.clearAll();
  }

  /** The value now when this request already has it, else a promise of it. */
  get(key: K): V | Promise<V> {
    return this.#known.has(key) ? this.#known.get(key)! : this.load(key);
  }
}

function oneByKey<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (value: V) => K): Loader<K, V | null> {
  return new Loader(async (keys) => {
    const byKey = new Map((await fetch(keys)).map((v) => [keyOf(v), v] as const));
    return keys.map((k) => byKey.get(k) ?? null);
  });
}

function manyByKey<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (value: V) => K): DataLoader<K, V[]> {
  return new DataLoader(async (keys) => {
    const groups = groupBy(await fetch(keys), keyOf, (value) => value);
    return keys.map((k) => groups.get(k) ?? []);
  });
}

export function createLoaders(repos: Repos) {
  const loaders = {
    doctor: oneByKey((ids: readonly string[]) => repos.clinic.doctorsByIds(ids), (d) => d.id),
    patient: oneByKey((ids: readonly string[]) => repos.clinic.patientsByIds(ids), (p) => p.id),
    appointment: oneByKey((ids: readonly string[]) => repos.clinic.appointmentsByIds(ids), (a) => a.id),
    consultation: oneByKey((ids: readonly string[]) => repos.consultations.byIds(ids), (c) => c.id),
    consultationByAppointment: oneByKey(
      (ids: readonly string[]) => repos.consultations.byAppointmentIds(ids),
      (c) => c.appointmentId,
    ),
    prescription: oneByKey((ids: readonly string[]) => repos.prescriptions.byIds(ids), (p) => p.id),
    live: oneByKey((ids: readonly string[]) => repos.live.byConsultationIds(ids), (l) => l.consultationId),
    /** How a consultation was closed (null while open). */
    closure: oneByKey((ids: readonly string[]) => repos.frontDesk.closuresByIds(ids), (c) => c.consultationId),
    /** Each side's call-quality summary row (none before its first report). */
    quality: manyByKey((ids: readonly string[]) => repos.frontDesk.qualityByIds(ids), (q) => q.consultationId),
    /** The delay its doctor announced (null: none). */
    delay: oneByKey((ids: readonly string[]) => repos.frontDesk.delaysByIds(ids), (d) => d.consultationId),
    /** Derived from the facts on demand (one batch per request, only when a query asks for it). */
    attendance: new DataLoader<AttendanceKey, AttendanceLedger, string>(attendanceLedgers(repos.attendance), { cacheKeyFn: (k) => k.id }),
    /** Newest first, as the repo orders them. */
    prescriptionsByConsultation: manyByKey(
      (ids: readonly string[]) => repos.prescriptions.byConsultationIds(ids),
      (p) => p.consultationId ?? "",
    ),
  };
  /** Timeline pages read with their consultation, by consultation id and `events`' arguments. */
  const timelines = new Map<string, TimelineEventRow[]>();
  const timelineKey = (consultationId: string, { first, after }: TimelineArgs) => `${consultationId} ${first} ${after ?? ""}`;
  return {
    ...loaders,
    primeTimeline(consultationId: string, args: TimelineArgs, rows: TimelineEventRow[]): void {
      timelines.set(timelineKey(consultationId, args), rows);
    },
    /** The page `events(args)` shows, when it was read with its consultation. */
    timeline(consultationId: string, args: TimelineArgs): TimelineEventRow[] | undefined {
      return timelines.get(timelineKey(consultationId, args));
    },
    /** Primes the loaders with a consultation read as a list row: its fields then resolve without statements. */
    primeRow({ consultation, appointment, doctor, patient, live }: ConsultationListRow): void {
      loaders.consultation.prime(consultation.id, consultation);
      loaders.appointment.prime(appointment.id, appointment);
      loaders.doctor.prime(doctor.id, doctor);
      loaders.patient.prime(patient.id, patient);
      loaders.live.prime(consultation.id, live);
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
