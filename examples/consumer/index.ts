// Example: another team's program deploys onto kantai's edge cluster and publishes links to its
// services, reading everything from kantai's stack outputs (the typed contract in
// stacks/outputs.ts). Run it with `pulumi up` in this directory after kantai's edge stack is up.
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/kubernetes/provider";
import { Namespace } from "@pulumi/kubernetes/core/v1";
import { kantaiStack } from "./kantai";

const config = new pulumi.Config();
const ref = new pulumi.StackReference(config.get("kantaiStack") ?? "organization/kantai/edge");
const edge = kantaiStack(ref, "edge");

// The kubeconfig output is a secret: it stays one here and in this stack's state.
const provider = new Provider("kantai-edge", { kubeconfig: edge.kubeconfig });
const team = new Namespace("team", { metadata: { name: "team-a" } }, { provider });

export const namespace = team.metadata.name;
export const apiServer = edge.apiServer;
export const knativeDomain = edge.knative.apply((k) => k?.domain);
export const publicHostnames = edge.tunnel.apply((t) => t.hostnames);
export const blogUrl = edge.serviceUrls.apply((urls) => urls["blog"]);
export const siteNodes = edge.nodes.apply((nodes) =>
  nodes.filter((n) => n.kind === "host").map((n) => `${n.name}@${n.site}`),
);
