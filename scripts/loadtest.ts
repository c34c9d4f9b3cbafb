/**
 * Load study (seed 000's `hey` runs, with autocannon): for each target, levels of n requests
 * (default 100,200,400,800; `--levels seed` = 100…32,000) over min(n, 1000) connections; per level
 * throughput, mean/p50/p95/p99 latency and errors by kind; a table on stdout, optional JSON and
 * SVG chart. A total time budget (default 50 s) bounds the run.
 *
 * Usage: npm run loadtest -- --target [label=]<url> [--target …] [--levels …] [--concurrency …]
 *        [--connect-to host:port] [--json out.json] [--chart out.svg]
 * Exits 1 when a level has only errors (no 2xx response: the target is down or wrong), 2 on bad
 * arguments. See docs/how-to/loadtest.md.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Presets, SingleBar } from "cli-progress";
import { LoadtestArgsError, parseLoadtestArgs, USAGE } from "../lib/loadtest/args";
import { runStudy, type Progress } from "../lib/loadtest/run";
import { onlyErrorLevels } from "../lib/loadtest/stats";
import { formatTable } from "../lib/loadtest/table";
import { renderChart } from "../lib/loadtest/svg";

/** A progress bar per level on a terminal (stderr); one line per finished level otherwise. */
function progressBar(): Progress {
  const tty = Boolean(process.stderr.isTTY);
  let bar: SingleBar | undefined;
  let label = "";
  return {
    start(l, requests, connections) {
      bar?.stop();
      label = l;
      if (!tty) return;
      bar = new SingleBar(
        {
          format: " {label} n={total} c={conns} [{bar}] {percentage}% | {value}/{total} | {duration}s",
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      bar.start(requests, 0, { label, conns: connections });
    },
    update(done) {
      bar?.update(done);
    },
    finish(r) {
      if (bar) {
        bar.stop();
        bar = undefined;
      } else {
        console.error(
          `  ${label} n=${r.requests}: ${r.ok} ok, ${r.failed} failed, ${r.throughput} req/s in ${r.durationS} s`,
        );
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** The machine the numbers come from, for the JSON and the chart caption. */
export function machine(): { cpus: number; cpuModel: string; platform: string; node: string } {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseLoadtestArgs(argv);
  } catch (e) {
    if (e instanceof LoadtestArgsError) {
      console.error(`loadtest: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (opts === "help") {
    console.log(USAGE);
    return 0;
  }
  const study = await runStudy(opts, opts.progress ? progressBar() : undefined);
  const m = machine();
  process.stdout.write(`\n${formatTable(study.series)}`);
  for (const s of study.truncated)
    console.log(
      `note: ${s.label} n=${s.requests} was stopped by the ${opts.budgetS} s budget (unfinished requests count as incomplete)`,
    );
  if (study.skipped.length) {
    console.log(
      `note: skipped by the ${opts.budgetS} s budget (raise --budget): ${study.skipped.map((s) => `${s.label} n=${s.requests}`).join(", ")}`,
    );
  }
  if (opts.json) {
    fs.mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify({ ...study, machine: m }, null, 2) + "\n");
    console.log(`wrote ${opts.json}`);
  }
  if (opts.chart) {
    const subtitle = `${m.cpus} × ${m.cpuModel}, ${study.startedAt.slice(0, 10)}, concurrency min(n, ${opts.concurrency}), timeout ${opts.timeoutS} s`;
    fs.mkdirSync(path.dirname(path.resolve(opts.chart)), { recursive: true });
    fs.writeFileSync(opts.chart, renderChart(study.series, { title: opts.title, subtitle }));
    console.log(`wrote ${opts.chart}`);
  }
  // A level with only errors measured nothing: the target is down or wrong. The table, JSON and
  // chart are still written (they show the errors by kind); the exit status says it failed.
  const dead = onlyErrorLevels(study.series);
  for (const d of dead)
    console.error(
      `loadtest: ${d.label} n=${d.requests}: all ${d.failed} requests failed (no 2xx response): is the target up?`,
    );
  return dead.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`loadtest: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
