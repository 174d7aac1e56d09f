/**
 * Where a webhook may be sent. Any member with the ADMIN role of any organization adds webhook URLs, so a gateway
 * that serves the network must not POST to its own loopback, its private network or a cloud metadata address on
 * their behalf (server-side request forgery). Private destinations are allowed only when the operator says so, by
 * default when the gateway itself is bound to loopback (a development stack). The check resolves the host name
 * before each attempt; a name that resolves elsewhere between this check and the connection is not caught.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const privateRanges = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv6');
}

/** Loopback, private, link-local (metadata), carrier-grade NAT, multicast or unspecified. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return privateRanges.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return privateRanges.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type Lookup = (hostname: string) => Promise<string[]>;

const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** Null when `url` may be posted to, else why not (a private address it names or resolves to). */
export async function refusedDestination(url: string, lookup: Lookup = systemLookup): Promise<string | null> {
  const hostname = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(hostname) ? [hostname] : await lookup(hostname);
  const refused = addresses.find(isPrivateAddress);
  return refused === undefined ? null : `destination not allowed: ${hostname} is a private address (${refused})`;
}
