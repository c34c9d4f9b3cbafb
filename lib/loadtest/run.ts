/**
 * Runs the load study with autocannon: for each target and each level n, n requests over
 * min(n, concurrency) connections, every response and error fed to a LevelRecorder. A total
 * time budget bounds the run: the level that overruns it is stopped, later levels are skipped.
 */
import autocannon from "autocannon";
import type { LoadtestOptions, Target } from "./args";
import { LevelRecorder, type LevelResult, type Series } from "./stats";

export interface Progress {
  /** A level starts: target label, n, connections. */
  start(label: string, requests: number, connections: number): void;
  /** Requests accounted for so far in the running level. */
  update(done: number): void;
  /** The running level finished with this result. */
  finish(result: LevelResult): void;
  stop(): void;
}

export interface StudyResult {
  readonly tool: string;
  readonly startedAt: string;
  readonly options: {
    readonly levels: readonly number[];
    readonly concurrency: number;
    readonly timeoutS: number;
    readonly budgetS: number;
    readonly pauseS: number;
    readonly connectTo?: string;
  };
  readonly series: readonly Series[];
  /** Levels not run because the time budget ran out. */
  readonly skipped: readonly { readonly label: string; readonly requests: number }[];
  /** Levels stopped by the time budget before all their requests completed. */
  readonly truncated: readonly { readonly label: string; readonly requests: number }[];
}

/** autocannon options for one level of one target. */
export function levelOptions(
  target: Target,
  requests: number,
  opts: Pick<LoadtestOptions, "concurrency" | "timeoutS" | "connectTo">,
): autocannon.Options {
  const url = new URL(target.url);
  const connections = Math.min(requests, opts.concurrency);
  const base: autocannon.Options = {
    url: target.url,
    connections,
    amount: requests,
    timeout: opts.timeoutS,
    pipelining: 1,
  };
  if (!opts.connectTo) return base;
  const host = opts.connectTo.host.includes(":") ? `[${opts.connectTo.host}]` : opts.connectTo.host;
  return {
    ...base,
    url: `${url.protocol}//${host}:${opts.connectTo.port}${url.pathname}${url.search}`,
    headers: { host: url.host },
  };
}

/** Run one level; resolves when all n requests are accounted for or `budgetMs` has passed. */
export function runLevel(
  target: Target,
  requests: number,
  opts: Pick<LoadtestOptions, "concurrency" | "timeoutS" | "connectTo">,
  budgetMs: number,
  progress?: Progress,
): Promise<{ result: LevelResult; truncated: boolean }> {
  const o = levelOptions(target, requests, opts);
  const rec = new LevelRecorder();
  progress?.start(target.label, requests, o.connections!);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let truncated = false;
    let last = 0;
    const ticker = setInterval(() => progress?.update(rec.done), 200);
    const timer = setTimeout(
      () => {
        truncated = rec.done < requests;
        inst.stop(); // runs after `inst` is assigned below: timers fire on a later turn
      },
      Math.max(0, budgetMs),
    );
    const inst = autocannon(o, (err) => {
      clearTimeout(timer);
      clearInterval(ticker);
      progress?.update(rec.done);
      if (err) return reject(err);
      // autocannon notices the end on its 1 s ticker: the level's wall time ends at its last event.
      const end = last > t0 ? last : performance.now();
      const result = rec.summarize(requests, o.connections!, (end - t0) / 1000);
      progress?.finish(result);
      resolve({ result, truncated });
    });
    inst.on("response", (_client, status, _bytes, ms) => {
      last = performance.now();
      rec.response(status, ms);
    });
    inst.on("reqError", (e) => {
      last = performance.now();
      rec.error(e);
    });
  });
}

/**
 * Run every level for every target within the budget. Levels are interleaved — level 1 of every
 * target, then level 2, … — so slow drifts of a shared machine hit all series alike; between two
 * levels the tool waits `pauseS` so the servers finish the work queued by the previous level (a
 * request the client timed out may still be computed by its backend).
 */
export async function runStudy(
  opts: LoadtestOptions,
  progress?: Progress,
  now: () => number = Date.now,
): Promise<StudyResult> {
  const startedAt = new Date(now()).toISOString();
  const deadline = now() + opts.budgetS * 1000;
  const levelsOf = new Map<Target, LevelResult[]>(opts.targets.map((t) => [t, []]));
  const skipped: { label: string; requests: number }[] = [];
  const truncated: { label: string; requests: number }[] = [];
  let first = true;
  try {
    for (const n of opts.levels) {
      for (const target of opts.targets) {
        if (!first && opts.pauseS > 0 && now() + opts.pauseS * 1000 < deadline)
          await new Promise((r) => setTimeout(r, opts.pauseS * 1000));
        if (now() >= deadline) {
          skipped.push({ label: target.label, requests: n });
          continue;
        }
        first = false;
        const r = await runLevel(target, n, opts, deadline - now(), progress);
        levelsOf.get(target)!.push(r.result);
        if (r.truncated) truncated.push({ label: target.label, requests: n });
      }
    }
  } finally {
    progress?.stop();
  }
  const series: Series[] = opts.targets.map((t) => ({ label: t.label, target: t.url, levels: levelsOf.get(t)! }));
  return {
    tool: "kantai loadtest (autocannon)",
    startedAt,
    options: {
      levels: opts.levels,
      concurrency: opts.concurrency,
      timeoutS: opts.timeoutS,
      budgetS: opts.budgetS,
      pauseS: opts.pauseS,
      ...(opts.connectTo ? { connectTo: `${opts.connectTo.host}:${opts.connectTo.port}` } : {}),
    },
    series,
    skipped,
    truncated,
  };
}
