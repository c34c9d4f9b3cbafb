/**
 * Kubeconfig handling for clusters kantai reads over SSH (K3s servers, grogu's Minikube). Pure.
 */
import { parse, stringify } from "yaml";

/**
 * Point every cluster entry of `kubeconfig` at `server` (e.g. "https://192.168.1.20:6443") and
 * rename the cluster, context and user to `name`, so configs of several clusters can be merged.
 * An empty input stays empty (a preview or a simulated run has no kubeconfig yet).
 */
export function rewriteKubeconfig(kubeconfig: string, server: string, name?: string): string {
  if (kubeconfig.trim() === "") return "";
  const doc = parse(kubeconfig) as {
    clusters?: { name: string; cluster: { server?: string } }[];
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    users?: { name: string }[];
    "current-context"?: string;
  };
  if (!doc || !Array.isArray(doc.clusters) || doc.clusters.length === 0) {
    throw new Error("rewriteKubeconfig: the text is not a kubeconfig (no clusters)");
  }
  for (const c of doc.clusters) {
    c.cluster.server = server;
    if (name) c.name = name;
  }
  if (name) {
    for (const u of doc.users ?? []) u.name = name;
    for (const c of doc.contexts ?? []) {
      c.name = name;
      c.context.cluster = name;
      c.context.user = name;
    }
    doc["current-context"] = name;
  }
  return stringify(doc, { lineWidth: 0 });
}
