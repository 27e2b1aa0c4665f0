/**
 * One POST to a partner, SSRF-safe: the address is checked when the socket connects (a
 * `lookup` that resolves, then refuses any address the policy does not allow, so a name that
 * resolves elsewhere than when it was saved fails here), an IP literal before connecting;
 * redirects are not followed (a 3xx is a failed attempt); at most 4 KiB of the answer is read
 * and none of it kept; connecting may take 5 s at most and the whole exchange `timeoutMs`.
 */
import http from "node:http";
import https from "node:https";
import { promises as dns, type LookupAddress } from "node:dns";
import { AddressPolicy, AddressRefused } from "./address-policy.js";

export type Resolve = (host: string) => Promise<LookupAddress[]>;
export const systemResolve: Resolve = (host) => dns.lookup(host, { all: true, verbatim: true });

/** A bounded set: what the delivery log and the metrics say of an attempt that failed. */
export type ErrorClass =
  | "http_status" | "gone" | "redirect" | "timeout" | "connect_timeout" | "address_refused" | "dns_error" | "connection_refused" | "connection_reset" | "tls_error" | "network_error";

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  errorClass: ErrorClass | null;
  durationMs: number;
}

export interface PostOptions {
  policy: AddressPolicy;
  resolve: Resolve;
  timeoutMs: number;
  connectTimeoutMs?: number;
  agent?: http.Agent;
}

const MAX_ANSWER_BYTES = 4096;

class ConnectTimeout extends Error {
  override readonly name = "ConnectTimeout";
}

/** The addresses `host` may be reached at, all checked; throws AddressRefused (or the resolver's error). */
export async function checkedAddresses(policy: AddressPolicy, host: string, resolve: Resolve): Promise<LookupAddress[]> {
  if (AddressPolicy.isLiteral(host)) {
    if (!policy.allowsName(host)) policy.checkAddress(host);
    return [{ address: host, family: host.includes(":") ? 6 : 4 }];
  }
  const addresses = await resolve(host);
  if (addresses.length === 0) throw new AddressRefused("does not resolve");
  if (!policy.allowsName(host)) for (const { address } of addresses) policy.checkAddress(address);
  return addresses;
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

function checkingLookup(options: PostOptions) {
  return (hostname: string, lookupOptions: { all?: boolean }, callback: LookupCallback) => {
    checkedAddresses(options.policy, hostname, options.resolve).then(
      (addresses) => (lookupOptions.all ? callback(null, addresses) : callback(null, addresses[0]!.address, addresses[0]!.family)),
      (error: Error) => callback(error, ""),
    );
  };
}

export async function postWebhook(url: URL, body: string, headers: Record<string, string>, options: PostOptions): Promise<AttemptResult> {
  const started = performance.now();
  const result = (statusCode: number | null, errorClass: ErrorClass | null): AttemptResult => ({
    ok: errorClass === null,
    statusCode,
    errorClass,
    durationMs: Math.round(performance.now() - started),
  });
  const host = AddressPolicy.hostOf(url);
  try {
    if (AddressPolicy.isLiteral(host) && !options.policy.allowsName(host)) options.policy.checkAddress(host);
  } catch {
    return result(null, "address_refused");
  }
  try {
    const status = await exchange(url, body, headers, options);
    return result(status, classOfStatus(status));
  } catch (error) {
    return result(null, classOfError(error));
  }
}

/** Sends, and resolves with the status once the answer ended, passed 4 KiB or the time ran out. */
function exchange(url: URL, body: string, headers: Record<string, string>, options: PostOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    const request = transport.request(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "consultation-video-api-webhooks/1" },
      // No agent given: a connection of its own (a pooled one would skip the check made at connect).
      agent: options.agent ?? false,
      lookup: checkingLookup(options) as never,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    request.on("socket", (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => request.destroy(new ConnectTimeout()), options.connectTimeoutMs ?? Math.min(5_000, options.timeoutMs));
      const clear = () => clearTimeout(timer);
      socket.once("connect", clear);
      socket.once("close", clear);
    });
    request.on("error", reject);
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      let read = 0;
      const done = () => resolve(status);
      response.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) {
          response.destroy();
          done();
        }
      });
      response.on("end", done);
      // The answer's status came in time; a body cut short by the timeout does not change it.
      response.on("error", done);
      response.on("close", done);
    });
    request.end(body);
  });
}

function classOfStatus(status: number): ErrorClass | null {
  if (status >= 200 && status < 300) return null;
  if (status === 410) return "gone";
  if (status >= 300 && status < 400) return "redirect";
  return "http_status";
}

function classOfError(error: unknown): ErrorClass {
  if (error instanceof ConnectTimeout) return "connect_timeout";
  const { name, code, cause } = error as { name?: string; code?: string; cause?: unknown };
  if (error instanceof AddressRefused || cause instanceof AddressRefused) return "address_refused";
  if (name === "AbortError" || name === "TimeoutError" || code === "ABORT_ERR") return "timeout";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "dns_error";
  if (code === "ECONNREFUSED") return "connection_refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "connection_reset";
  if (typeof code === "string" && /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)) return "tls_error";
  return "network_error";
}
