/**
 * Per-request DataLoaders: every field that reaches another record goes through one, so a
 * page of N consultations costs a constant number of statements, not N.
 * Loaders are not scoped by viewer: they are only reached from records the viewer may see.
 */
import DataLoader from "dataloader";
import type { Repos } from "../services.js";

function oneByKey<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (value: V) => K): DataLoader<K, V | null> {
  return new DataLoader(async (keys) => {
    const byKey = new Map((await fetch(keys)).map((v) => [keyOf(v), v] as const));
    return keys.map((k) => byKey.get(k) ?? null);
  });
}

function manyByKey<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (value: V) => K): DataLoader<K, V[]> {
  return new DataLoader(async (keys) => {
    const groups = new Map<K, V[]>();
    for (const value of await fetch(keys)) {
      const key = keyOf(value);
      groups.set(key, [...(groups.get(key) ?? []), value]);
    }
    return keys.map((k) => groups.get(k) ?? []);
  });
}

export function createLoaders(repos: Repos) {
  return {
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
    /** Newest first, as the repo orders them. */
    prescriptionsByConsultation: manyByKey(
      (ids: readonly string[]) => repos.prescriptions.byConsultationIds(ids),
      (p) => p.consultationId ?? "",
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** For a reference the database guarantees (a foreign key): absence is a bug, not a 404. */
export function present<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`missing ${what} behind a foreign key`);
  return value;
}
