import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, it } from "vitest";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { createCareTeam, createConsultation } from "../support/builders.js";

let test: TestDatabase;
let api: TestApi;
beforeAll(async () => { test = await createTestDatabase(); api = await startTestApi(test); });
afterAll(async () => { await api?.stop(); await test?.close(); });

const env = (o: Record<string, unknown>) => ({ id: randomUUID(), type: "peer.join.success", timestamp: "2026-11-24T10:00:00Z", data: { room_id: "r" }, ...o });
async function raw(body: string) {
  const r = await fetch(`${api.url}/webhooks/100ms`, { method: "POST", headers: { "content-type": "application/json", [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET }, body });
  return `${r.status} ${await r.text()}`;
}
it("probe", async () => {
  const cases: Record<string, string> = {
    nulData: JSON.stringify(env({ data: { room_id: "a\u0000b" } })),
    nulId: JSON.stringify(env({ id: "a\u0000b" })),
    nulType: JSON.stringify(env({ type: "x\u0000" })),
    loneSurData: JSON.stringify(env({ data: { x: "\ud800" } })),
    loneSurId: JSON.stringify(env({ id: "\udc00" })),
    nulKey: JSON.stringify(env({ data: { "\u0000": 1 } })),
    year0: JSON.stringify(env({ timestamp: "0000-01-01T00:00:00Z" })),
    yearNeg: JSON.stringify(env({ timestamp: "-010000-01-01T00:00:00Z" })),
    yearBig: JSON.stringify(env({ timestamp: "+275760-09-13T00:00:00Z" })),
    yearBig2: JSON.stringify(env({ timestamp: "+200000-09-13T00:00:00Z" })),
    deep: JSON.stringify(env({ data: { x: JSON.parse("[".repeat(5000) + "]".repeat(5000)) } })),
    deep20k: `{"id":"${randomUUID()}","type":"t","timestamp":"2026-01-01T00:00:00Z","data":{"x":${"[".repeat(30000)}${"]".repeat(30000)}}}`,
    deepObj: `{"id":"${randomUUID()}","type":"t","timestamp":"2026-01-01T00:00:00Z","data":{"x":${'{"a":'.repeat(10000)}1${"}".repeat(10000)}}}`,
    deepTop: "[".repeat(60000) + "]".repeat(60000),
    proto: `{"id":"${randomUUID()}","type":"t","timestamp":"2026-01-01T00:00:00Z","data":{"__proto__":{"room_id":"x"}}}`,
    bigNum: `{"id":"${randomUUID()}","type":"t","timestamp":"2026-01-01T00:00:00Z","data":{"n":1e400}}`,
    dateOdd: JSON.stringify(env({ timestamp: "1" })),
    dateOdd2: JSON.stringify(env({ timestamp: "Tue 32" })),
  };
  for (const [k, b] of Object.entries(cases)) console.log(k, await raw(b));
  const doc = await createCareTeam(test.database.db);
  const tok = await api.tokenFor(doc.doctor.user.id);
  const act = await createConsultation(test.database.db, { doctorId: doc.doctor.doctor.id, patientId: doc.patient.patient.id, status: "active" });
  const H = { authorization: `Bearer ${tok}` };
  const cur = (s: string) => Buffer.from(s).toString("base64url");
  const q: Array<[string, unknown]> = [
    ["query($a:String){consultations(after:$a){edges{cursor}}}", { a: cur("c1:+275760-09-13T00:00:00.000Z|00000000-0000-4000-8000-000000000000") }],
    ["query($a:String){consultations(after:$a){edges{cursor}}}", { a: cur("c1:0000-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000") }],
    ["query($a:String){consultations(after:$a){edges{cursor}}}", { a: cur("c1:-010000-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000") }],
    ["query($f:DateTime){consultations(filter:{from:$f}){edges{cursor}}}", { f: "0000-01-01T00:00:00Z" }],
    ["query($f:DateTime){consultations(filter:{from:$f}){edges{cursor}}}", { f: "9999-12-31T23:59:59Z" }],
    ["query($a:String){consultation(id:\"" + act.consultation.id + "\"){events(after:$a){edges{cursor}}}}", { a: cur("ev1:9007199254740991") }],
    ["mutation($i:CreatePrescriptionInput!){createPrescription(input:$i){id}}", { i: { consultationId: act.consultation.id, medications: [{ name: "a\u0000", dosage: "1", frequency: "1" }] } }],
    ["mutation($i:CreatePrescriptionInput!){createPrescription(input:$i){id}}", { i: { consultationId: act.consultation.id, medications: [{ name: "a\ud800", dosage: "1", frequency: "1" }] } }],
    ["mutation($i:CreatePrescriptionInput!){createPrescription(input:$i){id}}", { i: { consultationId: act.consultation.id, idempotencyKey: "k\u0000", medications: [{ name: "a", dosage: "1", frequency: "1" }] } }],
    ["mutation($i:CreatePrescriptionInput!){createPrescription(input:$i){id}}", { i: { consultationId: act.consultation.id, notes: "k\u0000", medications: [{ name: "a", dosage: "1", frequency: "1" }] } }],
    ["mutation($i:ID!,$r:String){cancelConsultation(consultationId:$i, reason:$r){id}}", { i: doc.consultation.id, r: "x\u0000" }],
    ["{ me { id } __schema { types { name } } }", {}],
    ["{ consultations(first: 99999999999) { edges { cursor } } }", {}],
  ];
  for (const [query, variables] of q) console.log(query.slice(0, 60), JSON.stringify(await api.post({ query, variables }, H)));
  const admTok = tok;
  void admTok;
}, 120000);
