/**
 * Preparing events: one load per batch, shared; rows handed in with the events (the hub's
 * read) spare the rows query, and only consultations missing from them are read.
 */
import { describe, expect, it } from "vitest";
import type { ConsultationListRow } from "../../src/consultations/consultation.model.js";
import type { RoutedEvent } from "../../src/live/event-log.repo.js";
import type { Loaders } from "../../src/live/loaders.js";
import { preparedEvents } from "../../src/live/prepared-events.js";

const event = (id: number, consultationId: string) => ({ id, consultationId, prescriptionId: null }) as unknown as RoutedEvent;
const row = (id: string) => ({ consultation: { id } }) as unknown as ConsultationListRow;

function sources() {
  const asked: string[][] = [];
  const primed: string[] = [];
  const missing: string[] = [];
  const loaders = () => ({
    primeRow: (r: ConsultationListRow) => primed.push(r.consultation.id),
    consultation: { prime: (id: string) => missing.push(id) },
    prescription: { load: async () => null },
  }) as unknown as Loaders;
  return { asked, primed, missing, prepare: preparedEvents({ loaders, rows: async (ids) => (asked.push([...ids]), ids.filter((id) => id !== "gone").map(row)) }) };
}

describe("prepared events", () => {
  it("read no rows when the read brought them, only those it lacks otherwise", async () => {
    const s = sources();
    const read = [event(1, "a"), event(2, "b"), event(3, "a")];
    const prepared = await s.prepare(read, [row("a"), row("b")]);
    expect(prepared.map((p) => p.id)).toEqual([1, 2, 3]);
    expect(s.asked).toEqual([]);
    expect(s.primed).toEqual(["a", "b"]);

    const other = sources();
    await other.prepare([event(4, "a"), event(5, "c"), event(6, "gone")], [row("a")]);
    expect(other.asked).toEqual([["c", "gone"]]);
    expect(other.primed).toEqual(["a", "c"]);
    expect(other.missing).toEqual(["gone"]); // read and not found: no such consultation
  });

  it("load a batch once for every subscriber, whichever list of its events they hand in", async () => {
    const s = sources();
    const read = [event(1, "a"), event(2, "b")];
    const first = s.prepare(read);
    const second = s.prepare([read[1]!]);
    expect((await second).map((p) => p.id)).toEqual([2]);
    await first;
    expect(s.asked).toEqual([["a", "b"]]);
  });
});
