/**
 * The access policy (src/access/access-policy.ts) as one table: for each in-memory rule, what
 * the consultation's doctor, its patient, an admin, another doctor, another patient and a doctor
 * user without a profile row get. The API tests try each rule over the four transports; this
 * table keeps the rules' answers in one place, so a change to one shows here.
 */
import { describe, expect, it } from "vitest";
import * as policy from "../../src/access/access-policy.js";
import type { Viewer } from "../../src/auth/viewer.js";

const parties = { doctorId: "d1", patientId: "p1" };
const viewers: Record<string, Viewer> = {
  doctor: { userId: "u1", role: "doctor", doctorId: "d1", patientId: null },
  patient: { userId: "u2", role: "patient", doctorId: null, patientId: "p1" },
  admin: { userId: "u3", role: "admin", doctorId: null, patientId: null },
  otherDoctor: { userId: "u4", role: "doctor", doctorId: "d2", patientId: null },
  otherPatient: { userId: "u5", role: "patient", doctorId: null, patientId: "p2" },
  noProfile: { userId: "u6", role: "doctor", doctorId: null, patientId: null },
};

const rules = {
  maySee: (v: Viewer) => policy.maySee(v, parties),
  sideOf: (v: Viewer) => policy.sideOf(v, parties),
  mayJoin: (v: Viewer) => policy.mayJoin(v, parties),
  mayEndCall: (v: Viewer) => policy.mayEndCall(v, parties),
  mayPrescribe: (v: Viewer) => policy.mayPrescribe(v, parties),
  mayAnnounceDelay: (v: Viewer) => policy.mayAnnounceDelay(v, parties),
  mayReportQuality: (v: Viewer) => policy.mayReportQuality(v, parties),
  mayReadAttendance: (v: Viewer) => policy.mayReadAttendance(v, parties),
  mayReadAuditTrail: (v: Viewer) => policy.mayReadAuditTrail(v),
  mayManagePartnerEndpoints: (v: Viewer) => policy.mayManagePartnerEndpoints(v),
};

//                         doctor    patient    admin  otherDoctor otherPatient noProfile
const expected: Record<keyof typeof rules, unknown[]> = {
  maySee: [true, true, true, false, false, false],
  sideOf: ["doctor", "patient", null, null, null, null],
  mayJoin: ["doctor", "patient", null, null, null, null],
  mayEndCall: [true, false, false, false, false, false],
  mayPrescribe: [true, false, false, false, false, false],
  mayAnnounceDelay: [true, false, true, false, false, false],
  mayReportQuality: ["doctor", "patient", null, null, null, null],
  mayReadAttendance: [true, true, true, false, false, false],
  mayReadAuditTrail: [false, false, true, false, false, false],
  mayManagePartnerEndpoints: [false, false, true, false, false, false],
};

describe("the access policy", () => {
  for (const [name, rule] of Object.entries(rules) as [keyof typeof rules, (v: Viewer) => unknown][]) {
    it(`${name}: doctor, patient, admin, another doctor, another patient, no profile`, () => {
      expect(Object.values(viewers).map(rule)).toEqual(expected[name]);
    });
  }
});
