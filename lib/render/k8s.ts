/**
 * Plain Kubernetes manifests: the object type kantai's renderers return, and YAML in and out.
 * Pure (no @pulumi imports): components hand these objects to the Kubernetes provider, synth
 * writes them as `kind: kubernetes` artifacts, tests validate them against their schemas.
 */
import { parseAllDocuments, stringify } from "yaml";

/** One Kubernetes object as plain data. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** Labels kantai puts on every object it generates. */
export function kantaiLabels(component: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { "app.kubernetes.io/managed-by": "kantai", "app.kubernetes.io/part-of": component, ...extra };
}

/** A stable id for an object: `<apiVersion>/<kind>/<namespace>/<name>` (namespace "_" when cluster-scoped). */
export function objectId(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? "_"}/${o.metadata.name}`;
}

/** Objects as one multi-document YAML text (`---` between documents), in the order given. */
export function toYaml(objects: readonly K8sObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** Parse a multi-document YAML manifest; empty documents are skipped. Throws on a YAML error. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0].message}`);
    const v = doc.toJSON() as K8sObject | null;
    if (v === null || v === undefined) continue;
    out.push(v);
  }
  return out;
}

/** Kubernetes resource quantity of CPU ("250m", "0.5", "1") or memory ("512Mi", "512M", "1Gi"). */
export const CPU_QUANTITY = /^(\d+(\.\d+)?|\d+m)$/;
export const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** RFC 1123 label (namespace, service name): lower-case alphanumerics and inner '-', ≤ 63. */
export const K8S_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * An upstream object as kantai applies it with server-side apply: an aggregated ClusterRole (one
 * with `aggregationRule`) without its `rules`; `undefined` for every other object (unchanged).
 *
 * The rules of an aggregated ClusterRole belong to the control plane: "If AggregationRule is set,
 * then the Rules are controller managed and direct changes to Rules will be stomped by the
 * controller" (k8s.io/api rbac/v1 ClusterRole.AggregationRule), and since Kubernetes v1.21 the
 * clusterrole-aggregation-controller writes them by force-applying (kubernetes/kubernetes#99462).
 * A manifest with `rules: []` (Knative Eventing's addressable-resolver, channelable-manipulator,
 * crossnamespace-subscriber, … in knative.dev/eventing v0.50.0 config/core/roles/) claims that
 * field: the next server-side apply fails with `conflict with "clusterrole-aggregation-controller":
 * .rules` (kubernetes/website#56495, crossplane/crossplane#2987, kubernetes-sigs/cluster-api#13490;
 * Knative Serving dropped the line for this reason, knative/serving#11899).
 */
export function withoutAggregatedRules(obj: K8sObject): K8sObject | undefined {
  if (obj.kind !== "ClusterRole" || obj.aggregationRule === undefined || !("rules" in obj)) return undefined;
  const { rules: _controllerManaged, ...rest } = obj;
  return rest as K8sObject;
}
