// The transform kantai puts on every upstream release it applies (components/upstreamTransforms.ts,
// lib/render/k8s.ts withoutAggregatedRules). Upstream rule: an aggregated ClusterRole's rules are
// controller managed (k8s.io/api rbac/v1 ClusterRole.AggregationRule; the
// clusterrole-aggregation-controller force-applies them since v1.21, kubernetes/kubernetes#99462),
// so a manifest's `rules: []` makes the next server-side apply conflict with it. Seen for real on
// the engine: the lab stack's second `up` failed on three of Knative Eventing's ClusterRoles
// (test/engine/k8sLab.test.ts) before this transform.
import { describe, expect, it } from "vitest";
import { aggregatedRulesTransform } from "../components/upstreamTransforms";
import { withoutAggregatedRules, type K8sObject } from "../lib/render/k8s";

// As knative.dev/eventing v0.50.0 config/core/roles/addressable-resolvers-clusterrole.yaml ships it.
const addressableResolver: K8sObject = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name: "addressable-resolver", labels: { "app.kubernetes.io/name": "knative-eventing" } },
  aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "duck.knative.dev/addressable": "true" } }] },
  rules: [],
};
const plainRole: K8sObject = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name: "knative-eventing-webhook" },
  rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
};
const args = (type: string, props: K8sObject) =>
  ({ type, name: props.metadata.name, props, opts: {} }) as unknown as Parameters<typeof aggregatedRulesTransform>[0];

describe("aggregated ClusterRoles go without their controller-managed rules", () => {
  it("drops `rules` from an aggregated ClusterRole and keeps everything else", () => {
    const out = withoutAggregatedRules(addressableResolver)!;
    expect(out).not.toHaveProperty("rules");
    expect(out.aggregationRule).toEqual(addressableResolver.aggregationRule);
    expect(out.metadata).toEqual(addressableResolver.metadata);
    expect(addressableResolver.rules).toEqual([]); // the input is not modified
  });

  it("leaves ClusterRoles with their own rules, Roles and aggregated roles without rules untouched", () => {
    expect(withoutAggregatedRules(plainRole)).toBeUndefined();
    expect(withoutAggregatedRules({ ...addressableResolver, kind: "Role" })).toBeUndefined();
    const { rules: _r, ...bare } = addressableResolver;
    expect(withoutAggregatedRules(bare as K8sObject)).toBeUndefined();
  });

  it("as a Pulumi transform: only the provider's ClusterRole type, the rest passes through", () => {
    const t = aggregatedRulesTransform(
      args("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", addressableResolver),
    );
    expect(t && "props" in t ? t.props : undefined).not.toHaveProperty("rules");
    expect(
      aggregatedRulesTransform(args("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", plainRole)),
    ).toBeUndefined();
    expect(aggregatedRulesTransform(args("kubernetes:core/v1:ConfigMap", addressableResolver))).toBeUndefined();
  });
});
