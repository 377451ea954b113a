import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Keeps server-side downloads on the public internet: only plain public unicast addresses pass.
 * Every special-use range ipaddr.js knows (loopback, private, link-local, carrier-grade NAT,
 * multicast, documentation, benchmarking, …) is refused, in both families, and so are IPv6 forms
 * that carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo), because the host behind them may
 * be a private one. Checked on the resolved address at connect time, so a public name that
 * resolves to a private address (DNS rebinding) is refused too.
 */

/**
 * RFC 4291 §2.4: global unicast is 2000::/3. Outside it is reserved or special space ipaddr.js
 * calls plain `unicast` for want of a name, such as IPv4-compatible `::/96` and `fec0::/10`.
 */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/** Why an address is refused (its special-use range), or undefined for a public unicast one. */
export function specialRangeOf(address: string): string | undefined {
  if (isIP(address) === 0 || !ipaddr.isValid(address)) return 'not an IP address';
  const parsed = ipaddr.parse(address);
  const range = parsed.range();
  if (range !== 'unicast') return range;
  if (parsed.kind() === 'ipv6' && !parsed.match(GLOBAL_UNICAST_V6)) return 'reserved';
  return undefined;
}

export function isPrivateAddress(address: string): boolean {
  return specialRangeOf(address) !== undefined;
}

/** True when the URL's host is an IP literal that is not public (lookup is skipped for those). */
export function hasPrivateHostLiteral(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) !== 0 && isPrivateAddress(host);
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for net/tls connect options that fails for addresses that are not public. */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const allowed = addresses.filter((entry) => !isPrivateAddress(entry.address));
    if (allowed.length === 0) {
      const ranges = [...new Set(addresses.map((entry) => specialRangeOf(entry.address)))].join(', ');
      const refusal: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to a non-public address (${ranges})`,
      );
      refusal.code = 'EPRIVATEADDRESS';
      return callback(refusal, []);
    }
    if (options.all) return callback(null, allowed);
    const first = allowed[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
}
