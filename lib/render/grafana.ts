/**
 * Grafana and kantai's dashboards (docs/how-to/dashboards.md), as plain data. Pure.
 *
 * - Grafana comes from the kube-prometheus-stack chart itself (its `grafana` sub-chart): the values
 *   below turn it on with the dashboards sidecar, and turn node-exporter and kube-state-metrics on
 *   for the nodes dashboard. Keys as in the chart's values.yaml at 88.5.3
 *   (prometheus-community/helm-charts charts/kube-prometheus-stack/values.yaml: `grafana.enabled`,
 *   `grafana.defaultDashboardsEnabled`, `grafana.admin.existingSecret|userKey|passwordKey`,
 *   `grafana.sidecar.dashboards.{enabled,label,labelValue,searchNamespace}`,
 *   `grafana.sidecar.datasources.{defaultDatasourceEnabled,name,uid}`, `kubeStateMetrics.enabled`,
 *   `nodeExporter.enabled`, sub-chart keys `kube-state-metrics`, `prometheus-node-exporter`) and in
 *   the grafana sub-chart's (12.11.1: `resources`, `sidecar.resources`, `testFramework.enabled`).
 *   The chart's datasource ConfigMap (templates/grafana/configmaps-datasources.yaml) provisions a
 *   `type: prometheus` datasource named `sidecar.datasources.name` with uid `sidecar.datasources.uid`:
 *   the dashboards reference exactly that uid (GRAFANA_DATASOURCE; tests check every reference).
 * - The admin password is never in the values: the chart reads it from an existing Secret
 *   (`admin.existingSecret`) that the component creates from a RandomPassword.
 * - Every dashboard is a JSON file in dashboards/, delivered as one ConfigMap labelled
 *   `grafana_dashboard: "1"`, which the sidecar (kiwigrid/k8s-sidecar) copies into Grafana.
 * - Knative's metrics: a PodMonitor for every revision's queue-proxy (container port
 *   `http-usermetric`, 9091: knative/serving pkg/apis/serving/v1/revision_helpers.go
 *   UserQueueMetricsPortName, pkg/networking/constants.go UserQueueMetricsPort) and a
 *   ServiceMonitor for the autoscaler (Service `autoscaler` in knative-serving, port `http-metrics`
 *   9090: config/core/deployments/autoscaler.yaml). The queue-proxy's `kn.revision.name` and
 *   `k8s.namespace.name` are OpenTelemetry *resource* attributes (pkg/queue/sharedmain/otel.go),
 *   which a Prometheus exporter may keep in `target_info` only, so the PodMonitor also sets them as
 *   target labels from the pod's `serving.knative.dev/revision` label and its namespace.
 */
import type { K8sObject } from "./k8s";
import type { Resources } from "./latency";
import { serviceMonitor } from "./latency";

/** The datasource the chart provisions (values.yaml grafana.sidecar.datasources.name/uid) and every dashboard references. */
export const GRAFANA_DATASOURCE = { type: "prometheus", uid: "prometheus", name: "Prometheus" } as const;
/** Label the dashboards sidecar watches (values.yaml grafana.sidecar.dashboards.label/labelValue). */
export const DASHBOARD_LABEL = { key: "grafana_dashboard", value: "1" } as const;
/** Keys of the admin Secret (values.yaml grafana.admin.userKey/passwordKey). */
export const GRAFANA_ADMIN_KEYS = { user: "admin-user", password: "admin-password" } as const;

export interface GrafanaOptions {
  /** Name of the Secret holding the admin user and password (GRAFANA_ADMIN_KEYS). */
  readonly adminSecret: string;
  readonly grafanaResources: Resources;
  readonly sidecarResources: Resources;
  readonly nodeExporterResources: Resources;
  readonly kubeStateMetricsResources: Resources;
}

export const GRAFANA_DEFAULTS = {
  grafanaResources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  sidecarResources: { requests: { cpu: "10m", memory: "48Mi" }, limits: { cpu: "100m", memory: "96Mi" } },
  nodeExporterResources: { requests: { cpu: "10m", memory: "24Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
  kubeStateMetricsResources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
} as const satisfies Omit<GrafanaOptions, "adminSecret">;

/** The admin Secret's name for a chart fullname. */
export const grafanaAdminSecretName = (fullname: string) => `${fullname}-grafana-admin`;
/** The chart's Grafana Service: `<fullname>-grafana` (the sub-chart's fullname is `<release fullname>-grafana`), port 80. */
export const grafanaServiceName = (fullname: string) => `${fullname}-grafana`;

/**
 * kube-prometheus-stack values with Grafana, node-exporter and kube-state-metrics on, merged over
 * `base` (prometheusStackValues). Only the keys named here change.
 */
export function withGrafana(base: Record<string, unknown>, o: GrafanaOptions): Record<string, unknown> {
  return {
    ...base,
    grafana: {
      enabled: true,
      // The chart's own dashboards (dozens of ConfigMaps) stay off: kantai ships its three.
      defaultDashboardsEnabled: false,
      admin: {
        existingSecret: o.adminSecret,
        userKey: GRAFANA_ADMIN_KEYS.user,
        passwordKey: GRAFANA_ADMIN_KEYS.password,
      },
      testFramework: { enabled: false },
      resources: structuredClone(o.grafanaResources),
      sidecar: {
        resources: structuredClone(o.sidecarResources),
        dashboards: {
          enabled: true,
          label: DASHBOARD_LABEL.key,
          labelValue: DASHBOARD_LABEL.value,
          searchNamespace: "ALL",
        },
        datasources: {
          enabled: true,
          defaultDatasourceEnabled: true,
          isDefaultDatasource: true,
          name: GRAFANA_DATASOURCE.name,
          uid: GRAFANA_DATASOURCE.uid,
        },
      },
    },
    kubeStateMetrics: { enabled: true },
    "kube-state-metrics": { resources: structuredClone(o.kubeStateMetricsResources) },
    nodeExporter: { enabled: true },
    "prometheus-node-exporter": { resources: structuredClone(o.nodeExporterResources) },
  };
}

/** A dashboard file: its id (file name without .json) and text. */
export interface DashboardFile {
  readonly id: string;
  readonly json: string;
}

/** One ConfigMap per dashboard, labelled for the sidecar; `kantai-dashboard-<id>`, key `<id>.json`. */
export function renderDashboardConfigMaps(namespace: string, dashboards: readonly DashboardFile[]): K8sObject[] {
  return [...dashboards]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((d) => {
      const issues = dashboardIssues(JSON.parse(d.json));
      if (issues.length > 0) throw new Error(`dashboard ${d.id}: ${issues.join("; ")}`);
      return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: `kantai-dashboard-${d.id}`,
          namespace,
          labels: {
            [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value,
            "app.kubernetes.io/managed-by": "kantai",
            "app.kubernetes.io/component": "dashboard",
          },
        },
        data: { [`${d.id}.json`]: d.json },
      };
    });
}

/** Monitors of Knative Serving: every revision's queue-proxy (PodMonitor) and the autoscaler (ServiceMonitor). */
export function renderKnativeMonitors(o: { readonly namespace: string; readonly interval: string }): K8sObject[] {
  const labels = {
    "app.kubernetes.io/name": "knative-serving",
    "app.kubernetes.io/managed-by": "kantai",
    "app.kubernetes.io/component": "monitor",
  };
  const podMonitor: K8sObject = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: "knative-queue-proxy", namespace: o.namespace, labels },
    spec: {
      namespaceSelector: { any: true },
      selector: { matchExpressions: [{ key: "serving.knative.dev/revision", operator: "Exists" }] },
      podMetricsEndpoints: [
        {
          port: "http-usermetric",
          path: "/metrics",
          interval: o.interval,
          relabelings: [
            {
              sourceLabels: ["__meta_kubernetes_pod_label_serving_knative_dev_revision"],
              targetLabel: "kn_revision_name",
              action: "replace",
            },
            {
              sourceLabels: ["__meta_kubernetes_pod_label_serving_knative_dev_service"],
              targetLabel: "kn_service_name",
              action: "replace",
            },
            { sourceLabels: ["__meta_kubernetes_namespace"], targetLabel: "k8s_namespace_name", action: "replace" },
          ],
        },
      ],
    },
  };
  const autoscaler = serviceMonitor({
    name: "knative-autoscaler",
    namespace: "knative-serving",
    labels,
    selector: { app: "autoscaler" },
    port: "http-metrics",
    path: "/metrics",
    interval: o.interval,
  });
  return [podMonitor, autoscaler];
}

// ---------------------------------------------------------------------------------------------
// Dashboard checks (used when rendering, and by the tests against a real Prometheus).

interface Panel {
  id?: number;
  title?: string;
  type?: string;
  datasource?: { type?: string; uid?: string } | string | null;
  targets?: { refId?: string; expr?: string; datasource?: { type?: string; uid?: string } | string }[];
  panels?: Panel[];
}

export interface Dashboard {
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: {
    list?: {
      name: string;
      type: string;
      query?: string | { query?: string };
      datasource?: { type?: string; uid?: string } | string;
    }[];
  };
}

/** Every panel, rows' children included. */
export function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  const walk = (ps: Panel[] | undefined) => ps?.forEach((p) => (out.push(p), walk(p.panels)));
  walk(d.panels);
  return out;
}

/** Every PromQL expression of a dashboard: template-variable queries (in order), then panel targets. */
export function dashboardQueries(
  d: Dashboard,
): { readonly where: string; readonly expr: string; readonly variable?: string }[] {
  // Variables first, in their order (Grafana resolves them before the panels, each after those it uses).
  const out: { where: string; expr: string; variable?: string }[] = [];
  for (const v of d.templating?.list ?? []) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    if (q) out.push({ where: `variable $${v.name}`, expr: q, variable: v.name });
  }
  for (const p of allPanels(d))
    for (const t of p.targets ?? [])
      if (t.expr !== undefined) out.push({ where: `panel ${p.id} "${p.title}" target ${t.refId}`, expr: t.expr });
  return out;
}

const refOk = (ds: unknown, known: readonly { uid: string; type: string }[]): boolean =>
  ds === undefined ||
  (typeof ds === "object" &&
    ds !== null &&
    known.some((k) => k.uid === (ds as { uid?: string }).uid && k.type === (ds as { type?: string }).type));

/**
 * Problems of a dashboard: missing uid/title, panels without an id or with a duplicate id, and any
 * datasource reference (panel, target, variable) that is not one of `datasources` (by uid and type;
 * a string name or a `${…}` variable reference counts as unknown: the sidecar's datasource has a fixed uid).
 */
export function dashboardIssues(
  d: Dashboard,
  datasources: readonly { uid: string; type: string }[] = [GRAFANA_DATASOURCE],
): string[] {
  const issues: string[] = [];
  if (!d.uid) issues.push("has no uid");
  if (!d.title) issues.push("has no title");
  const seen = new Map<number, string>();
  for (const p of allPanels(d)) {
    if (typeof p.id !== "number") issues.push(`panel "${p.title}" has no numeric id`);
    else if (seen.has(p.id)) issues.push(`panel id ${p.id} is used by "${seen.get(p.id)}" and "${p.title}"`);
    else seen.set(p.id, p.title ?? "");
    if (p.type !== "row" && !refOk(p.datasource, datasources))
      issues.push(`panel ${p.id} "${p.title}" references an unknown datasource ${JSON.stringify(p.datasource)}`);
    for (const t of p.targets ?? [])
      if (!refOk(t.datasource, datasources))
        issues.push(`panel ${p.id} target ${t.refId} references an unknown datasource ${JSON.stringify(t.datasource)}`);
  }
  for (const v of d.templating?.list ?? [])
    if (v.type === "query" && !refOk(v.datasource, datasources))
      issues.push(`variable $${v.name} references an unknown datasource ${JSON.stringify(v.datasource)}`);
  return issues;
}

/** Grafana's variable syntaxes `$name`, `${name}`, `${name:fmt}`, `[[name]]`, replaced from `values`; an unknown variable throws. */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (m, a, b, c) => {
    const name = a ?? b ?? c;
    if (!(name in values)) throw new Error(`unknown template variable ${m} in ${expr}`);
    return values[name];
  });
}
