/**
 * The loopback mapping: ONE documented rewrite of synth's rendered data-plane files (named.conf,
 * the zone, the root Caddyfile, the load balancer's Caddyfile) so the same files run as real
 * processes on 127.0.0.1 — for the end-to-end test and `scripts/fleet-local.ts`. Templates are
 * never edited for the test: the renderers' output goes in, the mapped text comes out.
 *
 * Every address the data plane listens on or dials is an "endpoint" `ip:port` of a machine in the
 * fleet (the gateway's :80, kenobi-6's :80, kenobi-k's :3000); each maps to one loopback port.
 * Any upstream not run locally (grogu's 10.0.0.10:80) goes to a closed loopback port, so nothing
 * ever dials a 10.x address. The zone is not rewritten: names still resolve to the gateway's real
 * address, and a client turns (answer, 80) into the loopback endpoint with `resolveEndpoint`.
 *
 * Pure: no I/O. See docs/reference/e2e-mapping.md.
 */
import * as path from "node:path";

export const LOOPBACK = "127.0.0.1";

/** The subset of synth's outputs.json the mapping needs (stacks/outputs.ts HomelabOutputs). */
export interface MappingOutputs {
  readonly domain: string;
  /** The gateway: BIND and the root proxy (outputs.nameserver). */
  readonly nameserver: string;
  readonly fleet?: {
    readonly instances: readonly { readonly name: string; readonly ip: string }[];
    readonly loadBalancer: { readonly name: string; readonly ip: string };
  };
}

/** Loopback ports, one per role; the caller allocates free ones. */
export interface LoopbackPorts {
  /** named (UDP and TCP). */
  readonly dns: number;
  /** The gateway's root proxy (its :80). */
  readonly gateway: number;
  /** The load balancer's Caddy (kenobi-6's :80). */
  readonly loadBalancer: number;
  /** One per web instance, in instance order. */
  readonly instances: readonly number[];
  /** A port nothing listens on: every upstream the local data plane does not run. */
  readonly unreachable: number;
}

export interface LoopbackMapping {
  /** Directory holding named's working files, zone, pid file (replaces /var/cache/bind, /var/lib/bind). */
  readonly workDir: string;
  readonly dnsPort: number;
  /** Real endpoint "ip:port" → loopback port. */
  readonly endpoints: Readonly<Record<string, number>>;
  /** Loopback port for upstreams outside `endpoints`. */
  readonly unreachablePort: number;
  /** The gateway's real address (what the zone answers). */
  readonly gateway: string;
  /** The load balancer's real address. */
  readonly loadBalancer: string;
  /** Web instances in order: name, real endpoint, loopback port. */
  readonly instances: readonly { readonly name: string; readonly endpoint: string; readonly port: number }[];
}

export class MappingError extends Error {
  constructor(message: string) {
    super(`loopback mapping: ${message}`);
    this.name = "MappingError";
  }
}

/** Build the mapping from synth's outputs, the web service port and allocated loopback ports. */
export function planMapping(
  outputs: MappingOutputs,
  webPort: number,
  ports: LoopbackPorts,
  workDir: string,
): LoopbackMapping {
  if (!outputs.fleet) throw new MappingError("the stack has no conventional fleet (outputs.fleet is missing)");
  const fleet = outputs.fleet;
  if (ports.instances.length !== fleet.instances.length) {
    throw new MappingError(
      `${fleet.instances.length} instances need ${fleet.instances.length} ports, got ${ports.instances.length}`,
    );
  }
  if (!path.isAbsolute(workDir)) throw new MappingError(`workDir must be absolute, got ${JSON.stringify(workDir)}`);
  const all = [ports.dns, ports.gateway, ports.loadBalancer, ports.unreachable, ...ports.instances];
  for (const p of all) {
    if (!Number.isInteger(p) || p < 1024 || p > 65535)
      throw new MappingError(`port ${p} is not an unprivileged port (1024-65535)`);
  }
  if (new Set(all).size !== all.length) throw new MappingError(`ports must be distinct, got ${all.join(", ")}`);
  const endpoints: Record<string, number> = {
    [`${outputs.nameserver}:80`]: ports.gateway,
    [`${fleet.loadBalancer.ip}:80`]: ports.loadBalancer,
  };
  const instances = fleet.instances.map((inst, i) => {
    const endpoint = `${inst.ip}:${webPort}`;
    endpoints[endpoint] = ports.instances[i];
    return { name: inst.name, endpoint, port: ports.instances[i] };
  });
  return {
    workDir,
    dnsPort: ports.dns,
    endpoints,
    unreachablePort: ports.unreachable,
    gateway: outputs.nameserver,
    loadBalancer: fleet.loadBalancer.ip,
    instances,
  };
}

/** Where a client reaches `ip:port` on loopback; throws for an endpoint the data plane does not run. */
export function resolveEndpoint(m: LoopbackMapping, ip: string, port: number): { host: string; port: number } {
  const p = m.endpoints[`${ip}:${port}`];
  if (p === undefined) throw new MappingError(`no loopback endpoint for ${ip}:${port}`);
  return { host: LOOPBACK, port: p };
}

/** Replace exactly one match of `re` (a rendered line the mapping relies on) or fail loudly. */
function replaceOnce(text: string, re: RegExp, by: string | ((...m: string[]) => string), what: string): string {
  const n = (text.match(new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g")) ?? []).length;
  if (n !== 1) throw new MappingError(`expected exactly one ${what}, found ${n}`);
  return text.replace(re, by as never);
}

/**
 * named.conf: listen on 127.0.0.1 at the DNS port, working directory and zone files in workDir,
 * pid/session/managed-keys files there too, no rndc control channel, and no egress: recursion,
 * forwarding and DNSSEC validation (whose trust-anchor refresh queries the root servers) are off.
 * The ACL and the zone are unchanged.
 */
export function mapNamedConf(text: string, m: LoopbackMapping): string {
  const q = (p: string) => JSON.stringify(p);
  let out = replaceOnce(
    text,
    /^\tdirectory "[^"]*";$/m,
    () =>
      [
        `\tdirectory ${q(m.workDir)};`,
        `\tpid-file ${q(path.join(m.workDir, "named.pid"))};`,
        `\tsession-keyfile ${q(path.join(m.workDir, "session.key"))};`,
        `\tmanaged-keys-directory ${q(m.workDir)};`,
      ].join("\n"),
    "directory option",
  );
  out = replaceOnce(
    out,
    /^\tlisten-on port \d+ \{[^}]*\};$/m,
    () => `\tlisten-on port ${m.dnsPort} { ${LOOPBACK}; };`,
    "listen-on option",
  );
  out = replaceOnce(out, /^\tallow-recursion \{[^}]*\};$/m, () => "\trecursion no;", "allow-recursion option");
  out = replaceOnce(out, /^\tforwarders \{[^}]*\};\n/m, "", "forwarders option");
  out = replaceOnce(out, /^\tdnssec-validation \w+;$/m, () => "\tdnssec-validation no;", "dnssec-validation option");
  const zones = [...out.matchAll(/^\tfile "([^"]+)";$/gm)];
  if (zones.length === 0) throw new MappingError("expected at least one zone file, found 0");
  out = out.replace(
    /^\tfile "([^"]+)";$/gm,
    (_l, f: string) => `\tfile ${q(path.join(m.workDir, path.posix.basename(f)))};`,
  );
  return `controls { };\n${out}`;
}

/** Zone file names named.conf refers to, by basename (the files to copy into workDir). */
export function zoneFiles(namedConf: string): string[] {
  return [...namedConf.matchAll(/^\tfile "([^"]+)";$/gm)].map((x) => path.posix.basename(x[1]));
}

/** Map every `reverse_proxy` upstream: known endpoints → their loopback port, others → unreachable. */
function mapUpstreams(text: string, m: LoopbackMapping): string {
  return text.replace(
    /^(\s*reverse_proxy )([^{\n]+?)( \{)?$/gm,
    (_l, head: string, list: string, brace: string | undefined) => {
      const mapped = list
        .trim()
        .split(/\s+/)
        .map((u) => {
          const hp = /^(?:https?:\/\/)?([\d.]+|\[[^\]]+\]|[\w.-]+):(\d+)$/.exec(u);
          if (!hp) throw new MappingError(`upstream ${JSON.stringify(u)} has no host:port`);
          const port = m.endpoints[`${hp[1]}:${hp[2]}`] ?? m.unreachablePort;
          return `${LOOPBACK}:${port}`;
        });
      return `${head}${mapped.join(" ")}${brace ?? ""}`;
    },
  );
}

/** Caddyfile: bind every site to 127.0.0.1 at the machine's mapped HTTP port; map upstreams. */
function mapCaddyfile(text: string, m: LoopbackMapping, self: string, what: string): string {
  const port = m.endpoints[`${self}:80`];
  if (port === undefined) throw new MappingError(`no loopback endpoint for the ${what} (${self}:80)`);
  const explicit = /^https?:\/\/\S+:\d+ \{$/m.exec(text);
  if (explicit)
    throw new MappingError(
      `site ${JSON.stringify(explicit[0].slice(0, -2))} has an explicit port; the mapping moves only :80 sites`,
    );
  if (/^https:\/\//m.test(text)) throw new MappingError("HTTPS sites are not mapped");
  const out = replaceOnce(
    text,
    /^\{\n\tadmin off\n/,
    () => `{\n\tadmin off\n\thttp_port ${port}\n\tdefault_bind ${LOOPBACK}\n`,
    "global options block starting with `admin off`",
  );
  return mapUpstreams(out, m);
}

/** The root proxy (runs on the gateway). */
export function mapRootCaddyfile(text: string, m: LoopbackMapping): string {
  return mapCaddyfile(text, m, m.gateway, "gateway's root proxy");
}

/** The load balancer (runs on kenobi-6). */
export function mapLoadBalancerCaddyfile(text: string, m: LoopbackMapping): string {
  return mapCaddyfile(text, m, m.loadBalancer, "load balancer");
}

/** Every dial target in a mapped Caddyfile; the e2e asserts they are all loopback. */
export function caddyUpstreams(text: string): string[] {
  return [...text.matchAll(/^\s*reverse_proxy ([^{\n]+?)(?: \{)?$/gm)].flatMap((x) => x[1].trim().split(/\s+/));
}
