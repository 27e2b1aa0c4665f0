import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextQuality, qualityAt, QUALITY_THROTTLE_MS, type QualityRow } from "../../src/consultations/call-quality.js";

const T0 = Date.parse("2026-11-24T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);

/** Reports (score, second) in order; the row each write leaves. */
function play(reports: ReadonlyArray<readonly [number, number]>): { row: QualityRow | null; written: Array<readonly [number, number]> } {
  let row: QualityRow | null = null;
  const written: Array<readonly [number, number]> = [];
  for (const [score, second] of reports) {
    const step = nextQuality(row, score, at(second));
    if (step.write) {
      row = step.write;
      written.push([score, second]);
    }
  }
  return { row, written };
}

describe("call quality", () => {
  it("weighs each score by how long it held: poor for 40% of the call", () => {
    const { row } = play([[4, 0], [1, 60], [5, 100]]);
    expect(qualityAt(row!, at(100))).toEqual({ latest: 5, lowest: 1, reports: 3, reportedSeconds: 100, poorSeconds: 40, poorShare: 0.4 });
    // The open segment counts at the latest score until the call's end.
    expect(qualityAt(play([[4, 0], [2, 60]]).row!, at(100)).poorShare).toBe(0.4);
  });

  it("writes at most one report per side every 10 s", () => {
    const { written } = play([[4, 0], [3, 5], [2, 9.999], [1, 10], [5, 12]]);
    expect(written).toEqual([[4, 0], [1, 10]]);
    expect(QUALITY_THROTTLE_MS).toBe(10_000);
  });

  it("keeps the summary within bounds for any reports", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3600 })), { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 600 }), (raw, extra) => {
      const reports = [...raw].sort((a, b) => a[1] - b[1]);
      const { row, written } = play(reports);
      const end = reports.at(-1)![1] + extra;
      const q = qualityAt(row!, at(end));
      expect(q.poorShare).toBeGreaterThanOrEqual(0);
      expect(q.poorShare).toBeLessThanOrEqual(1);
      expect(q.poorSeconds).toBeLessThanOrEqual(q.reportedSeconds);
      expect(q.lowest).toBe(Math.min(...written.map(([s]) => s)));
      expect(q.latest).toBe(written.at(-1)![0]);
      expect(q.reports).toBe(written.length);
      written.slice(1).forEach(([, second], i) => expect(second - written[i]![1]).toBeGreaterThanOrEqual(10));
    }));
  });
});
