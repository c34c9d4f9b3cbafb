import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { latencyAwareServiceManifests, NODE_LABEL } from "../components/routing/manifests";
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
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["ConfigMap/rtt-agent", "Service/rtt-agent", "DaemonSet/rtt-agent", "ServiceMonitor/rtt-agent"]);
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
    expect(() => serviceMonitor({ name: "x", namespace: "y", labels: {}, selector: {}, port: "m", path: "/", interval: "5 seconds" })).toThrow('ServiceMonitor x: interval "5 seconds" is not a Prometheus duration like "5s"');
  });

  it("wires discovery: the agents resolve their own headless Service, which the ServiceMonitor scrapes by port name", () => {
    const objs = agents();
    const svc = byKind(objs, "Service");
    const ds = byKind(objs, "DaemonSet");
    const sm = byKind(objs, "ServiceMonitor");
    const c = ds.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
    expect(env).toMatchObject({ NODE_NAME: "spec.nodeName", POD_IP: "status.podIP", PEER_DNS: `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`, PEER_PORT: "9470", INTERVAL_MS: "5000", WINDOW_MS: "10000" });
    expect(agentDns(RTT_AGENT_DEFAULTS)).toBe("rtt-agent.monitoring.svc.cluster.local");
    expect(svc.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(ds.spec.template.metadata.labels[k]).toBe(v);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(svc.spec.ports.map((p: any) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(ds.spec.template.spec).toMatchObject({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" });
    expect(renderRttAgents({ ...RTT_AGENT_DEFAULTS, source, hostNetwork: false })[2].spec).not.toHaveProperty("template.spec.hostNetwork");
    expect(() => renderRttAgents({ ...RTT_AGENT_DEFAULTS, source, windowMs: 1000 })).toThrow("rtt agents rtt-agent: windowMs (1000) must be at least intervalMs (5000)");
  });

  it("ships a script that starts with the DaemonSet's environment (real node process)", async () => {
    const objs = agents();
    const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "kantai-agent-"));
    const file = path.join(dir, "rtt-agent.js");
    fs.writeFileSync(file, byKind(objs, "ConfigMap").data["rtt-agent.js"]);
    const c = byKind(objs, "DaemonSet").spec.template.spec.containers[0];
    const port = await freePort();
    // fieldRefs resolved as the kubelet would; the cluster DNS name does not resolve here, which the agent counts.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOST: "127.0.0.1" };
    for (const e of c.env) env[e.name] = e.value ?? (e.valueFrom.fieldRef.fieldPath === "spec.nodeName" ? "edge-1" : "127.0.0.1");
    env.PORT = String(port);
    env.INTERVAL_MS = "200";
    env.WINDOW_MS = "1000";
    env.TIMEOUT_MS = "100";
    const proc = spawn(process.execPath, [file], { env, stdio: "ignore" });
    try {
      const text = await waitFor("a discovery attempt", async () => {
        const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /rtt_agent_discovery_errors_total\{node="edge-1"\} [1-9]/.test(t) ? t : undefined;
      }, 15_000);
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
      { name: "fib", namespace: "apps", nodes: ["a", "b"], service: { image: "x", port: 3000 }, proxyImage: "envoyproxy/envoy:v1.34.1", proxyPort: 8080, servicePort: 80, serviceType: "ClusterIP" },
      { replicas: { a: 1, b: 1 }, weights: { a: { a: 1 }, b: { b: 1 } }, predicted: { meanMs: 1 } },
    );
    const proxies = manifests.filter((m: any) => m.kind === "Deployment" && m.metadata.name.startsWith("fib-proxy-"));
    expect(proxies).toHaveLength(2);
    for (const p of proxies as any[]) {
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(p.spec.template.metadata.labels[k]).toBe(v);
      expect(p.spec.template.metadata.labels[sm.spec.podTargetLabels[0]]).toBeDefined();
    }
    const workloads = manifests.filter((m: any) => m.kind === "Deployment" && !m.metadata.name.startsWith("fib-proxy-"));
    for (const w of workloads as any[]) expect(Object.entries(svc.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v)).toBe(false);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: "metrics", path: "/stats/prometheus" });
  });
});

describe("kube-prometheus-stack values", () => {
  it("run a lean Prometheus that selects every ServiceMonitor, with requests and limits everywhere", () => {
    const v: any = prometheusStackValues(PROMETHEUS_STACK_DEFAULTS);
    expect(v.fullnameOverride).toBe("kantai-prometheus");
    expect(v.prometheus.prometheusSpec).toMatchObject({ serviceMonitorSelectorNilUsesHelmValues: false, serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {}, retention: "2d" });
    for (const r of [v.prometheus.prometheusSpec.resources, v.prometheusOperator.resources, v.prometheusOperator.admissionWebhooks.patch.resources, v.prometheusOperator.prometheusConfigReloader.resources]) {
      expect(Object.keys(r.requests).sort()).toEqual(["cpu", "memory"]);
      expect(Object.keys(r.limits).sort()).toEqual(["cpu", "memory"]);
    }
    expect([v.grafana.enabled, v.alertmanager.enabled, v.nodeExporter.enabled, v.kubeStateMetrics.enabled]).toEqual([false, false, false, false]);
    expect(prometheusUrl("kantai-prometheus", "monitoring")).toBe("http://kantai-prometheus-prometheus.monitoring.svc.cluster.local:9090");
    expect(() => prometheusStackValues({ ...PROMETHEUS_STACK_DEFAULTS, fullname: "a-very-long-prometheus-release-name" })).toThrow('fullname "a-very-long-prometheus-release-name" must be a DNS label of at most 26 characters');
  });
});
