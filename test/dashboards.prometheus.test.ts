/**
 * kantai's Grafana dashboards (dashboards/*.json) against real parts: every PromQL expression —
 * panel targets and template-variable queries — is parsed AND executed by a real Prometheus
 * (Debian's package, started on loopback by test/support/prometheus.ts) that scrapes small
 * loopback targets serving, in the text exposition format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), the series
 * the dashboards expect: Knative's queue-proxy and autoscaler, node-exporter, kube-state-metrics,
 * RTT agents, the per-node Envoy proxies and the re-planner (its own metricsText, web/replanner.ts).
 *
 * SIMULATED: the targets' values are made up; their names and labels are those the real
 * components export, with the target labels the ServiceMonitors/PodMonitor add set as static
 * target labels (`namespace`, `service`, `routing_kantai_dev_node`; `kn_revision_name`,
 * `k8s_namespace_name` from the queue-proxy PodMonitor's relabelings, lib/render/grafana.ts).
 * Metric names of Knative's OpenTelemetry instruments follow the OTel → Prometheus translation
 * (dots → "_", UCUM unit "s" → suffix "_seconds", `{…}` annotation units dropped, histograms
 * `_bucket`/`_sum`/`_count`): https://github.com/open-telemetry/opentelemetry-specification/blob/main/specification/compatibility/prometheus_and_openmetrics.md
 * and https://pkg.go.dev/github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheus
 * ("Non-standard unit (unit is surrounded with {}) → Drop the unit"; "system.filesystem.usage with unit By → …_bytes").
 * Instruments: knative/serving pkg/autoscaler/scaling/metrics.go (kn.revision.pods.desired {item},
 * kn.revision.concurrency.stable {concurrency}), pkg/reconciler/autoscaling/kpa/metrics.go
 * (kn.revision.pods.count {pod}), pkg/queue/request_metric.go (kn.serving.invocation.duration s,
 * kn.serving.queue.depth {request}); http.server.request.duration (s) is OTel's HTTP semconv.
 *
 * Grafana template variables are resolved the way Grafana does for `label_values(expr, label)`:
 * by asking Prometheus (here `count by (label) (expr)`), in order, and substituted (first value)
 * before each panel query runs; `$__rate_interval` becomes 15s (scrapes every second).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dashboardIssues,
  dashboardQueries,
  DASHBOARD_LABEL,
  GRAFANA_DATASOURCE,
  GRAFANA_DEFAULTS,
  renderDashboardConfigMaps,
  substituteVariables,
  withGrafana,
  type Dashboard,
} from "../lib/render/grafana";
import { prometheusStackValues, PROMETHEUS_STACK_DEFAULTS } from "../lib/render/latency";
import { metricsText, type ReplannerConfig } from "../web/replanner";
import { startPrometheus, waitFor, type PrometheusProcess } from "./support/prometheus";

const ROOT = path.resolve(__dirname, "..");
const DASHBOARDS = fs
  .readdirSync(path.join(ROOT, "dashboards"))
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => ({ id: f.replace(/\.json$/, ""), json: fs.readFileSync(path.join(ROOT, "dashboards", f), "utf8") }));

const NODES = ["edge-vm-1", "pi-1", "pi-2"];
const BUILTINS = { __rate_interval: "15s", __interval: "5s", __range: "1m" };

// ---------------------------------------------------------------------------------------------
// The fed targets: each renders its exposition from the scrape count (counters grow per scrape).

type Render = (n: number) => string;
const hist = (name: string, labels: string, n: number, bounds: number[], per: number, sum: number) =>
  [
    ...bounds.map(
      (le, k) =>
        `${name}_bucket{${labels}${labels ? "," : ""}le="${le}"} ${Math.round((n * per * (k + 1)) / bounds.length)}`,
    ),
    `${name}_bucket{${labels}${labels ? "," : ""}le="+Inf"} ${n * per}`,
    `${name}_sum{${labels}} ${n * sum}`,
    `${name}_count{${labels}} ${n * per}`,
  ].join("\n");

const TARGETS: { job: string; labels?: Record<string, string>; render: Render }[] = [
  {
    job: "knative-queue-proxy",
    labels: { kn_revision_name: "fibonacci-00001", k8s_namespace_name: "default" },
    render: (n) =>
      [
        "# TYPE http_server_request_duration_seconds histogram",
        hist("http_server_request_duration_seconds", 'http_response_status_code="200"', n, [0.005, 0.05, 0.5], 7, 0.21),
        "# TYPE kn_serving_invocation_duration_seconds histogram",
        hist("kn_serving_invocation_duration_seconds", "", n, [0.005, 0.05, 0.5], 7, 0.14),
        "# TYPE kn_serving_queue_depth gauge",
        "kn_serving_queue_depth 1",
      ].join("\n"),
  },
  {
    job: "knative-autoscaler",
    render: () =>
      [
        "# TYPE kn_revision_pods_desired gauge",
        'kn_revision_pods_desired{kn_revision_name="fibonacci-00001",k8s_namespace_name="default",kn_service_name="fibonacci"} 2',
        "# TYPE kn_revision_pods_count gauge",
        'kn_revision_pods_count{kn_revision_name="fibonacci-00001",k8s_namespace_name="default",kn_service_name="fibonacci"} 1',
        "# TYPE kn_revision_concurrency_stable gauge",
        'kn_revision_concurrency_stable{kn_revision_name="fibonacci-00001",k8s_namespace_name="default",kn_service_name="fibonacci"} 3.5',
      ].join("\n"),
  },
  {
    job: "node-exporter",
    render: (n) =>
      [
        "# TYPE node_cpu_seconds_total counter",
        `node_cpu_seconds_total{cpu="0",mode="idle"} ${n * 0.7}`,
        `node_cpu_seconds_total{cpu="0",mode="user"} ${n * 0.3}`,
        "# TYPE node_memory_MemAvailable_bytes gauge",
        "node_memory_MemAvailable_bytes 1.5e+09",
        "# TYPE node_memory_MemTotal_bytes gauge",
        "node_memory_MemTotal_bytes 4e+09",
        "# TYPE node_filesystem_avail_bytes gauge",
        'node_filesystem_avail_bytes{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/"} 2e+10',
        "# TYPE node_filesystem_size_bytes gauge",
        'node_filesystem_size_bytes{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/"} 6.4e+10',
        "# TYPE node_network_receive_bytes_total counter",
        `node_network_receive_bytes_total{device="eth0"} ${n * 12000}`,
        "# TYPE node_network_transmit_bytes_total counter",
        `node_network_transmit_bytes_total{device="eth0"} ${n * 8000}`,
        "# TYPE node_load1 gauge",
        "node_load1 0.42",
        "# TYPE node_uname_info gauge",
        'node_uname_info{machine="aarch64",nodename="pi-1",release="6.8.0",sysname="Linux"} 1',
      ].join("\n"),
  },
  {
    job: "kube-state-metrics",
    render: () =>
      [
        "# TYPE kube_node_status_condition gauge",
        ...NODES.flatMap((x) => [
          `kube_node_status_condition{node="${x}",condition="Ready",status="true"} 1`,
          `kube_node_status_condition{node="${x}",condition="Ready",status="false"} 0`,
        ]),
        "# TYPE kube_node_info gauge",
        ...NODES.map((x) => `kube_node_info{node="${x}",kubelet_version="v1.33.1+k3s1"} 1`),
        "# TYPE kube_pod_info gauge",
        ...NODES.map((x, k) => `kube_pod_info{node="${x}",namespace="default",pod="whoami-${k}"} 1`),
      ].join("\n"),
  },
  {
    job: "rtt-agent",
    render: () =>
      [
        "# TYPE latency_between_nodes gauge",
        ...NODES.flatMap((a) =>
          NODES.filter((b) => b !== a).map(
            (b) =>
              `latency_between_nodes{from="${a}",to="${b}"} ${a.startsWith("pi") === b.startsWith("pi") ? 0.6 : 18.4}`,
          ),
        ),
      ].join("\n"),
  },
  ...NODES.map((node) => ({
    job: "whoami-proxy",
    labels: { namespace: "default", service: "whoami-proxy-metrics", routing_kantai_dev_node: node },
    render: (n: number) =>
      [
        "# TYPE envoy_cluster_upstream_rq_total counter",
        ...NODES.map(
          (to) => `envoy_cluster_upstream_rq_total{envoy_cluster_name="node-${to}"} ${to === node ? n * 9 : n}`,
        ),
        'envoy_cluster_upstream_rq_total{envoy_cluster_name="admin"} 0',
        "# TYPE envoy_http_downstream_rq_total counter",
        `envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="ingress"} ${n * 11}`,
        `envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="stats"} ${n}`,
        "# TYPE envoy_http_downstream_rq_time histogram",
        hist(
          "envoy_http_downstream_rq_time",
          'envoy_http_conn_manager_prefix="ingress"',
          n,
          [1, 5, 25, 100],
          11,
          11 * 4.2,
        ),
      ].join("\n"),
  })),
  {
    job: "whoami-replanner",
    render: () =>
      metricsText(REPLANNER, {
        weights: { "edge-vm-1": { "edge-vm-1": 1 }, "pi-1": { "pi-1": 0.75, "pi-2": 0.25 }, "pi-2": { "pi-2": 1 } },
        predictedMeanMs: 4.4,
        atMs: 0,
      }),
  },
];

const REPLANNER: ReplannerConfig = {
  service: "whoami",
  namespace: "default",
  prometheus: "http://unused",
  nodes: NODES.map((name) => ({ name, replicas: 2, serviceRate: 60 })),
  configMaps: Object.fromEntries(NODES.map((x) => [x, `whoami-proxy-${x}`])),
  demandQuery: "unused",
  demandLabel: "routing_kantai_dev_node",
  intervalMs: 15000,
  write: false,
};

const servers: http.Server[] = [];
function serve(render: Render): Promise<string> {
  let n = 0;
  const s = http.createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    n += 1;
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(`${render(n)}\n`);
  });
  servers.push(s);
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () => resolve(`127.0.0.1:${(s.address() as { port: number }).port}`)),
  );
}

let prom: PrometheusProcess;

beforeAll(async () => {
  const targets = [];
  for (const t of TARGETS)
    targets.push({ job: t.job, address: await serve(t.render), ...(t.labels ? { labels: t.labels } : {}) });
  prom = await startPrometheus(targets, 1000);
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

// ---------------------------------------------------------------------------------------------
// The checker: every query of a dashboard, executed.

interface Result {
  readonly ok: boolean;
  readonly samples: number;
  readonly error?: string;
}

async function instant(expr: string): Promise<{
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}> {
  const r = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await r.json()) as never;
}

/** Grafana's `label_values(expr, label)` / `label_values(label)`, resolved by Prometheus. */
async function labelValues(query: string): Promise<string[]> {
  const m = /^label_values\(\s*(?:(.+),\s*)?(\w+)\s*\)$/s.exec(query.trim());
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  const r = await instant(`count by (${m[2]}) (${m[1] ?? `{${m[2]}!=""}`})`);
  if (r.status !== "success") throw new Error(`variable query ${query}: ${r.error}`);
  return r
    .data!.result.map((s) => s.metric[m[2]])
    .filter((v) => v !== undefined)
    .sort();
}

/** Resolve a dashboard's variables in order, then run every panel query; problems by location. */
async function checkDashboard(
  d: Dashboard,
): Promise<{ problems: string[]; values: Record<string, string>; results: Record<string, Result> }> {
  const values: Record<string, string> = { ...BUILTINS };
  const problems: string[] = [];
  const results: Record<string, Result> = {};
  for (const q of dashboardQueries(d)) {
    let expr: string;
    try {
      expr = substituteVariables(q.expr, values);
    } catch (e) {
      problems.push(`${q.where}: ${(e as Error).message}`);
      continue;
    }
    if (q.variable) {
      try {
        const vs = await labelValues(expr);
        if (vs.length === 0) problems.push(`${q.where}: ${expr} returned no values`);
        else values[q.variable] = vs[0];
        results[q.where] = { ok: vs.length > 0, samples: vs.length };
      } catch (e) {
        problems.push(`${q.where}: ${(e as Error).message}`);
      }
      continue;
    }
    const r = await instant(expr);
    if (r.status !== "success") {
      problems.push(`${q.where}: Prometheus rejected ${expr}: ${r.error}`);
      results[q.where] = { ok: false, samples: 0, error: r.error };
      continue;
    }
    const finite = (r.data?.result ?? []).filter((s) => Number.isFinite(Number(s.value[1])));
    if (finite.length === 0) problems.push(`${q.where}: no data for ${expr}`);
    results[q.where] = { ok: finite.length > 0, samples: finite.length };
  }
  return { problems, values, results };
}

const parsed = (id: string) => JSON.parse(DASHBOARDS.find((d) => d.id === id)!.json) as Dashboard;

describe("dashboards: every PromQL expression parsed and executed by a real Prometheus", () => {
  it("ships the three dashboards", () => {
    expect(DASHBOARDS.map((d) => d.id)).toEqual(["cluster-nodes", "kantai-routing", "knative-serving"]);
  });

  for (const { id } of DASHBOARDS) {
    it(`${id}: every query returns data from the fed targets`, async () => {
      const d = parsed(id);
      // Counters need two scrapes inside the rate window: wait until the dashboard is fully served.
      const done = await waitFor(
        `${id} to return data for every query`,
        async () => {
          const r = await checkDashboard(d);
          return r.problems.length === 0 ? r : undefined;
        },
        40_000,
        1000,
      ).catch(async () => checkDashboard(d));
      expect(done.problems).toEqual([]);
      const n = dashboardQueries(d).length;
      console.log(
        `dashboard ${id}: ${n} queries executed by Prometheus, all with data; variables ${JSON.stringify(Object.fromEntries(Object.entries(done.values).filter(([k]) => !k.startsWith("__"))))}`,
      );
      expect(Object.values(done.results).filter((r) => r.ok).length).toBe(n);
    }, 60_000);
  }

  it("the routing dashboard shows the service's weights, RTTs, requests per node and both means", async () => {
    const d = parsed("kantai-routing");
    const { values } = await checkDashboard(d);
    expect(values).toMatchObject({ service: "whoami", namespace: "default" });
    const q = (title: string, k = 0) =>
      substituteVariables(d.panels!.find((p) => p.title === title)!.targets![k].expr!, values);
    const weights = (await instant(q("Plan weights per source node")))
      .data!.result.map((s) => `${s.metric.from}→${s.metric.to}=${s.value[1]}`)
      .sort();
    expect(weights).toContain("pi-1→pi-2=0.25");
    expect(weights).toHaveLength(9);
    const rtt = (await instant(q("Measured RTT per pair")))
      .data!.result.map((s) => `${s.metric.from}→${s.metric.to}=${s.value[1]}`)
      .sort();
    expect(rtt).toEqual([
      "edge-vm-1→pi-1=18.4",
      "edge-vm-1→pi-2=18.4",
      "pi-1→edge-vm-1=18.4",
      "pi-1→pi-2=0.6",
      "pi-2→edge-vm-1=18.4",
      "pi-2→pi-1=0.6",
    ]);
    // A rate() needs two scrapes of each proxy inside its window; on a loaded machine one proxy's
    // second scrape can lag the others, so wait (bounded) until every node's series is there.
    const perNodeQuery = q("Requests per node: from the proxy at each node to each serving node");
    const perNode = await waitFor(
      "a requests-per-node series for every node",
      async () => {
        const r = (await instant(perNodeQuery)).data!.result;
        return new Set(r.map((s) => s.metric.routing_kantai_dev_node)).size === NODES.length ? r : undefined;
      },
      20_000,
      500,
    ).catch(async () => (await instant(perNodeQuery)).data!.result);
    expect(new Set(perNode.map((s) => s.metric.routing_kantai_dev_node))).toEqual(new Set(NODES));
    expect(perNode.every((s) => s.metric.envoy_cluster_name !== "admin")).toBe(true);
    const title = "Mean response time: predicted by the plan vs measured";
    expect(Number((await instant(q(title, 0))).data!.result[0].value[1])).toBe(0.0044);
    // The fed proxies' histogram: sum/count = 4.2 ms per request, shown in seconds.
    expect(Number((await instant(q(title, 1))).data!.result[0].value[1])).toBeCloseTo(0.0042, 9);
  }, 60_000);

  it("fails a broken query and a misspelt metric (the checker can fail)", async () => {
    const d = parsed("kantai-routing");
    const broken: Dashboard = structuredClone(d);
    broken.panels![0].targets![0].expr = 'sum by (from (kantai_routing_weight{service="$service"})';
    broken.panels![1].targets![0].expr = 'kantai_routing_wieght{service="$service"}';
    const { problems } = await checkDashboard(broken);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^panel 1 "Plan weights per source node" target A: Prometheus rejected .*parse error/);
    expect(problems[1]).toBe(
      'panel 2 "Measured RTT per pair" target A: no data for kantai_routing_wieght{service="whoami"}',
    );
    const unknownVar: Dashboard = structuredClone(d);
    unknownVar.panels![0].targets![0].expr = 'kantai_routing_weight{service="$servce"}';
    expect((await checkDashboard(unknownVar)).problems).toEqual([
      'panel 1 "Plan weights per source node" target A: unknown template variable $servce in kantai_routing_weight{service="$servce"}',
    ]);
  }, 30_000);
});

describe("dashboards: structure and datasource references", () => {
  it("every dashboard has unique panel ids and references only the chart's provisioned Prometheus datasource", () => {
    // The datasource the chart provisions from these values (templates/grafana/configmaps-datasources.yaml: name/uid from grafana.sidecar.datasources).
    const values = withGrafana(prometheusStackValues(PROMETHEUS_STACK_DEFAULTS), {
      adminSecret: "x",
      ...GRAFANA_DEFAULTS,
    }) as any;
    const provisioned = { uid: values.grafana.sidecar.datasources.uid, type: "prometheus" };
    expect(provisioned).toEqual({ uid: GRAFANA_DATASOURCE.uid, type: GRAFANA_DATASOURCE.type });
    for (const { id, json } of DASHBOARDS) expect(dashboardIssues(JSON.parse(json), [provisioned]), id).toEqual([]);
  });

  it("reports duplicate or missing panel ids and unknown datasources", () => {
    const d: Dashboard = structuredClone(parsed("cluster-nodes"));
    d.panels![1].id = d.panels![0].id;
    delete d.panels![2].id;
    d.panels![3].datasource = { type: "prometheus", uid: "thanos" };
    d.panels![4].targets![0].datasource = "Prometheus";
    d.templating!.list![0].datasource = { type: "loki", uid: "prometheus" };
    expect(dashboardIssues(d)).toEqual([
      'panel id 1 is used by "Nodes ready" and "Pods per node"',
      'panel "CPU used" has no numeric id',
      'panel 4 "Memory used" references an unknown datasource {"type":"prometheus","uid":"thanos"}',
      'panel 5 target A references an unknown datasource "Prometheus"',
      'variable $instance references an unknown datasource {"type":"loki","uid":"prometheus"}',
    ]);
    expect(() => renderDashboardConfigMaps("monitoring", [{ id: "bad", json: JSON.stringify(d) }])).toThrow(
      /^dashboard bad: panel id 1 is used by/,
    );
  });

  it("delivers each dashboard as a ConfigMap labelled for the chart's sidecar", () => {
    const values = withGrafana(prometheusStackValues(PROMETHEUS_STACK_DEFAULTS), {
      adminSecret: "x",
      ...GRAFANA_DEFAULTS,
    }) as any;
    const cms = renderDashboardConfigMaps("monitoring", DASHBOARDS);
    expect(cms.map((c) => c.metadata.name)).toEqual([
      "kantai-dashboard-cluster-nodes",
      "kantai-dashboard-kantai-routing",
      "kantai-dashboard-knative-serving",
    ]);
    for (const c of cms) {
      expect(c.metadata.labels![values.grafana.sidecar.dashboards.label]).toBe(
        values.grafana.sidecar.dashboards.labelValue,
      );
      expect(c.metadata.labels![DASHBOARD_LABEL.key]).toBe("1");
    }
    expect(Object.keys((cms[1] as any).data)).toEqual(["kantai-routing.json"]);
  });
});
