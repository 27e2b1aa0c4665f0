/**
 * The rights open streams re-check: trusted for the ttl, then re-read; users whose rights went
 * stale together (streams opened together, a broadcast's admins) re-read in one statement.
 */
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../src/auth/viewer.js";
import { UserRights } from "../../src/live/user-rights.js";

const TTL = 15_000;

function admin(n: number): Viewer {
  return { userId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, role: "admin", doctorId: null, patientId: null };
}

/** Rights over a users table held in `rows`, reads recorded, on a clock the test moves. */
function rightsOver(rows: Map<string, Viewer>) {
  const reads: string[][] = [];
  const clock = { at: 1_000, now: () => clock.at };
  const rights = new UserRights(
    async (ids) => {
      reads.push([...ids]);
      return ids.map((id) => rows.get(id) ?? null);
    },
    TTL,
    clock,
  );
  return { rights, reads, clock };
}

describe("UserRights", () => {
  it("trusts what a stream started with for the ttl, without reading", async () => {
    const viewers = Array.from({ length: 3 }, (_, i) => admin(i));
    const { rights, reads, clock } = rightsOver(new Map(viewers.map((v) => [v.userId, v])));
    for (const v of viewers) rights.remember(v);
    clock.at += TTL - 1;
    expect(await Promise.all(viewers.map((v) => rights.current(v.userId)))).toEqual(viewers);
    expect(reads).toEqual([]);
  });

  it("re-reads the users whose rights went stale together in one read, each with its own answer", async () => {
    const viewers = Array.from({ length: 500 }, (_, i) => admin(i));
    const rows = new Map(viewers.map((v) => [v.userId, v]));
    const { rights, reads, clock } = rightsOver(rows);
    for (const v of viewers) rights.remember(v);
    rows.delete(viewers[7]!.userId);
    const demoted = { ...viewers[9]!, role: "patient" as const, patientId: "p-9" };
    rows.set(demoted.userId, demoted);
    clock.at += TTL + 1;

    const current = await Promise.all(viewers.map((v) => rights.current(v.userId)));

    expect(reads).toHaveLength(1);
    expect(new Set(reads[0])).toEqual(new Set(viewers.map((v) => v.userId)));
    expect(current[7]).toBeNull();
    expect(current[9]).toEqual(demoted);
    expect(current.filter((v, i) => i !== 7 && i !== 9)).toEqual(viewers.filter((_, i) => i !== 7 && i !== 9));
    // What was read is trusted again for the ttl.
    expect(await rights.current(viewers[0]!.userId)).toEqual(viewers[0]);
    expect(reads).toHaveLength(1);
  });

  it("reads a user that no stream remembered, once however many ask", async () => {
    const v = admin(1);
    const { rights, reads } = rightsOver(new Map([[v.userId, v]]));
    expect(await Promise.all([rights.current(v.userId), rights.current(v.userId)])).toEqual([v, v]);
    expect(reads).toEqual([[v.userId]]);
  });

  it("fails every stream waiting on a failed read, and reads afresh next time", async () => {
    const v = admin(1);
    let fail = true;
    const rights = new UserRights(async (ids) => {
      if (fail) throw new Error("database away");
      return ids.map(() => v);
    }, TTL);
    await expect(Promise.all([rights.current(v.userId), rights.current(admin(2).userId)])).rejects.toThrow("database away");
    fail = false;
    expect(await rights.current(v.userId)).toEqual(v);
  });
});
