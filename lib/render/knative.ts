/**
 * Knative, Istio extras, Strimzi Kafka and Tekton: release URLs and every object kantai itself
 * generates for them, as plain manifests. Pure (no @pulumi imports).
 */
import { kantaiLabels, type K8sObject } from "./k8s";

// ---------------------------------------------------------------------------------------------
// Release manifests (installed from pinned URLs, in this order).

export type KnativeIngress = "kourier" | "istio";

export interface KnativeVersions {
  /** Knative Serving, e.g. "1.20.0". */
  readonly serving: string;
  /** net-kourier / net-istio (same release train as Serving). Defaults to `serving`. */
  readonly networking?: string;
  /** Knative Eventing. */
  readonly eventing?: string;
  /** eventing-kafka-broker. Defaults to `eventing`. */
  readonly kafkaBroker?: string;
  /** Tekton Pipelines, e.g. "1.0.0". */
  readonly tekton?: string;
}

/** One release manifest installed from a URL; stages install in array order. */
export interface ReleaseManifest {
  /** Stable key; the child resource is `${component}-${key}`, and `kantai:releases.sha256.<key>` pins it. */
  readonly key: string;
  /** Upstream location (the project's current release location). */
  readonly url: string;
  /** Path of the same file under a mirror (`kantai:releases.mirror`): `<project>/v<version>/<file>`. */
  readonly mirrorPath: string;
}

// Current upstream locations, checked against the projects' own install docs:
// - Knative Serving/Eventing: https://knative.dev/docs/install/yaml-install/serving/install-serving-with-yaml/
//   (github.com/knative/{serving,eventing}/releases/download/knative-v<v>/…);
// - net-kourier, net-istio and eventing-kafka-broker moved to the knative-extensions org (the old
//   github.com/knative/net-* paths work only through GitHub's redirects);
// - Tekton's releases left the GCS bucket for infra.tekton.dev (tektoncd/pipeline #9566, #9569).
const gh = (repo: string, version: string, file: string) =>
  `https://github.com/${repo}/releases/download/knative-v${version}/${file}`;
const release = (key: string, repo: string, project: string, version: string, file: string): ReleaseManifest => ({
  key,
  url: gh(repo, version, file),
  mirrorPath: `${project}/v${version}/${file}`,
});

/** Serving: CRDs, core, then the networking layer (for Istio: Istio itself, then net-istio). */
export function servingReleases(v: KnativeVersions, ingress: KnativeIngress): ReleaseManifest[] {
  const net = v.networking ?? v.serving;
  const networking =
    ingress === "kourier"
      ? [release("net-kourier", "knative-extensions/net-kourier", "net-kourier", net, "kourier.yaml")]
      : [
          release("istio", "knative-extensions/net-istio", "net-istio", net, "istio.yaml"),
          release("net-istio", "knative-extensions/net-istio", "net-istio", net, "net-istio.yaml"),
        ];
  return [
    release("serving-crds", "knative/serving", "serving", v.serving, "serving-crds.yaml"),
    release("serving-core", "knative/serving", "serving", v.serving, "serving-core.yaml"),
    ...networking,
  ];
}

/** Eventing: CRDs, core, and (with Kafka) the Kafka controller and the Kafka broker data plane. */
export function eventingReleases(eventing: string, kafkaBroker: string | undefined): ReleaseManifest[] {
  return [
    release("eventing-crds", "knative/eventing", "eventing", eventing, "eventing-crds.yaml"),
    release("eventing-core", "knative/eventing", "eventing", eventing, "eventing-core.yaml"),
    ...(kafkaBroker
      ? [
          release(
            "kafka-controller",
            "knative-extensions/eventing-kafka-broker",
            "eventing-kafka-broker",
            kafkaBroker,
            "eventing-kafka-controller.yaml",
          ),
          release(
            "kafka-broker",
            "knative-extensions/eventing-kafka-broker",
            "eventing-kafka-broker",
            kafkaBroker,
            "eventing-kafka-broker.yaml",
          ),
        ]
      : []),
  ];
}

/** Tekton Pipelines' release manifest (infra.tekton.dev since the move off the GCS bucket). */
export function tektonRelease(version: string): ReleaseManifest {
  return {
    key: "tekton-pipelines",
    url: `https://infra.tekton.dev/tekton-releases/pipeline/previous/v${version}/release.yaml`,
    mirrorPath: `tekton-pipeline/v${version}/release.yaml`,
  };
}

/** A mirror standing in for every release location: a base URL or a local directory. */
export type ReleaseMirror =
  { readonly kind: "url"; readonly base: string } | { readonly kind: "dir"; readonly path: string };

/** A `kantai:releases.mirror` value (already checked: an http(s) URL or an absolute path) as a ReleaseMirror. */
export function releaseMirrorOf(raw: string): ReleaseMirror {
  return /^https?:\/\//.test(raw) ? { kind: "url", base: raw } : { kind: "dir", path: raw };
}

/** Where a release manifest is read from: its mirror path under the mirror, else its upstream URL. */
export function releaseLocation(r: ReleaseManifest, mirror?: ReleaseMirror): string {
  if (!mirror) return r.url;
  if (mirror.kind === "url") return `${mirror.base.replace(/\/+$/, "")}/${r.mirrorPath}`;
  return `${mirror.path.replace(/\/+$/, "")}/${r.mirrorPath}`;
}

/** The Strimzi operator chart: its OCI reference upstream, or `strimzi/v<v>/strimzi-kafka-operator-<v>.tgz` under a mirror (what `helm pull` writes). */
export function strimziChart(
  version: string,
  mirror?: ReleaseMirror,
): { readonly chart: string; readonly mirrorPath: string } {
  const mirrorPath = `strimzi/v${version}/strimzi-kafka-operator-${version}.tgz`;
  if (!mirror) return { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", mirrorPath };
  const base = mirror.kind === "url" ? mirror.base : mirror.path;
  return { chart: `${base.replace(/\/+$/, "")}/${mirrorPath}`, mirrorPath };
}

// ---------------------------------------------------------------------------------------------
// Serving configuration (patches of the ConfigMaps serving-core creates).

export interface AutoscalerDefaults {
  /** `container-concurrency-target-default`. Knative's default 100. */
  readonly concurrencyTarget: number;
  /** `target-burst-capacity`. Knative's default 200; -1 = activator always in path. */
  readonly targetBurstCapacity: number;
  /** `stable-window`. Knative's default "60s". */
  readonly stableWindow: string;
  /** `scale-to-zero-grace-period`. Knative's default "30s". */
  readonly scaleToZeroGracePeriod: string;
  /** `enable-scale-to-zero`. */
  readonly enableScaleToZero: boolean;
  /** `max-scale` cluster default; 0 = unbounded. */
  readonly maxScale: number;
}

export interface ServingConfigSpec {
  readonly ingress: KnativeIngress;
  /** Domain of Knative routes, e.g. "local.knative" (seed 000) or "kn.example.com". */
  readonly domain: string;
  /** Knative `domain-template`. Defaults to Knative's "{{.Name}}.{{.Namespace}}.{{.Domain}}". */
  readonly domainTemplate?: string;
  readonly autoscaler: AutoscalerDefaults;
  /**
   * Export Serving's metrics in Prometheus format (config-observability `metrics-protocol` and
   * `request-metrics-protocol`; knative/serving config/core/configmaps/observability.yaml: both
   * default to "none", so nothing is scraped without this). Defaults to false.
   */
  readonly prometheusMetrics?: boolean;
}

export const INGRESS_CLASS: Readonly<Record<KnativeIngress, string>> = {
  kourier: "kourier.ingress.networking.knative.dev",
  istio: "istio.ingress.networking.knative.dev",
};

/** In-cluster address of the Knative ingress gateway (what a tunnel or proxy sends traffic to). */
export const INGRESS_SERVICE: Readonly<Record<KnativeIngress, string>> = {
  kourier: "kourier.kourier-system.svc.cluster.local:80",
  istio: "istio-ingressgateway.istio-system.svc.cluster.local:80",
};

/** The ingress gateway Service each networking layer's release manifest ships (type LoadBalancer upstream). */
export const INGRESS_GATEWAY: Readonly<
  Record<KnativeIngress, { readonly namespace: string; readonly name: string; readonly port: number }>
> = {
  // net-kourier config/300-gateway.yaml: Service kourier, kourier-system, LoadBalancer 80 (http2) / 443.
  kourier: { namespace: "kourier-system", name: "kourier", port: 80 },
  // net-istio's istio.yaml: Service istio-ingressgateway, istio-system, LoadBalancer 15021 / 80 / 443.
  istio: { namespace: "istio-system", name: "istio-ingressgateway", port: 80 },
};

/**
 * How the Knative ingress gateway is reached from outside the cluster on K3s.
 * - "traefik": the gateway Service becomes ClusterIP and K3s' Traefik (which holds ports 80/443 on
 *   every node through ServiceLB) routes the Knative domain to it with an IngressRoute.
 * - "loadBalancer": the gateway keeps the upstream LoadBalancer type (ServiceLB or another load
 *   balancer gives it 80/443); only valid where Traefik does not hold those ports.
 */
export type KnativeExposure = "traefik" | "loadBalancer";

/** Fields a Service may carry only as a LoadBalancer (the API server rejects them on ClusterIP). */
const LB_ONLY_FIELDS = [
  "externalTrafficPolicy",
  "healthCheckNodePort",
  "loadBalancerIP",
  "loadBalancerSourceRanges",
  "loadBalancerClass",
  "allocateLoadBalancerNodePorts",
];

/**
 * The release manifests' ingress gateway Service as kantai applies it: for exposure "traefik", the
 * gateway Service (matched by namespace and name) as ClusterIP without its LoadBalancer-only fields
 * and node ports; anything else unchanged. Returns undefined when `obj` is not the gateway Service.
 */
export function ingressGatewayOverride(
  obj: K8sObject,
  ingress: KnativeIngress,
  exposure: KnativeExposure,
): K8sObject | undefined {
  const g = INGRESS_GATEWAY[ingress];
  if (exposure !== "traefik" || obj.apiVersion !== "v1" || obj.kind !== "Service") return undefined;
  if (obj.metadata.name !== g.name || (obj.metadata.namespace ?? "default") !== g.namespace) return undefined;
  const spec = { ...((obj as { spec?: Record<string, unknown> }).spec ?? {}) };
  for (const f of LB_ONLY_FIELDS) delete spec[f];
  spec.type = "ClusterIP";
  if (Array.isArray(spec.ports))
    spec.ports = (spec.ports as Record<string, unknown>[]).map(({ nodePort: _n, ...p }) => p);
  return { ...obj, spec };
}

/** A Traefik v3 HostRegexp (Go RE2) matching every host under `domain`, at any depth. */
export function knativeHostRegexp(domain: string): string {
  return `^[a-z0-9-]+(\\.[a-z0-9-]+)*\\.${domain.replace(/\./g, "\\.")}$`;
}

/** Traefik's IngressRoute sending every host under the Knative domain to the ingress gateway (exposure "traefik"). */
export function renderKnativeTraefikRoute(spec: {
  readonly ingress: KnativeIngress;
  readonly domain: string;
}): K8sObject {
  const g = INGRESS_GATEWAY[spec.ingress];
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "IngressRoute",
    metadata: { name: "knative-ingress", namespace: g.namespace, labels: kantaiLabels("knative") },
    spec: {
      entryPoints: ["web"],
      routes: [
        {
          match: `HostRegexp(\`${knativeHostRegexp(spec.domain)}\`)`,
          kind: "Rule",
          services: [{ name: g.name, port: g.port }],
        },
      ],
    },
  };
}

export const DEFAULT_DOMAIN_TEMPLATE = "{{.Name}}.{{.Namespace}}.{{.Domain}}";

/** True when `template` uses only the placeholders knativeHost fills ({{.Name}}, {{.Namespace}}, {{.Domain}}). */
export function isSimpleDomainTemplate(template: string): boolean {
  return (
    template.replace(/\{\{\.(Name|Namespace|Domain)\}\}/g, "x").match(/\{\{|\}\}/) === null &&
    template.includes("{{.Name}}")
  );
}

/** The host Knative gives a service: `template` with name, namespace and domain filled in. */
export function knativeHost(
  name: string,
  namespace: string,
  domain: string,
  template = DEFAULT_DOMAIN_TEMPLATE,
): string {
  return template
    .replace(/\{\{\.Name\}\}/g, name)
    .replace(/\{\{\.Namespace\}\}/g, namespace)
    .replace(/\{\{\.Domain\}\}/g, domain);
}

/** The ConfigMaps kantai sets in knative-serving (applied as server-side patches): three, four with Prometheus metrics. */
export function renderServingConfig(spec: ServingConfigSpec): K8sObject[] {
  const cm = (name: string, data: Record<string, string>): K8sObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "knative-serving", labels: kantaiLabels("knative") },
    data,
  });
  const a = spec.autoscaler;
  return [
    cm("config-network", {
      "ingress-class": INGRESS_CLASS[spec.ingress],
      "domain-template": spec.domainTemplate ?? DEFAULT_DOMAIN_TEMPLATE,
    }),
    cm("config-domain", { [spec.domain]: "" }),
    cm("config-autoscaler", {
      "container-concurrency-target-default": String(a.concurrencyTarget),
      "target-burst-capacity": String(a.targetBurstCapacity),
      "stable-window": a.stableWindow,
      "scale-to-zero-grace-period": a.scaleToZeroGracePeriod,
      "enable-scale-to-zero": String(a.enableScaleToZero),
      "max-scale": String(a.maxScale),
    }),
    ...(spec.prometheusMetrics
      ? [cm("config-observability", { "metrics-protocol": "prometheus", "request-metrics-protocol": "prometheus" })]
      : []),
  ];
}

/** Seed 001's Istio settings: mTLS PERMISSIVE in knative-serving, sidecar injection on `default`. */
export function renderIstioExtras(): { peerAuthentication: K8sObject; defaultNamespacePatch: K8sObject } {
  return {
    peerAuthentication: {
      apiVersion: "security.istio.io/v1beta1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "knative-serving", labels: kantaiLabels("knative") },
      spec: { mtls: { mode: "PERMISSIVE" } },
    },
    defaultNamespacePatch: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "default", labels: { "istio-injection": "enabled" } },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Knative Services (functions).

export interface KnativeScale {
  /** `autoscaling.knative.dev/min-scale`. */
  readonly min?: number;
  /** `autoscaling.knative.dev/max-scale`. */
  readonly max?: number;
  /** `autoscaling.knative.dev/target` (concurrency or rps per pod, or CPU % with metric "cpu"). */
  readonly target?: number;
  /** `autoscaling.knative.dev/metric`. */
  readonly metric?: "concurrency" | "rps" | "cpu";
  /** `autoscaling.knative.dev/window`, e.g. "30s". */
  readonly window?: string;
  /** `autoscaling.knative.dev/target-burst-capacity`; -1 keeps the activator in the path. */
  readonly targetBurstCapacity?: number;
  /** Autoscaler class: Knative's own ("kpa") or the Kubernetes HPA ("hpa", needs metric "cpu"). */
  readonly class?: "kpa" | "hpa";
}

export interface ContainerResources {
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  readonly limits?: { readonly cpu?: string; readonly memory?: string };
}

export interface KnativeServiceSpec {
  readonly name: string;
  /** Defaults to "default". */
  readonly namespace?: string;
  readonly image: string;
  /** Container port Knative routes to. Defaults to Knative's (8080, passed as $PORT). */
  readonly port?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly scale?: KnativeScale;
  readonly resources?: ContainerResources;
  /** Hard per-pod concurrency limit (`containerConcurrency`); 0 = unlimited. */
  readonly containerConcurrency?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Run source code shipped in a ConfigMap (mounted read-only) instead of the image's entrypoint. */
  readonly source?: KnativeSourceMount;
}

/** Where a function's source ConfigMap is mounted and how it is started. */
export interface KnativeSourceMount {
  /** ConfigMap holding the source files. */
  readonly configMap: string;
  /** Mount path. Defaults to "/app". */
  readonly mountPath?: string;
  /** Container command, e.g. ["node", "/app/server.js"]. */
  readonly command: readonly string[];
  /** sha256 of the source files, put on the revision template so a source change rolls a new revision. */
  readonly sha256: string;
}

/** The ConfigMap carrying a function's source files. */
export function renderSourceConfigMap(
  name: string,
  namespace: string,
  files: Readonly<Record<string, string>>,
): K8sObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, labels: kantaiLabels("knative", {}) },
    data: Object.fromEntries(
      Object.keys(files)
        .sort()
        .map((k) => [k, files[k]]),
    ),
  };
}

/** Revision-template annotations for a scale spec, in a fixed order. */
export function scaleAnnotations(s: KnativeScale = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const k = (n: string) => `autoscaling.knative.dev/${n}`;
  if (s.class !== undefined) out[k("class")] = `${s.class}.autoscaling.knative.dev`;
  if (s.metric !== undefined) out[k("metric")] = s.metric;
  if (s.target !== undefined) out[k("target")] = String(s.target);
  if (s.min !== undefined) out[k("min-scale")] = String(s.min);
  if (s.max !== undefined) out[k("max-scale")] = String(s.max);
  if (s.window !== undefined) out[k("window")] = s.window;
  if (s.targetBurstCapacity !== undefined) out[k("target-burst-capacity")] = String(s.targetBurstCapacity);
  return out;
}

/** A `serving.knative.dev/v1` Service. */
export function renderKnativeService(spec: KnativeServiceSpec): K8sObject {
  const env = Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value }));
  const resources: Record<string, Record<string, string>> = {};
  for (const side of ["requests", "limits"] as const) {
    const r = spec.resources?.[side];
    if (r && (r.cpu !== undefined || r.memory !== undefined)) {
      resources[side] = {
        ...(r.cpu !== undefined ? { cpu: r.cpu } : {}),
        ...(r.memory !== undefined ? { memory: r.memory } : {}),
      };
    }
  }
  const annotations = scaleAnnotations(spec.scale);
  if (spec.source) annotations["kantai.dev/source-sha256"] = spec.source.sha256;
  return {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? "default",
      labels: kantaiLabels("knative", spec.labels ?? {}),
    },
    spec: {
      template: {
        ...(Object.keys(annotations).length > 0 ? { metadata: { annotations } } : {}),
        spec: {
          ...(spec.containerConcurrency !== undefined ? { containerConcurrency: spec.containerConcurrency } : {}),
          containers: [
            {
              name: "user-container",
              image: spec.image,
              ...(spec.source ? { command: [...spec.source.command] } : {}),
              ...(spec.port !== undefined ? { ports: [{ containerPort: spec.port }] } : {}),
              ...(env.length > 0 ? { env } : {}),
              ...(Object.keys(resources).length > 0 ? { resources } : {}),
              ...(spec.source
                ? { volumeMounts: [{ name: "source", mountPath: spec.source.mountPath ?? "/app", readOnly: true }] }
                : {}),
            },
          ],
          ...(spec.source ? { volumes: [{ name: "source", configMap: { name: spec.source.configMap } }] } : {}),
        },
      },
    },
  };
}

/** Seed 000's demo function: `fibonacci-behavior` with the seed's autoscaling and resources. */
export const FIBONACCI_BEHAVIOR: Omit<KnativeServiceSpec, "image"> = {
  name: "fibonacci-behavior",
  scale: { target: 200, min: 0, max: 5, window: "30s", targetBurstCapacity: -1 },
  resources: { requests: { cpu: "200m", memory: "512M" }, limits: { cpu: "1", memory: "512M" } },
};

// ---------------------------------------------------------------------------------------------
// Kafka through Strimzi (seed 001: 3 brokers, ephemeral or persistent on local PVs).

export type KafkaStorage =
  | { readonly type: "ephemeral" }
  | {
      readonly type: "persistent";
      /** Size per broker, GiB. */
      readonly sizeGi: number;
      /** Directory on each node under which each broker's volume directory is created (by kubelet, DirectoryOrCreate). */
      readonly path: string;
      /** One node (kubernetes.io/hostname) per broker for its local PV. */
      readonly nodes: readonly string[];
    };

export interface KafkaSpec {
  /** Kafka cluster name. */
  readonly name: string;
  readonly namespace: string;
  /** Apache Kafka version Strimzi runs, e.g. "4.1.0". */
  readonly version: string;
  readonly brokers: number;
  readonly storage: KafkaStorage;
  /** StorageClass name for persistent storage. Defaults to "kafka-local". */
  readonly storageClass?: string;
}

/** Bootstrap address of the Kafka cluster inside the cluster. */
export function kafkaBootstrap(spec: Pick<KafkaSpec, "name" | "namespace">): string {
  return `${spec.name}-kafka-bootstrap.${spec.namespace}.svc.cluster.local:9092`;
}

/**
 * Strimzi objects for a KRaft cluster: a Kafka CR, one dual-role KafkaNodePool with `brokers`
 * replicas, and for persistent storage a no-provisioner StorageClass (WaitForFirstConsumer,
 * Retain) with one PersistentVolume per broker pinned to its node.
 *
 * Each PV is a `hostPath` volume of type `DirectoryOrCreate` at `<path>/<pv name>` with a required
 * node affinity — the shape K3s' own local-path provisioner gives the volumes it provisions — so
 * kubelet creates the directory on first mount. (A `local` PV needs its path to exist already on
 * the node; nothing here would create it, and kubelet would refuse the mount.)
 */
export function renderKafka(spec: KafkaSpec): K8sObject[] {
  const rf = Math.min(3, spec.brokers);
  const isr = rf >= 3 ? 2 : 1;
  const labels = kantaiLabels("kafka");
  const storageClass = spec.storageClass ?? "kafka-local";
  const kafka: K8sObject = {
    apiVersion: "kafka.strimzi.io/v1beta2",
    kind: "Kafka",
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels,
      annotations: { "strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled" },
    },
    spec: {
      kafka: {
        version: spec.version,
        listeners: [{ name: "plain", port: 9092, type: "internal", tls: false }],
        config: {
          "offsets.topic.replication.factor": rf,
          "transaction.state.log.replication.factor": rf,
          "transaction.state.log.min.isr": isr,
          "default.replication.factor": rf,
          "min.insync.replicas": isr,
        },
      },
      entityOperator: { topicOperator: {}, userOperator: {} },
    },
  };
  const storage =
    spec.storage.type === "ephemeral"
      ? { type: "ephemeral" }
      : {
          type: "jbod",
          volumes: [
            {
              id: 0,
              type: "persistent-claim",
              size: `${spec.storage.sizeGi}Gi`,
              class: storageClass,
              deleteClaim: false,
              kraftMetadata: "shared",
            },
          ],
        };
  const pool: K8sObject = {
    apiVersion: "kafka.strimzi.io/v1beta2",
    kind: "KafkaNodePool",
    metadata: { name: "dual-role", namespace: spec.namespace, labels: { ...labels, "strimzi.io/cluster": spec.name } },
    spec: { replicas: spec.brokers, roles: ["controller", "broker"], storage },
  };
  if (spec.storage.type === "ephemeral") return [kafka, pool];
  const st = spec.storage;
  const sc: K8sObject = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: storageClass, labels },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "WaitForFirstConsumer",
    reclaimPolicy: "Retain",
  };
  const pvs: K8sObject[] = st.nodes.map((node, i) => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `${spec.name}-kafka-${i}`, labels },
    spec: {
      capacity: { storage: `${st.sizeGi}Gi` },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: storageClass,
      volumeMode: "Filesystem",
      hostPath: { path: kafkaVolumePath(st.path, `${spec.name}-kafka-${i}`), type: "DirectoryOrCreate" },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] },
          ],
        },
      },
    },
  }));
  return [sc, ...pvs, kafka, pool];
}

/** The directory backing one broker's volume on its node: `<base>/<pv name>`. */
export function kafkaVolumePath(base: string, pvName: string): string {
  return `${base.replace(/\/+$/, "")}/${pvName}`;
}

/** The Knative Kafka Broker (class Kafka) named `default` in `namespace`, and its config. */
export function renderKafkaBroker(opts: {
  kafka: Pick<KafkaSpec, "name" | "namespace" | "brokers">;
  namespace?: string;
  partitions?: number;
}): K8sObject[] {
  const labels = kantaiLabels("knative-eventing");
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kafka-broker-config", namespace: "knative-eventing", labels },
      data: {
        "default.topic.partitions": String(opts.partitions ?? 10),
        "default.topic.replication.factor": String(Math.min(3, opts.kafka.brokers)),
        "bootstrap.servers": kafkaBootstrap(opts.kafka),
      },
    },
    {
      apiVersion: "eventing.knative.dev/v1",
      kind: "Broker",
      metadata: {
        name: "default",
        namespace: opts.namespace ?? "default",
        labels,
        annotations: { "eventing.knative.dev/broker.class": "Kafka" },
      },
      spec: {
        config: { apiVersion: "v1", kind: "ConfigMap", name: "kafka-broker-config", namespace: "knative-eventing" },
      },
    },
  ];
}
