/**
 * Parser for monlat's measurements (seed 004): Prometheus text lines
 *   latency_between_nodes{from="a",to="b"} 12.3
 * into an RTT matrix `rttMs[from][to]`. Pure.
 */
import { type InputIssue, RoutingInputError } from "./types";

const LINE = /^latency_between_nodes\{([^}]*)\}\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export interface MonlatOptions {
  /**
   * How to combine several samples of the same pair (e.g. several scrapes): "last" (the default)
   * keeps the last line, "mean" averages them.
   */
  readonly combine?: "last" | "mean";
  /** Fill rttMs[b][a] from rttMs[a][b] when only one direction was measured. Defaults to true. */
  readonly symmetric?: boolean;
  /** Nodes the matrix must cover; every missing pair is reported. Defaults to the nodes seen. */
  readonly nodes?: readonly string[];
}

const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

/**
 * Parse monlat text. Comment (`#`) and blank lines and other metrics are ignored. The diagonal is 0.
 * Throws RoutingInputError naming the line (`monlat:3`) for malformed samples or negative values,
 * and naming the pair (`rttMs.a.b`) for pairs `nodes` requires but the text lacks.
 */
export function parseMonlat(text: string, opts: MonlatOptions = {}): Record<string, Record<string, number>> {
  const issues: InputIssue[] = [];
  const sums = new Map<string, { sum: number; count: number; last: number }>();
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || !line.startsWith("latency_between_nodes")) return;
    const at = `monlat:${k + 1}`;
    const m = LINE.exec(line);
    if (!m) {
      issues.push({ path: at, message: 'malformed sample, expected latency_between_nodes{from="a",to="b"} <ms>' });
      return;
    }
    const labels: Record<string, string> = {};
    for (const l of m[1].matchAll(LABEL)) labels[l[1]] = unescape(l[2]);
    const from = labels.from;
    const to = labels.to;
    if (!from || !to) {
      issues.push({ path: at, message: "sample needs both from and to labels" });
      return;
    }
    const value = Number(m[2]);
    if (!Number.isFinite(value) || value < 0) {
      issues.push({ path: at, message: `latency must be a non-negative number, got ${m[2]}` });
      return;
    }
    seen.add(from);
    seen.add(to);
    const key = JSON.stringify([from, to]);
    const acc = sums.get(key) ?? { sum: 0, count: 0, last: 0 };
    acc.sum += value;
    acc.count++;
    acc.last = value;
    sums.set(key, acc);
  });
  if (issues.length > 0) throw new RoutingInputError(issues);
  const nodes = opts.nodes ? [...opts.nodes] : [...seen].sort();
  const combine = opts.combine ?? "last";
  const symmetric = opts.symmetric ?? true;
  const value = (from: string, to: string): number | undefined => {
    const acc = sums.get(JSON.stringify([from, to]));
    if (!acc) return undefined;
    return combine === "mean" ? acc.sum / acc.count : acc.last;
  };
  const out: Record<string, Record<string, number>> = {};
  for (const from of nodes) {
    out[from] = {};
    for (const to of nodes) {
      if (from === to) {
        out[from][to] = value(from, to) ?? 0;
        continue;
      }
      const v = value(from, to) ?? (symmetric ? value(to, from) : undefined);
      if (v === undefined)
        issues.push({ path: `rttMs.${from}.${to}`, message: `no monlat sample from "${from}" to "${to}"` });
      else out[from][to] = v;
    }
  }
  if (issues.length > 0) throw new RoutingInputError(issues);
  return out;
}
