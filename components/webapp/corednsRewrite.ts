import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderCorefile, renderRewriteRules, type DnsRewrite } from "../../lib/render/coredns";
import { kantaiLabels, toYaml, type K8sObject } from "../../lib/render/k8s";
import type { Artifact } from "../artifact";
import { childOptions } from "../childOptions";

export interface CorednsRewriteArgs {
  /** Public name → in-cluster service name. */
  readonly rewrites: readonly DnsRewrite[];
  /**
   * "k3s": the `coredns-custom` ConfigMap with a `kantai.override` key, which K3s' Corefile imports
   * into its main server block (K3s re-deploys its own `coredns` ConfigMap, so it is not patched).
   * "corefile": patch the `coredns` ConfigMap with a complete Corefile (kubeadm, Minikube).
   * Defaults to "k3s".
   */
  readonly mode?: "k3s" | "corefile";
}

/** Make `<app>.<public zone>` resolve inside the cluster to the app's Service (seed 003, fixed). The cluster's provider comes in `opts.providers`. */
export class CorednsRewrite extends pulumi.ComponentResource {
  /** The effective Corefile CoreDNS runs with the rewrites merged into its main block. */
  public readonly corefile: string;
  public readonly object: K8sObject;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: CorednsRewriteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:webapp:CorednsRewrite", name, {}, opts);
    const mode = args.mode ?? "k3s";
    this.corefile = renderCorefile({ rewrites: args.rewrites, k3s: mode === "k3s" });
    if (mode === "k3s") {
      this.object = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "coredns-custom", namespace: "kube-system", labels: kantaiLabels("coredns") },
        data: { "kantai.override": renderRewriteRules(args.rewrites, "") + "\n" },
      };
      new kubernetes.core.v1.ConfigMap(
        `${name}-coredns-custom`,
        { metadata: this.object.metadata, data: this.object.data as Record<string, string> },
        childOptions(this),
      );
    } else {
      this.object = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "coredns", namespace: "kube-system" },
        data: { Corefile: this.corefile },
      };
      new kubernetes.core.v1.ConfigMapPatch(
        `${name}-coredns`,
        {
          metadata: { ...this.object.metadata, annotations: { "pulumi.com/patchForce": "true" } },
          data: this.object.data as Record<string, string>,
        },
        childOptions(this),
      );
    }
    const resource = mode === "k3s" ? `${name}-coredns-custom` : `${name}-coredns`;
    this.artifacts = [{ path: `${name}/coredns.yaml`, kind: "kubernetes", resource, content: toYaml([this.object]) }];
    this.registerOutputs({});
  }
}
