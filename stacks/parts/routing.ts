/**
 * Latency-aware routing (kantai:routing) and measured latency (kantai:observability) on the edge
 * composition's platform cluster.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../../components/artifact";
import type { K3sCluster } from "../../components/k8s/k3sCluster";
import { MeasuredLatency } from "../../components/observability/measuredLatency";
import { LatencyAwareService } from "../../components/routing/latencyAwareService";
import { objectName } from "../../lib/render/latencyAware";
import { RoutingPlan } from "../../components/routing/routingPlan";
import { planRouting, type RoutingPlan as Plan } from "../../lib/routing";
import type { EdgeConfig } from "../config";
import type { RoutingServiceOutput } from "../outputs";

export interface Routing {
  readonly plans: readonly RoutingPlan[];
  readonly services: readonly LatencyAwareService[];
  /** Prometheus, RTT agents, monitors, re-planners and Grafana (kantai:observability). */
  readonly latency?: MeasuredLatency;
  readonly artifacts: readonly Artifact[];
  /** The `routing` stack output: per service, the plan as applied. */
  readonly outputs: Readonly<Record<string, pulumi.Output<RoutingServiceOutput>>>;
}

/**
 * The plan a LatencyAwareService applies: the RoutingPlan resource's output. Under the synth's mocks
 * (scripts/synth/mocks.ts) no provider runs, so the resource has no `plan`; the program's own
 * computation — the same library on the same input, deterministic, so what the provider returns on
 * `pulumi up` — stands in and is labelled as such in the artifact.
 */
export function appliedPlan(
  resource: RoutingPlan,
  local: () => Plan,
): pulumi.Output<{ plan: Plan; simulated: boolean }> {
  return resource.plan.apply((p) => (p ? { plan: p, simulated: false } : { plan: local(), simulated: true }));
}

/**
 * Latency-aware routing (kantai:routing) on the platform cluster: per service a RoutingPlan (the
 * library runs in the dynamic provider at deploy time) and a LatencyAwareService applying it —
 * per-node Deployments pinned by hostname and per-node Envoy proxies — on the cluster's provider,
 * after the cluster. Each service's objects are one `kind: kubernetes` artifact.
 *
 * With kantai:observability, MeasuredLatency adds Prometheus, the RTT agents, a ServiceMonitor per
 * service, a re-planner per service (writing weights with `reweight.enabled`, observe-only
 * otherwise), Grafana with the dashboards, and Knative's monitors after `knative`.
 */
export function routingOnCluster(cfg: EdgeConfig, cluster: K3sCluster, knative?: pulumi.Resource): Routing {
  const plans: RoutingPlan[] = [];
  const services: LatencyAwareService[] = [];
  const artifacts: Artifact[] = [];
  const outputs: Record<string, pulumi.Output<RoutingServiceOutput>> = {};
  const applieds: pulumi.Output<{ plan: Plan; simulated: boolean }>[] = [];
  for (const s of cfg.routing?.services ?? []) {
    const input = s.input;
    const plan = new RoutingPlan(
      `${s.name}-plan`,
      {
        nodes: input.nodes,
        rttMs: input.rttMs,
        demand: input.demand,
        replicas: input.replicas,
        algorithm: s.algorithm,
        ...(s.latencyPrometheus !== undefined
          ? { latencyPrometheus: s.latencyPrometheus, hysteresis: { ...s.hysteresis } }
          : {}),
      },
      { dependsOn: [cluster] },
    );
    // With latencyPrometheus, input.rttMs is zeros (config stand-in): the synth's plan then ignores RTTs.
    const applied = appliedPlan(plan, () => planRouting(input, s.algorithm));
    applieds.push(applied);
    const nodes = input.nodes.map((n) => n.name);
    const options = {
      name: s.name,
      namespace: s.namespace,
      nodes,
      service: {
        image: s.image,
        port: s.port,
        ...(Object.keys(s.env).length > 0 ? { env: s.env } : {}),
        ...(s.args ? { args: s.args } : {}),
        resources: s.resources,
        ...(s.readinessPath ? { readinessPath: s.readinessPath } : {}),
      },
      serviceType: s.serviceType,
    };
    const svc = new LatencyAwareService(
      s.name,
      {
        ...options,
        plan: applied.apply((a) => a.plan),
        reweight: s.reweight.enabled && cfg.observability !== undefined,
        artifactHeader: applied.apply(({ plan: p, simulated }) => {
          const from = simulated
            ? s.latencyPrometheus !== undefined
              ? `# SIMULATED plan: computed by lib/routing at synth time with every RTT 0 (Pulumi mocks run no dynamic provider\n# and read no Prometheus); on \`pulumi up\` the RoutingPlan "${s.name}-plan" plans from ${s.latencyPrometheus}, with hysteresis.\n`
              : `# SIMULATED plan: computed by lib/routing at synth time (Pulumi mocks run no dynamic provider); on\n# \`pulumi up\` the RoutingPlan "${s.name}-plan" computes it from the same input.\n`
            : `# Plan from the RoutingPlan "${s.name}-plan".\n`;
          return (
            from +
            `# ${s.algorithm} plan, predicted mean ${p.predicted.meanMs} ms; replicas ${nodes.map((n) => `${n}=${p.replicas[n] ?? 0}`).join(" ")}; RTTs from ${s.latencySource}.\n`
          );
        }),
      },
      { providers: { kubernetes: cluster.provider }, dependsOn: [cluster] },
    );
    plans.push(plan);
    services.push(svc);
    artifacts.push(...svc.artifacts);
    outputs[s.name] = pulumi.all([applied, svc.url]).apply(([{ plan: p }, url]) => ({
      namespace: s.namespace,
      algorithm: s.algorithm,
      replicas: p.replicas,
      predictedMeanMs: p.predicted.meanMs,
      url,
    }));
  }
  let latency: MeasuredLatency | undefined;
  const o = cfg.observability;
  if (o) {
    const routed = cfg.routing?.services ?? [];
    latency = new MeasuredLatency(
      "latency",
      {
        namespace: o.namespace,
        prometheus: { ...o.prometheus },
        agents: { ...o.agents },
        ...(o.grafana.enabled ? { grafana: { adminUser: o.grafana.adminUser } } : {}),
        knativeMonitor: o.knativeMonitor,
        ...(knative ? { knativeDependsOn: [knative] } : {}),
        services: routed.map((s, k) => ({
          name: s.name,
          namespace: s.namespace,
          replanner: {
            intervalMs: s.reweight.intervalMs,
            minIntervalMs: s.reweight.minIntervalMs,
            maxStep: s.reweight.maxStep,
            improvementPct: s.hysteresis.improvementPct,
            rttMoveMs: s.hysteresis.rttMoveMs,
            // Off: observe-only (exports the dashboard's weights and predicted mean, writes nothing).
            write: s.reweight.enabled,
            nodes: applieds[k].apply(({ plan }) =>
              s.input.nodes.map((n) => ({
                name: n.name,
                replicas: plan.replicas[n.name] ?? 0,
                serviceRate: n.serviceRate,
                configMap: objectName(s.name, "proxy", n.name),
              })),
            ),
          },
        })),
      },
      { providers: { kubernetes: cluster.provider }, dependsOn: [cluster] },
    );
    artifacts.push(...latency.artifacts);
  }
  return { plans, services, latency, artifacts, outputs };
}
