/**
 * Where traced API processes export in the bench (scenario 12): an OTLP/HTTP endpoint on
 * loopback that answers 200 and keeps only counts (requests, bytes, spans), so the harness
 * spends next to nothing on it; the API's own cost of tracing (making, batching, serialising
 * and sending spans) is what is measured.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SpanSink {
  url: string;
  counts(): { requests: number; bytes: number; spans: number };
  close(): Promise<void>;
}

const SPAN_ID = Buffer.from('"spanId":');

export async function startSpanSink(): Promise<SpanSink> {
  let requests = 0;
  let bytes = 0;
  let spans = 0;
  const server = createServer((req, res) => {
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      // Spans and links both carry a spanId: an upper bound of the spans, close enough for a rate.
      for (let at = chunk.indexOf(SPAN_ID); at !== -1; at = chunk.indexOf(SPAN_ID, at + 1)) spans++;
    });
    req.on("end", () => {
      requests++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ requests, bytes, spans }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
