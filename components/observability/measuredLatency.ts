/**
 * MeasuredLatency: Prometheus (the Operator through kube-prometheus-stack, pinned), one RTT agent
 * per node, a ServiceMonitor per latency-aware service and optionally an in-cluster re-planner per
 * service (docs/concepts/measured-latency.md). Objects are rendered by lib/render/latency.ts and
 * lib/render/replanner.ts; this component creates them and lists them as artifacts.
 *
 * Children: Namespace `${name}-namespace`; Chart `${name}-prometheus` (when prometheus is on);
 * with grafana: RandomPassword and Secret `${name}-grafana-admin`, ConfigGroup `${name}-dashboards`;
 * ConfigGroups `${name}-agents`, `${name}-monitors`, `${name}-knative-monitors`,
 * `${name}-replanner-<service>` (after the chart: the ServiceMonitor CRD comes with it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  GRAFANA_ADMIN_KEYS,
  GRAFANA_DEFAULTS,
  grafanaAdminSecretName,
  grafanaServiceName,
  renderDashboardConfigMaps,
  renderKnativeMonitors,
  withGrafana,
  type DashboardFile,
} from "../../lib/render/grafana";
import { toYaml, type K8sObject } from "../../lib/render/k8s";
import {
  PROMETHEUS_STACK_CHART,
  PROMETHEUS_STACK_DEFAULTS,
  prometheusStackChart,
  prometheusStackValues,
  prometheusUrl,
  renderLatencyAwareMonitor,
  renderRttAgents,
  RTT_AGENT_DEFAULTS,
  type PrometheusStackOptions,
  type RttAgentOptions,
} from "../../lib/render/latency";
import type { ReleaseMirror } from "../../lib/render/knative";
import { REPLANNER_DEFAULTS, renderReplanner } from "../../lib/render/replanner";
import type { Artifact } from "../artifact";
import { childOptions } from "../childOptions";
import { aggregatedRulesTransform } from "../upstreamTransforms";
import { replannerBundle } from "./bundle";

const ROOT = path.resolve(__dirname, "..", "..");

export interface ReplannerArgs {
  /** Per node: replicas Pulumi placed (usually from the RoutingPlan's output), service rate, and the proxy ConfigMap's name. */
  readonly nodes: pulumi.Input<
    readonly {
      readonly name: string;
      readonly replicas: number;
      readonly serviceRate: number;
      readonly configMap: string;
    }[]
  >;
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
  /** Write the weights; false runs it observe-only (reads, decides, exports /metrics, never patches). Defaults to true. */
  readonly write?: boolean;
}

/** kantai's dashboards: every dashboards/*.json of the repository, by file name. */
export function repoDashboards(): DashboardFile[] {
  const dir = path.join(ROOT, "dashboards");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ id: f.replace(/\.json$/, ""), json: fs.readFileSync(path.join(dir, f), "utf8") }));
}

export interface MeasuredLatencyArgs {
  /** Namespace of Prometheus and the agents (kantai:observability.namespace; default in stacks/config/observability.ts, OBSERVABILITY_DEFAULTS). */
  readonly namespace: string;
  /** kube-prometheus-stack: version defaults to PROMETHEUS_STACK_CHART.version, the rest to PROMETHEUS_STACK_DEFAULTS. Off: an existing Prometheus Operator must select the ServiceMonitors, and `prometheusUrl` must be given for re-planners. */
  readonly prometheus: {
    /** kantai:observability.prometheus.enabled; default in stacks/config/observability.ts, OBSERVABILITY_DEFAULTS. */
    readonly enabled: boolean;
    readonly version?: string;
    readonly url?: string;
    /** kantai:releases.mirror: the chart from the mirror (prometheusStackChart). Defaults to the chart repository. */
    readonly mirror?: ReleaseMirror;
  } & Partial<PrometheusStackOptions>;
  /** RTT agents. Defaults to RTT_AGENT_DEFAULTS. */
  readonly agents?: Partial<Omit<RttAgentOptions, "source" | "namespace">>;
  /** Latency-aware services: a ServiceMonitor each, and a re-planner where `replanner` is set. */
  readonly services?: readonly {
    readonly name: string;
    readonly namespace: string;
    readonly replanner?: ReplannerArgs;
  }[];
  /** Grafana from the chart with kantai's dashboards (dashboards/*.json as sidecar ConfigMaps), node-exporter and kube-state-metrics. Defaults to off. Needs `prometheus.enabled`. */
  readonly grafana?: {
    /** Grafana's admin user (kantai:observability.grafana.adminUser; default in stacks/config/observability.ts, OBSERVABILITY_DEFAULTS). */
    readonly adminUser: string;
  };
  /** Monitors for Knative Serving (queue-proxy PodMonitor, autoscaler ServiceMonitor), created after `knativeDependsOn`. Defaults to off. */
  readonly knativeMonitor?: boolean;
  readonly knativeDependsOn?: readonly pulumi.Resource[];
}

export class MeasuredLatency extends pulumi.ComponentResource {
  /** In-cluster URL of Prometheus's HTTP API. */
  public readonly prometheusUrl: string;
  /** In-cluster URL of Grafana, when on. */
  public readonly grafanaUrl?: string;
  /** Every object kantai renders here (the chart's own objects excluded). */
  public readonly objects: K8sObject[];
  public readonly artifacts: Artifact[];
  /** The re-planners' objects, per service (they depend on the applied plan). */
  public readonly replannerObjects: Record<string, pulumi.Output<K8sObject[]>> = {};

  constructor(name: string, args: MeasuredLatencyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:observability:MeasuredLatency", name, {}, opts);
    const ns = args.namespace;
    const prom = { ...PROMETHEUS_STACK_DEFAULTS, ...args.prometheus };
    const promOn = args.prometheus.enabled;
    this.prometheusUrl = args.prometheus.url ?? prometheusUrl(prom.fullname, ns);
    const namespace = new kubernetes.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: ns } },
      childOptions(this),
    );
    const after: pulumi.Resource[] = [namespace];
    if (args.grafana && !promOn)
      throw new Error(
        `MeasuredLatency ${name}: grafana needs prometheus.enabled (Grafana comes from the kube-prometheus-stack chart)`,
      );
    let values = prometheusStackValues(prom);
    // Grafana's admin Secret: registered with the generated password, listed in artifacts with a placeholder.
    const grafanaAdmin = <P>(user: string, password: P) => ({
      metadata: {
        name: grafanaAdminSecretName(prom.fullname),
        namespace: ns,
        labels: { "app.kubernetes.io/managed-by": "kantai", "app.kubernetes.io/component": "grafana" },
      },
      type: "Opaque",
      stringData: { [GRAFANA_ADMIN_KEYS.user]: user, [GRAFANA_ADMIN_KEYS.password]: password },
    });
    let adminSecret: kubernetes.core.v1.Secret | undefined;
    if (args.grafana) {
      // The admin password: generated, secret, only ever in this Secret (the chart reads it via admin.existingSecret).
      const password = new random.RandomPassword(
        `${name}-grafana-admin`,
        { length: 24, special: false },
        { parent: this },
      );
      adminSecret = new kubernetes.core.v1.Secret(
        `${name}-grafana-admin`,
        grafanaAdmin(args.grafana.adminUser, password.result),
        childOptions(this, [namespace]),
      );
      values = withGrafana(values, { adminSecret: grafanaAdminSecretName(prom.fullname), ...GRAFANA_DEFAULTS });
      this.grafanaUrl = `http://${grafanaServiceName(prom.fullname)}.${ns}.svc.cluster.local`;
    }
    const chartVersion = args.prometheus.version ?? PROMETHEUS_STACK_CHART.version;
    const chart = prometheusStackChart(chartVersion, args.prometheus.mirror);
    if (promOn) {
      after.push(
        new kubernetes.helm.v4.Chart(
          `${name}-prometheus`,
          {
            ...(chart.repo
              ? { chart: chart.chart, repositoryOpts: { repo: chart.repo }, version: chartVersion }
              : // a packaged chart (path or URL) carries its own version
                { chart: chart.chart }),
            namespace: ns,
            values,
          },
          {
            ...childOptions(this, adminSecret ? [namespace, adminSecret] : [namespace]),
            transforms: [aggregatedRulesTransform],
          },
        ),
      );
    }
    const agentSource = fs.readFileSync(path.join(ROOT, "web", "rtt-agent.js"), "utf8");
    const agents = renderRttAgents({ ...RTT_AGENT_DEFAULTS, ...args.agents, namespace: ns, source: agentSource });
    new kubernetes.yaml.v2.ConfigGroup(`${name}-agents`, { objs: agents }, childOptions(this, after));
    const monitors = (args.services ?? []).flatMap((s) =>
      renderLatencyAwareMonitor({
        name: s.name,
        namespace: s.namespace,
        interval: args.agents?.scrapeInterval ?? RTT_AGENT_DEFAULTS.scrapeInterval,
      }),
    );
    if (monitors.length > 0)
      new kubernetes.yaml.v2.ConfigGroup(`${name}-monitors`, { objs: monitors }, childOptions(this, after));
    const dashboards = args.grafana ? renderDashboardConfigMaps(ns, repoDashboards()) : [];
    if (dashboards.length > 0)
      new kubernetes.yaml.v2.ConfigGroup(`${name}-dashboards`, { objs: dashboards }, childOptions(this, after));
    const knative = args.knativeMonitor ? renderKnativeMonitors({ namespace: ns, interval: prom.scrapeInterval }) : [];
    if (knative.length > 0)
      new kubernetes.yaml.v2.ConfigGroup(
        `${name}-knative-monitors`,
        { objs: knative },
        childOptions(this, [...after, ...(args.knativeDependsOn ?? [])]),
      );
    this.objects = [...agents, ...monitors, ...dashboards, ...knative];
    // The objects registered directly (not through a ConfigGroup), the password as a placeholder.
    const base: K8sObject[] = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
      ...(args.grafana
        ? [{ apiVersion: "v1", kind: "Secret", ...grafanaAdmin(args.grafana.adminUser, "[secret]") } as K8sObject]
        : []),
    ];
    this.artifacts = [
      {
        path: `observability/${name}-namespace.yaml`,
        kind: "kubernetes",
        resource: `${name}-namespace`,
        content: `# The admin password is generated (RandomPassword "${name}-grafana-admin") and never written here.\n${toYaml(base)}`,
      },
      {
        path: `observability/${name}-agents.yaml`,
        kind: "kubernetes",
        resource: `${name}-agents`,
        content: toYaml(agents),
      },
      ...(monitors.length
        ? [
            {
              path: `observability/${name}-monitors.yaml`,
              kind: "kubernetes" as const,
              resource: `${name}-monitors`,
              content: toYaml(monitors),
            },
          ]
        : []),
      ...(promOn
        ? [
            {
              path: `observability/${name}-prometheus-values.yaml`,
              kind: "other" as const,
              resource: `${name}-prometheus`,
              content: `# ${PROMETHEUS_STACK_CHART.repo} ${PROMETHEUS_STACK_CHART.chart} ${args.prometheus.version ?? PROMETHEUS_STACK_CHART.version}\n${toYaml([values as never])}`,
            },
          ]
        : []),
      ...(dashboards.length
        ? [
            {
              path: `observability/${name}-dashboards.yaml`,
              kind: "kubernetes" as const,
              resource: `${name}-dashboards`,
              content: toYaml(dashboards),
            },
          ]
        : []),
      ...(knative.length
        ? [
            {
              path: `observability/${name}-knative-monitors.yaml`,
              kind: "kubernetes" as const,
              resource: `${name}-knative-monitors`,
              content: toYaml(knative),
            },
          ]
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
          write: r.write ?? true,
          metricsPort: REPLANNER_DEFAULTS.metricsPort,
        };
        return renderReplanner({
          service: s.name,
          namespace: s.namespace,
          bundle: replannerBundle(),
          config,
          image: REPLANNER_DEFAULTS.image,
          resources: REPLANNER_DEFAULTS.resources,
          scrapeInterval: prom.scrapeInterval,
        });
      });
      new kubernetes.yaml.v2.ConfigGroup(`${name}-replanner-${s.name}`, { objs }, childOptions(this, after));
      this.replannerObjects[s.name] = objs;
      this.artifacts.push({
        path: `observability/${s.name}-replanner.yaml`,
        kind: "kubernetes",
        resource: `${name}-replanner-${s.name}`,
        content: objs.apply((o) => toYaml(o)),
      });
    }
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      ...(this.grafanaUrl ? { grafanaUrl: this.grafanaUrl } : {}),
    });
  }
}
