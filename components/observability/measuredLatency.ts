/**
 * MeasuredLatency: Prometheus (the Operator through kube-prometheus-stack, pinned), one RTT agent
 * per node, a ServiceMonitor per latency-aware service and optionally an in-cluster re-planner per
 * service (docs/concepts/measured-latency.md). Objects are rendered by lib/render/latency.ts and
 * lib/render/replanner.ts; this component creates them and lists them as artifacts.
 *
 * Children: Namespace `${name}-namespace`; Chart `${name}-prometheus` (when prometheus is on);
 * ConfigGroups `${name}-agents`, `${name}-monitors`, `${name}-replanner-<service>` (after the
 * chart: the ServiceMonitor CRD comes with it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toYaml, type K8sObject } from "../../lib/render/k8s";
import {
  PROMETHEUS_STACK_CHART,
  PROMETHEUS_STACK_DEFAULTS,
  prometheusStackValues,
  prometheusUrl,
  renderLatencyAwareMonitor,
  renderRttAgents,
  RTT_AGENT_DEFAULTS,
  type PrometheusStackOptions,
  type RttAgentOptions,
} from "../../lib/render/latency";
import { REPLANNER_DEFAULTS, renderReplanner } from "../../lib/render/replanner";
import type { Artifact } from "../artifact";
import { replannerBundle } from "./bundle";

const ROOT = path.resolve(__dirname, "..", "..");

export interface ReplannerArgs {
  /** Per node: replicas Pulumi placed (usually from the RoutingPlan's output), service rate, and the proxy ConfigMap's name. */
  readonly nodes: pulumi.Input<readonly { readonly name: string; readonly replicas: number; readonly serviceRate: number; readonly configMap: string }[]>;
  /** Time between ticks, ms. Defaults to 15000. */
  readonly intervalMs?: number;
  /** Least time between writes, ms. Defaults to 60000. */
  readonly minIntervalMs?: number;
  /** Largest change of one weight per write. Defaults to 0.25. */
  readonly maxStep?: number;
  /** Hysteresis: re-plan above this predicted gain (%). Defaults to 5. */
  readonly improvementPct?: number;
  /** Hysteresis: re-plan when an RTT moved by more than this (ms). Defaults to 10. */
  readonly rttMoveMs?: number;
}

export interface MeasuredLatencyArgs {
  /** Namespace of Prometheus and the agents. Defaults to "monitoring". */
  readonly namespace?: string;
  /** kube-prometheus-stack. Defaults to on, version PROMETHEUS_STACK_CHART.version, PROMETHEUS_STACK_DEFAULTS. Off: an existing Prometheus Operator must select the ServiceMonitors, and `prometheusUrl` must be given for re-planners. */
  readonly prometheus?: { readonly enabled?: boolean; readonly version?: string; readonly url?: string } & Partial<PrometheusStackOptions>;
  /** RTT agents. Defaults to RTT_AGENT_DEFAULTS. */
  readonly agents?: Partial<Omit<RttAgentOptions, "source" | "namespace">>;
  /** Latency-aware services: a ServiceMonitor each, and a re-planner where `replanner` is set. */
  readonly services?: readonly { readonly name: string; readonly namespace: string; readonly replanner?: ReplannerArgs }[];
  /** Provider of the cluster. Defaults to the provider inherited through `opts`. */
  readonly provider?: kubernetes.Provider;
}

export class MeasuredLatency extends pulumi.ComponentResource {
  /** In-cluster URL of Prometheus's HTTP API. */
  public readonly prometheusUrl: string;
  /** Every object kantai renders here (the chart's own objects excluded). */
  public readonly objects: K8sObject[];
  public readonly artifacts: Artifact[];
  /** The re-planners' objects, per service (they depend on the applied plan). */
  public readonly replannerObjects: Record<string, pulumi.Output<K8sObject[]>> = {};

  constructor(name: string, args: MeasuredLatencyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:observability:MeasuredLatency", name, {}, opts);
    const ns = args.namespace ?? "monitoring";
    const prom = { ...PROMETHEUS_STACK_DEFAULTS, ...args.prometheus };
    const promOn = args.prometheus?.enabled ?? true;
    this.prometheusUrl = args.prometheus?.url ?? prometheusUrl(prom.fullname, ns);
    const child = (dependsOn: pulumi.Resource[] = []): pulumi.CustomResourceOptions => ({ parent: this, ...(args.provider ? { provider: args.provider } : {}), dependsOn });
    const namespace = new kubernetes.core.v1.Namespace(`${name}-namespace`, { metadata: { name: ns } }, child());
    const after: pulumi.Resource[] = [namespace];
    if (promOn) {
      after.push(
        new kubernetes.helm.v4.Chart(
          `${name}-prometheus`,
          {
            chart: PROMETHEUS_STACK_CHART.chart,
            repositoryOpts: { repo: PROMETHEUS_STACK_CHART.repo },
            version: args.prometheus?.version ?? PROMETHEUS_STACK_CHART.version,
            namespace: ns,
            values: prometheusStackValues(prom),
          },
          child([namespace]),
        ),
      );
    }
    const agentSource = fs.readFileSync(path.join(ROOT, "web", "rtt-agent.js"), "utf8");
    const agents = renderRttAgents({ ...RTT_AGENT_DEFAULTS, ...args.agents, namespace: ns, source: agentSource });
    new kubernetes.yaml.v2.ConfigGroup(`${name}-agents`, { objs: agents }, child(after));
    const monitors = (args.services ?? []).flatMap((s) => renderLatencyAwareMonitor({ name: s.name, namespace: s.namespace, interval: args.agents?.scrapeInterval ?? RTT_AGENT_DEFAULTS.scrapeInterval }));
    if (monitors.length > 0) new kubernetes.yaml.v2.ConfigGroup(`${name}-monitors`, { objs: monitors }, child(after));
    this.objects = [...agents, ...monitors];
    this.artifacts = [
      { path: `observability/${name}-agents.yaml`, kind: "kubernetes", resource: `${name}-agents`, content: toYaml(agents) },
      ...(monitors.length ? [{ path: `observability/${name}-monitors.yaml`, kind: "kubernetes" as const, resource: `${name}-monitors`, content: toYaml(monitors) }] : []),
      ...(promOn
        ? [{ path: `observability/${name}-prometheus-values.yaml`, kind: "other" as const, resource: `${name}-prometheus`, content: `# ${PROMETHEUS_STACK_CHART.repo} ${PROMETHEUS_STACK_CHART.chart} ${args.prometheus?.version ?? PROMETHEUS_STACK_CHART.version}\n${toYaml([prometheusStackValues(prom) as never])}` }]
        : []),
    ];
    for (const s of args.services ?? []) {
      if (!s.replanner) continue;
      const r = s.replanner;
      const objs = pulumi.output(r.nodes).apply((nodes) => {
        const config = {
          service: s.name,
          namespace: s.namespace,
          prometheus: this.prometheusUrl,
          nodes: nodes.map((n) => ({ name: n.name, replicas: n.replicas, serviceRate: n.serviceRate })),
          configMaps: Object.fromEntries(nodes.map((n) => [n.name, n.configMap])),
          demandQuery: `sum by (routing_kantai_dev_node) (rate(envoy_http_downstream_rq_total{namespace="${s.namespace}",service="${s.name}-proxy-metrics",envoy_http_conn_manager_prefix="ingress"}[1m]))`,
          demandLabel: "routing_kantai_dev_node",
          intervalMs: r.intervalMs ?? REPLANNER_DEFAULTS.intervalMs,
          minIntervalMs: r.minIntervalMs ?? REPLANNER_DEFAULTS.minIntervalMs,
          maxStep: r.maxStep ?? REPLANNER_DEFAULTS.maxStep,
          improvementPct: r.improvementPct ?? REPLANNER_DEFAULTS.improvementPct,
          rttMoveMs: r.rttMoveMs ?? REPLANNER_DEFAULTS.rttMoveMs,
        };
        return renderReplanner({ service: s.name, namespace: s.namespace, bundle: replannerBundle(), config, image: REPLANNER_DEFAULTS.image, resources: REPLANNER_DEFAULTS.resources });
      });
      new kubernetes.yaml.v2.ConfigGroup(`${name}-replanner-${s.name}`, { objs }, child(after));
      this.replannerObjects[s.name] = objs;
      this.artifacts.push({ path: `observability/${s.name}-replanner.yaml`, kind: "kubernetes", resource: `${name}-replanner-${s.name}`, content: objs.apply((o) => toYaml(o)) });
    }
    this.registerOutputs({ prometheusUrl: this.prometheusUrl });
  }
}
