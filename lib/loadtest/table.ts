/** Text and Markdown tables of a load study. Pure. */
import type { Series } from "./stats";

export const COLUMNS = [
  "series",
  "n",
  "conc",
  "ok",
  "req/s",
  "mean ms",
  "p50 ms",
  "p95 ms",
  "p99 ms",
  "5xx",
  "other",
  "timeouts",
  "conn err",
  "incomplete",
  "time s",
] as const;

const num = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(1));

/** Rows of cells, one per level of each series, in the order of COLUMNS. */
export function tableRows(series: readonly Series[]): string[][] {
  return series.flatMap((s) =>
    s.levels.map((l) => [
      s.label,
      String(l.requests),
      String(l.concurrency),
      String(l.ok),
      num(l.throughput),
      num(l.latencyMs?.mean),
      num(l.latencyMs?.p50),
      num(l.latencyMs?.p95),
      num(l.latencyMs?.p99),
      String(l.errors.http5xx),
      String(l.errors.httpOther),
      String(l.errors.timeouts),
      String(l.errors.connection),
      String(l.errors.incomplete),
      num(l.durationS),
    ]),
  );
}

/** Aligned plain-text table (series left-aligned, numbers right-aligned). */
export function formatTable(series: readonly Series[]): string {
  const rows = [COLUMNS.map(String), ...tableRows(series)];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n") + "\n";
}

/** GitHub-flavoured Markdown table. */
export function formatMarkdown(series: readonly Series[]): string {
  const rows = tableRows(series);
  const head = `| ${COLUMNS.join(" | ")} |`;
  const sep = `|${COLUMNS.map((_, c) => (c === 0 ? "---" : "---:")).join("|")}|`;
  return [head, sep, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n") + "\n";
}
