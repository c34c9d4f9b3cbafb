/**
 * Real parts on loopback for the measured-latency tests: RTT agents (web/rtt-agent.js, each its
 * own node process) and a real Prometheus (Debian's `prometheus` package, installed by
 * scripts/setup.sh), started on free ports with a temporary config and storage directory and
 * stopped after. Nothing here is simulated except the delay a "slow" agent adds to its answers
 * (DELAY_MS), standing in for a long link.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** A free TCP port on `host` (bound and released; loopback only). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` until it returns a value (not undefined) or `timeoutMs` passes; then throw `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`,
  );
}

export interface AgentProcess {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly proc: ChildProcess;
  log(): string;
}

/** Start web/rtt-agent.js as its own process with `env`. */
export function startAgent(name: string, host: string, port: number, env: Record<string, string>): AgentProcess {
  const proc = spawn(process.execPath, [path.join(ROOT, "web", "rtt-agent.js")], {
    env: { PATH: process.env.PATH ?? "", NODE_NAME: name, HOST: host, PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (c) => (out += c));
  proc.stderr!.on("data", (c) => (out += c));
  return { name, host, port, proc, log: () => out };
}

export interface PrometheusProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** The prometheus binary (Debian: /usr/bin/prometheus); a missing one is a test failure naming setup.sh. */
export function prometheusBinary(): string {
  const r = spawnSync("prometheus", ["--version"], { encoding: "utf8" });
  if (r.error)
    throw new Error("prometheus is not installed: scripts/setup.sh installs it (apt-get install prometheus)");
  return "prometheus";
}

/** Start a real Prometheus on a free loopback port scraping `targets` every `scrapeMs`; resolves once /-/ready answers 200. */
export async function startPrometheus(
  targets: readonly { job: string; address: string; labels?: Record<string, string> }[],
  scrapeMs = 1000,
): Promise<PrometheusProcess> {
  const bin = prometheusBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-prom-"));
  const port = await freePort();
  const jobs = [...new Set(targets.map((t) => t.job))].map(
    (job) =>
      `  - job_name: ${job}\n    static_configs:\n` +
      targets
        .filter((t) => t.job === job)
        .map(
          (t) =>
            `      - targets: ["${t.address}"]\n${
              t.labels
                ? `        labels: {${Object.entries(t.labels)
                    .map(([k, v]) => `${k}: "${v}"`)
                    .join(", ")}}\n`
                : ""
            }`,
        )
        .join(""),
  );
  // https://prometheus.io/docs/prometheus/latest/configuration/configuration/ (global, scrape_configs, static_configs)
  const config = `global:\n  scrape_interval: ${scrapeMs}ms\n  scrape_timeout: ${Math.max(100, scrapeMs - 200)}ms\nscrape_configs:\n${jobs.join("")}`;
  fs.writeFileSync(path.join(dir, "prometheus.yml"), config);
  const proc = spawn(
    bin,
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout!.on("data", (c) => (out += c));
  proc.stderr!.on("data", (c) => (out += c));
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
      setTimeout(() => proc.kill("SIGKILL"), 5000).unref();
    }).then(() => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    await waitFor(
      "Prometheus /-/ready",
      async () => {
        if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${out.slice(-500)}`);
        const r = await fetch(`${url}/-/ready`).catch(() => undefined);
        return r?.ok ? true : undefined;
      },
      30_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, proc, dir, log: () => out, stop };
}
