/** The load tool's pure parts: argument validation, per-level statistics, tables, the SVG chart. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LEVELS,
  parseLevels,
  parseLoadtestArgs,
  SEED_LEVELS,
  type LoadtestOptions,
} from "../lib/loadtest/args";
import { levelOptions, runStudy } from "../lib/loadtest/run";
import {
  errorKind,
  LevelRecorder,
  onlyErrorLevels,
  peak,
  percentile,
  type LevelResult,
  type Series,
} from "../lib/loadtest/stats";
import { niceMax, renderChart } from "../lib/loadtest/svg";
import { formatMarkdown, formatTable } from "../lib/loadtest/table";
import { runTool } from "./support/tools";

const args = (...a: string[]) => parseLoadtestArgs(a) as LoadtestOptions;

describe("loadtest arguments", () => {
  it("defaults: seed concurrency, four bounded levels, 10 s timeout, 50 s budget, label from the host", () => {
    expect(args("--target", "http://three.standalone.hosts.pve/")).toEqual({
      targets: [{ label: "three.standalone.hosts.pve", url: "http://three.standalone.hosts.pve/" }],
      levels: [100, 200, 400, 800],
      concurrency: 1000,
      timeoutS: 10,
      budgetS: 50,
      pauseS: 2,
      connectTo: undefined,
      json: undefined,
      chart: undefined,
      title: "kantai load study",
      progress: true,
    });
    expect(DEFAULT_LEVELS).toEqual(SEED_LEVELS.slice(0, 4));
  });

  it("the seed preset: 100 doubling up to 32,000", () => {
    expect(parseLevels("seed")).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 32000]);
  });

  it("parses labelled targets, --connect-to, outputs and options", () => {
    const o = args(
      "--target",
      "1=http://one.standalone.hosts.pve/",
      "--target",
      "2=http://two.standalone.hosts.pve/10?x=1",
      "--levels",
      "10,20,40",
      "--concurrency",
      "8",
      "--timeout",
      "2.5",
      "--budget",
      "30",
      "--pause",
      "0",
      "--connect-to",
      "127.0.0.1:8080",
      "--json",
      "o/r.json",
      "--chart",
      "o/r.svg",
      "--title",
      "T",
      "--no-progress",
    );
    expect(o).toEqual({
      targets: [
        { label: "1", url: "http://one.standalone.hosts.pve/" },
        { label: "2", url: "http://two.standalone.hosts.pve/10?x=1" },
      ],
      levels: [10, 20, 40],
      concurrency: 8,
      timeoutS: 2.5,
      budgetS: 30,
      pauseS: 0,
      connectTo: { host: "127.0.0.1", port: 8080 },
      json: "o/r.json",
      chart: "o/r.svg",
      title: "T",
      progress: false,
    });
    expect(parseLoadtestArgs(["--help"])).toBe("help");
  });

  it.each([
    [[], "--target is required"],
    [
      ["--target", "three.standalone.hosts.pve"],
      '--target: "three.standalone.hosts.pve" is not a URL (expected http://host[:port]/path)',
    ],
    [["--target", "ftp://x/"], '--target: "ftp://x/" must be http:// or https://'],
    [
      ["--target", "http://a/", "--target", "http://a/b"],
      '--target: label "a" is used twice; name series with label=url',
    ],
    [["--target", "http://a/", "--levels", "100,abc"], '--levels: "abc" is not a positive integer'],
    [["--target", "http://a/", "--levels", "0"], "--levels: 0 is out of range 1-1000000"],
    [["--target", "http://a/", "--levels", "200,100"], "--levels: must increase, got 200 then 100"],
    [["--target", "http://a/", "--levels", "100,"], '--levels: "" is not a positive integer'],
    [["--target", "http://a/", "--concurrency", "1.5"], '--concurrency: "1.5" is not a positive integer'],
    [["--target", "http://a/", "--concurrency", "0"], "--concurrency: 0 is out of range 1-10000"],
    [["--target", "http://a/", "--timeout", "0.5"], "--timeout: must be at least 1 s, got 0.5"],
    [["--target", "http://a/", "--timeout", "soon"], '--timeout: "soon" is not a number of seconds'],
    [["--target", "http://a/", "--budget", "0"], "--budget: must be at least 1 s, got 0"],
    [["--target", "http://a/", "--pause=-1"], "--pause: must be at least 0 s, got -1"],
    [["--target", "http://a/", "--connect-to", "localhost"], '--connect-to: "localhost" is not host:port'],
    [["--target", "http://a/", "--connect-to", "127.0.0.1:70000"], "--connect-to: 70000 is out of range 1-65535"],
    [["--target", "http://a/", "--chart", "out.png"], '--chart: "out.png" must end in .svg'],
    [["--target", "http://a/", "--rate", "5"], "Unknown option '--rate'"],
    [["--target", "http://a/", "extra"], "Unexpected argument 'extra'"],
  ])("rejects %j: %s", (argv, message) => {
    expect(() => parseLoadtestArgs(argv as string[])).toThrow(message);
  });
});

describe("autocannon options per level", () => {
  it("uses min(n, concurrency) connections and exactly n requests", () => {
    const t = { label: "a", url: "http://127.0.0.1:3000/" };
    expect(levelOptions(t, 100, { concurrency: 1000, timeoutS: 10 })).toEqual({
      url: "http://127.0.0.1:3000/",
      connections: 100,
      amount: 100,
      timeout: 10,
      pipelining: 1,
    });
    expect(levelOptions(t, 3200, { concurrency: 1000, timeoutS: 20 })).toMatchObject({
      connections: 1000,
      amount: 3200,
      timeout: 20,
    });
  });

  it("--connect-to dials the given address and keeps the site's name in Host", () => {
    const t = { label: "3", url: "http://three.standalone.hosts.pve/35?q=1" };
    expect(levelOptions(t, 10, { concurrency: 4, timeoutS: 10, connectTo: { host: "127.0.0.1", port: 8080 } })).toEqual(
      {
        url: "http://127.0.0.1:8080/35?q=1",
        headers: { host: "three.standalone.hosts.pve" },
        connections: 4,
        amount: 10,
        timeout: 10,
        pipelining: 1,
      },
    );
  });

  it("skips the levels the budget leaves no time for, without sending a request", async () => {
    let t = 0;
    const now = () => (t += 60_000); // every clock reading is 60 s later: the 55 s budget is gone at the first check
    const study = await runStudy(
      { ...args("--target", "a=http://127.0.0.1:9/", "--levels", "10,20"), budgetS: 55 },
      undefined,
      now,
    );
    expect(study.series).toEqual([{ label: "a", target: "http://127.0.0.1:9/", levels: [] }]);
    expect(study.skipped).toEqual([
      { label: "a", requests: 10 },
      { label: "a", requests: 20 },
    ]);
  });
});

describe("per-level statistics", () => {
  it("nearest-rank percentiles", () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([50, 95, 99, 100, 10].map((p) => percentile(xs, p))).toEqual([5, 10, 10, 10, 1]);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(xs, 0)).toThrow("percentile must be in (0, 100], got 0");
  });

  it("percentiles are monotonic in p and lie within the data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e5, noNaN: true }), { minLength: 1 }),
        fc.double({ min: 0.01, max: 99.99, noNaN: true }),
        (raw, p) => {
          const xs = [...raw].sort((a, b) => a - b);
          const v = percentile(xs, p);
          expect(v).toBeGreaterThanOrEqual(xs[0]);
          expect(v).toBeLessThanOrEqual(xs[xs.length - 1]);
          expect(percentile(xs, Math.min(100, p + 1))).toBeGreaterThanOrEqual(v);
        },
      ),
    );
  });

  it("classifies errors: timeouts vs connection errors", () => {
    expect(errorKind(new Error("request timed out"))).toBe("timeouts");
    expect(errorKind({ code: "ETIMEDOUT", message: "connect ETIMEDOUT" })).toBe("timeouts");
    expect(errorKind({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:9" })).toBe("connection");
    expect(errorKind({ code: "ECONNRESET", message: "read ECONNRESET" })).toBe("connection");
  });

  it("a level's summary: latency over 2xx only, throughput = 2xx per second, every failure counted by kind", () => {
    const r = new LevelRecorder();
    for (const ms of [10, 20, 30, 40]) r.response(200, ms);
    r.response(502, 5);
    r.response(503, 5);
    r.response(404, 1);
    r.error(new Error("request timed out"));
    r.error({ code: "ECONNREFUSED", message: "connect ECONNREFUSED" });
    expect(r.done).toBe(9);
    expect(r.summarize(12, 4, 2)).toEqual({
      requests: 12,
      concurrency: 4,
      ok: 4,
      durationS: 2,
      throughput: 2,
      latencyMs: { mean: 25, p50: 20, p95: 40, p99: 40, max: 40 },
      errors: { http5xx: 2, httpOther: 1, timeouts: 1, connection: 1, incomplete: 3 },
      failed: 8,
    });
  });

  it("no successful response: latency is null, throughput 0", () => {
    const r = new LevelRecorder();
    r.response(502, 3);
    expect(r.summarize(1, 1, 0.5)).toMatchObject({ ok: 0, throughput: 0, latencyMs: null, failed: 1 });
    expect(() => r.summarize(1, 1, 0)).toThrow("duration must be positive, got 0");
  });

  it("levels with only errors: no 2xx and at least one failure", () => {
    expect(onlyErrorLevels(SERIES)).toEqual([]);
    const dead: Series = {
      label: "dead",
      target: "http://127.0.0.1:1/",
      levels: [level(100, 0, 0, 0, 100), level(200, 1, 5, 9, 199)],
    };
    const empty: Series = {
      label: "empty",
      target: "http://x/",
      levels: [{ ...level(0, 0, 0, 0), requests: 0, ok: 0 }],
    };
    expect(onlyErrorLevels([...SERIES, dead, empty])).toEqual([{ label: "dead", requests: 100, failed: 100 }]);
  });

  it("the peak of a series", () => {
    expect(peak(SERIES[1])).toEqual({ throughput: 95.5, requests: 200 });
    expect(peak({ label: "x", target: "http://x/", levels: [] })).toBeNull();
  });
});

const level = (requests: number, throughput: number, p50: number, p95: number, failed = 0): LevelResult => ({
  requests,
  concurrency: Math.min(requests, 1000),
  ok: requests - failed,
  durationS: 1,
  throughput,
  latencyMs: { mean: p50, p50, p95, p99: p95 + 1, max: p95 + 2 },
  errors: { http5xx: failed, httpOther: 0, timeouts: 0, connection: 0, incomplete: 0 },
  failed,
});
const SERIES: Series[] = [
  {
    label: "1 instance",
    target: "http://one.standalone.hosts.pve/",
    levels: [level(100, 50, 900, 1800), level(200, 48.25, 1900, 3800, 20)],
  },
  {
    label: "2 <&> instances",
    target: "http://two.standalone.hosts.pve/",
    levels: [level(100, 90, 500, 950), level(200, 95.5, 1000, 1900)],
  },
];

describe("tables", () => {
  it("plain text, aligned", () => {
    expect(formatTable(SERIES.slice(0, 1))).toBe(
      [
        "series        n  conc   ok  req/s  mean ms  p50 ms  p95 ms  p99 ms  5xx  other  timeouts  conn err  incomplete  time s",
        "----------  ---  ----  ---  -----  -------  ------  ------  ------  ---  -----  --------  --------  ----------  ------",
        "1 instance  100   100  100   50.0    900.0   900.0  1800.0  1801.0    0      0         0         0           0     1.0",
        "1 instance  200   200  180   48.3   1900.0  1900.0  3800.0  3801.0   20      0         0         0           0     1.0",
        "",
      ].join("\n"),
    );
  });

  it("Markdown", () => {
    const md = formatMarkdown(SERIES.slice(1)).split("\n");
    expect(md[0]).toBe(
      "| series | n | conc | ok | req/s | mean ms | p50 ms | p95 ms | p99 ms | 5xx | other | timeouts | conn err | incomplete | time s |",
    );
    expect(md[1]).toBe("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    expect(md[2]).toBe(
      "| 2 <&> instances | 100 | 100 | 100 | 90.0 | 500.0 | 500.0 | 950.0 | 951.0 | 0 | 0 | 0 | 0 | 0 | 1.0 |",
    );
  });
});

/** Parse SVG with a real XML parser (Python's expat-based ElementTree; python3 comes with cloud-init). */
function parseSvg(svg: string): {
  root: string;
  polylines: { series: string; points: number[][]; dash: string | null; color: string }[];
  texts: string[];
} {
  const py = [
    "import sys, json, xml.etree.ElementTree as ET",
    "ns = '{http://www.w3.org/2000/svg}'",
    "root = ET.fromstring(sys.stdin.read())",
    "pl = [{'series': e.get('data-series'), 'points': [[float(v) for v in p.split(',')] for p in e.get('points').split()], 'dash': e.get('stroke-dasharray'), 'color': e.get('stroke')} for e in root.iter(ns + 'polyline')]",
    "print(json.dumps({'root': root.tag, 'polylines': pl, 'texts': [t.text for t in root.iter(ns + 'text')]}))",
  ].join("\n");
  const r = runTool("python3", ["-c", py], { input: svg });
  if (r.status !== 0) throw new Error(`not well-formed XML: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("SVG chart", () => {
  it("is well-formed SVG with one line per series and panel (p50 dashed), labels escaped", () => {
    const svg = renderChart(SERIES, { title: "1 vs 2 <instances>", subtitle: "2 × AMD EPYC" });
    const doc = parseSvg(svg);
    expect(doc.root).toBe("{http://www.w3.org/2000/svg}svg");
    // latency panel: p95 + p50 per series; throughput; failures → 4 lines per series
    expect(doc.polylines.map((p) => [p.series, p.dash])).toEqual([
      ["1 instance", null],
      ["1 instance", "5 4"],
      ["2 <&> instances", null],
      ["2 <&> instances", "5 4"],
      ["1 instance", null],
      ["2 <&> instances", null],
      ["1 instance", null],
      ["2 <&> instances", null],
    ]);
    expect(doc.texts).toContain("1 vs 2 <instances>");
    expect(doc.texts).toContain("2 × AMD EPYC");
    expect(doc.texts).toContain("2 <&> instances");
    expect(doc.polylines[0].color).not.toBe(doc.polylines[2].color);
  });

  it("places load on a log scale and values on a 0-based axis: the points encode the numbers", () => {
    const doc = parseSvg(renderChart(SERIES));
    const [p95one, , p95two] = doc.polylines;
    // x: 100 → left edge, 200 → right edge (two levels); both series share the x positions
    expect(p95one.points.map((p) => p[0])).toEqual(p95two.points.map((p) => p[0]));
    expect(p95one.points[1][0]).toBeGreaterThan(p95one.points[0][0]);
    // y: the axis max is niceMax(3800) = 5000; a higher value sits higher (smaller y)
    expect(p95one.points[1][1]).toBeLessThan(p95two.points[1][1]);
    // failures panel: 10 % for 1 instance at n=200 (20 of 200), 0 % elsewhere → one point above the baseline
    const fails = doc.polylines.slice(6);
    const base = fails[1].points[0][1];
    expect(fails[1].points.map((p) => p[1])).toEqual([base, base]);
    expect(fails[0].points[1][1]).toBeLessThan(base);
    expect(doc.texts).toEqual(expect.arrayContaining(["5000", "100", "200"]));
  });

  it("nice axis maxima; an empty study is an error", () => {
    expect([0, 0.3, 1, 3.8, 42, 100, 101, 3800].map(niceMax)).toEqual([1, 0.5, 1, 5, 50, 100, 200, 5000]);
    expect(() => renderChart([{ label: "x", target: "http://x/", levels: [] }])).toThrow(
      "renderChart: no levels to draw",
    );
  });
});
