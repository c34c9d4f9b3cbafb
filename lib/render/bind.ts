/** BIND 9 configuration and zone rendering. Pure. */
import { createHash } from "node:crypto";

export interface ZoneSpec {
  /** Zone origin without the trailing dot, e.g. "hosts.pve". */
  readonly domain: string;
  /** Address the `ns` and wildcard records point to (the gateway). */
  readonly gatewayAddress: string;
  /** Default TTL. Defaults to "2d" (seed 000). */
  readonly ttl?: string;
  /** SOA timers (seed 000: refresh 12h, retry 15m, expire 3w, minimum 2h). */
  readonly refresh?: string;
  readonly retry?: string;
  readonly expire?: string;
  readonly minimum?: string;
  /** Mailbox of the zone's contact as a DNS name label, default "info" → info.<domain>. */
  readonly hostmaster?: string;
  /** Extra A records, name (relative) → address. Sorted on output. */
  readonly records?: Readonly<Record<string, string>>;
}

/**
 * SOA serial derived from the zone's content: it changes whenever any record or timer changes,
 * and is identical for identical content (so a preview of an unchanged stack shows no diff).
 * Range 1..2^31-1. kantai runs a single primary with no secondaries (see docs/decisions), so
 * serial arithmetic ordering (RFC 1982) is not needed for transfers.
 */
export function contentSerial(body: string): number {
  const h = createHash("sha256").update(body).digest();
  return (h.readUInt32BE(0) % 0x7ffffffe) + 1;
}

/** Render the zone file. The serial is computed from everything else in the file. */
export function renderZone(spec: ZoneSpec): string {
  const d = spec.domain.replace(/\.$/, "");
  const soaBody = (serial: string) =>
    [
      `$TTL ${spec.ttl ?? "2d"}`,
      `$ORIGIN ${d}.`,
      `@\tIN\tSOA\tns.${d}. ${spec.hostmaster ?? "info"}.${d}. (`,
      `\t\t${serial}\t; serial (hash of this zone's content)`,
      `\t\t${spec.refresh ?? "12h"}\t; refresh`,
      `\t\t${spec.retry ?? "15m"}\t; retry`,
      `\t\t${spec.expire ?? "3w"}\t; expire`,
      `\t\t${spec.minimum ?? "2h"}\t; minimum`,
      "\t)",
      `@\tIN\tNS\tns.${d}.`,
      `ns\tIN\tA\t${spec.gatewayAddress}`,
      ...Object.keys(spec.records ?? {})
        .sort()
        .map((k) => `${k}\tIN\tA\t${spec.records![k]}`),
      `*\tIN\tA\t${spec.gatewayAddress}`,
      "",
    ].join("\n");
  return soaBody(String(contentSerial(soaBody("SERIAL"))));
}

export interface NamedConfSpec {
  readonly domain: string;
  /** Path of the zone file on the server. */
  readonly zoneFile: string;
  /** Networks allowed to query and recurse (the ACL "internal"); "localhost" is always added. */
  readonly internalNetworks: readonly string[];
  /** Upstream resolvers. */
  readonly forwarders: readonly string[];
  /** Working directory. Defaults to "/var/cache/bind". */
  readonly directory?: string;
  /** Addresses to listen on. Defaults to ["any"]. */
  readonly listenOn?: readonly string[];
  /** Port. Defaults to 53. */
  readonly port?: number;
}

/** A complete named.conf: ACL `internal`, options with forwarders, the master zone. */
export function renderNamedConf(spec: NamedConfSpec): string {
  const list = (xs: readonly string[]) => xs.map((x) => `${x};`).join(" ");
  return [
    "// Rendered by kantai. Changes here are overwritten on the next `pulumi up`.",
    "acl internal {",
    ...spec.internalNetworks.map((n) => `\t${n};`),
    "\tlocalhost;",
    "};",
    "",
    "options {",
    `\tdirectory "${spec.directory ?? "/var/cache/bind"}";`,
    `\tlisten-on port ${spec.port ?? 53} { ${list(spec.listenOn ?? ["any"])} };`,
    "\tlisten-on-v6 { none; };",
    "\tallow-query { internal; };",
    "\tallow-recursion { internal; };",
    "\tallow-transfer { none; };",
    `\tforwarders { ${list(spec.forwarders)} };`,
    "\tdnssec-validation auto;",
    "};",
    "",
    `zone "${spec.domain}" {`,
    "\ttype master;",
    `\tfile "${spec.zoneFile}";`,
    "\tnotify no;",
    "};",
    "",
  ].join("\n");
}
