import { describe, expect, it } from "vitest";
import { AppError } from "../../src/kit/errors.js";
import { validatePrescription, type PrescriptionInput } from "../../src/prescriptions/prescription.validation.js";

const med = { name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily" };
const base: PrescriptionInput = { consultationId: "c", medications: [med] };
const problemsOf = (input: PrescriptionInput) => {
  try {
    validatePrescription(input);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("BAD_USER_INPUT");
    return (error as AppError).details as { field: string; problems: Array<{ field: string }> };
  }
};

describe("validatePrescription", () => {
  it("trims and accepts a valid prescription", () => {
    expect(validatePrescription({ ...base, medications: [{ ...med, name: "  Amoxicillin " }], diagnosis: " " })).toEqual({
      consultationId: "c",
      medications: [{ ...med, durationDays: null, instructions: null }],
      diagnosis: null,
      notes: null,
      idempotencyKey: null,
    });
  });

  it("names every invalid field by its input path", () => {
    const details = problemsOf({
      ...base,
      medications: [med, { name: " ", dosage: "x".repeat(101), frequency: "daily", durationDays: 0 }],
      notes: "n".repeat(4001),
    });
    expect(details?.field).toBe("input.medications[1].durationDays");
    expect(details?.problems.map((p) => p.field)).toEqual([
      "input.medications[1].durationDays",
      "input.medications[1].name",
      "input.medications[1].dosage",
      "input.notes",
    ]);
  });

  it("requires 1 to 20 medications and durationDays within 1..365", () => {
    expect(problemsOf({ ...base, medications: [] })?.field).toBe("input.medications");
    expect(problemsOf({ ...base, medications: Array.from({ length: 21 }, () => med) })?.field).toBe("input.medications");
    expect(problemsOf({ ...base, medications: [{ ...med, durationDays: 366 }] })?.field).toBe("input.medications[0].durationDays");
    expect(problemsOf({ ...base, medications: [{ ...med, durationDays: 365 }] })).toBeNull();
  });
});
