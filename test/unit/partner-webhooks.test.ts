/** The pure parts of partner webhooks: where they may go, what they carry, when they retry, how secrets are kept and signed. */
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { AddressPolicy, AddressRefused } from "../../src/partners/address-policy.js";
import { PARTNER_EVENT_NAMES, partnerPayload, type PartnerEventSource } from "../../src/partners/partner-events.js";
import { nextDelayMs } from "../../src/partners/retry-schedule.js";
import { SealedSecretError, SecretBox } from "../../src/partners/secret-box.js";
import { newSecret, signedHeaders } from "../../src/partners/signing.js";
import { CONSULTATION_EVENT_TYPES } from "../../src/db/schema.js";

const strict = new AddressPolicy({ allowHttp: false, allowHosts: [] });

describe("the address policy", () => {
  it.each([
    ["127.0.0.1", "loopback"], ["127.255.0.9", "loopback"], ["::1", "loopback"], ["10.0.0.1", "private"], ["172.31.255.255", "private"],
    ["192.168.0.10", "private"], ["169.254.169.254", "linkLocal"], ["fe80::1", "linkLocal"], ["fd00:ec2::254", "uniqueLocal"],
    ["100.100.100.200", "carrierGradeNat"], ["0.0.0.0", "unspecified"], ["::", "unspecified"], ["224.0.0.1", "multicast"],
    ["::ffff:10.0.0.1", "private"], ["::ffff:127.0.0.1", "loopback"], ["2002:7f00:1::", "6to4"], ["64:ff9b::7f00:1", "rfc6052"], ["192.0.2.1", "reserved"],
  ])("refuses %s (%s)", (address, range) => {
    expect(() => strict.checkAddress(address)).toThrow(new AddressRefused(`resolves to a ${range} address`));
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])("lets %s through", (address) => {
    expect(() => strict.checkAddress(address)).not.toThrow();
  });

  it("allows listed names, addresses and ranges, and only those", () => {
    const policy = new AddressPolicy({ allowHttp: true, allowHosts: ["hooks.internal", "10.1.0.0/16", "[::1]", "127.0.0.1"] });
    expect(policy.allowsName("HOOKS.internal")).toBe(true);
    expect(policy.allowsName("other.internal")).toBe(false);
    for (const ok of ["10.1.200.3", "::1", "127.0.0.1", "::ffff:127.0.0.1"]) expect(() => policy.checkAddress(ok), ok).not.toThrow();
    for (const no of ["10.2.0.1", "127.0.0.2", "169.254.169.254"]) expect(() => policy.checkAddress(no), no).toThrow(AddressRefused);
  });

  it("takes https URLs without credentials (http only when allowed)", () => {
    expect(strict.parseUrl("https://partner.example/hook?x=1").host).toBe("partner.example");
    expect(() => strict.parseUrl("http://partner.example/hook")).toThrow("must be an https URL");
    expect(() => strict.parseUrl("https://u:p@partner.example/hook")).toThrow("may not carry credentials");
    expect(() => strict.parseUrl("file:///etc/passwd")).toThrow(AddressRefused);
    expect(new AddressPolicy({ allowHttp: true, allowHosts: [] }).parseUrl("http://partner.example/").protocol).toBe("http:");
    expect(AddressPolicy.hostOf(new URL("https://[::1]:8443/"))).toBe("::1");
  });
});

const event = (overrides: Partial<PartnerEventSource>): PartnerEventSource => ({
  id: 42, consultationId: "7d7c3b39-93a5-4d5b-a0ae-3fd0a7f3a001", type: "STATUS_CHANGED", occurredAt: new Date("2026-11-24T09:30:00.000Z"),
  status: "active", previousStatus: "pending", side: null, prescriptionId: null, retractsId: null, leaveCause: null, delayMinutes: null, qualityScore: null, ...overrides,
});

describe("the payload", () => {
  it("carries the event's id, type, consultation, status, time and what changed, and nothing else", () => {
    expect(partnerPayload(event({}))).toEqual({
      type: "consultation.status_changed",
      timestamp: "2026-11-24T09:30:00.000Z",
      data: { eventId: "ZXYxOjQy", consultationId: "7d7c3b39-93a5-4d5b-a0ae-3fd0a7f3a001", status: "ACTIVE", occurredAt: "2026-11-24T09:30:00.000Z", changed: { previousStatus: "PENDING", status: "ACTIVE" } },
    });
    expect(partnerPayload(event({ type: "PARTICIPANT_LEFT", side: "patient", previousStatus: null, leaveCause: "network" })).data.changed).toEqual({ side: "PATIENT", reason: "NETWORK" });
    expect(partnerPayload(event({ type: "PARTICIPANT_JOINED", side: "doctor", previousStatus: null })).data.changed).toEqual({ side: "DOCTOR" });
    expect(partnerPayload(event({ type: "RUNNING_LATE", status: "pending", delayMinutes: 15 })).data.changed).toEqual({ delayMinutes: "15" });
    expect(partnerPayload(event({ type: "CALL_QUALITY_CHANGED", side: "patient", qualityScore: 2 })).data.changed).toEqual({ side: "PATIENT", score: "2" });
    expect(partnerPayload(event({ type: "NO_SHOW", status: "cancelled" })).data.changed).toEqual({});
    expect(partnerPayload(event({ type: "PRESCRIPTION_CREATED", prescriptionId: "p-1" })).data.changed).toEqual({ prescriptionId: "p-1" });
    expect(partnerPayload(event({ type: "EVENT_RETRACTED", retractsId: 7 })).data.changed).toEqual({ retracts: "ZXYxOjc" });
  });

  it("names every type of the log", () => {
    expect(Object.keys(PARTNER_EVENT_NAMES).sort()).toEqual([...CONSULTATION_EVENT_TYPES].sort());
  });
});

describe("the retry schedule", () => {
  it("waits each configured delay ±20 %, then gives up", () => {
    const schedule = [5_000, 300_000];
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999999, noNaN: true }), (r) => {
        const first = nextDelayMs(schedule, 1, () => r)!;
        const second = nextDelayMs(schedule, 2, () => r)!;
        return first >= 4_000 && first <= 6_000 && second >= 240_000 && second <= 360_000;
      }),
    );
    expect(nextDelayMs(schedule, 3)).toBeNull();
  });
});

describe("secrets", () => {
  const box = new SecretBox(Buffer.alloc(32, 3));

  it("are sealed bound to their endpoint and under their key", () => {
    const secret = newSecret();
    const sealed = box.seal(secret, "endpoint-a");
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, "endpoint-a")).toBe(secret);
    expect(() => box.open(sealed, "endpoint-b")).toThrow(SealedSecretError);
    expect(() => new SecretBox(Buffer.alloc(32, 4)).open(sealed, "endpoint-a")).toThrow("sealed under another PARTNER_WEBHOOKS_SECRET_KEY");
    const [v, key, iv, tag, text] = sealed.split(".");
    const flipped = [v, key, iv, tag, `${text!.slice(0, -2)}${text!.endsWith("AA") ? "AB" : "AA"}`].join(".");
    expect(() => box.open(flipped, "endpoint-a")).toThrow(SealedSecretError);
  });

  it("sign as Standard Webhooks: any of the secrets verifies with the standardwebhooks package", () => {
    const [a, b] = [newSecret(), newSecret()];
    const body = JSON.stringify(partnerPayload(event({})));
    const headers = signedHeaders("ZXYxOjQy", new Date(), body, [a, b]);
    expect(headers["webhook-signature"]).toMatch(/^v1,\S+ v1,\S+$/);
    expect(new Webhook(a).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(b).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(a).verify(body.replace("ACTIVE", "PENDING"), { ...headers })).toThrow();
  });
});
