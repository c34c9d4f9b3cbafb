// The lab STACK ITSELF (stacks/lab.ts, Pulumi.lab.yaml) on the real engine: its Kubernetes layer —
// Knative Serving with Istio + net-istio behind Traefik, Eventing with a Strimzi Kafka and a Kafka
// Broker, Tekton, the helloworld-go function — through the REAL pulumi-kubernetes provider
// (tools/kubernetes-provider, the v4.25.0 release commit) against the REAL Kubernetes v1.34.1
// control plane of scripts/k8s-local.ts, whose nodes are SIMULATED by kwok (pods are bound by the
// real scheduler and marked Running by kwok, nothing in them runs). Proxmox and SSH (command) are
// still the STAND-IN providers (tools/standins): no VM exists.
//
// How the stack reaches the local API server and the release mirror: support/stackRun.ts (lab's
// API address is the Proxmox host's port-forward, https://10.15.40.20:6443, kantai:k3s.lab.apiForward).
// The mirror is support/mirror.ts assembleLabMirror. What in it is upstream and what ASSEMBLED FOR
// THE TEST (also MIRROR.json there and docs/how-to/engine.md):
// - upstream: Serving's, Eventing's, Tekton's, Traefik's and Istio's CRDs (istio.io/api v1.32.0),
//   Serving's and Eventing's core objects (without their webhook configurations);
// - minimal stand-ins written in the test: the Istio install and net-istio (net-istio is not served
//   by the Go module proxy), eventing-kafka-broker (not served), and Strimzi's chart (Strimzi is
//   Java: its Kafka and KafkaNodePool CRDs here have NO schema, so the API server stores those two
//   objects without checking them as Strimzi's CRDs would).
// The stack configuration is Pulumi.lab.yaml as committed.
//
// What no controller makes Ready here: istiod (no sidecar injection, no gateway configuration),
// net-istio, Knative's controllers (no revision, route or Ready condition), Eventing's and the
// Kafka broker's controllers (the Broker has no status), Strimzi (no Kafka broker pod, no Ready
// Kafka), Tekton's controllers, Traefik. The suite waits for what the provider waits for —
// Deployments Available, StatefulSets ready, Services with endpoints (pods simulated Ready by
// kwok) — and checks the rest as stored objects accepted by their real CRD schemas.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectlJson } from "./support/k8s";
import { assembleLabMirror } from "./support/mirror";
import { changedOf, k8sObjects, stackFileOf, StackRun, waitFor } from "./support/stackRun";

const STACK = "lab";
const stackFile = stackFileOf(STACK);
const HOST: string = stackFile["kantai:proxmoxNodes"][0].address; // the port-forward's host
const API_FORWARD_PORT = 6443; // stacks/config/clusters.ts apiForward.port default
const FN = stackFile["kantai:knative"].services[0];
const KAFKA = stackFile["kantai:knative"].eventing.kafka;

let run: StackRun;
const json = (args: string[]) => kubectlJson(run.cp, args);
/** A manifest applied with --dry-run=server: what the API server (and the CRD's schema) says. */
const dryRun = (obj: unknown) => run.cp.kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(obj));

beforeAll(async () => {
  run = await StackRun.start({
    stack: STACK,
    cluster: "lab",
    api: { address: HOST, port: API_FORWARD_PORT },
    mirror: assembleLabMirror,
  });
}, 60 * 60_000);

afterAll(() => run?.stop());

describe("the lab stack's Kubernetes layer on a real API server (SIMULATED nodes), through the real provider", () => {
  it("the simulated nodes are the lab cluster's, in its site's zone, and Ready (kwok)", () => {
    const byName = run.simulatedNodes();
    expect(Object.keys(byName).sort()).toEqual(stackFile["kantai:k3s"].lab.nodes.map((n: any) => n.name).sort());
    for (const n of Object.values(byName)) expect(n.metadata.labels["topology.kubernetes.io/zone"]).toBe("lab");
  });

  it("up creates every Kubernetes object of the stack, in the API server, from the mirror", () => {
    run.createAll();
    // every release manifest and the chart were read from the mirror over HTTP
    const got = run.mirror.requests();
    for (const f of [
      "net-istio/v1.23.0/istio.yaml",
      "net-istio/v1.23.0/net-istio.yaml",
      "eventing/v1.23.0/eventing-core.yaml",
      "eventing-kafka-broker/v1.23.0/eventing-kafka-broker.yaml",
      "strimzi/v0.48.0/strimzi-kafka-operator-0.48.0.tgz",
      "tekton-pipeline/v1.0.0/release.yaml",
    ])
      expect(got).toContain(`GET /${f} 200`);
  });

  it("Istio: the gateway as ClusterIP behind Traefik, the PeerAuthentication and net-istio's Gateways accepted by Istio's real CRDs", () => {
    const network = json(["-n", "knative-serving", "get", "configmap", "config-network"]);
    expect(network.data["ingress-class"]).toBe("istio.ingress.networking.knative.dev");
    // kantai's transform of the release's LoadBalancer Service (kantai:knative.exposure "traefik")
    const gw = json(["-n", "istio-system", "get", "service", "istio-ingressgateway"]);
    expect(gw.spec.type).toBe("ClusterIP");
    expect(gw.spec.ports.map((p: any) => p.nodePort)).toEqual([undefined, undefined, undefined]);
    const route = json(["-n", "istio-system", "get", "ingressroutes.traefik.io", "knative-ingress"]);
    expect(route.spec.routes[0].services).toEqual([{ name: "istio-ingressgateway", port: 80 }]);
    // seed 001's mTLS setting, stored through Istio's real CRD (istio.io/api v1.32.0)
    const pa = json(["-n", "knative-serving", "get", "peerauthentications.security.istio.io", "default"]);
    expect(pa.spec.mtls.mode).toBe("PERMISSIVE");
    // and that CRD refuses a mode Istio does not have (PeerAuthentication.MutualTLS.Mode: UNSET,
    // DISABLE, PERMISSIVE, STRICT in istio.io/api security/v1beta1/peer_authentication.proto)
    const bad = dryRun({
      ...pa,
      metadata: { name: "bad", namespace: "default" },
      spec: { mtls: { mode: "SOMETIMES" } },
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.mtls\.mode: Unsupported value: "SOMETIMES"/);
    expect(json(["get", "namespace", "default"]).metadata.labels["istio-injection"]).toBe("enabled");
    for (const g of ["knative-ingress-gateway", "knative-local-gateway"])
      expect(json(["-n", "knative-serving", "get", "gateways.networking.istio.io", g]).spec.selector).toEqual({
        istio: "ingressgateway",
      });
  });

  it("the function: accepted by Serving's CRD with its env and resources (stored, not reconciled)", () => {
    const ksvc = json(["get", "services.serving.knative.dev", FN.name]);
    const c = ksvc.spec.template.spec.containers[0];
    expect(c.image).toBe(FN.image);
    expect(c.env).toEqual([{ name: "TARGET", value: FN.env.TARGET }]);
    expect(c.resources).toEqual(FN.resources);
    expect(ksvc.status?.conditions ?? []).toEqual([]);
  });

  it("Eventing and Kafka: the Kafka Broker accepted by Eventing's CRD, Strimzi's objects stored, the brokers' local volumes accepted", () => {
    for (const d of ["eventing-controller", "eventing-webhook", "kafka-controller", "kafka-broker-receiver"]) {
      const dep = json(["-n", "knative-eventing", "get", "deployment", d]);
      expect(dep.status.conditions.find((c: any) => c.type === "Available").status).toBe("True");
    }
    const broker = json(["get", "brokers.eventing.knative.dev", "default"]);
    expect(broker.metadata.annotations["eventing.knative.dev/broker.class"]).toBe("Kafka");
    expect(broker.spec.config).toMatchObject({ kind: "ConfigMap", name: "kafka-broker-config" });
    const brokerConfig = json(["-n", "knative-eventing", "get", "configmap", "kafka-broker-config"]);
    expect(brokerConfig.data["bootstrap.servers"]).toBe(
      JSON.parse(run.pulumi(["stack", "output", "--json"]).stdout).knative.kafkaBootstrap,
    );
    // Strimzi's chart (a stand-in: schema-less CRDs, no operator running) and kantai's objects
    const ns = KAFKA.namespace ?? "kafka";
    expect(json(["-n", ns, "get", "deployment", "strimzi-cluster-operator"]).status.availableReplicas).toBe(1);
    const kafka = json(["-n", ns, "get", "kafkas.kafka.strimzi.io", "kantai"]);
    expect(kafka.status).toBeUndefined(); // no operator: never Ready here
    const pool = json(["-n", ns, "get", "kafkanodepools.kafka.strimzi.io", "dual-role"]);
    expect(pool.spec.replicas).toBe(KAFKA.brokers);
    // persistent storage: one hostPath PV per broker, pinned to a node — the real API server's
    // validation of PersistentVolumes, not a schema file
    const pvs = json(["get", "pv", "-l", "app.kubernetes.io/managed-by=kantai"]).items;
    expect(pvs.length).toBe(KAFKA.brokers);
    for (const pv of pvs) {
      expect(pv.spec.hostPath.type).toBe("DirectoryOrCreate");
      expect(pv.spec.capacity.storage).toBe(`${KAFKA.storage.sizeGi}Gi`);
      expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key).toBe("kubernetes.io/hostname");
    }
    // Eventing's request-reply StatefulSet: ready on simulated pods (the provider waited for it)
    const sts = json(["-n", "knative-eventing", "get", "statefulset", "request-reply"]);
    expect(sts.status.readyReplicas).toBe(sts.spec.replicas);
  });

  it("Tekton: its CRDs established, and their schemas check a Task", () => {
    for (const crd of ["tasks.tekton.dev", "pipelines.tekton.dev", "pipelineruns.tekton.dev", "taskruns.tekton.dev"]) {
      const c = json(["get", "crd", crd]);
      expect(c.status.conditions.find((x: any) => x.type === "Established").status).toBe("True");
    }
    const task = (steps: unknown) => ({
      apiVersion: "tekton.dev/v1",
      kind: "Task",
      metadata: { name: "hello", namespace: "default" },
      spec: { steps },
    });
    expect(dryRun(task([{ name: "echo", image: "busybox", script: "echo hi" }])).status).toBe(0);
    const bad = dryRun(task("echo hi"));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.steps: Invalid value: "string"/);
  });

  it("up --expect-no-changes right after: nothing", () => {
    const out = run.timed("up --expect-no-changes", () =>
      run.pulumi(["up", "--yes", "--expect-no-changes", "--non-interactive"]),
    );
    expect(out.stdout).not.toMatch(/\d+ (created|updated|deleted|replaced)/);
  });

  // Two parts in one up (speed on 2 shared cores): each touches objects of its own.
  it("a Knative autoscaler setting and the function's env update exactly config-autoscaler's patch and the Knative Service", () => {
    run.editConfig((c) => {
      c["kantai:knative"].autoscaler = { ...(c["kantai:knative"].autoscaler ?? {}), stableWindow: "90s" };
      c["kantai:knative"].services[0].env.TARGET = "kantai lab, day 2";
    });
    const ops = run.timed("up (2 changes)", () => run.upOps());
    expect(changedOf(ops).sort()).toEqual(
      [
        "update kubernetes:core/v1:ConfigMapPatch knative-config-autoscaler",
        `update kubernetes:serving.knative.dev/v1:Service fn-${FN.name}-service`,
      ].sort(),
    );
    expect(json(["-n", "knative-serving", "get", "configmap", "config-autoscaler"]).data["stable-window"]).toBe("90s");
    const ksvc = json(["get", "services.serving.knative.dev", FN.name]);
    expect(ksvc.spec.template.spec.containers[0].env).toEqual([{ name: "TARGET", value: "kantai lab, day 2" }]);
  });

  it("destroy leaves none of kantai's objects behind, and takes its label off the default namespace", () => {
    // the NamespacePatch's object is `default`, which outlives the stack: what goes is the patch's
    // field (pulumi-kubernetes Patch resources remove the fields they manage on delete)
    const objs = k8sObjects(run.state()).filter((r: any) => r.type !== "kubernetes:core/v1:NamespacePatch");
    run.timed("destroy", () =>
      run.pulumi(["destroy", "--yes", "--skip-preview", "--non-interactive", "--exclude-protected"]),
    );
    const kept = (run.state().resources ?? []).filter((r: any) => r.custom && !r.type.startsWith("pulumi:providers:"));
    expect(kept.filter((r: any) => r.type.startsWith("kubernetes:"))).toEqual([]);
    // every object the stack created is gone, the CRDs of every release included
    waitFor(() => run.present(objs).length === 0);
    expect(run.present(objs)).toEqual([]);
    expect(run.managedLeft("deployments,services,configmaps,secrets,persistentvolumes,storageclasses")).toBe("");
    expect(json(["get", "namespace", "default"]).metadata.labels["istio-injection"]).toBeUndefined();
  });
});
