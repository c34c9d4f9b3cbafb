/**
 * CoreDNS configuration for public names that must resolve inside the cluster (seed 003: apps
 * reach each other by `<app>.<public zone>`, which outside goes through the Cloudflare tunnel).
 * The rewrite rules only work inside the server block that also runs the `kubernetes` plugin:
 * seed 003's README put them in a block of their own, where they resolve nothing. Pure.
 */

export interface DnsRewrite {
  /** Public name, e.g. "blog.example.com". */
  readonly from: string;
  /** In-cluster name, e.g. "blog.default.svc.cluster.local". */
  readonly to: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Rewrite rules, one `rewrite stop { … }` per name: the query name is rewritten to the service's
 * name, and the answer's name back to the public one (clients see the name they asked for).
 * `indent` is the indentation of the `rewrite` line.
 */
export function renderRewriteRules(rewrites: readonly DnsRewrite[], indent = "    "): string {
  return rewrites
    .map((r) =>
      [
        `${indent}rewrite stop {`,
        `${indent}    name regex ^${escape(r.from)}\\.$ ${r.to}.`,
        `${indent}    answer name ^${escape(r.to)}\\.$ ${r.from}.`,
        `${indent}}`,
      ].join("\n"),
    )
    .join("\n");
}

export interface CorefileSpec {
  /** Rewrites merged into the main (`.:53`) server block. */
  readonly rewrites: readonly DnsRewrite[];
  /** Cluster domain. Defaults to "cluster.local". */
  readonly clusterDomain?: string;
  /** Upstream for everything else. Defaults to "/etc/resolv.conf". */
  readonly upstream?: string;
  /** K3s' NodeHosts file block and custom imports (K3s' stock Corefile). Defaults to true. */
  readonly k3s?: boolean;
}

/**
 * A complete Corefile: the stock K3s/kubeadm main server block with the rewrite rules inside it.
 * On K3s the same rules go in the `coredns-custom` ConfigMap as `*.override`, which K3s imports
 * into this very block; this renders the effective result.
 */
export function renderCorefile(spec: CorefileSpec): string {
  const domain = spec.clusterDomain ?? "cluster.local";
  const k3s = spec.k3s ?? true;
  const lines = [".:53 {", "    errors", "    health {", "        lameduck 5s", "    }", "    ready"];
  if (spec.rewrites.length > 0) lines.push(renderRewriteRules(spec.rewrites));
  lines.push(
    `    kubernetes ${domain} in-addr.arpa ip6.arpa {`,
    "        pods insecure",
    "        fallthrough in-addr.arpa ip6.arpa",
    "        ttl 30",
    "    }",
  );
  if (k3s) {
    lines.push(
      "    hosts /etc/coredns/NodeHosts {",
      "        ttl 60",
      "        reload 15s",
      "        fallthrough",
      "    }",
    );
  }
  lines.push(
    "    prometheus :9153",
    `    forward . ${spec.upstream ?? "/etc/resolv.conf"}`,
    "    cache 30",
    "    loop",
    "    reload",
    "    loadbalance",
  );
  if (k3s) lines.push("    import /etc/coredns/custom/*.override");
  lines.push("}");
  if (k3s) lines.push("import /etc/coredns/custom/*.server");
  return lines.join("\n") + "\n";
}

/** One server block of a parsed Corefile: its keys and its directives (nested blocks flattened to their first line). */
export interface ServerBlock {
  readonly keys: string[];
  readonly directives: string[][];
}

/**
 * Parse a Corefile into server blocks (Caddyfile syntax: `keys { directive args { … } }`,
 * top-level `import` lines). Throws on unbalanced braces or a directive outside a block.
 */
export function parseCorefile(text: string): { blocks: ServerBlock[]; imports: string[] } {
  const blocks: ServerBlock[] = [];
  const imports: string[] = [];
  let depth = 0;
  let current: ServerBlock | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const words = line.split(/\s+/);
    if (line === "}") {
      if (depth === 0) throw new Error(`line ${i + 1}: unbalanced "}"`);
      depth -= 1;
      if (depth === 0) current = undefined;
      return;
    }
    const opens = words[words.length - 1] === "{";
    const body = opens ? words.slice(0, -1) : words;
    if (depth === 0) {
      if (!opens) {
        if (body[0] === "import") imports.push(body.slice(1).join(" "));
        else throw new Error(`line ${i + 1}: "${line}" outside a server block`);
        return;
      }
      current = { keys: body, directives: [] };
      blocks.push(current);
      depth = 1;
      return;
    }
    if (depth === 1) current!.directives.push(body);
    if (opens) depth += 1;
  });
  if (depth !== 0) throw new Error(`unbalanced braces: ${depth} block(s) left open`);
  return { blocks, imports };
}
