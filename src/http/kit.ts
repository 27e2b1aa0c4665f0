/**
 * The HTTP pieces every route shares, in front of Express or behind it: reading a body
 * (raw-body, as Express's own body parsers do), writing a JSON answer, and the one request
 * log line. Nothing here knows GraphQL or webhooks.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import getRawBody from "raw-body";
import type { Logger } from "../kit/logger.js";

export type BodyResult = { ok: true; body: Buffer } | { ok: false; status: 400 | 413 | 415 };

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The whole (decoded) body, at most `limit` bytes, as body-parser reads it: gzip, deflate and
 * br are decoded, another encoding is 415; a body longer or shorter than its
 * `content-length` is 400. A body over the limit is answered 413 at once and the rest of it
 * is read and dropped, so the connection stays usable.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  const decoder = encoding === "identity" ? null : DECODERS[encoding];
  if (decoder === undefined) {
    req.resume();
    return { ok: false, status: 415 };
  }
  const stream: Readable = decoder ? (req.pipe(decoder()) as unknown as Readable) : req;
  try {
    const body = await getRawBody(stream, { limit, length: decoder ? undefined : req.headers["content-length"] });
    return { ok: true, body };
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === "entity.too.large") {
      req.resume();
      return { ok: false, status: 413 };
    }
    if (type === "request.aborted") throw error;
    return { ok: false, status: 400 };
  }
}

/** Writes a complete JSON answer (already serialised, or an object to serialise). */
export function sendJson(res: ServerResponse, status: number, json: string | object, headers: Record<string, string> = {}): void {
  const body = typeof json === "string" ? json : JSON.stringify(json);
  res.writeHead(status, { ...headers, "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

export interface RequestLine {
  method: string | undefined;
  /** Path only: query strings and bodies can carry tokens or patient data. */
  path: string | undefined;
  requestId?: unknown;
}

/** The one log line per request: method, path, status and duration. */
export function logRequest(logger: Logger, request: RequestLine, status: number, startedAt: number): void {
  const { requestId, method, path } = request;
  logger.info({ requestId, method, path, status, ms: Math.round(performance.now() - startedAt) }, "request");
}

/** The path of a request URL, without its query string. */
export function pathOf(url: string | undefined): string | undefined {
  const query = url?.indexOf("?") ?? -1;
  return query === -1 ? url : url!.slice(0, query);
}
