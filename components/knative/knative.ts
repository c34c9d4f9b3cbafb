import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toYaml, type K8sObject } from "../../lib/render/k8s";
import {
  eventingReleases,
  ingressGatewayOverride,
  INGRESS_SERVICE,
  renderIstioExtras,
  renderKnativeTraefikRoute,
  strimziChart,
  renderKafka,
  renderKafkaBroker,
  renderServingConfig,
  servingReleases,
  tektonRelease,
  kafkaBootstrap,
  type AutoscalerDefaults,
  type KafkaStorage,
  type KnativeExposure,
  type KnativeIngress,
  type ReleaseManifest,
} from "../../lib/render/knative";
import type { Artifact } from "../artifact";
import { childOptions } from "../childOptions";
import { aggregatedRulesTransform } from "../upstreamTransforms";
import { releaseFiles, type ReleaseSource } from "./releases";

export interface KafkaArgs {
  /** Strimzi operator Helm chart version (oci://quay.io/strimzi-helm/strimzi-kafka-operator). */
  readonly strimziVersion: string;
  /** Apache Kafka version. */
  readonly version: string;
  /** Brokers (dual-role KRaft nodes). Seed 001: 3. */
  readonly brokers: number;
  /** Ephemeral, or persistent with a size per broker on local PVs. */
  readonly storage: KafkaStorage;
  /** Namespace of the operator and the cluster. Defaults to "kafka". */
  readonly namespace?: string;
  /** Kafka cluster name. Defaults to "kantai". */
  readonly name?: string;
}

export interface KnativeArgs {
  /** Knative Serving version, e.g. "1.20.0" (net-kourier/net-istio follow it). */
  readonly servingVersion: string;
  /** Networking layer (kantai:knative.ingress; default in stacks/config/platform.ts, KNATIVE_DEFAULTS). */
  readonly ingress: KnativeIngress;
  /** Route domain (config-domain), e.g. "local.knative". */
  readonly domain: string;
  /** config-network `domain-template`. Defaults to Knative's "{{.Name}}.{{.Namespace}}.{{.Domain}}". */
  readonly domainTemplate?: string;
  /** config-autoscaler values (kantai:knative.autoscaler; defaults: stacks/config/platform.ts). */
  readonly autoscaler: AutoscalerDefaults;
  /** Knative Eventing, optionally with a Kafka broker. Defaults to none. */
  readonly eventing?: { readonly version: string; readonly kafka?: KafkaArgs };
  /** Tekton Pipelines version. Defaults to none (not installed). */
  readonly tektonVersion?: string;
  /** Export Serving's metrics for Prometheus (config-observability). Defaults to false. */
  readonly prometheusMetrics?: boolean;
  /**
   * How the ingress gateway is reached on K3s (see KnativeExposure; kantai:knative.exposure; default in
   * stacks/config/platform.ts, KNATIVE_DEFAULTS).
   */
  readonly exposure: KnativeExposure;
  /** Mirror and sha256 pins of the release manifests. Defaults to the upstream locations, unpinned. */
  readonly releaseSource?: ReleaseSource;
}

/**
 * The transform on the networking layer's ConfigFile: the upstream ingress gateway Service as
 * kantai applies it (ingressGatewayOverride), every other object untouched. Pulumi runs transforms
 * on the children of packaged components such as yaml/v2 ConfigFile
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/transforms/).
 */
export function ingressGatewayTransform(ingress: KnativeIngress, exposure: KnativeExposure): pulumi.ResourceTransform {
  return (a) => {
    if (a.type !== "kubernetes:core/v1:Service") return undefined;
    const next = ingressGatewayOverride(a.props as K8sObject, ingress, exposure);
    return next ? { props: next, opts: a.opts } : undefined;
  };
}

/**
 * Knative on any cluster: Serving (CRDs → core → networking → kantai's config patches), Kourier
 * or Istio + net-istio, optional Eventing with a Strimzi-managed Kafka and a Kafka Broker, and
 * optional Tekton Pipelines. Release manifests come from pinned URLs; every object kantai itself
 * generates is rendered by lib/render/knative.ts and listed in `objects`/`artifacts`.
 * Depending on this component (dependsOn) waits for all of it. The cluster's provider comes in
 * `opts.providers`.
 */
export class Knative extends pulumi.ComponentResource {
  /** Release manifests installed from URLs, in install order. */
  public readonly releases: ReleaseManifest[];
  /** Where each release manifest is applied from, by key (mirror location, or the verified copy of a pinned one). */
  public readonly locations: Record<string, pulumi.Input<string>>;
  /** Every object kantai generates here, as applied. */
  public readonly objects: K8sObject[];
  /** In-cluster address of the ingress gateway ("kourier.kourier-system.svc.cluster.local:80"). */
  public readonly ingressService: string;
  public readonly domain: string;
  /** Kafka bootstrap address, when Kafka is installed. */
  public readonly kafkaBootstrap?: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: KnativeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:knative:Knative", name, {}, opts);
    const { ingress, exposure } = args;
    const mirror = args.releaseSource?.mirror;
    const force = { "pulumi.com/patchForce": "true" };

    // Every release manifest of this install, then where each is read from (verified first where pinned).
    const serving = servingReleases({ serving: args.servingVersion }, ingress);
    const kafkaArgs = args.eventing?.kafka;
    const eventing = args.eventing
      ? eventingReleases(args.eventing.version, kafkaArgs ? args.eventing.version : undefined)
      : [];
    const tekton = args.tektonVersion !== undefined ? [tektonRelease(args.tektonVersion)] : [];
    const files = releaseFiles([...serving, ...eventing, ...tekton], args.releaseSource);
    const networkingKeys = new Set(["net-kourier", "istio"]);
    const transforms = [aggregatedRulesTransform, ingressGatewayTransform(ingress, exposure)];

    // Release manifests, each after the previous one. The networking layer's gateway Service is
    // transformed (exposure "traefik": ClusterIP behind K3s' Traefik, see ingressGatewayOverride).
    const chain = (list: ReleaseManifest[], after: pulumi.Resource[]): pulumi.Resource[] => {
      let prev = after;
      for (const r of list) {
        const opts = childOptions(this, prev);
        prev = [
          new kubernetes.yaml.v2.ConfigFile(
            `${name}-${r.key}`,
            { file: files[r.key] },
            { ...opts, transforms: networkingKeys.has(r.key) ? transforms : [aggregatedRulesTransform] },
          ),
        ];
      }
      return prev;
    };
    const servingDone = chain(serving, []);
    this.releases = [...serving];
    this.objects = [];
    this.locations = {};

    // Traefik → the gateway, for every host under the Knative domain.
    if (exposure === "traefik") {
      const route = renderKnativeTraefikRoute({ ingress, domain: args.domain });
      const { apiVersion, kind, metadata, ...rest } = route;
      new kubernetes.apiextensions.CustomResource(
        `${name}-traefik-route`,
        { apiVersion, kind, metadata, ...rest },
        childOptions(this, servingDone),
      );
      this.objects.push(route);
    }

    // kantai's configuration of Serving, after the networking layer.
    const configObjs = renderServingConfig({
      ingress,
      domain: args.domain,
      domainTemplate: args.domainTemplate,
      autoscaler: args.autoscaler,
      prometheusMetrics: args.prometheusMetrics ?? false,
    });
    for (const cm of configObjs) {
      new kubernetes.core.v1.ConfigMapPatch(
        `${name}-${cm.metadata.name}`,
        { metadata: { ...cm.metadata, annotations: force }, data: cm.data as Record<string, string> },
        childOptions(this, servingDone),
      );
    }
    this.objects.push(...configObjs);

    if (ingress === "istio") {
      const { peerAuthentication, defaultNamespacePatch } = renderIstioExtras();
      const { apiVersion, kind, metadata, ...rest } = peerAuthentication;
      new kubernetes.apiextensions.CustomResource(
        `${name}-peer-authentication`,
        { apiVersion, kind, metadata, ...rest },
        childOptions(this, servingDone),
      );
      new kubernetes.core.v1.NamespacePatch(
        `${name}-default-namespace`,
        { metadata: { ...defaultNamespacePatch.metadata, annotations: force } },
        childOptions(this, servingDone),
      );
      this.objects.push(peerAuthentication, defaultNamespacePatch);
    }

    if (args.eventing) {
      const k = kafkaArgs;
      const eventingDone = chain(eventing, servingDone);
      this.releases.push(...eventing);
      if (k) {
        const ns = k.namespace ?? "kafka";
        const kafkaSpec = {
          name: k.name ?? "kantai",
          namespace: ns,
          version: k.version,
          brokers: k.brokers,
          storage: k.storage,
        };
        const namespace = new kubernetes.core.v1.Namespace(
          `${name}-kafka-namespace`,
          { metadata: { name: ns } },
          childOptions(this),
        );
        const { chart } = strimziChart(k.strimziVersion, mirror);
        const strimzi = new kubernetes.helm.v4.Chart(
          `${name}-strimzi`,
          // Under a mirror the chart is a packaged .tgz (path or URL), which carries its own version.
          mirror ? { chart, namespace: ns } : { chart, version: k.strimziVersion, namespace: ns },
          { ...childOptions(this, [namespace]), transforms: [aggregatedRulesTransform] },
        );
        const kafkaObjs = renderKafka(kafkaSpec);
        const kafka = new kubernetes.yaml.v2.ConfigGroup(
          `${name}-kafka`,
          { objs: kafkaObjs },
          childOptions(this, [strimzi]),
        );
        const brokerObjs = renderKafkaBroker({ kafka: kafkaSpec });
        new kubernetes.yaml.v2.ConfigGroup(
          `${name}-kafka-broker-objects`,
          { objs: brokerObjs },
          childOptions(this, [...eventingDone, kafka]),
        );
        this.objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, ...kafkaObjs, ...brokerObjs);
        this.kafkaBootstrap = kafkaBootstrap(kafkaSpec);
      }
    }

    if (tekton.length > 0) {
      chain(tekton, []);
      this.releases.push(...tekton);
    }
    for (const r of this.releases) this.locations[r.key] = files[r.key];

    this.ingressService = INGRESS_SERVICE[ingress];
    this.domain = args.domain;
    this.artifacts = [
      { path: `${name}/objects.yaml`, kind: "kubernetes", resource: name, content: toYaml(this.objects) },
    ];
    this.registerOutputs({
      ingressService: this.ingressService,
      domain: this.domain,
      releases: this.releases.map((r) => r.url),
    });
  }
}
