/**
 * One POST to a partner (src/partners/partner-http.ts) against real servers on loopback: the
 * address is checked when the socket connects, with the name resolved then (a name that
 * resolved to a public address when the endpoint was saved and to loopback now is refused:
 * DNS rebinding), and the answer is read no further than needed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressPolicy } from "../../src/partners/address-policy.js";
import { checkedUrl } from "../../src/partners/partner-endpoint.validation.js";
import { postWebhook, type Resolve } from "../../src/partners/partner-http.js";
import { startReceiver, type Receiver } from "../support/partner-receiver.js";

let receiver: Receiver;
let endless: Server;
let endlessPort: number;

beforeAll(async () => {
  receiver = await startReceiver();
  endless = createServer((_request, response) => {
    response.writeHead(200);
    const pump = () => {
      while (response.write(Buffer.alloc(16_384, 120)));
      response.once("drain", pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => endless.listen(0, "127.0.0.1", resolve));
  endlessPort = (endless.address() as AddressInfo).port;
});

afterAll(async () => {
  await receiver.close();
  endless.closeAllConnections();
  await new Promise((resolve) => endless.close(resolve));
});

const open = new AddressPolicy({ allowHttp: true, allowHosts: [] });
const post = (url: string, resolve: Resolve, policy = open, timeoutMs = 5_000) => postWebhook(new URL(url), "{}", {}, { policy, resolve, timeoutMs });

describe("a partner's name", () => {
  it("is resolved and checked when the socket connects, so rebinding it to loopback gets nowhere", async () => {
    let address = "93.184.216.34";
    const rebinding: Resolve = async () => [{ address, family: 4 }];
    const url = `http://partner.example:${receiver.port}/hooks`;
    await expect(checkedUrl(open, rebinding, url, "input.url")).resolves.toBe(url);
    address = "127.0.0.1";
    expect(await post(url, rebinding)).toMatchObject({ ok: false, statusCode: null, errorClass: "address_refused" });
    expect(receiver.received).toEqual([]);
    // The same connection, with loopback allow-listed: it is the resolved address that was dialled.
    const allowed = new AddressPolicy({ allowHttp: true, allowHosts: ["127.0.0.1"] });
    expect(await post(url, rebinding, allowed)).toMatchObject({ ok: true, statusCode: 204, errorClass: null });
    expect(receiver.received).toHaveLength(1);
  });

  it("is refused when any of its addresses is not public", async () => {
    const mixed: Resolve = async () => [{ address: "93.184.216.34", family: 4 }, { address: "10.0.0.7", family: 4 }];
    await expect(checkedUrl(open, mixed, "https://partner.example/", "input.url")).rejects.toMatchObject({ code: "BAD_USER_INPUT", details: { field: "input.url" } });
    expect(await post(`http://partner.example:${receiver.port}/`, mixed)).toMatchObject({ errorClass: "address_refused" });
  });

  it("that does not resolve is a dns error at delivery, and refused at creation", async () => {
    const nowhere: Resolve = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    await expect(checkedUrl(open, nowhere, "https://nowhere.example/", "input.url")).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await post(`http://nowhere.example:${receiver.port}/`, nowhere)).toMatchObject({ errorClass: "dns_error" });
  });
});

describe("the answer", () => {
  const loopback = new AddressPolicy({ allowHttp: true, allowHosts: ["127.0.0.1"] });
  const system: Resolve = async (host) => [{ address: host, family: 4 }];

  it("is not read past a few KiB: an endless 200 is a success, at once", async () => {
    expect(await post(`http://127.0.0.1:${endlessPort}/`, system, loopback, 60_000)).toMatchObject({ ok: true, statusCode: 200 });
  });

  it("must come within the timeout", async () => {
    receiver.answer = () => "hang";
    expect(await post(`http://127.0.0.1:${receiver.port}/`, system, loopback, 300)).toMatchObject({ ok: false, statusCode: null, errorClass: "timeout" });
    receiver.release(204);
    receiver.answer = () => ({ status: 204 });
  });

  it("tells a refused connection and a 410 apart", async () => {
    const closed = await startReceiver();
    await closed.close();
    expect(await post(`http://127.0.0.1:${closed.port}/`, system, loopback)).toMatchObject({ errorClass: "connection_refused" });
    receiver.answer = () => ({ status: 410 });
    expect(await post(`http://127.0.0.1:${receiver.port}/`, system, loopback)).toMatchObject({ ok: false, statusCode: 410, errorClass: "gone" });
    receiver.answer = () => ({ status: 204 });
  });
});
