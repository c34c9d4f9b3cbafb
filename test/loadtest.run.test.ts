/**
 * `npm run loadtest` as users run it (a subprocess), for real against loopback: a web/server.js
 * instance, a server answering 502, a port nobody listens on, and one that never answers.
 * Each run is a handful of requests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../lib/e2e/localFleet";
import { ROOT } from "./support/devConfig";
import { runTool } from "./support/tools";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-loadtest-"));
let web: ChildProcess;
let webPort: number;
let closedPort: number;
const servers: net.Server[] = [];

/** Run the CLI without blocking this process's event loop (the servers under test live in it). */
function loadtest(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "scripts", "loadtest.ts"), ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  [webPort, closedPort] = await freePorts(2);
  web = spawn(process.execPath, [path.join(ROOT, "web", "server.js")], {
    env: { ...process.env, PORT: String(webPort), HOST: "127.0.0.1", INSTANCE: "lt-1" },
    stdio: "ignore",
  });
  for (;;) {
    const up = await new Promise<boolean>((res) => {
      const s = net.connect(webPort, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        res(true);
      });
      s.once("error", () => res(false));
    });
    if (up) break;
    if (web.exitCode !== null) throw new Error("web/server.js exited");
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  web?.kill("SIGKILL");
  for (const s of servers) s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("npm run loadtest (real runs on loopback)", () => {
  it("runs the levels against web/server.js: table, JSON with per-level stats, SVG chart", async () => {
    const json = path.join(tmp, "r.json");
    const chart = path.join(tmp, "r.svg");
    const r = await loadtest([
      "--target",
      `fib20=http://127.0.0.1:${webPort}/20`,
      "--levels",
      "20,40",
      "--concurrency",
      "8",
      "--json",
      json,
      "--chart",
      chart,
      "--no-progress",
      "--pause",
      "0",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^series\s+n\s+conc\s+ok\s+req\/s\s+mean ms\s+p50 ms\s+p95 ms\s+p99 ms\s+5xx\s+other\s+timeouts\s+conn err\s+incomplete\s+time s$/m,
    );
    expect(r.stdout).toMatch(/^fib20\s+20\s+8\s+20\s/m);
    expect(r.stdout).toMatch(/^fib20\s+40\s+8\s+40\s/m);
    const out = JSON.parse(fs.readFileSync(json, "utf8"));
    expect(out.tool).toBe("kantai loadtest (autocannon)");
    expect(out.options).toEqual({ levels: [20, 40], concurrency: 8, timeoutS: 10, budgetS: 50, pauseS: 0 });
    expect(out.machine.cpus).toBe(os.cpus().length);
    expect(out.skipped).toEqual([]);
    expect(out.truncated).toEqual([]);
    expect(out.series).toHaveLength(1);
    const [a, b] = out.series[0].levels;
    for (const [l, n] of [
      [a, 20],
      [b, 40],
    ]) {
      expect(l).toMatchObject({
        requests: n,
        concurrency: 8,
        ok: n,
        failed: 0,
        errors: { http5xx: 0, httpOther: 0, timeouts: 0, connection: 0, incomplete: 0 },
      });
      expect(l.throughput).toBeGreaterThan(0);
      expect(l.latencyMs.p50).toBeLessThanOrEqual(l.latencyMs.p95);
      expect(l.latencyMs.p95).toBeLessThanOrEqual(l.latencyMs.p99);
      expect(l.latencyMs.p99).toBeLessThanOrEqual(l.latencyMs.max);
    }
    const svg = fs.readFileSync(chart, "utf8");
    const parsed = runTool("python3", [
      "-c",
      "import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); print(r.tag, len(list(r.iter('{http://www.w3.org/2000/svg}polyline'))))",
      chart,
    ]);
    expect(parsed.status, parsed.stderr).toBe(0);
    expect(parsed.stdout.trim()).toBe("{http://www.w3.org/2000/svg}svg 4");
    expect(svg).toContain('data-series="fib20"');
  });

  it("--connect-to sends the site name as Host; levels are interleaved across targets", async () => {
    const hosts: string[] = [];
    const port = await listen(
      http.createServer((req, res) => {
        hosts.push(String(req.headers.host));
        res.end("ok");
      }),
    );
    const r = await loadtest([
      "--target",
      "http://one.standalone.hosts.pve/",
      "--target",
      "http://three.standalone.hosts.pve/",
      "--connect-to",
      `127.0.0.1:${port}`,
      "--levels",
      "2,3",
      "--concurrency",
      "1",
      "--pause",
      "0",
      "--no-progress",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const [one, three] = ["one.standalone.hosts.pve", "three.standalone.hosts.pve"];
    expect(hosts).toEqual([one, one, three, three, one, one, one, three, three, three]);
  });

  it("counts errors by kind: HTTP 5xx, connection errors, timeouts", async () => {
    const bad = await listen(
      http.createServer((_q, res) => {
        res.writeHead(502);
        res.end("bad gateway");
      }),
    );
    const silent = await listen(net.createServer(() => {}));
    const json = path.join(tmp, "errors.json");
    const r = await loadtest([
      "--target",
      `5xx=http://127.0.0.1:${bad}/`,
      "--target",
      `refused=http://127.0.0.1:${closedPort}/`,
      "--target",
      `silent=http://127.0.0.1:${silent}/`,
      "--levels",
      "4",
      "--concurrency",
      "2",
      "--timeout",
      "1",
      "--pause",
      "0",
      "--json",
      json,
      "--no-progress",
    ]);
    // Every level had only errors: the study is still written, and the exit status says so.
    expect(r.status, r.stderr).toBe(1);
    for (const l of ["5xx", "refused", "silent"]) {
      expect(r.stderr).toContain(`loadtest: ${l} n=4: all 4 requests failed (no 2xx response): is the target up?`);
    }
    const out = JSON.parse(fs.readFileSync(json, "utf8"));
    const byLabel = Object.fromEntries(
      out.series.map((s: { label: string; levels: { errors: unknown; ok: number; failed: number }[] }) => [
        s.label,
        s.levels[0],
      ]),
    );
    expect(byLabel["5xx"]).toMatchObject({
      ok: 0,
      failed: 4,
      latencyMs: null,
      errors: { http5xx: 4, httpOther: 0, timeouts: 0, connection: 0, incomplete: 0 },
    });
    expect(byLabel.refused).toMatchObject({
      ok: 0,
      failed: 4,
      errors: { http5xx: 0, timeouts: 0, connection: 4, incomplete: 0 },
    });
    expect(byLabel.silent).toMatchObject({
      ok: 0,
      failed: 4,
      errors: { http5xx: 0, timeouts: 4, connection: 0, incomplete: 0 },
    });
  });

  it("a dead target (nobody listening) exits 1 naming the level; a live one next to it does not hide it", async () => {
    const r = await loadtest([
      "--target",
      `live=http://127.0.0.1:${webPort}/1`,
      "--target",
      `dead=http://127.0.0.1:${closedPort}/`,
      "--levels",
      "3",
      "--concurrency",
      "1",
      "--pause",
      "0",
      "--no-progress",
    ]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      "loadtest: dead n=3: all 3 requests failed (no 2xx response): is the target up?",
    ]);
    expect(r.stdout).toMatch(/^live\s+3\s+1\s+3\s/m);
  });

  it("bad arguments: exit 2 with the reason and the usage", async () => {
    const r = await loadtest(["--target", "http://127.0.0.1:1/", "--levels", "10,5"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("loadtest: --levels: must increase, got 10 then 5");
    expect(r.stderr).toContain("usage: npm run loadtest -- --target [label=]<url>");
    const h = await loadtest(["--help"]);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain("--connect-to <host:port>");
  });
});
