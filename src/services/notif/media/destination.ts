/**
 * Where a webhook written in a pipeline may be delivered: only to public unicast addresses, or to
 * the networks the deployment allows (`inline.allow`). The check runs on the addresses the name
 * resolves to, inside the connection's own lookup, so the address checked is the address connected
 * to (a name that re-resolves elsewhere between check and connection gains nothing).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
export type Network = [Address, number];

/** Parses a CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address; undefined if it is neither. */
export function parseNetwork(text: string): Network | undefined {
  const [address = '', bits] = text.split('/', 2);
  // Only the usual forms: ipaddr.js would also read `10.0.0` or octal parts as IPv4.
  if (!ipaddr.IPv4.isValidFourPartDecimal(address) && !ipaddr.IPv6.isValid(address))
    return undefined;
  try {
    if (bits !== undefined) return ipaddr.parseCIDR(text);
    const parsed = ipaddr.parse(address);
    return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

/**
 * Whether an address may be reached: a public unicast address (ipaddr.js's `unicast` range, so
 * loopback, private, link-local, unique-local, carrier-grade NAT, multicast, reserved and the
 * IPv6 forms that embed an IPv4 address are not), or one inside an allowed network.
 */
export function addressAllowed(text: string, allow: readonly Network[]): boolean {
  if (!ipaddr.isValid(text)) return false;
  // `::ffff:10.0.0.1` is 10.0.0.1.
  const address = ipaddr.process(text);
  if (address.range() === 'unicast') return true;
  return allow.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits));
}

/** A destination refused by the policy; its message names the address for the operator's log. */
export class RefusedDestination extends Error {
  override readonly name = 'RefusedDestination';
  readonly code = 'ECHAINRREFUSED';
}

/**
 * A `lookup` for net.connect that resolves the name and refuses it unless every address it
 * resolves to is allowed (a name mixing public and internal addresses is refused, not filtered).
 */
export function guardedLookup(allow: readonly Network[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { family: options.family ?? 0, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !addressAllowed(a.address, allow));
      if (refused || addresses.length === 0) {
        const error = new RefusedDestination(
          `${hostname} resolves to ${refused?.address ?? 'no address'}, which webhooks defined in pipelines may not reach`,
        );
        return callback(error, '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/** The policy of pipeline-defined webhooks: the networks allowed beyond public addresses. */
export class DestinationPolicy {
  /** The HTTP agent of such webhooks: every connection's address goes through the policy. */
  readonly dispatcher: Agent;

  constructor(private readonly allow: readonly Network[]) {
    this.dispatcher = new Agent({ connect: { lookup: guardedLookup(allow) } });
  }

  /** Refuses a URL whose host is a literal address outside the policy (no lookup happens then). */
  checkLiteralHost(url: string): void {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0 && !addressAllowed(host, this.allow))
      throw new RefusedDestination(`${host} may not be reached by webhooks defined in pipelines`);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
