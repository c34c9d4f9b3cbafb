// A release-manifest mirror for the tests, assembled from the upstream files that the projects
// ship inside their Go modules (fetched through the Go module proxy into the module cache).
// Layout: the `kantai:releases.mirror` layout, `<project>/v<version>/<file>` (lib/render/knative.ts
// ReleaseManifest.mirrorPath on the k8s branch; docs/reference/config.md#release-manifests-and-mirror).
//
// What each file is (also written to MIRROR.json beside them):
// - serving/v1.23.0/serving-crds.yaml: Knative Serving's CRDs — the upstream files
//   config/core/300-resources/*.yaml of knative.dev/serving v0.50.0 (the commit tagged
//   knative-v1.23.0), concatenated. Knative's own serving-crds.yaml is built from the same files.
// - eventing/v1.23.0/eventing-crds.yaml: likewise, config/core/resources/*.yaml of
//   knative.dev/eventing v0.50.0.
// - tekton-pipeline/v1.0.0/release.yaml: ASSEMBLED FOR THE TEST — only Tekton's CRDs
//   (config/300-crds/*.yaml of github.com/tektoncd/pipeline v1.0.0), not the release (whose
//   controllers' images are ko:// references resolved at release time).
// - traefik/v3.5.0/kubernetes-crd-definition-v1.yml: Traefik's CRDs (K3s bundles Traefik;
//   not a kantai release manifest), the upstream file of github.com/traefik/traefik/v3 v3.5.0.
// Not produced (reason in MIRROR.json): the core/controller manifests (serving-core, eventing-core,
// net-kourier, net-istio, the Kafka broker: their images are ko:// references and their webhooks
// need the controllers running) and Strimzi's chart (Strimzi is Java: no Go module ships it).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROMETHEUS_STACK_CHART, prometheusStackChart } from "../../../lib/render/latency";
import { CSI_NFS_VERSION, csiNfsReleases } from "../../../lib/render/storage";
import { moduleFile } from "./k8s";

interface Part {
  readonly mirrorPath: string;
  readonly module: string;
  readonly files: readonly string[];
  readonly what: "upstream files, concatenated" | "upstream file" | "assembled for the test (CRDs only)";
}

export const KNATIVE_VERSION = "1.23.0";
const SERVING = "knative.dev/serving@v0.50.0";
const EVENTING = "knative.dev/eventing@v0.50.0";
const TEKTON = "github.com/tektoncd/pipeline@v1.0.0";
const TRAEFIK = "github.com/traefik/traefik/v3@v3.5.0";

const PARTS: readonly Part[] = [
  {
    mirrorPath: `serving/v${KNATIVE_VERSION}/serving-crds.yaml`,
    module: SERVING,
    files: ["configuration", "domain-mapping", "metric", "podautoscaler", "revision", "route", "service"].map(
      (n) => `config/core/300-resources/${n}.yaml`,
    ),
    what: "upstream files, concatenated",
  },
  {
    mirrorPath: `eventing/v${KNATIVE_VERSION}/eventing-crds.yaml`,
    module: EVENTING,
    files: [
      "apiserversource",
      "broker",
      "channel",
      "containersource",
      "eventpolicy",
      "eventtransform",
      "eventtype",
      "integrationsink",
      "integrationsource",
      "jobsink",
      "parallel",
      "pingsource",
      "requestreply",
      "sequence",
      "sinkbindings",
      "subscription",
      "trigger",
    ].map((n) => `config/core/resources/${n}.yaml`),
    what: "upstream files, concatenated",
  },
  {
    mirrorPath: "tekton-pipeline/v1.0.0/release.yaml",
    module: TEKTON,
    files: [
      "customrun",
      "pipeline",
      "pipelinerun",
      "resolutionrequest",
      "stepaction",
      "task",
      "taskrun",
      "verificationpolicy",
    ].map((n) => `config/300-crds/300-${n}.yaml`),
    what: "assembled for the test (CRDs only)",
  },
  {
    mirrorPath: "traefik/v3.5.0/kubernetes-crd-definition-v1.yml",
    module: TRAEFIK,
    files: ["docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"],
    what: "upstream file",
  },
];

const NOT_PRODUCED: Record<string, string> = {
  [`serving/v${KNATIVE_VERSION}/serving-core.yaml`]:
    "controllers with ko:// images and webhooks that need them running",
  [`eventing/v${KNATIVE_VERSION}/eventing-core.yaml`]:
    "controllers with ko:// images and webhooks that need them running",
  [`net-kourier/v${KNATIVE_VERSION}/kourier.yaml`]:
    "knative.dev/net-kourier v0.50.0 is refused by the module proxy; a controller anyway",
  [`net-istio/v${KNATIVE_VERSION}/istio.yaml`]: "Istio's release is not a Go module file; a controller anyway",
  "strimzi/v0.48.0/strimzi-kafka-operator-0.48.0.tgz":
    "Strimzi is Java (io.strimzi on Maven, not reachable here): no Go module ships its chart or CRDs",
};

/** Upstream files of a module, as one multi-document YAML file: each headed by where it comes from. */
function concatModuleFiles(module: string, files: readonly string[]): string {
  return files
    .map((f) => {
      const body = fs.readFileSync(moduleFile(module, f), "utf8");
      return `# ${module} ${f}\n${body.replace(/^---\s*\n/, "").trimEnd()}\n`;
    })
    .join("---\n");
}

/** Write the mirror under `dir`; returns the files written (mirror paths). */
export function assembleMirror(dir: string): string[] {
  const index: Record<string, unknown> = {};
  for (const p of PARTS) {
    const text = concatModuleFiles(p.module, p.files);
    const dest = path.join(dir, p.mirrorPath);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, text);
    index[p.mirrorPath] = { module: p.module, files: p.files, what: p.what };
  }
  for (const [f, why] of Object.entries(NOT_PRODUCED)) index[f] = { notProduced: why };
  fs.writeFileSync(path.join(dir, "MIRROR.json"), JSON.stringify(index, null, 2) + "\n");
  return PARTS.map((p) => p.mirrorPath);
}

// ---------------------------------------------------------------------------------------------
// The mirror for the whole stacks (k8sEdge.test.ts, and k8sLab.test.ts through assembleLabMirror): besides the CRDs above, the release files
// the edge stack applies with kubernetes.yaml.v2.ConfigFile (components/knative/knative.ts).

const SERVING_CORE_FILES = [
  "100-namespace",
  "200-serviceaccount",
  ...[
    "activator",
    "addressable-resolvers-clusterrole",
    "clusterrole-namespaced",
    "clusterrole",
    "podspecable-bindings-clusterrole",
  ].map((n) => `200-roles/${n}`),
  ...[
    "autoscaler",
    "certmanager",
    "defaults",
    "deployment",
    "domain",
    "features",
    "gc",
    "leader-election",
    "logging",
    "observability",
    "tracing",
  ].map((n) => `configmaps/${n}`),
  ...["activator", "activator-hpa", "autoscaler", "controller", "webhook", "webhook-hpa"].map(
    (n) => `deployments/${n}`,
  ),
  "webhooks/secret",
].map((n) => `config/core/${n}.yaml`);

/**
 * net-kourier's kourier.yaml, ASSEMBLED FOR THE TEST: knative.dev/net-kourier is not served by the
 * module proxy (no version at all), so this is a minimal stand-in written here, not an upstream
 * file: the namespace, the gateway Deployment and the two gateway Services with the names, ports and
 * selector of net-kourier's config/300-gateway.yaml (Service `kourier`, LoadBalancer, 80 → 8080
 * and 443 → 8443; `kourier-internal`, ClusterIP, 80 → 8081; pods `app: 3scale-kourier-gateway`).
 * No net-kourier controller: nothing reconciles Knative Ingresses here.
 */
export const KOURIER_STANDIN = `# ASSEMBLED FOR THE TEST (test/engine/support/mirror.ts): a minimal stand-in of net-kourier's
# kourier.yaml, NOT the upstream release file (net-kourier is not served by the Go module proxy).
apiVersion: v1
kind: Namespace
metadata:
  name: kourier-system
  labels:
    networking.knative.dev/ingress-provider: kourier
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: 3scale-kourier-gateway
  namespace: kourier-system
  labels:
    networking.knative.dev/ingress-provider: kourier
spec:
  replicas: 1
  selector:
    matchLabels:
      app: 3scale-kourier-gateway
  template:
    metadata:
      labels:
        app: 3scale-kourier-gateway
    spec:
      containers:
        - name: kourier-gateway
          image: envoyproxy/envoy:v1.34.1
          ports:
            - name: http2-external
              containerPort: 8080
            - name: http2-internal
              containerPort: 8081
            - name: https-external
              containerPort: 8443
---
apiVersion: v1
kind: Service
metadata:
  name: kourier
  namespace: kourier-system
  labels:
    networking.knative.dev/ingress-provider: kourier
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector:
    app: 3scale-kourier-gateway
  ports:
    - name: http2
      port: 80
      protocol: TCP
      targetPort: 8080
    - name: https
      port: 443
      protocol: TCP
      targetPort: 8443
---
apiVersion: v1
kind: Service
metadata:
  name: kourier-internal
  namespace: kourier-system
  labels:
    networking.knative.dev/ingress-provider: kourier
spec:
  type: ClusterIP
  selector:
    app: 3scale-kourier-gateway
  ports:
    - name: http2
      port: 80
      protocol: TCP
      targetPort: 8081
`;

/**
 * csi-driver-nfs' four deploy/ files, ASSEMBLED FOR THE TEST: the Go module proxy does not serve
 * github.com/kubernetes-csi/csi-driver-nfs (`go mod download …@v4.13.4`: 403 "This module version
 * is not available"), so these are minimal stand-ins written here with the upstream files' names,
 * namespaces and object kinds: the controller's ServiceAccount and ClusterRole(Binding), the
 * CSIDriver `nfs.csi.k8s.io` (a built-in kind: the API server validates it), the controller
 * Deployment and the node DaemonSet in kube-system. No CSI driver runs: nothing provisions or
 * mounts an NFS volume (the StorageClass is stored; the MariaDB uses kantai's own local volumes).
 */
function csiNfsStandin(file: string): string {
  const head = standinHeader(`csi-driver-nfs' deploy/v${CSI_NFS_VERSION}/${file}.yaml`);
  const labels = (app: string) => ({ app, "app.kubernetes.io/name": "csi-driver-nfs" });
  switch (file) {
    case "rbac-csi-nfs":
      return `${head}apiVersion: v1
kind: ServiceAccount
metadata:
  name: csi-nfs-controller-sa
  namespace: kube-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: csi-nfs-node-sa
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: nfs-external-provisioner-role
rules:
  - apiGroups: [""]
    resources: ["persistentvolumes"]
    verbs: ["get", "list", "watch", "create", "delete"]
  - apiGroups: [""]
    resources: ["persistentvolumeclaims"]
    verbs: ["get", "list", "watch", "update"]
  - apiGroups: ["storage.k8s.io"]
    resources: ["storageclasses"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: nfs-csi-provisioner-binding
subjects:
  - kind: ServiceAccount
    name: csi-nfs-controller-sa
    namespace: kube-system
roleRef:
  kind: ClusterRole
  name: nfs-external-provisioner-role
  apiGroup: rbac.authorization.k8s.io
`;
    case "csi-nfs-driverinfo":
      return `${head}apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: nfs.csi.k8s.io
spec:
  attachRequired: false
  volumeLifecycleModes: ["Persistent"]
  fsGroupPolicy: File
`;
    case "csi-nfs-controller":
      return `${head}${standinDeployment("csi-nfs-controller", "kube-system", labels("csi-nfs-controller"), `registry.k8s.io/sig-storage/nfsplugin:v${CSI_NFS_VERSION}`).trimStart()}`;
    case "csi-nfs-node":
      return `${head}apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: csi-nfs-node
  namespace: kube-system
spec:
  selector:
    matchLabels: ${JSON.stringify(labels("csi-nfs-node"))}
  template:
    metadata:
      labels: ${JSON.stringify(labels("csi-nfs-node"))}
    spec:
      nodeSelector: {"kubernetes.io/os": "linux"}
      tolerations: [{"operator": "Exists"}]
      containers:
        - name: nfs
          image: registry.k8s.io/sig-storage/nfsplugin:v${CSI_NFS_VERSION}
`;
    default:
      throw new Error(`no csi-driver-nfs stand-in for ${file}`);
  }
}

/**
 * The release mirror the edge stack reads (`kantai:releases.mirror`), under `dir`: the CRD files of
 * assembleMirror, plus
 * - serving/v1.23.0/serving-core.yaml, ASSEMBLED FOR THE TEST from upstream files of
 *   knative.dev/serving v0.50.0 config/core (namespace, service accounts, roles, ConfigMaps, the four
 *   Deployments with their Services, HPAs and PDBs, the webhook certificate Secret). Left out: the
 *   three webhook configurations (failurePolicy Fail, and no webhook server runs here: every
 *   Knative object would be refused), the queue-proxy `Image` (caching.internal.knative.dev: its CRD
 *   is not in this module) and the `Certificate` (networking.internal.knative.dev: likewise). The
 *   Deployments' images stay `ko://…` references (resolved only at release time): the pods are
 *   SIMULATED by kwok, nothing runs them.
 * - net-kourier/v1.23.0/kourier.yaml: KOURIER_STANDIN;
 * - csi-driver-nfs/v4.13.4/*.yaml: csiNfsStandin();
 * - kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz: prometheusStackStandinChart().
 * Returns the CRD files that K3s would have and the stack does not install itself (Traefik's).
 */
export function assembleStackMirror(dir: string): { mirrorPaths: string[]; clusterCrds: string[] } {
  const crds = assembleMirror(dir);
  const index = JSON.parse(fs.readFileSync(path.join(dir, "MIRROR.json"), "utf8"));
  const core = `serving/v${KNATIVE_VERSION}/serving-core.yaml`;
  const text = concatModuleFiles(SERVING, SERVING_CORE_FILES);
  fs.writeFileSync(path.join(dir, core), text);
  index[core] = {
    module: SERVING,
    files: SERVING_CORE_FILES,
    what: "assembled for the test (upstream files; no webhook configurations, Image or Certificate)",
  };
  const kourier = `net-kourier/v${KNATIVE_VERSION}/kourier.yaml`;
  fs.mkdirSync(path.dirname(path.join(dir, kourier)), { recursive: true });
  fs.writeFileSync(path.join(dir, kourier), KOURIER_STANDIN);
  index[kourier] = { what: "assembled for the test: a minimal stand-in written in test/engine/support/mirror.ts" };
  const csi = csiNfsReleases().map((r) => r.mirrorPath);
  for (const r of csiNfsReleases()) {
    fs.mkdirSync(path.dirname(path.join(dir, r.mirrorPath)), { recursive: true });
    fs.writeFileSync(path.join(dir, r.mirrorPath), csiNfsStandin(r.key));
    index[r.mirrorPath] = {
      what: "assembled for the test: a minimal stand-in written in test/engine/support/mirror.ts (github.com/kubernetes-csi/csi-driver-nfs is not served)",
    };
  }
  const prom = prometheusStackChart(PROMETHEUS_STACK_CHART.version).mirrorPath;
  prometheusStackStandinChart(dir, prom);
  index[prom] = {
    module: PROMETHEUS_OPERATOR,
    what: "assembled for the test: a minimal Helm chart with prometheus-operator's upstream ServiceMonitor/PodMonitor/PrometheusRule CRDs (support/mirror.ts prometheusStackStandinChart)",
  };
  fs.writeFileSync(path.join(dir, "MIRROR.json"), JSON.stringify(index, null, 2) + "\n");
  return {
    mirrorPaths: [...crds, core, kourier, ...csi, prom],
    clusterCrds: crds.filter((f) => f.startsWith("traefik/")),
  };
}

/**
 * Serve `dir` over HTTP on 127.0.0.1 inside the control plane's network namespace (where the
 * program and the provider run), from a node process this suite starts. GET only; 404 for anything
 * outside `dir`. Every request is appended to `<dir>/../mirror-requests.log` (method, path, status).
 */
export async function serveMirror(
  netns: number | undefined,
  dir: string,
): Promise<{ url: string; requests: () => string[]; stop: () => void }> {
  const log = path.join(path.dirname(dir), "mirror-requests.log");
  const script = `
const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
const [root, log] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const file = path.join(root, rel);
  let status = 404;
  if (req.method === "GET" && file.startsWith(root + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
    status = 200;
    res.writeHead(200, { "content-type": "application/yaml" });
    res.end(fs.readFileSync(file));
  } else {
    res.writeHead(status);
    res.end("not found\\n");
  }
  fs.appendFileSync(log, req.method + " " + rel + " " + status + "\\n");
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;
  const argv = [...(netns ? ["nsenter", "-t", String(netns), "-n"] : []), process.execPath, "-e", script, dir, log];
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.on("exit", (code) => reject(new Error(`the mirror's HTTP server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []),
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The lab stack's mirror (k8sLab.test.ts): Istio + net-istio instead of Kourier, Eventing's core,
// the Kafka broker and Strimzi's chart.

const ISTIO_API = "istio.io/api@v1.32.0";
const STRIMZI_VERSION = "0.48.0"; // stacks/config/platform.ts PLATFORM_DEFAULTS.strimziVersion

const EVENTING_CORE_FILES = [
  "100-namespace",
  ...["eventing", "job-sink", "pingsource-mt-adapter", "request-reply", "webhook"].map(
    (n) => `200-${n}-serviceaccount`,
  ),
  ...[
    "addressable-resolvers-clusterrole",
    "auth-proxy-role",
    "broker-clusterrole",
    "channelable-manipulator-clusterrole",
    "clusterrole-namespaced",
    "controller-clusterroles",
    "crossnamespace-clusterrole",
    "job-sink-clusterrole",
    "pingsource-mt-adapter-clusterrole",
    "podspecable-binding-clusterrole",
    "request-reply-clusterrole",
    "source-observer-clusterrole",
    "sources-controller-clusterroles",
    "webhook-clusterrole",
    "webhook-role",
  ].map((n) => `roles/${n}`),
  ...[
    "default-broker-channel",
    "default-broker",
    "default-channel",
    "default-pingsource",
    "features",
    "kreference-mapping",
    "leader-election",
    "logging",
    "observability",
    "sugar",
    "tracing",
  ].map((n) => `configmaps/${n}`),
  ...["controller", "job-sink", "pingsource-mt-adapter", "request-reply", "webhook", "webhook-hpa"].map(
    (n) => `deployments/${n}`,
  ),
  "webhooks/secret",
].map((n) => `config/core/${n}.yaml`);

const standinHeader = (what: string) =>
  `# ASSEMBLED FOR THE TEST (test/engine/support/mirror.ts): a minimal stand-in of ${what},\n# NOT the upstream release file.\n`;
/** A Deployment of one container whose pods kwok SIMULATES (the image is never pulled). */
const standinDeployment = (name: string, namespace: string, labels: Record<string, string>, image: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
  labels: ${JSON.stringify(labels)}
spec:
  replicas: 1
  selector:
    matchLabels: ${JSON.stringify(labels)}
  template:
    metadata:
      labels: ${JSON.stringify(labels)}
    spec:
      containers:
        - name: ${name}
          image: ${image}
`;

/**
 * The Istio part of net-istio's istio.yaml, ASSEMBLED FOR THE TEST: Istio's CRDs are the upstream
 * file kubernetes/customresourcedefinitions.gen.yaml of istio.io/api v1.32.0 (Istio's API module;
 * the PeerAuthentication and the Gateways are checked against them); the rest is a minimal stand-in
 * (net-istio's release is generated with istioctl and is not in any Go module served here): the
 * istio-system namespace, istiod, and the ingress gateway Deployment and Service with the name,
 * type and ports of net-istio's istio.yaml (Service istio-ingressgateway, LoadBalancer, 15021 /
 * 80 → 8080 / 443 → 8443, pods `istio: ingressgateway`). No istiod runs: no sidecar is injected,
 * no Envoy configuration is pushed.
 */
function istioStandin(): string {
  const gw = { app: "istio-ingressgateway", istio: "ingressgateway" };
  return `${standinHeader("the Istio install in net-istio's istio.yaml")}apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
---${standinDeployment("istiod", "istio-system", { app: "istiod", istio: "pilot" }, "docker.io/istio/pilot:1.28.0")}---${standinDeployment(
    "istio-ingressgateway",
    "istio-system",
    gw,
    "docker.io/istio/proxyv2:1.28.0",
  )}---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  labels: ${JSON.stringify(gw)}
spec:
  type: LoadBalancer
  selector: ${JSON.stringify(gw)}
  ports:
    - name: status-port
      port: 15021
      targetPort: 15021
    - name: http2
      port: 80
      targetPort: 8080
    - name: https
      port: 443
      targetPort: 8443
`;
}

/**
 * net-istio's net-istio.yaml, ASSEMBLED FOR THE TEST (knative.dev/net-istio is refused by the
 * module proxy): the two Gateways of net-istio's config/ (knative-ingress-gateway on port 80,
 * knative-local-gateway on 8081, in knative-serving, selecting `istio: ingressgateway`), the
 * knative-local-gateway Service, the config-istio ConfigMap and the controller and webhook
 * Deployments. No net-istio controller runs: no Knative Ingress becomes a VirtualService.
 */
function netIstioStandin(): string {
  const sel = JSON.stringify({ istio: "ingressgateway" });
  const gateway = (name: string, port: number) => `
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: ${name}
  namespace: knative-serving
  labels: {"networking.knative.dev/ingress-provider": "istio"}
spec:
  selector: ${sel}
  servers:
    - port:
        number: ${port}
        name: http
        protocol: HTTP
      hosts: ["*"]
`;
  const labels = { app: "net-istio-controller", "networking.knative.dev/ingress-provider": "istio" };
  return `${standinHeader("net-istio's net-istio.yaml")}${gateway("knative-ingress-gateway", 80).trimStart()}---${gateway(
    "knative-local-gateway",
    8081,
  )}---
apiVersion: v1
kind: Service
metadata:
  name: knative-local-gateway
  namespace: istio-system
  labels: {"networking.knative.dev/ingress-provider": "istio"}
spec:
  type: ClusterIP
  selector: ${sel}
  ports:
    - name: http2
      port: 80
      targetPort: 8081
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-istio
  namespace: knative-serving
  labels: {"networking.knative.dev/ingress-provider": "istio"}
data: {}
---${standinDeployment("net-istio-controller", "knative-serving", labels, "ko://knative.dev/net-istio/cmd/controller")}---${standinDeployment(
    "net-istio-webhook",
    "knative-serving",
    { ...labels, app: "net-istio-webhook" },
    "ko://knative.dev/net-istio/cmd/webhook",
  )}`;
}

/**
 * eventing-kafka-broker's two files, ASSEMBLED FOR THE TEST (knative.dev/eventing-kafka-broker is
 * refused by the module proxy): the controller file's Kafka controller and webhook Deployments,
 * and the broker file's receiver and dispatcher Deployments, in knative-eventing. Not the Kafka
 * CRDs (KafkaSource, KafkaSink, KafkaChannel, ConsumerGroup): kantai creates none of them. The
 * Broker of class `Kafka` is checked against Eventing's real Broker CRD; nothing reconciles it.
 */
function kafkaBrokerStandin(file: "controller" | "broker"): string {
  const names =
    file === "controller"
      ? ["kafka-controller", "kafka-webhook-eventing"]
      : ["kafka-broker-receiver", "kafka-broker-dispatcher"];
  return (
    standinHeader(`eventing-kafka-broker's eventing-kafka-${file}.yaml`) +
    names
      .map((n) =>
        standinDeployment(
          n,
          "knative-eventing",
          { app: n, "app.kubernetes.io/part-of": "knative-eventing" },
          `ko://knative.dev/eventing-kafka-broker/${n}`,
        ).trimStart(),
      )
      .join("---\n")
  );
}

/**
 * Strimzi's operator chart, ASSEMBLED FOR THE TEST: Strimzi is Java (its chart and CRDs are on
 * quay.io and Maven, not in any Go module), so this is a minimal Helm chart written here — the
 * operator Deployment and the two CRDs kantai's objects need (kafkas and kafkanodepools,
 * kafka.strimzi.io, v1beta2) WITHOUT Strimzi's schemas (`x-kubernetes-preserve-unknown-fields`):
 * the API server stores the Kafka and the KafkaNodePool, it does not check them as Strimzi's
 * CRDs would (test/k8sRender.test.ts checks what kantai renders for them). No operator runs: no
 * broker pod, no Ready condition.
 */
function strimziStandinChart(dir: string, mirrorPath: string): void {
  const crd = (plural: string, kind: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.kafka.strimzi.io
  labels: {"app": "strimzi", "kantai.dev/assembled-for-test": "true"}
spec:
  group: kafka.strimzi.io
  names: {kind: ${kind}, listKind: ${kind}List, plural: ${plural}, singular: ${kind.toLowerCase()}, categories: [strimzi]}
  scope: Namespaced
  versions:
    - name: v1beta2
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;
  packChart(dir, mirrorPath, "strimzi-kafka-operator", STRIMZI_VERSION, {
    "crds/kafkas.yaml": crd("kafkas", "Kafka"),
    "crds/kafkanodepools.yaml": crd("kafkanodepools", "KafkaNodePool"),
    "templates/operator.yaml": standinDeployment(
      "strimzi-cluster-operator",
      "{{ .Release.Namespace }}",
      { name: "strimzi-cluster-operator", strimzi_io_kind: "cluster-operator" },
      `quay.io/strimzi/operator:${STRIMZI_VERSION}`,
    ).trimStart(),
  });
}

/** A Helm chart archive (`<name>/Chart.yaml` and `files` under `<name>/`, gzipped tar) at `dir/mirrorPath`, marked as assembled for the test. */
function packChart(
  dir: string,
  mirrorPath: string,
  name: string,
  version: string,
  files: Record<string, string>,
): void {
  const build = fs.mkdtempSync(path.join(dir, `.${name}-`));
  const chart = path.join(build, name);
  const all = {
    "Chart.yaml": `# ASSEMBLED FOR THE TEST (test/engine/support/mirror.ts): NOT the upstream chart\napiVersion: v2\nname: ${name}\nversion: ${version}\n`,
    ...files,
  };
  for (const [rel, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(chart, rel)), { recursive: true });
    fs.writeFileSync(path.join(chart, rel), text);
  }
  const dest = path.join(dir, mirrorPath);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const r = spawnSync("tar", ["-czf", dest, "-C", build, name], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  fs.rmSync(build, { recursive: true, force: true });
}

const PROMETHEUS_OPERATOR = "github.com/prometheus-operator/prometheus-operator@v0.85.0";

/**
 * kube-prometheus-stack's chart, ASSEMBLED FOR THE TEST: the chart is on a Helm repository nothing
 * here reaches, in no Go module. Its CRDs are upstream files — ServiceMonitor, PodMonitor and
 * PrometheusRule of github.com/prometheus-operator/prometheus-operator v0.85.0
 * example/prometheus-operator-crd/ (the newest version the module proxy serves; the pinned chart
 * 88.5.3 ships the operator v0.93.1), so kantai's monitors are checked by the real schemas; the
 * templates are minimal stand-ins named from the values' `fullnameOverride` as the chart names
 * them: the operator, Prometheus (`<fullname>-prometheus`, port 9090) and Grafana
 * (`<fullname>-grafana`, port 80) Deployments and Services. No operator or Prometheus runs: nothing
 * is scraped, the re-planner has no metrics to read.
 */
function prometheusStackStandinChart(dir: string, mirrorPath: string): void {
  const crds = ["servicemonitors", "podmonitors", "prometheusrules"];
  const files: Record<string, string> = {};
  for (const c of crds)
    files[`crds/${c}.yaml`] = fs.readFileSync(
      moduleFile(PROMETHEUS_OPERATOR, `example/prometheus-operator-crd/monitoring.coreos.com_${c}.yaml`),
      "utf8",
    );
  const part = (suffix: string, port: number, target: number, image: string) => {
    const labels = { app: `kantai-prom-${suffix}` };
    return `${standinDeployment(`{{ .Values.fullnameOverride }}-${suffix}`, "{{ .Release.Namespace }}", labels, image).trimStart()}---
apiVersion: v1
kind: Service
metadata:
  name: "{{ .Values.fullnameOverride }}-${suffix}"
  namespace: "{{ .Release.Namespace }}"
spec:
  selector: ${JSON.stringify(labels)}
  ports:
    - name: http
      port: ${port}
      targetPort: ${target}
`;
  };
  files["templates/stack.yaml"] = [
    part("operator", 443, 10250, "quay.io/prometheus-operator/prometheus-operator:v0.93.1"),
    part("prometheus", 9090, 9090, "quay.io/prometheus/prometheus:v3.9.1"),
    part("grafana", 80, 3000, "docker.io/grafana/grafana:12.3.0"),
  ].join("---\n");
  packChart(dir, mirrorPath, "kube-prometheus-stack", PROMETHEUS_STACK_CHART.version, files);
}

/**
 * The release mirror the lab stack reads, under `dir`: assembleStackMirror's files, plus
 * - net-istio/v1.23.0/istio.yaml: Istio's upstream CRDs + istioStandin();
 * - net-istio/v1.23.0/net-istio.yaml: netIstioStandin();
 * - eventing/v1.23.0/eventing-core.yaml, ASSEMBLED FOR THE TEST from upstream files of
 *   knative.dev/eventing v0.50.0 config/core (namespace, service accounts, roles, ConfigMaps, the
 *   Deployments, StatefulSet and Services, the webhook's HPA, PDB and certificate Secret), without
 *   the webhook configurations (no webhook server runs here: every Eventing object would be refused);
 * - eventing-kafka-broker/v1.23.0/eventing-kafka-{controller,broker}.yaml: kafkaBrokerStandin();
 * - strimzi/v0.48.0/strimzi-kafka-operator-0.48.0.tgz: strimziStandinChart().
 */
export function assembleLabMirror(dir: string): { mirrorPaths: string[]; clusterCrds: string[] } {
  const base = assembleStackMirror(dir);
  const index = JSON.parse(fs.readFileSync(path.join(dir, "MIRROR.json"), "utf8"));
  const write = (rel: string, text: string, what: Record<string, unknown>) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
    index[rel] = what;
  };
  const istioCrds = "kubernetes/customresourcedefinitions.gen.yaml";
  const crdText = fs.readFileSync(moduleFile(ISTIO_API, istioCrds), "utf8");
  write(
    `net-istio/v${KNATIVE_VERSION}/istio.yaml`,
    `# ${ISTIO_API} ${istioCrds}\n${crdText.trimEnd()}\n---\n${istioStandin()}`,
    {
      module: ISTIO_API,
      files: [istioCrds],
      what: "assembled for the test: Istio's upstream CRDs, then a minimal stand-in of the install (support/mirror.ts istioStandin)",
    },
  );
  write(`net-istio/v${KNATIVE_VERSION}/net-istio.yaml`, netIstioStandin(), {
    what: "assembled for the test: a minimal stand-in written in test/engine/support/mirror.ts (knative.dev/net-istio is not served)",
  });
  const core = concatModuleFiles(EVENTING, EVENTING_CORE_FILES);
  write(`eventing/v${KNATIVE_VERSION}/eventing-core.yaml`, core, {
    module: EVENTING,
    files: EVENTING_CORE_FILES,
    what: "assembled for the test (upstream files; no webhook configurations)",
  });
  for (const f of ["controller", "broker"] as const)
    write(`eventing-kafka-broker/v${KNATIVE_VERSION}/eventing-kafka-${f}.yaml`, kafkaBrokerStandin(f), {
      what: "assembled for the test: a minimal stand-in written in test/engine/support/mirror.ts (knative.dev/eventing-kafka-broker is not served)",
    });
  const strimzi = `strimzi/v${STRIMZI_VERSION}/strimzi-kafka-operator-${STRIMZI_VERSION}.tgz`;
  strimziStandinChart(dir, strimzi);
  index[strimzi] = {
    what: "assembled for the test: a minimal Helm chart with schema-less Kafka/KafkaNodePool CRDs (support/mirror.ts strimziStandinChart); Strimzi is Java, in no Go module",
  };
  for (const f of Object.keys(index)) if (index[f].notProduced && fs.existsSync(path.join(dir, f))) delete index[f];
  fs.writeFileSync(path.join(dir, "MIRROR.json"), JSON.stringify(index, null, 2) + "\n");
  return {
    mirrorPaths: [
      ...base.mirrorPaths,
      ...Object.keys(index).filter((k) => !base.mirrorPaths.includes(k) && !index[k].notProduced),
    ],
    clusterCrds: base.clusterCrds,
  };
}
