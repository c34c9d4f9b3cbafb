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
