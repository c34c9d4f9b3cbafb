/**
 * Config of measured latencies and dashboards on the platform cluster: `kantai:observability`
 * (docs/concepts/measured-latency.md, docs/how-to/dashboards.md).
 *
 * Prometheus (kube-prometheus-stack, pinned), one RTT agent per node, a ServiceMonitor per
 * latency-aware service, a PodMonitor for Knative revisions' queue-proxies, and — with
 * `grafana.enabled` — the chart's Grafana with kantai's three dashboards.
 *
 * stacks/config/load.ts stays the one place config is read: it spreads `observabilityKeys()` into
 * its raw schema and calls `parseObservability` after the routing config, on the edge composition
 * only (stacks/config/compositions.ts). The re-planner switch of a routing service
 * (`kantai:routing.services[i].reweight`) needs this key, so that rule lives here.
 * Defaults live here, once. Messages name the full key.
 */
import { z } from "zod";
import type { Fail } from "./primitives";
import { existsSync, statSync } from "node:fs";
import { releaseMirrorOf, type ReleaseMirror } from "../../lib/render/knative";
import {
  PROMETHEUS_STACK_CHART,
  PROMETHEUS_STACK_DEFAULTS,
  prometheusStackChart,
  RTT_AGENT_DEFAULTS,
} from "../../lib/render/latency";

/** Prometheus duration (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#duration). */
const DURATION = /^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$/;
const duration = z
  .string()
  .regex(DURATION, 'must be a Prometheus duration like "15s", "5m" or "2d"')
  .refine((s) => s !== "", 'must be a Prometheus duration like "15s", "5m" or "2d"');
const k8sName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Kubernetes name (lower-case letters, digits and inner '-')")
  .max(63);
const msInt = (min: number) =>
  z.number().int("must be a whole number of milliseconds").min(min, `must be at least ${min} ms`);

export const OBSERVABILITY_DEFAULTS = {
  namespace: "monitoring",
  prometheus: {
    enabled: true,
    version: PROMETHEUS_STACK_CHART.version,
    retention: PROMETHEUS_STACK_DEFAULTS.retention,
    scrapeInterval: PROMETHEUS_STACK_DEFAULTS.scrapeInterval,
  },
  agents: {
    intervalMs: RTT_AGENT_DEFAULTS.intervalMs,
    windowMs: RTT_AGENT_DEFAULTS.windowMs,
    timeoutMs: RTT_AGENT_DEFAULTS.timeoutMs,
    port: RTT_AGENT_DEFAULTS.port,
    hostNetwork: RTT_AGENT_DEFAULTS.hostNetwork,
    scrapeInterval: RTT_AGENT_DEFAULTS.scrapeInterval,
  },
  grafana: { enabled: false, adminUser: "admin" },
  knativeMonitor: true,
} as const;

/** The `observability` key of the raw schema (spread into stacks/config/load.ts's). */
export function observabilityKeys() {
  const d = OBSERVABILITY_DEFAULTS;
  return {
    observability: z
      .strictObject({
        /** Namespace of Prometheus, Grafana, the agents and the dashboards. */
        namespace: k8sName.default(d.namespace),
        prometheus: z
          .strictObject({
            /** Install kube-prometheus-stack; false: an existing Prometheus Operator picks up the monitors. */
            enabled: z.boolean().default(d.prometheus.enabled),
            /** Chart version (pinned). */
            version: z
              .string()
              .regex(/^\d+\.\d+\.\d+$/, 'must be a chart version like "88.5.3"')
              .default(d.prometheus.version),
            retention: duration.default(d.prometheus.retention),
            scrapeInterval: duration.default(d.prometheus.scrapeInterval),
            /** A PersistentVolumeClaim for the TSDB; unset keeps it in an emptyDir. */
            storage: z
              .strictObject({
                size: z.string().regex(/^\d+(Ki|Mi|Gi|Ti)$/, 'must be a size like "10Gi"'),
                storageClass: k8sName.optional(),
              })
              .optional(),
            /** URL of an existing Prometheus (only with enabled: false): what re-planners query. */
            url: z
              .url({
                protocol: /^https?$/,
                message: "must be an http(s) URL like http://prometheus.monitoring.svc:9090",
              })
              .optional(),
          })
          .default({ ...d.prometheus }),
        agents: z
          .strictObject({
            intervalMs: msInt(100).default(d.agents.intervalMs),
            windowMs: msInt(100).default(d.agents.windowMs),
            timeoutMs: msInt(10).default(d.agents.timeoutMs),
            port: z
              .number()
              .int()
              .min(1024, "must be 1024 or above (the agent runs as a non-root user)")
              .max(65535)
              .default(d.agents.port),
            hostNetwork: z.boolean().default(d.agents.hostNetwork),
            scrapeInterval: duration.default(d.agents.scrapeInterval),
          })
          .default({ ...d.agents }),
        /** Grafana from the kube-prometheus-stack chart with kantai's dashboards (ConfigMaps for its sidecar). */
        grafana: z
          .strictObject({
            enabled: z.boolean().default(d.grafana.enabled),
            adminUser: z
              .string()
              .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be a user name (letters, digits, '_', '.', '-')")
              .default(d.grafana.adminUser),
          })
          .default({ ...d.grafana }),
        /** A PodMonitor for the queue-proxy of every Knative revision (port http-usermetric). */
        knativeMonitor: z.boolean().default(d.knativeMonitor),
      })
      .optional(),
  };
}

type RawObservability = NonNullable<z.output<ReturnType<typeof observabilityKeys>["observability"]>>;

export interface ObservabilityServiceConfig {
  readonly namespace: string;
  readonly prometheus: {
    readonly enabled: boolean;
    readonly version: string;
    readonly retention: string;
    readonly scrapeInterval: string;
    readonly storage?: { readonly size: string; readonly storageClass?: string };
    readonly url?: string;
    /** kantai:releases.mirror, when set: the chart is installed from the mirror (prometheusStackChart). */
    readonly mirror?: ReleaseMirror;
  };
  readonly agents: {
    readonly intervalMs: number;
    readonly windowMs: number;
    readonly timeoutMs: number;
    readonly port: number;
    readonly hostNetwork: boolean;
    readonly scrapeInterval: string;
  };
  readonly grafana: { readonly enabled: boolean; readonly adminUser: string };
  readonly knativeMonitor: boolean;
}

export interface ObservabilityConfig {
  /** Prometheus, agents, monitors and dashboards on the platform cluster (kantai:observability), when configured. */
  readonly observability?: ObservabilityServiceConfig;
}

export interface ObservabilityParseContext {
  readonly fail: Fail;
  /** The raw routing services: their `reweight.enabled` needs this key. */
  readonly routing?: { readonly services: readonly { readonly reweight?: { readonly enabled?: boolean } }[] };
  /** Whether kantai:knative is configured (without it there is no queue-proxy to monitor: the PodMonitor is left out). */
  readonly knative: boolean;
  /** The raw kantai:releases.mirror (its own shape is checked with the rest of kantai:releases in stacks/config/platform.ts). */
  readonly releasesMirror?: string;
}

/** Validate kantai:observability (edge only: stacks/config/compositions.ts) and the routing services' need for it. */
export function parseObservability(
  r: { readonly observability?: RawObservability },
  ctx: ObservabilityParseContext,
): ObservabilityConfig {
  const { fail } = ctx;
  const o = r.observability;
  const reweighting = (ctx.routing?.services ?? []).map((s, i) => [s, i] as const).filter(([s]) => s.reweight?.enabled);
  if (o === undefined) {
    for (const [, i] of reweighting)
      fail(`routing.services[${i}].reweight`, "needs kantai:observability (the re-planner reads Prometheus)");
    return {};
  }
  let ok = true;
  const bad = (k: string, message: string) => {
    fail(k, message);
    ok = false;
  };
  const p = o.prometheus;
  if (p.enabled && p.url !== undefined)
    bad(
      "observability.prometheus.url",
      "is only for an existing Prometheus (prometheus.enabled: false); with enabled: true kantai installs one and knows its URL",
    );
  if (!p.enabled && p.url === undefined && reweighting.length > 0) {
    bad(
      "observability.prometheus.url",
      `is required with prometheus.enabled: false while a re-planner runs (kantai:routing.services[${reweighting[0][1]}].reweight): it is the Prometheus the re-planner queries`,
    );
  }
  if (!p.enabled && o.grafana.enabled)
    bad(
      "observability.grafana.enabled",
      "needs prometheus.enabled: true (Grafana comes from the kube-prometheus-stack chart kantai installs)",
    );
  const a = o.agents;
  if (a.windowMs < a.intervalMs)
    bad(
      "observability.agents.windowMs",
      `${a.windowMs} ms is shorter than agents.intervalMs (${a.intervalMs} ms): the window must hold at least one probe`,
    );
  if (a.timeoutMs >= a.intervalMs)
    bad(
      "observability.agents.timeoutMs",
      `${a.timeoutMs} ms must be below agents.intervalMs (${a.intervalMs} ms): a probe must end before the next starts`,
    );
  // Under a release mirror the chart comes from it; a directory mirror must hold it.
  let mirror: ReleaseMirror | undefined;
  if (p.enabled && ctx.releasesMirror !== undefined) {
    const m = ctx.releasesMirror;
    mirror = releaseMirrorOf(m);
    if (mirror.kind === "dir" && existsSync(m) && statSync(m).isDirectory()) {
      const { mirrorPath } = prometheusStackChart(p.version);
      if (!existsSync(`${m.replace(/\/+$/, "")}/${mirrorPath}`))
        bad(
          "releases.mirror",
          `${m} lacks ${mirrorPath} (the kube-prometheus-stack chart of kantai:observability); the layout is in docs/reference/config.md#release-manifests-and-mirror`,
        );
    }
  }
  if (!ok) return {};
  return {
    observability: {
      namespace: o.namespace,
      prometheus: {
        enabled: p.enabled,
        version: p.version,
        retention: p.retention,
        scrapeInterval: p.scrapeInterval,
        ...(p.storage ? { storage: p.storage } : {}),
        ...(p.url ? { url: p.url } : {}),
        ...(mirror ? { mirror } : {}),
      },
      agents: { ...a },
      grafana: { ...o.grafana },
      knativeMonitor: o.knativeMonitor && ctx.knative,
    },
  };
}
