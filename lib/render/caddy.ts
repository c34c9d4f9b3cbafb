/** Caddyfile rendering for the fleet's load balancer and the root reverse proxy. Pure. */
import { numberWord } from "./dnsName";

export interface LoadBalancerSpec {
  /** Base domain, e.g. "hosts.pve". Sites are `<word>.standalone.<domain>`. */
  readonly domain: string;
  /** Sub-domain label of the fleet. Defaults to "standalone" (seed 000). */
  readonly label?: string;
  /** Backends as "ip:port", in instance order. Site k proxies to the first k. */
  readonly backends: readonly string[];
  /** Active health-check path on the backends. Defaults to "/healthz". */
  readonly healthPath?: string;
  /** Active health-check interval (Caddy duration). Defaults to "1s". */
  readonly healthInterval?: string;
  /** How long Caddy retries other backends for one request when one fails. Defaults to "5s". */
  readonly tryDuration?: string;
  /** Port the sites listen on. Defaults to 80. */
  readonly listenPort?: number;
}

/** Site names for a fleet of `n`: ["one", "two", …]. */
export function siteWords(n: number): string[] {
  return Array.from({ length: n }, (_, i) => numberWord(i + 1));
}

function site(host: string, port: number): string {
  return port === 80 ? `http://${host}` : `http://${host}:${port}`;
}

/**
 * The load balancer's Caddyfile: one site per instance count (`one…N.<label>.<domain>`),
 * site k proxying to the first k backends with `lb_policy least_conn`, active health checks
 * so a dead backend leaves the rotation, and retries so in-flight requests fail over.
 */
export function renderLoadBalancerCaddyfile(spec: LoadBalancerSpec): string {
  const label = spec.label ?? "standalone";
  const port = spec.listenPort ?? 80;
  const lines: string[] = ["{", "\tadmin off", "}", ""];
  siteWords(spec.backends.length).forEach((word, i) => {
    lines.push(
      `${site(`${word}.${label}.${spec.domain}`, port)} {`,
      `\treverse_proxy ${spec.backends.slice(0, i + 1).join(" ")} {`,
      "\t\tlb_policy least_conn",
      `\t\tlb_try_duration ${spec.tryDuration ?? "5s"}`,
      "\t\tlb_try_interval 100ms",
      `\t\thealth_uri ${spec.healthPath ?? "/healthz"}`,
      `\t\thealth_interval ${spec.healthInterval ?? "1s"}`,
      "\t\thealth_timeout 1s",
      "\t\tfail_duration 10s",
      "\t}",
      "}",
      "",
    );
  });
  lines.push(`${site(`test.${label}.${spec.domain}`, port)} {`, '\trespond "Hello, world!"', "}", "");
  return lines.join("\n");
}

export interface RootProxyRoute {
  /** Sub-domain label, e.g. "standalone" routes `*.standalone.<domain>`. */
  readonly label: string;
  /** Upstream "host:port". */
  readonly upstream: string;
}

export interface RootProxySpec {
  readonly domain: string;
  readonly routes: readonly RootProxyRoute[];
  /** Port the sites listen on. Defaults to 80. */
  readonly listenPort?: number;
}

/**
 * The root reverse proxy: `*.<label>.<domain>` → upstream for each route (the Host header is
 * passed through unchanged), and `test.<domain>` answering "Hello, world!".
 */
export function renderRootCaddyfile(spec: RootProxySpec): string {
  const port = spec.listenPort ?? 80;
  const lines: string[] = ["{", "\tadmin off", "}", ""];
  for (const r of spec.routes) {
    lines.push(`${site(`*.${r.label}.${spec.domain}`, port)} {`, `\treverse_proxy ${r.upstream}`, "}", "");
  }
  lines.push(`${site(`test.${spec.domain}`, port)} {`, '\trespond "Hello, world!"', "}", "");
  return lines.join("\n");
}
