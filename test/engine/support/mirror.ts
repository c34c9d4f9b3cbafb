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
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
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

/** Write the mirror under `dir`; returns the files written (mirror paths). */
export function assembleMirror(dir: string): string[] {
  const index: Record<string, unknown> = {};
  for (const p of PARTS) {
    const text = p.files
      .map((f) => {
        const body = fs.readFileSync(moduleFile(p.module, f), "utf8");
        return `# ${p.module} ${f}\n${body.replace(/^---\s*\n/, "").trimEnd()}\n`;
      })
      .join("---\n");
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
// The mirror for the whole stacks (k8sStacks.test.ts): besides the CRDs above, the release files
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
 * - net-kourier/v1.23.0/kourier.yaml: KOURIER_STANDIN.
 * Returns the CRD files that K3s would have and the stack does not install itself (Traefik's).
 */
export function assembleStackMirror(dir: string): { mirrorPaths: string[]; clusterCrds: string[] } {
  const crds = assembleMirror(dir);
  const index = JSON.parse(fs.readFileSync(path.join(dir, "MIRROR.json"), "utf8"));
  const core = `serving/v${KNATIVE_VERSION}/serving-core.yaml`;
  const text = SERVING_CORE_FILES.map((f) => {
    const body = fs.readFileSync(moduleFile(SERVING, f), "utf8");
    return `# ${SERVING} ${f}\n${body.replace(/^---\s*\n/, "").trimEnd()}\n`;
  }).join("---\n");
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
  fs.writeFileSync(path.join(dir, "MIRROR.json"), JSON.stringify(index, null, 2) + "\n");
  return { mirrorPaths: [...crds, core, kourier], clusterCrds: crds.filter((f) => f.startsWith("traefik/")) };
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
