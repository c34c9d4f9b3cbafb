import type * as pulumi from "@pulumi/pulumi";
import { withoutAggregatedRules, type K8sObject } from "../lib/render/k8s";

/**
 * The transform on every upstream release kantai applies (yaml/v2 ConfigFile, helm/v4 Chart): an
 * aggregated ClusterRole goes without its controller-managed `rules` (withoutAggregatedRules in
 * lib/render/k8s.ts says why: with them, the second `up` fails on a field conflict), every other
 * object untouched. Pulumi runs transforms on the children of packaged components such as
 * ConfigFile and Chart (https://www.pulumi.com/docs/iac/concepts/resources/options/transforms/).
 */
export const aggregatedRulesTransform: pulumi.ResourceTransform = (a) => {
  if (a.type !== "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole") return undefined;
  const next = withoutAggregatedRules(a.props as K8sObject);
  return next ? { props: next, opts: a.opts } : undefined;
};
