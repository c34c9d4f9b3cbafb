/**
 * Measured latency and dashboards in the edge stack (stacks/parts/routing.ts routingOnCluster), under the
 * synth's Pulumi mocks (SIMULATED: nothing is deployed, no Helm chart is rendered): Prometheus and
 * Grafana from kube-prometheus-stack with the values kantai sets, the RTT agents, a ServiceMonitor
 * per latency-aware service, Knative's monitors, the dashboards' ConfigMaps, a re-planner per
 * routed service, Pulumi leaving the re-planner's fields alone — and no secret in the outputs or
 * the artifacts.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { REPLANNER_IGNORED_FIELDS } from "../components/routing/latencyAwareService";
import { parseManifests, type K8sObject } from "../lib/render/k8s";
import { synthMocks } from "../scripts/synth/mocks";
import { recordProgram, resolveDeep, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";
import { validateAll } from "./support/k8sSchemas";

let resources: RecordedResource[] = [];
let outputsJson = "";
const artifacts: { path: string; kind: string; content: string }[] = [];
/** Resource options as the program passed them (a stack transformation sees them; the mocks do not). */
const options = new Map<string, pulumi.ResourceOptions>();
let password = "";

beforeAll(async () => {
  const { config, secretKeys } = devStackConfig("Pulumi.edge.yaml");
  const newResource = synthMocks.newResource.bind(synthMocks);
  synthMocks.newResource = async (args) => {
    const r = await newResource(args);
    if (args.type === "random:index/randomPassword:RandomPassword" && args.name === "latency-grafana-admin")
      password = (r.state as { result: string }).result;
    return r;
  };
  const { run } = await import("../stacks");
  const rec = await recordProgram(
    () => {
      pulumi.runtime.registerStackTransformation((t) => {
        options.set(`${t.type} ${t.name}`, t.opts);
        return undefined;
      });
      return run();
    },
    { config, secretKeys, stack: "edge" },
  );
  resources = rec.resources;
  outputsJson = JSON.stringify(await resolveDeep(rec.result.outputs));
  for (const a of rec.result.artifacts)
    artifacts.push({ path: a.path, kind: a.kind, content: (await resolveDeep(a.content)) as string });
}, 120_000);

const one = (type: string, name: string) => {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r as RecordedResource & { inputs: any };
};
const group = (name: string): K8sObject[] => one("kubernetes:yaml/v2:ConfigGroup", name).inputs.objs;

describe("edge stack: measured latency and dashboards", () => {
  it("installs kube-prometheus-stack with Grafana, its dashboards sidecar, node-exporter and kube-state-metrics", () => {
    const chart = one("kubernetes:helm.sh/v4:Chart", "latency-prometheus");
    expect(chart.parent).toBe("latency");
    const v = chart.inputs.values;
    expect(v.grafana).toMatchObject({
      enabled: true,
      admin: {
        existingSecret: "kantai-prometheus-grafana-admin",
        userKey: "admin-user",
        passwordKey: "admin-password",
      },
      sidecar: {
        dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1" },
        datasources: { uid: "prometheus", name: "Prometheus" },
      },
    });
    expect(v.grafana.adminPassword).toBeUndefined();
    expect([v.kubeStateMetrics.enabled, v.nodeExporter.enabled]).toEqual([true, true]);
    // Requests and limits on every container the chart adds for Grafana and the exporters (policy pack).
    for (const r of [
      v.grafana.resources,
      v.grafana.sidecar.resources,
      v["kube-state-metrics"].resources,
      v["prometheus-node-exporter"].resources,
    ]) {
      expect(Object.keys(r.requests).sort()).toEqual(["cpu", "memory"]);
      expect(Object.keys(r.limits).sort()).toEqual(["cpu", "memory"]);
    }
    expect(chart.dependsOn).toContain("latency-grafana-admin");
  });

  it("keeps the generated admin password secret: only in the Secret, never in outputs or artifacts", () => {
    const secret = one("kubernetes:core/v1:Secret", "latency-grafana-admin");
    expect(secret.inputs.metadata.name).toBe("kantai-prometheus-grafana-admin");
    expect(secret.inputs.stringData).toBe("[secret]");
    expect(password).toMatch(/^synth-latency-grafana-admin/);
    expect(outputsJson).not.toContain(password);
    for (const a of artifacts) expect(a.content, a.path).not.toContain(password);
    expect(JSON.stringify(resources)).not.toContain(password);
  });

  it("runs an RTT agent per node and a ServiceMonitor per latency-aware service", () => {
    expect(group("latency-agents").map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ConfigMap/rtt-agent",
      "Service/rtt-agent",
      "DaemonSet/rtt-agent",
      "ServiceMonitor/rtt-agent",
    ]);
    const monitors = group("latency-monitors");
    expect(monitors.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "Service/default/whoami-proxy-metrics",
      "ServiceMonitor/default/whoami-proxy",
    ]);
  });

  it("monitors Knative Serving: the queue-proxy of every revision and the autoscaler", () => {
    const k = group("latency-knative-monitors");
    expect(k.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "PodMonitor/monitoring/knative-queue-proxy",
      "ServiceMonitor/knative-serving/knative-autoscaler",
    ]);
    expect((k[0] as any).spec.podMetricsEndpoints[0].port).toBe("http-usermetric");
    expect(one("kubernetes:yaml/v2:ConfigGroup", "latency-knative-monitors").dependsOn).toContain("knative");
  });

  it("delivers the three dashboards as sidecar ConfigMaps", () => {
    const d = group("latency-dashboards");
    expect(d.map((o) => o.metadata.name)).toEqual([
      "kantai-dashboard-cluster-nodes",
      "kantai-dashboard-kantai-routing",
      "kantai-dashboard-knative-serving",
    ]);
    for (const o of d) expect(o.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    expect(artifacts.map((a) => a.path)).toEqual(
      expect.arrayContaining([
        "observability/latency-dashboards.yaml",
        "observability/latency-knative-monitors.yaml",
        "observability/latency-prometheus-values.yaml",
        "observability/whoami-replanner.yaml",
      ]),
    );
  });

  it("runs the whoami re-planner writing weights (reweight on), with its /metrics scraped", () => {
    const r = group("latency-replanner-whoami");
    expect(r.map((o) => o.kind)).toEqual([
      "ServiceAccount",
      "Role",
      "RoleBinding",
      "ConfigMap",
      "Deployment",
      "Service",
      "ServiceMonitor",
    ]);
    const config = JSON.parse((r[3] as any).data["config.json"]);
    expect(config).toMatchObject({
      service: "whoami",
      write: true,
      metricsPort: 9471,
      prometheus: "http://kantai-prometheus-prometheus.monitoring.svc.cluster.local:9090",
    });
    expect(config.nodes.map((n: any) => n.name)).toEqual(["edge-vm-1", "edge-vm-2", "pi-1", "pi-2"]);
    expect((r[1] as any).rules[0].verbs).toEqual(["get", "patch"]);
    expect((r[6] as any).spec.endpoints[0]).toMatchObject({ port: "metrics", honorLabels: true });
  });

  it("leaves rds.yaml and the re-planner's annotations to the re-planner on every proxy ConfigMap", () => {
    for (const node of ["edge-vm-1", "edge-vm-2", "pi-1", "pi-2"]) {
      expect(options.get(`kubernetes:core/v1:ConfigMap whoami-proxy-${node}`)?.ignoreChanges, node).toEqual([
        ...REPLANNER_IGNORED_FIELDS,
      ]);
    }
  });

  it("the observability artifacts pass their schemas", async () => {
    const objs = artifacts
      .filter((a) => a.path.startsWith("observability/") && a.kind === "kubernetes")
      .flatMap((a) => parseManifests(a.content));
    expect(objs.length).toBeGreaterThan(10);
    expect(await validateAll(objs)).toEqual([]);
    // The PodMonitor schema can fail: a relabeling action the CRD does not know.
    const bad = structuredClone(objs.find((o) => o.kind === "PodMonitor")!) as any;
    bad.spec.podMetricsEndpoints[0].relabelings[0].action = "rename";
    expect((await validateAll([bad]))[0]).toMatch(
      /^monitoring.coreos.com\/v1 PodMonitor monitoring\/knative-queue-proxy: .*must be equal to one of the allowed values/,
    );
  });
});
