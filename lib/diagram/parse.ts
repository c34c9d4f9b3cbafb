/**
 * Small readers for the rendered files a topology is drawn from: Caddyfiles (site addresses →
 * upstreams) and BIND zone files (names → addresses). Only what the diagram needs; no @pulumi.
 */

/** One Caddy site block: its addresses (scheme and port dropped) and where it sends requests. */
export interface CaddySite {
  readonly addresses: readonly string[];
  /** `host:port` upstreams of `reverse_proxy`, in file order. */
  readonly upstreams: readonly string[];
  /** True when the site answers itself (`respond`, `file_server`, `static_response`). */
  readonly responds: boolean;
}

const stripAddress = (a: string): string =>
  a
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .replace(/:\d+$/, "");

/** The site blocks of a Caddyfile (the global options block and snippets are skipped). */
export function parseCaddyfile(text: string): CaddySite[] {
  const sites: CaddySite[] = [];
  const lines = text.split("\n").map((l) => l.replace(/(^|\s)#.*$/, "").trim());
  let depth = 0;
  let current: { addresses: string[]; upstreams: string[]; responds: boolean } | undefined;
  for (const line of lines) {
    if (line === "") continue;
    const opens = (line.match(/\{/g) ?? []).length;
    const closes = (line.match(/\}/g) ?? []).length;
    if (depth === 0 && opens > 0) {
      const head = line.slice(0, line.indexOf("{")).trim();
      if (head !== "" && !head.startsWith("(")) {
        current = {
          addresses: head
            .split(/[\s,]+/)
            .filter(Boolean)
            .map(stripAddress),
          upstreams: [],
          responds: false,
        };
        sites.push(current);
      } else {
        current = undefined;
      }
    } else if (depth === 1 && current) {
      const [directive, ...args] = line.replace(/\{.*$/, "").trim().split(/\s+/);
      if (directive === "reverse_proxy") {
        for (const a of args)
          if (!a.startsWith("/") && !a.startsWith("@") && a !== "*")
            current.upstreams.push(a.replace(/^[a-z]+:\/\//i, ""));
      } else if (["respond", "file_server", "static_response"].includes(directive)) {
        current.responds = true;
      }
    }
    depth += opens - closes;
    if (depth === 0) current = undefined;
  }
  return sites;
}

/** A BIND zone's address records, names fully qualified without the trailing dot. */
export interface Zone {
  readonly origin: string;
  readonly records: readonly { readonly name: string; readonly type: "A" | "CNAME"; readonly value: string }[];
}

/** Parse `$ORIGIN` and the A/CNAME records of a zone file (SOA and other types are skipped). */
export function parseZone(text: string): Zone {
  const origin = /^\$ORIGIN\s+(\S+?)\.?\s*$/m.exec(text)?.[1];
  if (!origin) throw new Error("zone file has no $ORIGIN");
  const fq = (n: string) => (n === "@" ? origin : n.endsWith(".") ? n.slice(0, -1) : `${n}.${origin}`);
  const records: { name: string; type: "A" | "CNAME"; value: string }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/;.*$/, "").trim();
    const m = /^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?(A|CNAME)\s+(\S+)$/.exec(line);
    if (m) records.push({ name: fq(m[1]), type: m[2] as "A" | "CNAME", value: m[2] === "CNAME" ? fq(m[3]) : m[3] });
  }
  return { origin, records };
}

/** Resolve a name to an IPv4 address through the zones (exact name, then the closest wildcard; CNAMEs followed). */
export function resolveName(zones: readonly Zone[], name: string, depth = 0): string | undefined {
  if (depth > 8) return undefined;
  const records = zones.flatMap((z) => z.records);
  const pick = (n: string) => records.find((r) => r.name === n);
  let hit = pick(name);
  if (!hit) {
    const labels = name.split(".");
    for (let i = 1; i < labels.length && !hit; i++) {
      const parent = labels.slice(i).join(".");
      if (!zones.some((z) => parent === z.origin || parent.endsWith(`.${z.origin}`))) break;
      hit = pick(`*.${parent}`);
    }
  }
  if (!hit) return undefined;
  return hit.type === "A" ? hit.value : resolveName(zones, hit.value, depth + 1);
}
