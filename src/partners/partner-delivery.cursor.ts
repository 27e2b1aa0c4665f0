/** Opaque ids of partner deliveries, which are also the delivery log's cursors (newest first by id). */
import { cursorCodec, readSerial } from "../kit/cursor.js";

const deliveryIds = cursorCodec<number>({
  tag: "pd1",
  write: (id) => [id],
  read: (parts) => (parts.length === 1 ? readSerial(parts[0]) : null),
  noun: "partner delivery id",
});

export const encodeDeliveryId = (id: number): string => deliveryIds.encode(id);

/** Throws BAD_USER_INPUT naming `field` on anything this API did not issue. */
export const decodeDeliveryId = (value: string, field: string): number => deliveryIds.decode(value, field);
