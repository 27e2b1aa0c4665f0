/**
 * The authorization matrix over real HTTP: patient, other patient, doctor, other doctor,
 * admin, anonymous, expired token, wrong signature. A consultation the caller may not see
 * is null, exactly as one that does not exist.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsultationDocument, ConsultationsDocument, MeDocument } from "../gql/graphql.js";
import { startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
let mine: Awaited<ReturnType<typeof createCareTeam>>;
let theirs: Awaited<ReturnType<typeof createCareTeam>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
  mine = await createCareTeam(test.database.db);
  theirs = await createCareTeam(test.database.db);
  const admin = await createUser(test.database.db, "admin");
  tokens.patient = await api.tokenFor(mine.patient.user.id);
  tokens.otherPatient = await api.tokenFor(theirs.patient.user.id);
  tokens.doctor = await api.tokenFor(mine.doctor.user.id);
  tokens.otherDoctor = await api.tokenFor(theirs.doctor.user.id);
  tokens.admin = await api.tokenFor(admin.id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

describe("consultation(id)", () => {
  it.each(["patient", "doctor", "admin"])("is visible to the %s", async (who) => {
    const result = await api.gql(ConsultationDocument, { id: mine.consultation.id }, tokens[who]);
    expect(result.errors).toBeUndefined();
    expect(result.data?.consultation?.id).toBe(mine.consultation.id);
    expect(result.data?.consultation?.patient.id).toBe(mine.patient.patient.id);
  });

  it.each(["otherPatient", "otherDoctor"])("is null for the %s, exactly like a missing one", async (who) => {
    const denied = await api.gql(ConsultationDocument, { id: mine.consultation.id }, tokens[who]);
    const missing = await api.gql(ConsultationDocument, { id: "00000000-0000-4000-8000-000000000000" }, tokens[who]);
    expect(denied).toEqual({ status: 200, data: { consultation: null } });
    expect(missing).toEqual(denied);
  });

  it("rejects a malformed id with BAD_USER_INPUT", async () => {
    const result = await api.gql(ConsultationDocument, { id: "1 OR 1=1" }, tokens.admin);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("consultations", () => {
  const ids = async (token: string) => {
    const result = await api.gql(ConsultationsDocument, { first: 100 }, token);
    expect(result.errors).toBeUndefined();
    return result.data!.consultations.edges.map((e) => e.node.id);
  };

  it("lists only the caller's own for patients and doctors", async () => {
    expect(await ids(tokens.patient!)).toEqual([mine.consultation.id]);
    expect(await ids(tokens.doctor!)).toEqual([mine.consultation.id]);
    expect(await ids(tokens.otherPatient!)).toEqual([theirs.consultation.id]);
    expect(await ids(tokens.otherDoctor!)).toEqual([theirs.consultation.id]);
  });

  it("lists all of them for an admin", async () => {
    expect(await ids(tokens.admin!)).toEqual(expect.arrayContaining([mine.consultation.id, theirs.consultation.id]));
  });
});

describe("authentication", () => {
  const expectUnauthenticated = async (token: string | null, header?: string) => {
    const headers: Record<string, string> = header ? { authorization: header } : token ? { authorization: `Bearer ${token}` } : {};
    const { status, json } = await api.post({ query: "{ me { id } consultations { edges { cursor } } }" }, headers);
    expect(status).toBe(200);
    expect(json.data).toBeNull();
    expect(json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(["UNAUTHENTICATED"]);
    return json.errors[0].message as string;
  };

  it("refuses an anonymous caller", async () => {
    expect(await expectUnauthenticated(null)).toBe("Authentication required");
  });

  it("refuses an expired token", async () => {
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(mine.patient.user.id)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect(await expectUnauthenticated(expired)).toBe("Token expired");
  });

  it("refuses a token signed with another secret", async () => {
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(mine.patient.user.id)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-secret-not-the-secret-not-the"));
    expect(await expectUnauthenticated(forged)).toBe("Invalid token");
  });

  it("refuses alg: none", async () => {
    const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const unsigned = `${encode({ alg: "none", typ: "JWT" })}.${encode({ sub: mine.patient.user.id, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    await expectUnauthenticated(unsigned);
  });

  it("refuses a token without exp", async () => {
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(mine.patient.user.id)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    await expectUnauthenticated(noExp);
  });

  it("refuses a valid token for a user who does not exist", async () => {
    expect(await expectUnauthenticated(await api.tokenFor("00000000-0000-4000-8000-00000000dead"))).toBe("Unknown user");
    expect(await expectUnauthenticated(await api.tokenFor("not-a-uuid"))).toBe("Unknown user");
  });

  it("refuses a malformed Authorization header", async () => {
    await expectUnauthenticated(null, "Basic dXNlcjpwYXNz");
  });

  it("takes the role from the users row, not from the token", async () => {
    const claimsAdmin = await new SignJWT({ role: "admin", roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(mine.patient.user.id)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const me = await api.gql(MeDocument, {}, claimsAdmin);
    expect(me.data?.me.role).toBe("PATIENT");
    const list = await api.gql(ConsultationsDocument, { first: 100 }, claimsAdmin);
    expect(list.data?.consultations.edges.map((e) => e.node.id)).toEqual([mine.consultation.id]);
  });
});

describe("me", () => {
  it("returns the doctor's profile for a doctor and the patient's for a patient", async () => {
    const doctor = await api.gql(MeDocument, {}, tokens.doctor);
    expect(doctor.data?.me).toMatchObject({
      id: mine.doctor.user.id,
      role: "DOCTOR",
      doctor: { id: mine.doctor.doctor.id, specialty: "Dermatology" },
      patient: null,
    });
    const patient = await api.gql(MeDocument, {}, tokens.patient);
    expect(patient.data?.me).toMatchObject({ role: "PATIENT", doctor: null, patient: { id: mine.patient.patient.id } });
  });
});
