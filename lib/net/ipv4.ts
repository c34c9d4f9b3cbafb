/**
 * IPv4 address planning helpers on top of ipaddr.js. Pure: no Pulumi, no I/O.
 */
import * as ipaddr from "ipaddr.js";

/** A parsed IPv4 subnet. */
export interface Ipv4Subnet {
  /** The CIDR as the user wrote it, e.g. "10.0.0.0/24". */
  readonly cidr: string;
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  /** Prefix length, 0..32. */
  readonly prefix: number;
  /** Broadcast address as an unsigned 32-bit integer. */
  readonly broadcast: number;
}

/** True when `s` is a dotted-quad IPv4 address with four decimal parts. */
export function isIpv4(s: string): boolean {
  return typeof s === "string" && ipaddr.IPv4.isValidFourPartDecimal(s);
}

/** Address → unsigned 32-bit integer. Throws on anything but a dotted quad. */
export function ipToInt(ip: string): number {
  if (!isIpv4(ip)) throw new Error(`"${ip}" is not an IPv4 address`);
  const b = ipaddr.IPv4.parse(ip).toByteArray();
  return ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
}

/** Unsigned 32-bit integer → dotted quad. */
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/**
 * Parse "a.b.c.d/p". Host bits may be set ("10.0.0.1/24" is the subnet 10.0.0.0/24).
 * Returns undefined when the string is not an IPv4 CIDR.
 */
export function parseSubnet(cidr: string): Ipv4Subnet | undefined {
  if (typeof cidr !== "string") return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || !isIpv4(m[1])) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ipToInt(m[1]) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { cidr, network, prefix, broadcast };
}

/** True when `ip` lies inside `subnet` (network and broadcast included). */
export function subnetContains(subnet: Ipv4Subnet, ip: string): boolean {
  if (!isIpv4(ip)) return false;
  const n = ipToInt(ip);
  return n >= subnet.network && n <= subnet.broadcast;
}

/** True when `ip` is a usable host address of `subnet` (not network, not broadcast, for prefixes < 31). */
export function isHostAddress(subnet: Ipv4Subnet, ip: string): boolean {
  if (!subnetContains(subnet, ip)) return false;
  if (subnet.prefix >= 31) return true;
  const n = ipToInt(ip);
  return n !== subnet.network && n !== subnet.broadcast;
}

/** The canonical network CIDR of a subnet, e.g. "10.0.0.0/24". */
export function networkCidr(subnet: Ipv4Subnet): string {
  return `${intToIp(subnet.network)}/${subnet.prefix}`;
}

/** The last usable host address of a subnet. */
export function lastHost(subnet: Ipv4Subnet): number {
  return subnet.prefix >= 31 ? subnet.broadcast : subnet.broadcast - 1;
}
