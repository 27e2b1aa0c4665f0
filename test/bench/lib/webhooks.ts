/**
 * Authentic 100ms webhook bodies (built with test/support/hms-webhooks.ts) for seeded
 * consultations, each with a unique envelope id, as HTTP request specs.
 */
import { peerJoinSuccess, peerLeaveSuccess, type HmsPeerInfo, type HmsSessionInfo, type HmsWebhook } from "../../support/hms-webhooks.js";
import type { CareTeam } from "./database.js";
import type { RequestSpec } from "./http-client.js";
import { BENCH_WEBHOOK_SECRET, WEBHOOK_HEADER } from "./processes.js";

const CTX = { appId: "bench-app", accountId: "bench-account" };

function session(team: CareTeam, start: Date): HmsSessionInfo {
  return { roomId: team.roomId, roomName: `consultation-${team.consultationId}`, templateId: "bench-template", sessionId: `s-${team.roomId}`, sessionStartedAt: start };
}

function peer(team: CareTeam, side: "doctor" | "patient", n: number, joinedAt: Date): HmsPeerInfo {
  return {
    peerId: `${side}-${n}-${team.roomId}`,
    userId: side === "doctor" ? team.doctorUserId : team.patientUserId,
    userName: side === "doctor" ? "Doctor" : "Patient",
    userData: "",
    role: side,
    joinedAt,
  };
}

/** A whole call: patient joins, doctor joins (ACTIVE), doctor leaves, patient leaves. */
export function callWebhooks(team: CareTeam, start: Date): HmsWebhook[] {
  const at = (s: number) => new Date(start.getTime() + s * 1000);
  const s = session(team, start);
  const patient = peer(team, "patient", 0, at(0));
  const doctor = peer(team, "doctor", 0, at(60));
  return [
    peerJoinSuccess(CTX, s, patient),
    peerJoinSuccess(CTX, s, doctor),
    peerLeaveSuccess(CTX, s, doctor, { leftAt: at(300), reason: "client request" }),
    peerLeaveSuccess(CTX, s, patient, { leftAt: at(400), reason: "client request" }),
  ];
}

/**
 * The `round`-th presence change of a waiting patient (join on even rounds, leave on odd):
 * exactly one PARTICIPANT_JOINED/LEFT event each, and no status change.
 */
export function patientWebhook(team: CareTeam, round: number, start: Date): HmsWebhook {
  const n = Math.floor(round / 2);
  const joinedAt = new Date(start.getTime() + n * 2000);
  const p = peer(team, "patient", n, joinedAt);
  const s = session(team, start);
  return round % 2 === 0
    ? peerJoinSuccess(CTX, s, p)
    : peerLeaveSuccess(CTX, s, p, { leftAt: new Date(joinedAt.getTime() + 1000), reason: "client request" });
}

export function webhookRequest(url: string, body: HmsWebhook): RequestSpec {
  return {
    method: "POST",
    url,
    headers: { "content-type": "application/json", [WEBHOOK_HEADER]: BENCH_WEBHOOK_SECRET },
    body: JSON.stringify(body),
  };
}

/**
 * Successive batches of patient presence webhooks, dealt round-robin over `teams` (and over
 * `urls`, when several servers take them). Each team's rounds continue from its last one, so
 * its patient always alternates join and leave: a join while already online changes nothing
 * and would send no event, and a round sent again is a duplicate. Pass the same `rounds`
 * (by consultation id) to batches over the same teams.
 */
export function webhookBatches(teams: readonly CareTeam[], start = new Date(), rounds = new Map<string, number>()) {
  let next = 0;
  return (urls: string | readonly string[], count: number): Array<{ key: string; spec: RequestSpec }> => {
    const targets = [urls].flat();
    return Array.from({ length: count }, (_, k) => {
      const team = teams[next++ % teams.length]!;
      const round = rounds.get(team.consultationId) ?? 0;
      rounds.set(team.consultationId, round + 1);
      return { key: team.consultationId, spec: webhookRequest(targets[k % targets.length]!, patientWebhook(team, round, start)) };
    });
  };
}
