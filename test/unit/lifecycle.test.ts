import { describe, expect, it } from "vitest";
import type { ConsultationStatus } from "../../src/consultations/consultation.model.js";
import { CONSULTATION_STATUSES, LIFECYCLE_ACTIONS, transition, type LifecycleAction } from "../../src/consultations/lifecycle.js";
import { AppError } from "../../src/kit/errors.js";

/** Every (state, action) pair, spelled out: a changed state, "same" (no-op) or "invalid". */
const EXPECTED: Record<ConsultationStatus, Record<LifecycleAction, ConsultationStatus | "same" | "invalid">> = {
  pending: { bothJoined: "active", callFinished: "invalid", endByDoctor: "completed", cancel: "cancelled", expire: "cancelled" },
  active: { bothJoined: "same", callFinished: "completed", endByDoctor: "completed", cancel: "invalid", expire: "invalid" },
  completed: { bothJoined: "invalid", callFinished: "same", endByDoctor: "same", cancel: "invalid", expire: "invalid" },
  cancelled: { bothJoined: "invalid", callFinished: "invalid", endByDoctor: "invalid", cancel: "same", expire: "same" },
};

const pairs = CONSULTATION_STATUSES.flatMap((from) => LIFECYCLE_ACTIONS.map((action) => [from, action] as const));

describe("lifecycle transition", () => {
  it("covers every state and action", () => {
    expect(pairs).toHaveLength(4 * 5);
  });

  it.each(pairs)("%s + %s", (from, action) => {
    const expected = EXPECTED[from][action];
    if (expected === "invalid") {
      let error: unknown;
      try {
        transition(from, action);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("INVALID_STATE");
    } else if (expected === "same") {
      expect(transition(from, action)).toEqual({ to: from, changed: false });
    } else {
      expect(transition(from, action)).toEqual({ to: expected, changed: true });
    }
  });
});
