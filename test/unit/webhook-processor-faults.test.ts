/**
 * The apply's rooms read goes beside its transaction's BEGIN (PostgreSQL): when the database
 * is gone, both fail, the transaction before its callback ever ran, so nothing awaits the read.
 * The batch must fail with the transaction's error, and no rejection may go unhandled (Node
 * ends the process on one).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ConsultationRepo } from "../../src/consultations/consultation.repo.js";
import type { Db } from "../../src/db/client.js";
import type { LiveStatus } from "../../src/live/live-status.service.js";
import type { Envelope } from "../../src/webhooks/envelope.js";
import { WebhookProcessor } from "../../src/webhooks/webhook-processor.js";

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
  unhandled.length = 0;
});

const join: Envelope = {
  id: "w-1",
  type: "peer.join.success",
  timestamp: new Date().toISOString(),
  data: { room_id: "room-1", peer_id: "p-1", user_id: "u-1", role: "patient", joined_at: new Date().toISOString() },
};

describe("the webhook processor when the database is gone", () => {
  it("fails the batch with the transaction's error and leaves no rejection unhandled", async () => {
    process.on("unhandledRejection", onUnhandled);
    let failRead!: (error: Error) => void;
    const processor = new WebhookProcessor({
      db: {} as Db,
      // The read fails after the transaction did (the test says when).
      consultations: { findRoomMembersMany: () => new Promise((_, reject) => (failRead = reject)) } as unknown as ConsultationRepo,
      live: { updateMany: () => Promise.reject(new Error("begin: connection refused")) } as unknown as LiveStatus,
      roles: { doctor: "doctor", patient: "patient" },
      readBesideBegin: true,
    });
    await expect(processor.processBatch([join])).rejects.toThrow("begin: connection refused");
    failRead(new Error("read: connection refused"));
    // Node reports a rejection nobody handled once the microtasks have run: a turn later.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });
});
