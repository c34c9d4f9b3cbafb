import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  basisPoints,
  parseRouteFile,
  renderDynamicBootstrap,
  renderRouteFile,
  ROUTE_NAME,
} from "../lib/render/envoyDynamic";
import { latencyAwareServiceManifests, NODE_LABEL } from "../lib/render/latencyAware";
import { workloadResourceFindings } from "../policy/rules";
import { validateAll, validateObject } from "./support/k8sSchemas";
import { freePort, waitFor } from "./support/prometheus";
import {
  agentDns,
  PROMETHEUS_STACK_DEFAULTS,
  prometheusStackValues,
  prometheusUrl,
  renderLatencyAwareMonitor,
  renderRttAgents,
  ROUTING_NODE_LABEL,
  RTT_AGENT_DEFAULTS,
  serviceMonitor,
} from "../lib/render/latency";

const ROOT = path.resolve(__dirname, "..");
const source = fs.readFileSync(path.join(ROOT, "web", "rtt-agent.js"), "utf8");
const agents = () => renderRttAgents({ ...RTT_AGENT_DEFAULTS, source });
const byKind = (objs: any[], kind: string) => objs.find((o) => o.kind === kind);

describe("RTT agent objects", () => {
  it("pass their schemas (kubernetes-models; ServiceMonitor from the Operator's CRD) and the policy pack", async () => {
    const objs = agents();
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ConfigMap/rtt-agent",
      "Service/rtt-agent",
      "DaemonSet/rtt-agent",
      "ServiceMonitor/rtt-agent",
    ]);
    expect(await validateAll(objs)).toEqual([]);
    expect(workloadResourceFindings("DaemonSet", byKind(objs, "DaemonSet"))).toEqual([]);
  });

  it("the ServiceMonitor schema rejects what the CRD rejects", async () => {
    const sm: any = structuredClone(byKind(agents(), "ServiceMonitor"));
    delete sm.spec.endpoints;
    await expect(validateObject(sm)).rejects.toThrow("must have required property 'endpoints'");
    const bad: any = structuredClone(byKind(agents(), "ServiceMonitor"));
    bad.spec.endpoints[0].interval = "5 seconds";
    await expect(validateObject(bad)).rejects.toThrow(/interval must match pattern/);
    expect(() =>
      serviceMonitor({
        name: "x",
        namespace: "y",
        labels: {},
        selector: {},
        port: "m",
        path: "/",
        interval: "5 seconds",
      }),
    ).toThrow('ServiceMonitor x: interval "5 seconds" is not a Prometheus duration like "5s"');
  });

  it("wires discovery: the agents resolve their own headless Service, which the ServiceMonitor scrapes by port name", () => {
    const objs = agents();
    const svc = byKind(objs, "Service");
    const ds = byKind(objs, "DaemonSet");
    const sm = byKind(objs, "ServiceMonitor");
    const c = ds.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
    expect(env).toMatchObject({
      NODE_NAME: "spec.nodeName",
      POD_IP: "status.podIP",
      PEER_DNS: `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`,
      PEER_PORT: "9470",
      INTERVAL_MS: "5000",
      WINDOW_MS: "10000",
    });
    expect(agentDns(RTT_AGENT_DEFAULTS)).toBe("rtt-agent.monitoring.svc.cluster.local");
    expect(svc.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(ds.spec.template.metadata.labels[k]).toBe(v);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(svc.spec.ports.map((p: any) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(ds.spec.template.spec).toMatchObject({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" });
    expect(renderRttAgents({ ...RTT_AGENT_DEFAULTS, source, hostNetwork: false })[2].spec).not.toHaveProperty(
      "template.spec.hostNetwork",
    );
    expect(() => renderRttAgents({ ...RTT_AGENT_DEFAULTS, source, windowMs: 1000 })).toThrow(
      "rtt agents rtt-agent: windowMs (1000) must be at least intervalMs (5000)",
    );
  });

  it("ships a script that starts with the DaemonSet's environment (real node process)", async () => {
    const objs = agents();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-agent-"));
    const file = path.join(dir, "rtt-agent.js");
    fs.writeFileSync(file, byKind(objs, "ConfigMap").data["rtt-agent.js"]);
    const c = byKind(objs, "DaemonSet").spec.template.spec.containers[0];
    const port = await freePort();
    // fieldRefs resolved as the kubelet would; the cluster DNS name does not resolve here, which the agent counts.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOST: "127.0.0.1" };
    for (const e of c.env)
      env[e.name] = e.value ?? (e.valueFrom.fieldRef.fieldPath === "spec.nodeName" ? "edge-1" : "127.0.0.1");
    env.PORT = String(port);
    env.INTERVAL_MS = "200";
    env.WINDOW_MS = "1000";
    env.TIMEOUT_MS = "100";
    const proc = spawn(process.execPath, [file], { env, stdio: "ignore" });
    try {
      const text = await waitFor(
        "a discovery attempt",
        async () => {
          const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          return /rtt_agent_discovery_errors_total\{node="edge-1"\} [1-9]/.test(t) ? t : undefined;
        },
        15_000,
      );
      expect(text).toContain('rtt_agent_up{node="edge-1"} 1');
      expect(text).not.toMatch(/^latency_between_nodes\{/m);
      expect(await (await fetch(`http://127.0.0.1:${port}/ping`)).json()).toEqual({ node: "edge-1" });
    } finally {
      proc.kill("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("latency-aware service monitors", () => {
  it("select every per-node proxy and put its node on the samples", async () => {
    const objs = renderLatencyAwareMonitor({ name: "fib", namespace: "apps", interval: "5s" });
    expect(await validateAll(objs)).toEqual([]);
    expect(ROUTING_NODE_LABEL).toBe(NODE_LABEL);
    const [svc, sm] = objs as any[];
    const manifests = latencyAwareServiceManifests(
      {
        name: "fib",
        namespace: "apps",
        nodes: ["a", "b"],
        service: { image: "x", port: 3000 },
        proxyImage: "envoyproxy/envoy:v1.34.1",
        proxyPort: 8080,
        servicePort: 80,
        serviceType: "ClusterIP",
      },
      { replicas: { a: 1, b: 1 }, weights: { a: { a: 1 }, b: { b: 1 } }, predicted: { meanMs: 1 } },
    );
    const proxies = manifests.filter((m: any) => m.kind === "Deployment" && m.metadata.name.startsWith("fib-proxy-"));
    expect(proxies).toHaveLength(2);
    for (const p of proxies as any[]) {
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(p.spec.template.metadata.labels[k]).toBe(v);
      expect(p.spec.template.metadata.labels[sm.spec.podTargetLabels[0]]).toBeDefined();
    }
    const workloads = manifests.filter(
      (m: any) => m.kind === "Deployment" && !m.metadata.name.startsWith("fib-proxy-"),
    );
    for (const w of workloads as any[])
      expect(Object.entries(svc.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v)).toBe(false);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: "metrics", path: "/stats/prometheus" });
  });
});

describe("kube-prometheus-stack values", () => {
  it("run a lean Prometheus that selects every ServiceMonitor, with requests and limits everywhere", () => {
    const v: any = prometheusStackValues(PROMETHEUS_STACK_DEFAULTS);
    expect(v.fullnameOverride).toBe("kantai-prometheus");
    expect(v.prometheus.prometheusSpec).toMatchObject({
      serviceMonitorSelectorNilUsesHelmValues: false,
      serviceMonitorSelector: {},
      serviceMonitorNamespaceSelector: {},
      retention: "2d",
    });
    for (const r of [
      v.prometheus.prometheusSpec.resources,
      v.prometheusOperator.resources,
      v.prometheusOperator.admissionWebhooks.patch.resources,
      v.prometheusOperator.prometheusConfigReloader.resources,
    ]) {
      expect(Object.keys(r.requests).sort()).toEqual(["cpu", "memory"]);
      expect(Object.keys(r.limits).sort()).toEqual(["cpu", "memory"]);
    }
    expect([v.grafana.enabled, v.alertmanager.enabled, v.nodeExporter.enabled, v.kubeStateMetrics.enabled]).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(prometheusUrl("kantai-prometheus", "monitoring")).toBe(
      "http://kantai-prometheus-prometheus.monitoring.svc.cluster.local:9090",
    );
    expect(() =>
      prometheusStackValues({ ...PROMETHEUS_STACK_DEFAULTS, fullname: "a-very-long-prometheus-release-name" }),
    ).toThrow('fullname "a-very-long-prometheus-release-name" must be a DNS label of at most 26 characters');
  });
});

describe("per-node proxy with filesystem RDS (lib/render/envoyDynamic.ts)", () => {
  // Envoy rules: ConfigSource.path_config_source with watched_directory = the ConfigMap mount
  // (https://www.envoyproxy.io/docs/envoy/v1.40.0/api-v3/config/core/v3/config_source.proto,
  // PathConfigSource: a ConfigMap updates by moving `..data`, so the directory is what is watched);
  // the file is a DiscoveryResponse with typed resources
  // (https://www.envoyproxy.io/docs/envoy/latest/start/quick-start/configuration-dynamic-filesystem).
  // No Envoy binary is available here (not in Debian): the structure is checked, not Envoy's own validation.
  const boot = () =>
    parse(
      renderDynamicBootstrap({
        name: "fib",
        node: "edge",
        proxyPort: 8080,
        configDir: "/etc/envoy/",
        backends: [
          { node: "edge", address: "fib-edge.apps.svc.cluster.local", port: 3000 },
          { node: "cloud1", address: "fib-cloud1.apps.svc.cluster.local", port: 3000 },
        ],
      }),
    );

  it("points the ingress route at rds.yaml in the watched ConfigMap directory, and serves only /stats/prometheus on the stats port", () => {
    const b = boot();
    const [ingress, stats] = b.static_resources.listeners;
    const rds = ingress.filter_chains[0].filters[0].typed_config.rds;
    expect(rds).toEqual({
      route_config_name: ROUTE_NAME,
      config_source: {
        resource_api_version: "V3",
        path_config_source: { path: "/etc/envoy/rds.yaml", watched_directory: { path: "/etc/envoy" } },
      },
    });
    expect(ingress.filter_chains[0].filters[0].typed_config).not.toHaveProperty("route_config");
    expect(stats.address.socket_address.port_value).toBe(9902);
    expect(stats.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes).toEqual([
      { match: { path: "/stats/prometheus" }, route: { cluster: "admin" } },
    ]);
    expect(b.admin.address.socket_address.address).toBe("127.0.0.1");
    expect(b.static_resources.clusters.map((c: any) => c.name)).toEqual(["node-cloud1", "node-edge", "admin"]);
    expect(b.node).toEqual({ id: "edge", cluster: "fib" });
  });

  it("writes the weights as a RouteConfiguration resource and reads them back", () => {
    const text = renderRouteFile("fib", { edge: 0.876543, cloud1: 0.123457 }, "v7");
    const doc = parse(text);
    expect(doc.version_info).toBe("v7");
    expect(doc.resources[0]["@type"]).toBe("type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    expect(doc.resources[0].name).toBe(ROUTE_NAME);
    expect(doc.resources[0].virtual_hosts[0].routes[0].route.weighted_clusters.clusters).toEqual([
      { name: "node-cloud1", weight: 1235 },
      { name: "node-edge", weight: 8765 },
    ]);
    expect(parseRouteFile(text, parse)).toEqual({ cloud1: 0.1235, edge: 0.8765 });
    expect(basisPoints({ a: 1, b: 1, c: 1 })).toEqual([
      ["a", 3334],
      ["b", 3333],
      ["c", 3333],
    ]);
    expect(() => parseRouteFile("resources: []", parse)).toThrow(
      "rds.yaml: no weighted_clusters in resources[0].virtual_hosts[0].routes[0]",
    );
  });
});
