/**
 * The RTT matrix from Prometheus: an instant query of the RTT agents' `latency_between_nodes`
 * (web/rtt-agent.js) through Prometheus's HTTP API, written in the monlat format the stack reads
 * (lib/routing/monlat.ts, `kantai:routing.services[].latencyFile`). docs/reference/routing-cli.md.
 *
 * Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/):
 *   GET /api/v1/query?query=<expr>  →  {"status":"success","data":{"resultType":"vector",
 *   "result":[{"metric":{...},"value":[<unix s>,"<sample as string>"]}]}}; on failure
 *   {"status":"error","errorType":"bad_data","error":"..."} with HTTP 400 (bad parameters),
 *   422 (cannot execute) or 503 (timeout/abort).
 *
 * No clock, no randomness; the only I/O is the `fetch` passed in (global fetch by default).
 */
import * as fs from "node:fs";
import { parseMonlat } from "./monlat";
import { RoutingInputError, type InputIssue } from "./types";

/** The default query: one value per ordered pair even if several series carry it (e.g. two Prometheus replicas). */
export const DEFAULT_MATRIX_QUERY = "max by (from, to) (latency_between_nodes)";
/** The agents' view of the peers they know (1 answering, 0 silent): names the nodes a matrix must cover. */
export const PEERS_QUERY = "max by (from, to) (rtt_agent_peer_up)";

/** Why reading the matrix failed; `kind` decides the CLI's exit status. */
export class MatrixError extends Error {
  constructor(
    readonly kind: "unreachable" | "query" | "data",
    message: string,
    readonly issues: readonly InputIssue[] = [],
  ) {
    super(message);
    this.name = "MatrixError";
  }
}

export interface MatrixOptions {
  /** Base URL of Prometheus, e.g. "http://127.0.0.1:9090" or "http://prometheus.monitoring:9090/prom". */
  readonly prometheus: string;
  /** PromQL returning latency_between_nodes-shaped samples (labels from, to; value ms). Defaults to DEFAULT_MATRIX_QUERY. */
  readonly query?: string;
  /**
   * Nodes the matrix must cover; every missing ordered pair is an error naming it. Defaults to every
   * node Prometheus knows of: those in a sample and those the agents report as peers (a silent
   * node is still a peer of the others, so its pairs are reported missing, never filled with 0).
   */
  readonly nodes?: readonly string[];
  /** Request timeout in ms. Defaults to 10000. */
  readonly timeoutMs?: number;
  /** The fetch implementation. Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface Matrix {
  /** rttMs[from][to], ms, diagonal 0; every ordered pair of `nodes` measured. */
  readonly rttMs: Record<string, Record<string, number>>;
  readonly nodes: readonly string[];
  /** The matrix in monlat format, one sample per line, sorted (what `routing matrix` writes). */
  readonly monlat: string;
  /** Evaluation time Prometheus reported (unix seconds), the latest of the samples. */
  readonly time: number;
}

interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

/** One instant query; returns the vector. Throws MatrixError naming the URL or Prometheus's error. */
export async function instantQuery(
  base: string,
  query: string,
  timeoutMs = 10_000,
  f: typeof fetch = fetch,
): Promise<VectorSample[]> {
  let url: URL;
  try {
    url = new URL(`${base.replace(/\/+$/, "")}/api/v1/query`);
  } catch {
    throw new MatrixError("unreachable", `--prometheus: "${base}" is not a URL (expected e.g. http://127.0.0.1:9090)`);
  }
  url.searchParams.set("query", query);
  let res: Response;
  try {
    res = await f(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new MatrixError("unreachable", `prometheus: cannot reach ${base} (${why})`);
  }
  const text = await res.text();
  let body: { status?: string; data?: { resultType?: string; result?: unknown }; errorType?: string; error?: string };
  try {
    body = JSON.parse(text);
  } catch {
    throw new MatrixError(
      res.ok ? "data" : "query",
      `prometheus: ${url.origin}${url.pathname} answered HTTP ${res.status} with a body that is not the query API's JSON: ${JSON.stringify(text.slice(0, 120))}`,
    );
  }
  if (body.status !== "success") {
    throw new MatrixError(
      "query",
      `prometheus: query ${JSON.stringify(query)} failed (HTTP ${res.status}, ${body.errorType ?? "error"}): ${body.error ?? "no error message"}`,
    );
  }
  if (body.data?.resultType !== "vector" || !Array.isArray(body.data.result)) {
    throw new MatrixError(
      "query",
      `prometheus: query ${JSON.stringify(query)} returned a ${body.data?.resultType ?? "missing"} result, expected an instant vector`,
    );
  }
  return body.data.result as VectorSample[];
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** The monlat text of a matrix: `latency_between_nodes{from="a",to="b"} <ms>` per off-diagonal pair, sorted. */
export function toMonlat(rttMs: Readonly<Record<string, Readonly<Record<string, number>>>>, header = ""): string {
  const lines: string[] = [];
  for (const from of Object.keys(rttMs).sort()) {
    for (const to of Object.keys(rttMs[from]).sort()) {
      if (from === to) continue;
      lines.push(`latency_between_nodes{from="${esc(from)}",to="${esc(to)}"} ${rttMs[from][to]}`);
    }
  }
  return `${header}# TYPE latency_between_nodes gauge\n${lines.join("\n")}${lines.length ? "\n" : ""}`;
}

/**
 * Read the current matrix. Every ordered pair of the nodes must be measured (no symmetric filling:
 * a one-way measurement means the other agent is silent). Throws MatrixError: "unreachable",
 * "query" (Prometheus's error) or "data" (a bad sample, or missing pairs, each named `rttMs.a.b`).
 */
export async function readMatrix(o: MatrixOptions): Promise<Matrix> {
  const f = o.fetch ?? fetch;
  const query = o.query ?? DEFAULT_MATRIX_QUERY;
  const samples = await instantQuery(o.prometheus, query, o.timeoutMs, f);
  const issues: InputIssue[] = [];
  const rtt = new Map<string, number>();
  const seen = new Set<string>();
  let time = 0;
  for (const s of samples) {
    const { from, to } = s.metric ?? {};
    if (!from || !to) {
      issues.push({
        path: "prometheus",
        message: `sample ${JSON.stringify(s.metric)} has no from/to labels (query ${JSON.stringify(query)})`,
      });
      continue;
    }
    const v = Number(s.value?.[1]);
    if (!Number.isFinite(v) || v < 0) {
      issues.push({
        path: `rttMs.${from}.${to}`,
        message: `Prometheus has ${JSON.stringify(s.value?.[1])} for "${from}" to "${to}", not a non-negative number of ms`,
      });
      continue;
    }
    const k = JSON.stringify([from, to]);
    if (rtt.has(k))
      issues.push({
        path: `rttMs.${from}.${to}`,
        message: `several samples for "${from}" to "${to}": aggregate them in the query (e.g. max by (from, to) (...))`,
      });
    rtt.set(k, v);
    seen.add(from);
    seen.add(to);
    time = Math.max(time, Number(s.value[0]) || 0);
  }
  if (issues.length > 0) throw new MatrixError("data", issues.map((i) => `${i.path}: ${i.message}`).join("\n"), issues);
  let nodes: string[];
  if (o.nodes) nodes = [...new Set(o.nodes)].sort();
  else {
    const peers = query === DEFAULT_MATRIX_QUERY ? await instantQuery(o.prometheus, PEERS_QUERY, o.timeoutMs, f) : [];
    for (const p of peers) for (const n of [p.metric?.from, p.metric?.to]) if (n) seen.add(n);
    nodes = [...seen].sort();
  }
  if (nodes.length === 0) {
    throw new MatrixError(
      "data",
      `prometheus: query ${JSON.stringify(query)} returned no samples: no RTT agent is scraped yet (check the agents' ServiceMonitor and Prometheus's targets page)`,
    );
  }
  const text = [...rtt].map(([k, v]) => {
    const [from, to] = JSON.parse(k) as [string, string];
    return `latency_between_nodes{from="${esc(from)}",to="${esc(to)}"} ${v}`;
  });
  let rttMs: Record<string, Record<string, number>>;
  try {
    rttMs = parseMonlat(text.join("\n"), { nodes, symmetric: false });
  } catch (e) {
    if (!(e instanceof RoutingInputError)) throw e;
    const missing = e.issues.map((i) => ({
      path: i.path,
      message: i.message.replace(/^no monlat sample/, "no measurement in Prometheus"),
    }));
    throw new MatrixError(
      "data",
      missing.map((i) => `${i.path}: ${i.message} (a silent or missing RTT agent; nothing is filled in)`).join("\n"),
      missing,
    );
  }
  return {
    rttMs,
    nodes,
    time,
    monlat: toMonlat(
      rttMs,
      `# RTT matrix read from ${o.prometheus} (${query}) at ${new Date(time * 1000).toISOString()}\n`,
    ),
  };
}

export const MATRIX_USAGE =
  "usage: npm run routing -- matrix --prometheus <url> [--out <file>] [--nodes a,b,c] [--query <promql>] [--timeout-ms <ms>]";

/**
 * `routing matrix`: exit 0 with the monlat text on stdout (or written to --out), 2 for bad or
 * missing data (each missing pair named), 65 for a query Prometheus rejected, 69 when Prometheus
 * cannot be reached, 73 when --out cannot be written, 64 for usage errors.
 */
export async function runMatrixCli(
  argv: readonly string[],
  deps: { fetch?: typeof fetch; writeFile?: (file: string, text: string) => void } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const usage = (msg: string) => ({ code: 64, stdout: "", stderr: `${msg}\n${MATRIX_USAGE}\n` });
  const values: Record<string, string> = {};
  const flags = ["--prometheus", "--out", "--nodes", "--query", "--timeout-ms"];
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (arg === "--help" || arg === "-h") return { code: 0, stdout: `${MATRIX_USAGE}\n`, stderr: "" };
    const eq = arg.indexOf("=");
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!flags.includes(flag)) return usage(`unknown option "${arg}"`);
    const value = inline ?? argv[k + 1];
    if (value === undefined || (inline === undefined && value.startsWith("--"))) return usage(`${flag} needs a value`);
    if (inline === undefined) k++;
    values[flag] = value;
  }
  if (!values["--prometheus"]) return usage("--prometheus is required");
  const timeoutMs = values["--timeout-ms"] === undefined ? undefined : Number(values["--timeout-ms"]);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0))
    return usage("--timeout-ms: must be a positive whole number of milliseconds");
  const nodes = values["--nodes"]
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (nodes && nodes.length === 0) return usage("--nodes: needs at least one node name");
  let m: Matrix;
  try {
    m = await readMatrix({
      prometheus: values["--prometheus"],
      query: values["--query"],
      nodes,
      timeoutMs,
      fetch: deps.fetch,
    });
  } catch (e) {
    if (!(e instanceof MatrixError)) throw e;
    return { code: e.kind === "unreachable" ? 69 : e.kind === "query" ? 65 : 2, stdout: "", stderr: `${e.message}\n` };
  }
  const out = values["--out"];
  if (!out) return { code: 0, stdout: m.monlat, stderr: "" };
  try {
    (deps.writeFile ?? ((file, text) => writeFileAtomic(file, text)))(out, m.monlat);
  } catch (e) {
    return { code: 73, stdout: "", stderr: `--out: cannot write ${out}: ${(e as Error).message}\n` };
  }
  return { code: 0, stdout: "", stderr: "" };
}

/** Write through a temporary file and a rename, so a reader never sees half a matrix. */
function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
