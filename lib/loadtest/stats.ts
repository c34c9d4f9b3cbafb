/**
 * Per-level aggregation of a load run: latency percentiles, throughput, and errors by kind.
 * Pure: the runner feeds it responses and errors; everything here is arithmetic.
 */

/** Error kinds the study reports (seed 000 saw 502s and timeouts with one to three instances). */
export interface ErrorCounts {
  /** Responses with status 500-599 (Caddy answers 502/503 when no backend could serve). */
  readonly http5xx: number;
  /** Other non-2xx responses (4xx, 3xx, 1xx). */
  readonly httpOther: number;
  /** Requests that got no response within the per-request timeout. */
  readonly timeouts: number;
  /** Connection errors: refused, reset, closed mid-request. */
  readonly connection: number;
  /** Requests of the level that never completed (level time budget exhausted, or lost without an error event). */
  readonly incomplete: number;
}

export interface LatencySummary {
  /** Milliseconds, over 2xx responses. */
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface LevelResult {
  /** Requests of the level (n). */
  readonly requests: number;
  /** Connections used (min(n, concurrency)). */
  readonly concurrency: number;
  /** 2xx responses. */
  readonly ok: number;
  /** Wall time of the level, seconds: from its start to its last response or error. */
  readonly durationS: number;
  /** 2xx responses per second over the level's wall time. */
  readonly throughput: number;
  /** Latency of 2xx responses; null when there were none. */
  readonly latencyMs: LatencySummary | null;
  readonly errors: ErrorCounts;
  /** Sum of all error kinds. */
  readonly failed: number;
}

/** Nearest-rank percentile of ascending-sorted values (p in (0, 100]); NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)];
}

/** Classify a client error event: timeouts vs connection errors. */
export function errorKind(err: { message?: string; code?: string }): "timeouts" | "connection" {
  if (err.code === "ETIMEDOUT" || /timed out|timeout/i.test(err.message ?? "")) return "timeouts";
  return "connection";
}

/** Collects one level's responses and errors. */
export class LevelRecorder {
  private readonly latencies: number[] = [];
  private http5xx = 0;
  private httpOther = 0;
  private timeouts = 0;
  private connection = 0;

  /** A response with its status and latency (ms). */
  response(status: number, latencyMs: number): void {
    if (status >= 200 && status < 300) this.latencies.push(latencyMs);
    else if (status >= 500 && status < 600) this.http5xx++;
    else this.httpOther++;
  }

  /** A request that failed without a response. */
  error(err: { message?: string; code?: string }): void {
    if (errorKind(err) === "timeouts") this.timeouts++;
    else this.connection++;
  }

  /** Requests accounted for so far (responses + errors). */
  get done(): number {
    return this.latencies.length + this.http5xx + this.httpOther + this.timeouts + this.connection;
  }

  /** The level's result: n requests at `concurrency` connections over `durationS` seconds. */
  summarize(requests: number, concurrency: number, durationS: number): LevelResult {
    if (!(durationS > 0)) throw new RangeError(`duration must be positive, got ${durationS}`);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const ok = sorted.length;
    const round = (x: number) => Math.round(x * 100) / 100;
    const latencyMs: LatencySummary | null =
      ok === 0
        ? null
        : {
            mean: round(sorted.reduce((s, x) => s + x, 0) / ok),
            p50: round(percentile(sorted, 50)),
            p95: round(percentile(sorted, 95)),
            p99: round(percentile(sorted, 99)),
            max: round(sorted[ok - 1]),
          };
    const incomplete = Math.max(0, requests - this.done);
    const errors: ErrorCounts = {
      http5xx: this.http5xx,
      httpOther: this.httpOther,
      timeouts: this.timeouts,
      connection: this.connection,
      incomplete,
    };
    return {
      requests,
      concurrency,
      ok,
      durationS: round(durationS),
      throughput: round(ok / durationS),
      latencyMs,
      errors,
      failed: this.http5xx + this.httpOther + this.timeouts + this.connection + incomplete,
    };
  }
}

/** One target's run: its label and per-level results, in level order. */
export interface Series {
  readonly label: string;
  readonly target: string;
  readonly levels: readonly LevelResult[];
}

/**
 * Levels in which every request failed (no 2xx, at least one error): a dead or misconfigured
 * target, not a measurement. `npm run loadtest` exits non-zero when there is one.
 */
export function onlyErrorLevels(series: readonly Series[]): { label: string; requests: number; failed: number }[] {
  return series.flatMap((s) =>
    s.levels
      .filter((l) => l.ok === 0 && l.failed > 0)
      .map((l) => ({ label: s.label, requests: l.requests, failed: l.failed })),
  );
}

/** Peak throughput of a series and the level where it was reached. */
export function peak(series: Series): { throughput: number; requests: number } | null {
  let best: { throughput: number; requests: number } | null = null;
  for (const l of series.levels)
    if (!best || l.throughput > best.throughput) best = { throughput: l.throughput, requests: l.requests };
  return best;
}
