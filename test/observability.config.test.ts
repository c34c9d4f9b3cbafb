/**
 * kantai:observability (stacks/config/observability.ts) and the measured-latency fields of
 * kantai:routing.services[i] (latencyPrometheus, hysteresis, reweight): the edge sample parsed,
 * defaults, and every rule's exact message — before any resource exists.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { prometheusStackChart } from "../lib/render/latency";
import { parsedStack, stackProblems } from "./support/configProblems";

const parsed = parsedStack;
const problems = stackProblems;

const svc = (edit: (s: Record<string, any>) => void) => (r: Record<string, any>) => edit(r.routing.services[0]);

describe("kantai:observability", () => {
  it("the edge sample: Prometheus, agents and Grafana on, defaults filled in; the routing service re-weights", () => {
    const c = parsed();
    expect(c.observability).toEqual({
      namespace: "monitoring",
      prometheus: { enabled: true, version: "88.5.3", retention: "2d", scrapeInterval: "15s" },
      agents: {
        intervalMs: 5000,
        windowMs: 10000,
        timeoutMs: 1000,
        port: 9470,
        hostNetwork: true,
        scrapeInterval: "5s",
      },
      grafana: { enabled: true, adminUser: "admin" },
      knativeMonitor: true,
    });
    expect(c.routing!.services[0]).toMatchObject({
      reweight: { enabled: true, intervalMs: 15000, minIntervalMs: 60000, maxStep: 0.25 },
      hysteresis: { improvementPct: 5, rttMoveMs: 10 },
      latencySource: "stacks/data/edge-latency.prom",
    });
    expect(c.routing!.services[0].latencyPrometheus).toBeUndefined();
  });

  it("is optional: without it there is no observability (and reweight must be off)", () => {
    const c = parsed((r) => {
      delete r.observability;
      delete r.routing.services[0].reweight;
    });
    expect(c.observability).toBeUndefined();
    expect(c.routing!.services[0].reweight.enabled).toBe(false);
  });

  it("belongs to the edge composition only", () => {
    expect(problems((r) => (r.observability = {}), "lab")).toEqual([
      'kantai:observability: is not part of the "lab" composition (measured latencies and dashboards run on the "edge" composition\'s cluster)',
    ]);
  });

  it("re-planning needs it", () => {
    expect(problems((r) => delete r.observability)).toEqual([
      "kantai:routing.services[0].reweight: needs kantai:observability (the re-planner reads Prometheus)",
    ]);
  });

  it("names every bad value with its key", () => {
    expect(
      problems((r) => {
        r.observability.prometheus = { retention: "two days", scrapeInterval: "" };
        r.observability.agents = { port: 80, intervalMs: 50.5 };
        r.observability.grafana = { adminUser: "a b" };
        r.observability.colour = "blue";
      }),
    ).toEqual([
      'kantai:observability.prometheus.retention: must be a Prometheus duration like "15s", "5m" or "2d"',
      'kantai:observability.prometheus.scrapeInterval: must be a Prometheus duration like "15s", "5m" or "2d"',
      "kantai:observability.agents.intervalMs: must be a whole number of milliseconds",
      "kantai:observability.agents.port: must be 1024 or above (the agent runs as a non-root user)",
      "kantai:observability.grafana.adminUser: must be a user name (letters, digits, '_', '.', '-')",
      'kantai:observability: unknown key "colour"',
    ]);
  });

  it("checks the agents' timing and the Prometheus/Grafana combinations", () => {
    expect(problems((r) => (r.observability.agents = { intervalMs: 2000, windowMs: 1000, timeoutMs: 2000 }))).toEqual([
      "kantai:observability.agents.windowMs: 1000 ms is shorter than agents.intervalMs (2000 ms): the window must hold at least one probe",
      "kantai:observability.agents.timeoutMs: 2000 ms must be below agents.intervalMs (2000 ms): a probe must end before the next starts",
    ]);
    expect(problems((r) => (r.observability.prometheus = { url: "http://prom.example:9090" }))).toEqual([
      "kantai:observability.prometheus.url: is only for an existing Prometheus (prometheus.enabled: false); with enabled: true kantai installs one and knows its URL",
    ]);
    expect(problems((r) => (r.observability.prometheus = { enabled: false }))).toEqual([
      "kantai:observability.prometheus.url: is required with prometheus.enabled: false while a re-planner runs (kantai:routing.services[0].reweight): it is the Prometheus the re-planner queries",
      "kantai:observability.grafana.enabled: needs prometheus.enabled: true (Grafana comes from the kube-prometheus-stack chart kantai installs)",
    ]);
    const c = parsed((r) => {
      r.observability.prometheus = { enabled: false, url: "http://prom.monitoring.svc:9090" };
      r.observability.grafana = { enabled: false };
    });
    expect(c.observability!.prometheus).toMatchObject({ enabled: false, url: "http://prom.monitoring.svc:9090" });
  });

  it("leaves the Knative monitors out without kantai:knative", () => {
    expect(
      parsed((r) => {
        delete r.knative;
        // The tunnel routes the function's public host; without Knative drop it too.
        r.tunnel = { name: "kantai-edge" };
      }).observability?.knativeMonitor,
    ).toBe(false);
  });
});

describe("kantai:routing.services[i]: measured-latency fields", () => {
  it("latencyPrometheus is one of the three matrix sources", () => {
    expect(problems(svc((s) => (s.latencyPrometheus = "http://127.0.0.1:9090")))).toEqual([
      "kantai:routing.services[0]: set exactly one of rttMs, latencyFile and latencyPrometheus",
    ]);
    expect(problems(svc((s) => delete s.latencyFile))).toEqual([
      "kantai:routing.services[0]: needs the RTT matrix: set rttMs ({from: {to: ms}}), latencyFile (monlat measurements) or latencyPrometheus (a Prometheus URL)",
    ]);
    expect(problems(svc((s) => ((s.latencyPrometheus = "prometheus:9090"), delete s.latencyFile)))).toEqual([
      "kantai:routing.services[0].latencyPrometheus: must be an http(s) URL of a Prometheus, e.g. http://127.0.0.1:9090",
    ]);
  });

  it("with latencyPrometheus the rest of the input is still validated now, with zero RTTs standing in", () => {
    const c = parsed(svc((s) => ((s.latencyPrometheus = "http://127.0.0.1:9090"), delete s.latencyFile)));
    const s = c.routing!.services[0];
    expect(s.latencyPrometheus).toBe("http://127.0.0.1:9090");
    expect(s.latencySource).toBe("prometheus http://127.0.0.1:9090");
    expect(Object.values(s.input.rttMs).flatMap((row) => Object.values(row))).toEqual(Array(16).fill(0));
    expect(
      problems(svc((s) => ((s.latencyPrometheus = "http://127.0.0.1:9090"), delete s.latencyFile, (s.replicas = 12)))),
    ).toEqual(["kantai:routing.services[0].replicas: 12 exceeds the total maxPods of all nodes (11)"]);
  });

  it("reweight and hysteresis: exact messages", () => {
    expect(problems(svc((s) => (s.reweight = { enabled: true, maxStep: 0 })))).toEqual([
      "kantai:routing.services[0].reweight.maxStep: must be in (0, 1]",
    ]);
    expect(problems(svc((s) => (s.reweight = { enabled: true, maxStep: 1.5 })))).toEqual([
      "kantai:routing.services[0].reweight.maxStep: must be in (0, 1]",
    ]);
    expect(problems(svc((s) => (s.reweight = { enabled: true, intervalMs: 500, speed: 2 })))).toEqual([
      "kantai:routing.services[0].reweight.intervalMs: must be at least 1000 ms",
      'kantai:routing.services[0].reweight: unknown key "speed"',
    ]);
    expect(problems(svc((s) => (s.hysteresis = { improvementPct: -1, rttMoveMs: -2 })))).toEqual([
      "kantai:routing.services[0].hysteresis.improvementPct: must be a non-negative percentage",
      "kantai:routing.services[0].hysteresis.rttMoveMs: must be a non-negative number of milliseconds",
    ]);
  });
});

// kube-prometheus-stack under kantai:releases.mirror (an air-gapped install reads every release
// from the mirror): the packaged chart at the layout `helm pull` writes. Helm takes a chart
// archive's path or URL as the chart reference (helm.sh/docs/helm/helm_install: "By absolute
// URL: helm install mynginx https://example.com/charts/nginx-1.2.3.tgz"; "By path to a packaged
// chart: helm install mynginx ./nginx-1.2.3.tgz").
describe("the kube-prometheus-stack chart under kantai:releases.mirror", () => {
  it("no mirror: the chart repository and the pinned version", () => {
    expect(prometheusStackChart("88.5.3")).toEqual({
      chart: "kube-prometheus-stack",
      repo: "https://prometheus-community.github.io/helm-charts",
      mirrorPath: "kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz",
    });
  });

  it("a URL or a directory mirror: the packaged chart there, no repository", () => {
    expect(prometheusStackChart("88.5.3", { kind: "url", base: "http://mirror.lan/kantai/" })).toEqual({
      chart: "http://mirror.lan/kantai/kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz",
      mirrorPath: "kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz",
    });
    expect(prometheusStackChart("88.5.3", { kind: "dir", path: "/srv/mirror" }).chart).toBe(
      "/srv/mirror/kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz",
    );
  });

  it("the config carries the mirror to the chart; a directory mirror without the chart is refused by name", () => {
    const c = parsed((r) => (r.releases = { mirror: "http://mirror.lan/kantai" }));
    expect(c.observability!.prometheus.mirror).toEqual({ kind: "url", base: "http://mirror.lan/kantai" });
    const dir = mkdtempSync(path.join(tmpdir(), "kantai-prom-mirror-"));
    const lacks = problems((r) => (r.releases = { mirror: dir })).filter((p) => p.includes("kube-prometheus-stack"));
    expect(lacks).toEqual([
      `kantai:releases.mirror: ${dir} lacks kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz (the kube-prometheus-stack chart of kantai:observability); the layout is in docs/reference/config.md#release-manifests-and-mirror`,
    ]);
    const chart = path.join(dir, "kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz");
    mkdirSync(path.dirname(chart), { recursive: true });
    writeFileSync(chart, "");
    expect(problems((r) => (r.releases = { mirror: dir })).filter((p) => p.includes("kube-prometheus-stack"))).toEqual(
      [],
    );
  });
});
