/**
 * Where partner webhooks may go (SSRF): `https:` URLs (`http:` only when allowed), no
 * credentials in them, and only public unicast addresses, as ipaddr.js classifies them
 * (its "unicast": not loopback, private, link-local — the cloud metadata address
 * 169.254.169.254 among them —, carrier-grade NAT, unique-local, multicast, reserved, nor
 * an IPv6 form that embeds an IPv4 address, which is judged as that address). Hosts, addresses
 * and ranges in PARTNER_WEBHOOKS_ALLOW_HOSTS pass anyway (tests, private deployments).
 *
 * The URL is checked when an endpoint is saved (`checkUrl`, with its name resolved) and the
 * address again at every connection (`partner-http.ts`), so a name that later resolves
 * elsewhere (DNS rebinding) is refused there.
 */
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

export interface AddressPolicySettings {
  allowHttp: boolean;
  /** Host names, IP addresses or CIDR ranges. */
  allowHosts: readonly string[];
}

/** A URL or an address partner webhooks may not reach; the message is safe to show an admin. */
export class AddressRefused extends Error {
  override readonly name = "AddressRefused";
}

export class AddressPolicy {
  readonly #names = new Set<string>();
  readonly #ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];

  constructor(private readonly settings: AddressPolicySettings) {
    for (const entry of settings.allowHosts) {
      const text = entry.toLowerCase().replace(/^\[(.*)\]$/, "$1");
      if (text.includes("/") && isRange(text)) this.#ranges.push(ipaddr.parseCIDR(text));
      else if (ipaddr.isValid(text)) {
        const address = ipaddr.process(text);
        this.#ranges.push([address, address.kind() === "ipv4" ? 32 : 128]);
      } else this.#names.add(text);
    }
  }

  /**
   * The URL, parsed, when its form may be sent to: scheme, no credentials, a host. Addresses
   * are not looked at here (`checkAddress`, once resolved). Throws AddressRefused.
   */
  parseUrl(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new AddressRefused("is not a URL");
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && this.settings.allowHttp)) {
      throw new AddressRefused(this.settings.allowHttp ? "must be an http(s) URL" : "must be an https URL");
    }
    if (url.username || url.password) throw new AddressRefused("may not carry credentials");
    if (!url.hostname) throw new AddressRefused("has no host");
    return url;
  }

  /** The URL's host without IPv6 brackets, lower-cased. */
  static hostOf(url: URL): string {
    return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  }

  /** True when the host is allow-listed by name: its addresses are not checked. */
  allowsName(host: string): boolean {
    return this.#names.has(host.toLowerCase());
  }

  /** Throws AddressRefused unless the address is public unicast or allow-listed. */
  checkAddress(text: string): void {
    if (!ipaddr.isValid(text)) throw new AddressRefused("resolves to something that is not an IP address");
    const address = ipaddr.process(text);
    if (this.#ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits))) return;
    const range = address.range();
    if (range !== "unicast") throw new AddressRefused(`resolves to a ${range} address`);
  }

  /** Whether the host is an IP literal (checked as is; no resolution happens for it). */
  static isLiteral(host: string): boolean {
    return isIP(host) !== 0;
  }
}

function isRange(text: string): boolean {
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}
