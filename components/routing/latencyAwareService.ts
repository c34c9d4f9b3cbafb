/**
 * LatencyAwareService: applies a routing plan to a Kubernetes cluster — per-node workloads with
 * exactly the planned replicas (seed 004's Seika as plain Deployments pinned by hostname) and
 * per-node Envoy proxies that enforce each ingress node's weights
 * (docs/decisions/0007-routing-dataplane.md). The objects are rendered by the pure
 * `renderLatencyAwareService` (lib/render/latencyAware.ts); this component only creates them.
 *
 * Children (stable keys, so a changed plan updates objects and never replaces them):
 *   Deployment `${name}-<node>`, Service `${name}-<node>`, ConfigMap and Deployment
 *   `${name}-proxy-<node>` for every node, and Service `${name}`.
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toYaml } from "../../lib/render/k8s";
import {
  DEFAULT_PROXY_IMAGE,
  type K8sManifest,
  type LatencyAwareManifestOptions,
  type LatencyAwareManifests,
  latencyAwareManifestList,
  renderLatencyAwareService,
  type ServiceSpec,
} from "../../lib/render/latencyAware";
import type { RoutingPlan as Plan } from "../../lib/routing/types";
import type { Artifact } from "../artifact";
import { childOptions } from "../childOptions";

export type { ServiceSpec } from "../../lib/render/latencyAware";

type DeploymentSpec = kubernetes.types.input.apps.v1.DeploymentSpec;
/** A Deployment spec as lib/render/latencyAware.ts renders it: plain data. */
interface RenderedDeploymentSpec {
  readonly selector: kubernetes.types.input.meta.v1.LabelSelector;
  readonly replicas: number;
  readonly template: kubernetes.types.input.core.v1.PodTemplateSpec;
}
type ServiceSpecInput = kubernetes.types.input.core.v1.ServiceSpec;

export interface LatencyAwareServiceArgs {
  /** The plan to apply: usually `routingPlan.plan` of a RoutingPlan resource. */
  readonly plan: pulumi.Input<Plan>;
  /** Nodes (kubernetes.io/hostname values) that run a proxy and may run replicas. Decides which children exist. */
  readonly nodes: readonly string[];
  /** The workload: image, port, env, resources, readiness path. */
  readonly service: ServiceSpec;
  /** Namespace of every object (kantai:routing.services[].namespace; default in stacks/config/routing.ts, ROUTING_DEFAULTS). */
  readonly namespace: string;
  /** Envoy image of the per-node proxies. Defaults to DEFAULT_PROXY_IMAGE ("envoyproxy/envoy:v1.34.1"). */
  readonly proxyImage?: string;
  /** Port the proxies listen on. Defaults to 8080. */
  readonly proxyPort?: number;
  /** Port of the front Service. Defaults to 80. */
  readonly servicePort?: number;
  /**
   * Type of the front Service; NodePort/LoadBalancer also get `externalTrafficPolicy: Local`
   * (kantai:routing.services[].serviceType; default in stacks/config/routing.ts, ROUTING_DEFAULTS).
   */
  readonly serviceType: "ClusterIP" | "NodePort" | "LoadBalancer";
  /**
   * The in-cluster re-planner owns the weights (docs/decisions/0017-weights-owner.md): Pulumi
   * writes `rds.yaml` when it creates a proxy ConfigMap and then ignores it and the re-planner's
   * annotations (REPLANNER_IGNORED_FIELDS), so `pulumi up` neither fights the re-planner nor shows a diff.
   * Defaults to false (Pulumi's plan is the weights).
   */
  readonly reweight?: boolean;
  /** Comment lines written before the manifests in the artifact (e.g. where the plan came from). Defaults to none. */
  readonly artifactHeader?: pulumi.Input<string>;
}

/** What Pulumi leaves to the re-planner on each proxy ConfigMap (web/replanner.ts writes exactly these). */
export const REPLANNER_IGNORED_FIELDS = [
  'data["rds.yaml"]',
  'metadata.annotations["routing.kantai.dev/replanner-basis"]',
  'metadata.annotations["routing.kantai.dev/replanner-written-at"]',
] as const;

export class LatencyAwareService extends pulumi.ComponentResource {
  /** Replicas per node as applied. */
  public readonly replicas: pulumi.Output<Record<string, number>>;
  /** Name of the front Service clients call. */
  public readonly serviceName: pulumi.Output<string>;
  /** In-cluster URL of the front Service. */
  public readonly url: pulumi.Output<string>;
  /** `routing/<name>.yaml`: every object as applied for the plan, after `artifactHeader`. */
  public readonly artifacts: Artifact[];

  constructor(name: string, args: LatencyAwareServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:routing:LatencyAwareService", name, {}, opts);
    if (args.nodes.length === 0) throw new Error(`LatencyAwareService ${name}: nodes must not be empty`);
    if (new Set(args.nodes).size !== args.nodes.length)
      throw new Error(`LatencyAwareService ${name}: nodes must be unique`);
    const options: LatencyAwareManifestOptions = {
      name,
      namespace: args.namespace,
      nodes: [...args.nodes].sort(),
      service: args.service,
      proxyImage: args.proxyImage ?? DEFAULT_PROXY_IMAGE,
      proxyPort: args.proxyPort ?? 8080,
      servicePort: args.servicePort ?? 80,
      serviceType: args.serviceType,
    };
    // What does not depend on the plan (names, labels, namespaces, Deployment selectors, the
    // Services' specs) is rendered once here with a neutral plan and passed as plain values, so a
    // preview of a changed plan — unknown until the RoutingPlan provider runs, it has no preview
    // support — knows every object's identity and shows in-place updates, not replacements
    // (pulumi-kubernetes replaces an object whose .metadata.name is unknown). Every real render is
    // checked against these values, so they cannot drift from what the plan renders.
    const neutral: Plan = {
      replicas: Object.fromEntries(options.nodes.map((n) => [n, 0])),
      weights: Object.fromEntries(options.nodes.map((n) => [n, { [n]: 1 }])),
      predicted: { meanMs: 0 },
    };
    const fixed = renderLatencyAwareService(options, neutral);
    const stable = (r: LatencyAwareManifests) => {
      const pick = (m: LatencyAwareManifests) => [
        m.frontend,
        ...options.nodes.flatMap((n) => {
          const { workload, backend, proxyConfig, proxy } = m.nodes[n];
          return [
            workload.metadata,
            (workload.spec as Record<string, unknown>).selector,
            backend,
            proxyConfig.metadata,
            proxy.metadata,
            (proxy.spec as Record<string, unknown>).selector,
          ];
        }),
      ];
      if (JSON.stringify(pick(r)) !== JSON.stringify(pick(fixed))) {
        throw new Error(
          `LatencyAwareService ${name}: the plan changed an object's identity or a Service (a bug in renderLatencyAwareService)`,
        );
      }
      return r;
    };
    const rendered: pulumi.Output<LatencyAwareManifests> = pulumi
      .output(args.plan)
      .apply((plan) => stable(renderLatencyAwareService(options, plan)));
    for (const node of options.nodes) {
      const f = fixed.nodes[node];
      // The renderer's Deployment specs are plain data of exactly these types.
      const specOf = (m: K8sManifest) => m.spec as RenderedDeploymentSpec;
      const deploymentSpec = (kind: "workload" | "proxy"): DeploymentSpec => ({
        selector: specOf(f[kind]).selector,
        replicas: rendered.apply((r) => specOf(r.nodes[node][kind]).replicas),
        template: rendered.apply((r) => specOf(r.nodes[node][kind]).template),
      });
      new kubernetes.apps.v1.Deployment(
        `${name}-${node}`,
        { metadata: f.workload.metadata, spec: deploymentSpec("workload") },
        childOptions(this),
      );
      new kubernetes.core.v1.Service(
        `${name}-${node}`,
        { metadata: f.backend.metadata, spec: f.backend.spec as ServiceSpecInput },
        childOptions(this),
      );
      const config = new kubernetes.core.v1.ConfigMap(
        `${name}-proxy-${node}`,
        {
          metadata: f.proxyConfig.metadata,
          data: rendered.apply((r) => r.nodes[node].proxyConfig.data as Record<string, string>),
        },
        childOptions(this, [], args.reweight ? { ignoreChanges: [...REPLANNER_IGNORED_FIELDS] } : {}),
      );
      new kubernetes.apps.v1.Deployment(
        `${name}-proxy-${node}`,
        { metadata: f.proxy.metadata, spec: deploymentSpec("proxy") },
        childOptions(this, [config]),
      );
    }
    // Named `${name}-front` like every child; it was registered as bare `name`, so the alias keeps the
    // existing Service (the Kubernetes object's own name comes from the manifest and is unchanged).
    // https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/
    const frontend = new kubernetes.core.v1.Service(
      `${name}-front`,
      { metadata: fixed.frontend.metadata, spec: fixed.frontend.spec as ServiceSpecInput },
      childOptions(this, [], { aliases: [{ name }] }),
    );
    this.replicas = rendered.apply((r) =>
      Object.fromEntries(options.nodes.map((n) => [n, (r.nodes[n].workload.spec as { replicas: number }).replicas])),
    );
    this.serviceName = frontend.metadata.name;
    this.url = pulumi.interpolate`http://${frontend.metadata.name}.${options.namespace}.svc.cluster.local:${options.servicePort}`;
    this.artifacts = [
      {
        path: `routing/${name}.yaml`,
        kind: "kubernetes",
        resource: name,
        content: pulumi
          .all([args.artifactHeader ?? "", rendered])
          .apply(([header, r]) => header + toYaml(latencyAwareManifestList(r))),
      },
    ];
    this.registerOutputs({ replicas: this.replicas, serviceName: this.serviceName, url: this.url });
  }
}
