/** Command-line arguments of `npm run loadtest`, validated with clear errors. Pure. */
import { parseArgs } from "node:util";

/** Seed 000's study: n from 100 doubling, the last step capped at 32,000 (hey -n), concurrency min(n, 1000). */
export const SEED_LEVELS: readonly number[] = [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 32000];
/** Default levels: the seed's first four, so a loopback run stays under a minute. */
export const DEFAULT_LEVELS: readonly number[] = [100, 200, 400, 800];

export interface Target {
  /** Series label (defaults to the URL's host name). */
  readonly label: string;
  readonly url: string;
}

export interface LoadtestOptions {
  readonly targets: readonly Target[];
  /** Requests per level (n). */
  readonly levels: readonly number[];
  /** Maximum connections; each level uses min(n, concurrency). Defaults to 1000 (seed). */
  readonly concurrency: number;
  /** Per-request timeout, seconds. Defaults to 10. */
  readonly timeoutS: number;
  /** Total time budget, seconds: a level running past it is stopped and later levels skipped. Defaults to 50. */
  readonly budgetS: number;
  /** Pause between two levels, seconds, so the servers drain the previous level's queue. Defaults to 2. */
  readonly pauseS: number;
  /** Send every connection to this "host:port" and keep the URL's host in the Host header (like curl --connect-to). */
  readonly connectTo?: { readonly host: string; readonly port: number };
  readonly json?: string;
  readonly chart?: string;
  readonly title: string;
  readonly progress: boolean;
}

export class LoadtestArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoadtestArgsError";
  }
}

export const USAGE = `usage: npm run loadtest -- --target [label=]<url> [--target …] [options]

  --target [label=]<url>   URL to load (repeat for several series, e.g. one per site)
  --levels <n,n,…|seed>    requests per level (default ${DEFAULT_LEVELS.join(",")}; "seed" = ${SEED_LEVELS.join(",")})
  --concurrency <c>        connections per level = min(n, c) (default 1000, as the seed's hey runs)
  --timeout <s>            per-request timeout in seconds, at least 1 (default 10)
  --budget <s>             total time budget in seconds; stops the level that overruns it (default 50)
  --pause <s>              pause between levels so the servers drain their queues (default 2)
  --connect-to <host:port> connect there for every target, keeping the URL's host as Host header
  --json <file>            write the results as JSON
  --chart <file.svg>       write an SVG chart of latency and throughput against load
  --title <text>           chart title
  --no-progress            no progress bar
  --help`;

function positiveInt(flag: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(raw.trim()))
    throw new LoadtestArgsError(`${flag}: ${JSON.stringify(raw)} is not a positive integer`);
  const n = Number(raw.trim());
  if (n < 1 || n > max) throw new LoadtestArgsError(`${flag}: ${n} is out of range 1-${max}`);
  return n;
}

function seconds(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n))
    throw new LoadtestArgsError(`${flag}: ${JSON.stringify(raw)} is not a number of seconds`);
  if (n < min) throw new LoadtestArgsError(`${flag}: must be at least ${min} s, got ${n}`);
  return n;
}

/** Parse "--levels": "seed" or a comma list of distinct positive integers, in increasing order. */
export function parseLevels(raw: string): number[] {
  if (raw.trim() === "seed") return [...SEED_LEVELS];
  const parts = raw.split(",");
  const levels = parts.map((p) => positiveInt("--levels", p, 1_000_000));
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] <= levels[i - 1])
      throw new LoadtestArgsError(`--levels: must increase, got ${levels[i - 1]} then ${levels[i]}`);
  }
  return levels;
}

/** Parse one "--target": "[label=]http(s)://host[:port][/path]". */
export function parseTarget(raw: string): Target {
  const eq = raw.indexOf("=");
  const hasLabel = eq > 0 && !raw.slice(0, eq).includes("://");
  const label = hasLabel ? raw.slice(0, eq) : undefined;
  const urlText = hasLabel ? raw.slice(eq + 1) : raw;
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new LoadtestArgsError(`--target: ${JSON.stringify(urlText)} is not a URL (expected http://host[:port]/path)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new LoadtestArgsError(`--target: ${JSON.stringify(urlText)} must be http:// or https://`);
  }
  return { label: label ?? url.hostname, url: url.toString() };
}

function parseConnectTo(raw: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(raw);
  if (!m) throw new LoadtestArgsError(`--connect-to: ${JSON.stringify(raw)} is not host:port`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port: positiveInt("--connect-to", m[2], 65535) };
}

/** Parse argv (without node and script). Returns "help" for --help. Throws LoadtestArgsError. */
export function parseLoadtestArgs(argv: readonly string[]): LoadtestOptions | "help" {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        target: { type: "string", multiple: true },
        levels: { type: "string" },
        concurrency: { type: "string" },
        timeout: { type: "string" },
        budget: { type: "string" },
        pause: { type: "string" },
        "connect-to": { type: "string" },
        json: { type: "string" },
        chart: { type: "string" },
        title: { type: "string" },
        "no-progress": { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new LoadtestArgsError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  if (values.help) return "help";
  const targets = ((values.target as string[] | undefined) ?? []).map(parseTarget);
  if (targets.length === 0) throw new LoadtestArgsError("--target is required");
  const labels = targets.map((t) => t.label);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup !== undefined)
    throw new LoadtestArgsError(`--target: label ${JSON.stringify(dup)} is used twice; name series with label=url`);
  const chart = values.chart as string | undefined;
  if (chart !== undefined && !chart.endsWith(".svg"))
    throw new LoadtestArgsError(`--chart: ${JSON.stringify(chart)} must end in .svg`);
  return {
    targets,
    levels: values.levels === undefined ? [...DEFAULT_LEVELS] : parseLevels(values.levels as string),
    concurrency:
      values.concurrency === undefined ? 1000 : positiveInt("--concurrency", values.concurrency as string, 10_000),
    timeoutS: values.timeout === undefined ? 10 : seconds("--timeout", values.timeout as string, 1),
    budgetS: values.budget === undefined ? 50 : seconds("--budget", values.budget as string, 1),
    pauseS: values.pause === undefined ? 2 : seconds("--pause", values.pause as string, 0),
    connectTo: values["connect-to"] === undefined ? undefined : parseConnectTo(values["connect-to"] as string),
    json: values.json as string | undefined,
    chart,
    title: (values.title as string | undefined) ?? "kantai load study",
    progress: !values["no-progress"],
  };
}
