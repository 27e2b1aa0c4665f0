/**
 * Loads, in one batch, what a list of events' fields need. Live events are the same objects
 * for every subscriber in this process (the hub hands each batch to all of them), so a batch
 * is prepared once and shared: one set of queries per event, not one per subscriber. Every
 * subscriber was authorized for the event before it gets here, and the loaders only hold the
 * event's own consultation, its people and its prescription.
 */
import type { Loaders } from "../loaders.js";
import type { RoutedEvent } from "./event-log.repo.js";

export type Prepared = RoutedEvent & { loaders: Loaders };

/** A `prepare` function with its own shared cache (one per service, never module-wide). */
export function preparedEvents(createLoaders: () => Loaders): (events: readonly RoutedEvent[]) => Promise<Prepared[]> {
  const batches = new WeakMap<readonly RoutedEvent[], Promise<Prepared[]>>();
  const single = new WeakMap<RoutedEvent, Promise<Prepared>>();
  return (events) => {
    const cached = events.map((e) => single.get(e));
    if (cached.every((p) => p !== undefined)) return Promise.all(cached as Array<Promise<Prepared>>);
    let batch = batches.get(events);
    if (!batch) {
      const loading = load(createLoaders(), events);
      batch = loading;
      batches.set(events, loading);
      for (const [i, e] of events.entries()) {
        const one = loading.then((all) => all[i]!);
        one.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
        single.set(e, one);
      }
      // A failed load (the database away) is forgotten, so the stream's retry loads afresh.
      loading.catch(() => {
        batches.delete(events);
        for (const e of events) single.delete(e);
      });
    }
    return batch;
  };
}

async function load(loaders: Loaders, events: readonly RoutedEvent[]): Promise<Prepared[]> {
  const consultations = await Promise.all(events.map((e) => loaders.consultation.load(e.consultationId)));
  await Promise.all(
    consultations.flatMap((c, i) =>
      c
        ? [
            loaders.doctor.load(c.doctorId),
            loaders.patient.load(c.patientId),
            loaders.appointment.load(c.appointmentId),
            loaders.live.load(c.id),
            events[i]!.prescriptionId ? loaders.prescription.load(events[i]!.prescriptionId!) : null,
          ]
        : [],
    ),
  );
  return events.map((event) => ({ ...event, loaders }));
}
