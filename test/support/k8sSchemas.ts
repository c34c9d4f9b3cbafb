/**
 * Schema validation of Kubernetes objects, for tests and the `kubernetes` artifact validator.
 *
 * - Built-in kinds: the `kubernetes-models` classes (JSON schemas generated from the Kubernetes
 *   OpenAPI spec); Knative, Traefik and Istio kinds: `@kubernetes-models/{knative,traefik,istio}`.
 * - Strimzi (`kafka.strimzi.io`) has no models package: STRIMZI_SCHEMAS below is derived from the
 *   `openAPIV3Schema` of Strimzi 0.48's v1beta2 Kafka and KafkaNodePool CRDs, for the fields
 *   kantai sets (types, enums, patterns, required fields), and is stricter than the API server in
 *   one way: an unknown field is an error here (the server would prune it silently). It runs on
 *   ajv, the engine the kubernetes-models validators use.
 * - Prometheus Operator (`monitoring.coreos.com`) ServiceMonitor: MONITORING_SCHEMAS, derived the same way.
 * An object of any other group/kind is an error: nothing passes unchecked.
 */
import Ajv from "ajv";
import type { K8sObject } from "../../lib/render/k8s";

const str = { type: "string" };
const strict = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});
const metadata = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
    namespace: str,
    labels: { type: "object", additionalProperties: str },
    annotations: { type: "object", additionalProperties: str },
  },
};
const preserveUnknown = { type: "object" };

export const STRIMZI_SCHEMAS: Record<string, object> = {
  "kafka.strimzi.io/v1beta2/Kafka": strict(
    {
      apiVersion: { const: "kafka.strimzi.io/v1beta2" },
      kind: { const: "Kafka" },
      metadata,
      spec: strict(
        {
          kafka: strict(
            {
              version: str,
              metadataVersion: str,
              replicas: { type: "integer", minimum: 1 },
              listeners: {
                type: "array",
                minItems: 1,
                items: strict(
                  {
                    name: { type: "string", pattern: "^[a-z0-9]{1,11}$" },
                    port: { type: "integer", minimum: 9092 },
                    type: { enum: ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"] },
                    tls: { type: "boolean" },
                    authentication: preserveUnknown,
                    configuration: preserveUnknown,
                  },
                  ["name", "port", "type", "tls"],
                ),
              },
              config: { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } },
              storage: preserveUnknown,
              resources: preserveUnknown,
              authorization: preserveUnknown,
            },
            ["listeners"],
          ),
          entityOperator: strict({ topicOperator: preserveUnknown, userOperator: preserveUnknown }),
          cruiseControl: preserveUnknown,
          kafkaExporter: preserveUnknown,
        },
        ["kafka"],
      ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
  ),
  "kafka.strimzi.io/v1beta2/KafkaNodePool": strict(
    {
      apiVersion: { const: "kafka.strimzi.io/v1beta2" },
      kind: { const: "KafkaNodePool" },
      metadata: {
        ...metadata,
        required: ["name", "labels"],
        properties: {
          ...metadata.properties,
          labels: { type: "object", required: ["strimzi.io/cluster"], additionalProperties: str },
        },
      },
      spec: strict(
        {
          replicas: { type: "integer", minimum: 0 },
          roles: { type: "array", minItems: 1, items: { enum: ["controller", "broker"] } },
          storage: strict(
            {
              type: { enum: ["ephemeral", "persistent-claim", "jbod"] },
              size: str,
              class: str,
              deleteClaim: { type: "boolean" },
              kraftMetadata: { enum: ["shared"] },
              sizeLimit: str,
              volumes: {
                type: "array",
                minItems: 1,
                items: strict(
                  {
                    id: { type: "integer", minimum: 0 },
                    type: { enum: ["ephemeral", "persistent-claim"] },
                    size: { type: "string", pattern: "^[0-9]+([.][0-9]+)?(Ki|Mi|Gi|Ti)?$" },
                    class: str,
                    deleteClaim: { type: "boolean" },
                    kraftMetadata: { enum: ["shared"] },
                    sizeLimit: str,
                  },
                  ["type"],
                ),
              },
            },
            ["type"],
          ),
          resources: preserveUnknown,
          jvmOptions: preserveUnknown,
          template: preserveUnknown,
        },
        ["replicas", "storage", "roles"],
      ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
  ),
};

/**
 * Prometheus Operator ServiceMonitor, derived from the `openAPIV3Schema` of the
 * monitoring.coreos.com/v1 CRD kube-prometheus-stack ships
 * (prometheus-community/helm-charts charts/kube-prometheus-stack/charts/crds/crds/crd-servicemonitors.yaml,
 * Operator v0.76.1 and later): `spec` required, `spec.endpoints` and `spec.selector` required,
 * endpoint `scheme` http|https, `interval`/`scrapeTimeout` Prometheus durations. Fields kantai does
 * not set are accepted unchecked; an unknown field is an error here (the server would prune it).
 */
const promDuration = {
  type: "string",
  pattern: "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
};
const labelSelector = strict({
  matchLabels: { type: "object", additionalProperties: str },
  matchExpressions: {
    type: "array",
    items: strict({ key: str, operator: str, values: { type: "array", items: str } }, ["key", "operator"]),
  },
});
export const MONITORING_SCHEMAS: Record<string, object> = {
  "monitoring.coreos.com/v1/ServiceMonitor": strict(
    {
      apiVersion: { const: "monitoring.coreos.com/v1" },
      kind: { const: "ServiceMonitor" },
      metadata,
      spec: strict(
        {
          selector: labelSelector,
          namespaceSelector: strict({ any: { type: "boolean" }, matchNames: { type: "array", items: str } }),
          endpoints: {
            type: "array",
            items: strict({
              port: str,
              targetPort: { anyOf: [{ type: "integer" }, { type: "string" }] },
              path: str,
              scheme: { enum: ["http", "https"] },
              interval: promDuration,
              scrapeTimeout: promDuration,
              honorLabels: { type: "boolean" },
              params: preserveUnknown,
              relabelings: { type: "array", items: preserveUnknown },
              metricRelabelings: { type: "array", items: preserveUnknown },
              tlsConfig: preserveUnknown,
              authorization: preserveUnknown,
            }),
          },
          jobLabel: str,
          targetLabels: { type: "array", items: str },
          podTargetLabels: { type: "array", items: str },
          sampleLimit: { type: "integer" },
          attachMetadata: preserveUnknown,
        },
        ["endpoints", "selector"],
      ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
  ),
};

/**
 * Prometheus Operator PodMonitor, from the monitoring.coreos.com/v1 CRD kube-prometheus-stack 88.5.3
 * ships (charts/kube-prometheus-stack/charts/crds/crds/crd-podmonitors.yaml): `spec.selector`
 * required; `podMetricsEndpoints[].port` is the container port's name; relabeling `action` one of
 * the CRD's enum; `sourceLabels`/`targetLabel` strings. Fields kantai does not set are unchecked.
 */
const relabelActions = [
  "replace",
  "Replace",
  "keep",
  "Keep",
  "drop",
  "Drop",
  "hashmod",
  "HashMod",
  "labelmap",
  "LabelMap",
  "labeldrop",
  "LabelDrop",
  "labelkeep",
  "LabelKeep",
  "lowercase",
  "Lowercase",
  "uppercase",
  "Uppercase",
  "keepequal",
  "KeepEqual",
  "dropequal",
  "DropEqual",
];
MONITORING_SCHEMAS["monitoring.coreos.com/v1/PodMonitor"] = strict(
  {
    apiVersion: { const: "monitoring.coreos.com/v1" },
    kind: { const: "PodMonitor" },
    metadata,
    spec: strict(
      {
        selector: labelSelector,
        namespaceSelector: strict({ any: { type: "boolean" }, matchNames: { type: "array", items: str } }),
        podMetricsEndpoints: {
          type: "array",
          items: strict({
            port: str,
            portNumber: { type: "integer" },
            path: str,
            scheme: { enum: ["http", "https"] },
            interval: promDuration,
            scrapeTimeout: promDuration,
            honorLabels: { type: "boolean" },
            relabelings: {
              type: "array",
              items: strict({
                action: { enum: relabelActions },
                sourceLabels: { type: "array", items: str },
                targetLabel: str,
                regex: str,
                replacement: str,
                separator: str,
                modulus: { type: "integer" },
              }),
            },
            metricRelabelings: { type: "array", items: preserveUnknown },
          }),
        },
        jobLabel: str,
        podTargetLabels: { type: "array", items: str },
        sampleLimit: { type: "integer" },
        attachMetadata: preserveUnknown,
      },
      ["selector"],
    ),
  },
  ["apiVersion", "kind", "metadata", "spec"],
);

const ajv = new Ajv({ allErrors: true, strict: false });
const strimzi = Object.fromEntries(
  Object.entries({ ...STRIMZI_SCHEMAS, ...MONITORING_SCHEMAS }).map(([k, s]) => [k, ajv.compile(s)]),
);

/** The kubernetes-models module that holds `apiVersion`'s kinds. */
function modelModule(apiVersion: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "") return `kubernetes-models/${version}`;
  if (/\.k8s\.io$/.test(group) || ["apps", "batch", "autoscaling", "policy"].includes(group))
    return `kubernetes-models/${group}/${version}`;
  if (/\.knative\.dev$/.test(group)) return `@kubernetes-models/knative/${group}/${version}`;
  if (group === "traefik.io") return `@kubernetes-models/traefik/${group}/${version}`;
  if (/\.istio\.io$/.test(group)) return `@kubernetes-models/istio/${group}/${version}`;
  return undefined;
}

/** Validate one object against its schema; throws an Error naming the object and every problem. */
export async function validateObject(obj: K8sObject): Promise<void> {
  const id = `${obj?.apiVersion} ${obj?.kind} ${obj?.metadata?.namespace ? obj.metadata.namespace + "/" : ""}${obj?.metadata?.name}`;
  const key = `${obj.apiVersion}/${obj.kind}`;
  const check = strimzi[key];
  if (check) {
    const kind = obj.kind;
    if (!check(obj as unknown)) throw new Error(`${id}: ${ajv.errorsText(check.errors, { dataVar: kind })}`);
    return;
  }
  const mod = modelModule(obj.apiVersion);
  if (!mod) throw new Error(`${id}: no schema for API group of ${obj.apiVersion}`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(/* @vite-ignore */ mod)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${id}: no models module ${mod} (${(e as Error).message})`);
  }
  const Model = exports[obj.kind] as (new (d: unknown) => { validate(): void }) | undefined;
  if (!Model) throw new Error(`${id}: ${mod} has no kind ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (e) {
    throw new Error(`${id}: ${(e as Error).message}`);
  }
}

/** Validate every object; returns the problems (empty when all are valid). */
export async function validateAll(objs: readonly K8sObject[]): Promise<string[]> {
  const out: string[] = [];
  for (const o of objs) {
    try {
      await validateObject(o);
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out;
}
