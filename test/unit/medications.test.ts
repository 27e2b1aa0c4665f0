import { describe, expect, it } from "vitest";
import { parseMedications } from "../../src/prescriptions/prescription.repo.js";

describe("parseMedications (legacy prescriptions.medications JSON)", () => {
  it("maps the documented legacy shape to camelCase", () => {
    expect(
      parseMedications([
        { name: "Ibuprofen", dosage: "200 mg", frequency: "as needed", duration_days: 5, instructions: "with food" },
        { name: "Cetirizine", dosage: "10 mg", frequency: "daily" },
      ]),
    ).toEqual([
      { name: "Ibuprofen", dosage: "200 mg", frequency: "as needed", durationDays: 5, instructions: "with food" },
      { name: "Cetirizine", dosage: "10 mg", frequency: "daily", durationDays: null, instructions: null },
    ]);
  });

  it("skips entries an old app version wrote in another shape instead of failing the read", () => {
    expect(parseMedications([{ name: "X" }, null, 3, { name: "Y", dosage: "1", frequency: "2", duration_days: "7" }])).toEqual([
      { name: "Y", dosage: "1", frequency: "2", durationDays: null, instructions: null },
    ]);
    expect(parseMedications({ not: "an array" })).toEqual([]);
  });
});
