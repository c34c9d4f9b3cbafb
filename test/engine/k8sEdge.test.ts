// The edge STACK ITSELF (stacks/edge.ts, Pulumi.edge.yaml) on the real engine: its Kubernetes layer
// through the REAL pulumi-kubernetes provider (tools/kubernetes-provider, the v4.25.0 release
// commit) against the REAL Kubernetes v1.34.1 control plane of scripts/k8s-local.ts, whose nodes
// are SIMULATED by kwok (no kubelet, no container runtime: pods are bound by the real scheduler and
// marked Running by kwok, nothing in them runs). Proxmox, SSH (command) and Cloudflare are still the
// STAND-IN providers (tools/standins): no VM, no Pi, no tunnel exists.
//
// How the stack reaches the local API server and the release mirror: support/stackRun.ts (edge's
// API address is the kube-vip VIP, https://192.168.1.20:6443). Which mirror files are upstream and
// which ASSEMBLED FOR THE TEST: support/mirror.ts, MIRROR.json there and docs/how-to/engine.md.
//
// The stack configuration is Pulumi.edge.yaml as committed. Two of its releases are STAND-INS in
// the mirror: kube-prometheus-stack (kantai:observability) is a Helm chart on a repository nothing
// here reaches and in no Go module, so support/mirror.ts packs a minimal chart around
// prometheus-operator's upstream CRDs (prometheusStackStandinChart: kantai's ServiceMonitors and
// PodMonitor meet the real schemas; no Prometheus runs, so the re-planner has nothing to read);
// csi-driver-nfs (kantai:storageNode) is a STAND-IN in the mirror: the Go module proxy does not
// serve github.com/kubernetes-csi/csi-driver-nfs (`go mod download …@v4.13.4` and `@latest`: "403
// Forbidden … This module version is not available"), so support/mirror.ts writes minimal files of
// the same names and kinds (csiNfsStandin); no CSI driver runs. The MariaDB does not need it: its
// data and backup volumes are kantai's own PersistentVolumes. Everything else of the edge stack is
// applied for real.
//
// What no controller makes Ready here (nothing but kube-controller-manager, the scheduler and kwok
// run): Knative's controllers (so the Knative Service has no revision, route or Ready condition),
// net-kourier (no Envoy configuration), Traefik (the IngressRoutes are stored, never served),
// cloudflared (no tunnel). The suite waits for what the provider itself waits for — Deployments
// Available and Services with endpoints (pods simulated Ready by kwok) — and checks the rest as
// stored objects accepted by their real CRD schemas.
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderLatencyAwareService, type LatencyAwareManifestOptions } from "../../lib/render/latencyAware";
import { basisPoints } from "../../lib/render/envoyDynamic";
import type { RoutingPlan } from "../../lib/routing";
import { REPLANNER_IGNORED_FIELDS } from "../../components/routing/latencyAwareService";
import { kubectlJson } from "./support/k8s";
import { assembleStackMirror } from "./support/mirror";
import { ADDED_EDGE_PI } from "../support/k3sRaw";
import { changedOf, k8sObjects, nameOf, stackFileOf, StackRun, waitFor } from "./support/stackRun";

const STACK = "edge";
const stackFile = stackFileOf(STACK);
const VIP: string = stackFile["kantai:k3s"].edge.vip.address;
const K3S_API_PORT = 6443; // lib/render/k3s.ts K3S_API_PORT

let run: StackRun;
const json = (args: string[]) => kubectlJson(run.cp, args);

const ROUTED = stackFile["kantai:routing"].services[0];
const DEMAND_2 = { "pi-1": 160, "pi-2": 40, "edge-vm-1": 20, "edge-vm-2": 30 };
/** The RoutingPlan's plan as the dynamic provider returned it (state). */
const planOf = (st: any): RoutingPlan =>
  st.resources.find((r: any) => r.type.endsWith(":RoutingPlan") && nameOf(r.urn) === `${ROUTED.name}-plan`).outputs
    .plan;
/** What components/routing renders for the routed service under `plan` (stacks/edge.ts routingOnCluster's options): "Kind/name" -> manifest. */
function rendered(plan: RoutingPlan): Record<string, unknown> {
  const o: LatencyAwareManifestOptions = {
    name: ROUTED.name,
    namespace: "default",
    nodes: Object.keys(ROUTED.nodes),
    service: {
      image: ROUTED.image,
      args: ROUTED.args,
      port: ROUTED.port,
      readinessPath: ROUTED.readinessPath,
      resources: ROUTED.resources,
    },
    proxyImage: "envoyproxy/envoy:v1.34.1",
    proxyPort: 8080,
    servicePort: 80,
    serviceType: "ClusterIP",
  };
  const m = renderLatencyAwareService(o, plan);
  const out: Record<string, unknown> = { [`Service/${m.frontend.metadata.name as string}`]: m.frontend };
  for (const n of Object.values(m.nodes))
    for (const obj of Object.values(n)) out[`${obj.kind}/${obj.metadata.name}`] = obj;
  return out;
}
/** `obj` without the fields REPLANNER_IGNORED_FIELDS leaves to the re-planner (`data["…"]`, `metadata.annotations["…"]`). */
function withoutReplannerFields(obj: unknown): unknown {
  const o = JSON.parse(JSON.stringify(obj ?? null));
  for (const f of REPLANNER_IGNORED_FIELDS) {
    const m = /^(data|metadata\.annotations)\["(.+)"\]$/.exec(f);
    if (!m) throw new Error(`unexpected ignored field ${f}`);
    const holder = m[1] === "data" ? o?.data : o?.metadata?.annotations;
    if (holder) delete holder[m[2]];
  }
  return o;
}
const PULUMI_TYPE: Record<string, string> = {
  Deployment: "kubernetes:apps/v1:Deployment",
  Service: "kubernetes:core/v1:Service",
  ConfigMap: "kubernetes:core/v1:ConfigMap",
};
beforeAll(async () => {
  run = await StackRun.start({
    stack: STACK,
    cluster: "edge",
    api: { address: VIP, port: K3S_API_PORT },
    mirror: assembleStackMirror,
  });
}, 60 * 60_000);

afterAll(() => run?.stop());

describe("the edge stack's Kubernetes layer on a real API server (SIMULATED nodes), through the real provider", () => {
  it("the simulated nodes are the edge cluster's, with zone, labels and taints, and Ready (kwok)", () => {
    const byName = run.simulatedNodes();
    expect(Object.keys(byName).sort()).toEqual(["edge-vm-1", "edge-vm-2", "pi-1", "pi-2", "pi-3"]);
    expect(byName["pi-1"].metadata.labels["topology.kubernetes.io/zone"]).toBe("home");
    expect(byName["edge-vm-1"].metadata.labels["topology.kubernetes.io/zone"]).toBe("lab");
    expect(byName["pi-3"].metadata.labels["kantai.dev/storage"]).toBe("hdd");
    expect(byName["pi-3"].spec.taints).toEqual([{ key: "kantai.dev/storage", value: "hdd", effect: "NoSchedule" }]);
  });

  it("up creates every Kubernetes object of the stack, in the API server", () => {
    run.createAll();
    // the release manifests were read from the mirror over HTTP
    expect(run.mirror.requests()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^GET \/serving\/v1\.23\.0\/serving-core\.yaml 200$/)]),
    );
  });

  it("the routing service: per-node Deployments on the planned nodes with the planned replicas, proxies with the plan's weights, front Service Local", () => {
    const plan = planOf(run.state());
    const outputs = JSON.parse(run.pulumi(["stack", "output", "--json"]).stdout);
    expect(outputs.routing[ROUTED.name].replicas).toEqual(plan.replicas);
    expect(Object.values(plan.replicas).reduce((a, b) => a + b, 0)).toBe(ROUTED.replicas);
    for (const n of Object.keys(ROUTED.nodes)) {
      const d = kubectlJson(run.cp, ["get", "deployment", `${ROUTED.name}-${n}`]);
      expect(d.spec.replicas).toBe(plan.replicas[n] ?? 0);
      expect(d.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": n });
      const cm = kubectlJson(run.cp, ["get", "configmap", `${ROUTED.name}-proxy-${n}`]);
      // the proxies read their route from rds.yaml (Envoy's filesystem RDS, lib/render/envoyDynamic.ts)
      const clusters = parse(cm.data["rds.yaml"]).resources[0].virtual_hosts[0].routes[0].route.weighted_clusters
        .clusters;
      expect(clusters).toEqual(basisPoints(plan.weights[n]).map(([to, weight]) => ({ name: `node-${to}`, weight })));
    }
    // the real scheduler placed every pod on its Deployment's node; kwok reports them Running
    const want = ROUTED.replicas;
    let pods: any[] = [];
    waitFor(() => {
      pods = kubectlJson(run.cp, ["get", "pods", "-l", "app.kubernetes.io/component=workload"]).items;
      return pods.length === want && pods.every((p) => p.status.phase === "Running");
    });
    expect(pods.length).toBe(want);
    const perNode: Record<string, number> = {};
    for (const p of pods) {
      expect(p.spec.nodeName).toBe(p.metadata.labels["routing.kantai.dev/node"]);
      perNode[p.spec.nodeName] = (perNode[p.spec.nodeName] ?? 0) + 1;
    }
    expect(perNode).toEqual(Object.fromEntries(Object.entries(plan.replicas).filter(([, r]) => r > 0)));
    expect(kubectlJson(run.cp, ["get", "service", ROUTED.name]).spec.internalTrafficPolicy).toBe("Local");
  });

  it("Knative: the release objects from the mirror, kantai's patches, the gateway as ClusterIP behind Traefik, the function accepted by Serving's CRD", () => {
    // kantai's ConfigMap patches on the ConfigMaps serving-core created (server-side apply)
    const network = kubectlJson(run.cp, ["-n", "knative-serving", "get", "configmap", "config-network"]);
    expect(network.data["ingress-class"]).toBe("kourier.ingress.networking.knative.dev");
    const domain = kubectlJson(run.cp, ["-n", "knative-serving", "get", "configmap", "config-domain"]);
    expect(Object.keys(domain.data)).toContain(stackFile["kantai:knative"].domain);
    // the networking layer's gateway Service went through kantai's transform: ClusterIP, no node
    // ports, no LoadBalancer-only field (the mirror's file has type LoadBalancer, externalTrafficPolicy Local)
    const gw = kubectlJson(run.cp, ["-n", "kourier-system", "get", "service", "kourier"]);
    expect(gw.spec.type).toBe("ClusterIP");
    expect(gw.spec.externalTrafficPolicy).toBeUndefined();
    expect(gw.spec.ports.map((p: any) => p.nodePort)).toEqual([undefined, undefined]);
    // Traefik routes the Knative domain to it: accepted by Traefik's real CRD
    const route = kubectlJson(run.cp, ["-n", "kourier-system", "get", "ingressroutes.traefik.io", "knative-ingress"]);
    expect(route.spec.routes[0].services).toEqual([{ name: "kourier", port: 80 }]);
    // the function: accepted by Knative Serving's CRD schema; stored, not reconciled (no controller)
    const fn = stackFile["kantai:knative"].services[0];
    const ksvc = kubectlJson(run.cp, ["get", "services.serving.knative.dev", fn.name]);
    expect(ksvc.spec.template.metadata.annotations["autoscaling.knative.dev/target"]).toBe(String(fn.scale.target));
    expect(ksvc.status?.conditions ?? []).toEqual([]);
    // and Serving's schema refuses a wrong one (containerConcurrency is an integer: serving's
    // config/core/300-resources/service.yaml)
    const bad = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      metadata: { name: "bad", namespace: "default" },
      spec: { template: { spec: { containerConcurrency: "many", containers: [{ image: "x" }] } } },
    };
    const refused = run.cp.kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(bad));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/containerConcurrency: Invalid value: "string"/);
    // Serving's controllers: Deployments Available on SIMULATED pods (images are ko:// references nothing pulls)
    for (const d of ["activator", "autoscaler", "controller", "webhook"]) {
      const dep = kubectlJson(run.cp, ["-n", "knative-serving", "get", "deployment", d]);
      expect(dep.status.conditions.find((c: any) => c.type === "Available").status).toBe("True");
    }
  });

  it("every WebApp's IngressRoute was accepted by Traefik's real CRD, and the schema refuses a wrong one", () => {
    for (const w of stackFile["kantai:webapps"]) {
      const route = kubectlJson(run.cp, ["get", "ingressroutes.traefik.io", w.serviceName]);
      expect(route.spec.routes[0].match).toBe(
        `Host(\`${w.hostName ?? w.serviceName}.${stackFile["kantai:cloudflareZone"]}\`)`,
      );
      expect(kubectlJson(run.cp, ["get", "deployment", w.serviceName]).status.availableReplicas).toBe(1);
    }
    const bad = {
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: { name: "bad", namespace: "default" },
      spec: { entryPoints: "web", routes: [] },
    };
    const r = run.cp.kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(bad));
    expect(r.stderr).toMatch(/spec\.entryPoints in body must be of type array/);
  });

  it("storage and MariaDB: the NFS StorageClass and CSIDriver stored, the database on the storage node with kantai's volumes bound, its provisioning Job complete", () => {
    const storage = stackFile["kantai:storageNode"];
    const sc = json(["get", "storageclass", "nfs-hdd"]);
    expect(sc.provisioner).toBe("nfs.csi.k8s.io");
    expect(json(["get", "csidriver", "nfs.csi.k8s.io"]).spec.attachRequired).toBe(false);
    // the StatefulSet on the storage node (its taint tolerated), ready on a SIMULATED pod, its
    // claim bound by the real scheduler and PV controller to kantai's local volume there
    const sts = json(["-n", "mariadb", "get", "statefulset", "mariadb"]);
    expect(sts.status.readyReplicas).toBe(1);
    const pod = json(["-n", "mariadb", "get", "pod", "mariadb-0"]);
    expect(pod.spec.nodeName).toBe(storage.node);
    const claim = json(["-n", "mariadb", "get", "pvc", "data-mariadb-0"]);
    expect(claim.status.phase).toBe("Bound");
    const pv = json(["get", "pv", claim.spec.volumeName]);
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([storage.node]);
    expect(json(["-n", "mariadb", "get", "pvc", "mariadb-backups"]).status.phase).toBe("Bound");
    // the provisioning Job: complete (kwok marks a Job's pods Succeeded; nothing ran in them)
    const jobs = json(["-n", "mariadb", "get", "jobs"]).items.filter((j: any) =>
      j.metadata.name.startsWith("mariadb-provision-"),
    );
    expect(jobs.map((j: any) => j.status.succeeded)).toEqual([1]);
    expect(json(["-n", "mariadb", "get", "cronjob", "mariadb-backup"]).spec.schedule).toMatch(/^\d+ \d+ \* \* \*$/);
    // lil-linko's database URL from the Secret kantai generated, never from plain config
    const app = json(["get", "deployment", "lil-linko"]);
    const env = app.spec.template.spec.containers[0].env.find((e: any) => e.name === "DATABASE_URL");
    expect(env.valueFrom.secretKeyRef.name).toBe("lil-linko-database");
    expect(app.status.availableReplicas).toBe(1);
  });

  it("observability: the chart from the mirror, the monitors accepted by prometheus-operator's real CRDs, the agents and the re-planner running on simulated pods", () => {
    const ns = stackFile["kantai:observability"].namespace;
    expect(run.mirror.requests()).toContain("GET /kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz 200");
    // kantai's monitors, stored through the upstream CRDs (monitoring.coreos.com/v1)
    const sm = json(["get", "servicemonitors.monitoring.coreos.com", `${ROUTED.name}-proxy`]);
    expect(sm.spec.endpoints[0].port).toBeDefined();
    json(["-n", ns, "get", "podmonitors.monitoring.coreos.com", "knative-queue-proxy"]);
    json(["-n", "knative-serving", "get", "servicemonitors.monitoring.coreos.com", "knative-autoscaler"]);
    // and the schema refuses a wrong one (endpoints is a list: monitoring.coreos.com_servicemonitors.yaml)
    const bad = run.cp.kubectl(
      ["apply", "--dry-run=server", "-f", "-"],
      JSON.stringify({
        ...sm,
        metadata: { name: "bad", namespace: "default" },
        spec: { ...sm.spec, endpoints: "metrics" },
      }),
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.endpoints: Invalid value: "string"/);
    // an RTT agent on every node that schedules it (SIMULATED pods: nothing measures), the
    // re-planner Available, Grafana's admin Secret generated
    const agents = json(["-n", ns, "get", "daemonset", "rtt-agent"]);
    expect(agents.status.numberReady).toBe(agents.status.desiredNumberScheduled);
    expect(agents.status.desiredNumberScheduled).toBeGreaterThan(0);
    const rp = json(["get", "deployment", `${ROUTED.name}-replanner`]);
    expect(rp.status.conditions.find((c: any) => c.type === "Available").status).toBe("True");
    expect(Object.keys(json(["-n", ns, "get", "secret", "kantai-prometheus-grafana-admin"]).data).sort()).toEqual([
      "admin-password",
      "admin-user",
    ]);
  });

  it("up --expect-no-changes right after: nothing", () => {
    const out = run.timed("up --expect-no-changes", () =>
      run.pulumi(["up", "--yes", "--expect-no-changes", "--non-interactive"]),
    );
    expect(out.stdout).not.toMatch(/\d+ (created|updated|deleted|replaced)/);
  });

  // One config change of three parts (speed: one preview and one up instead of three of each, on a
  // 2-core machine shared with others); each part touches objects of its own, so the exact set
  // below is still each part's exact set: the routing service's demand (the plan and the routing
  // objects whose rendered manifests change), a WebApp's replicas (its Deployment only) and a
  // Knative autoscaling target (the Knative Service only).
  it("a demand, a WebApp replicas and a Knative autoscaling change update exactly the affected objects", () => {
    const before = rendered(planOf(run.state()));
    const app = stackFile["kantai:webapps"][0].serviceName;
    const fn = stackFile["kantai:knative"].services[0].name;
    run.editConfig((c) => {
      c["kantai:routing"].services[0].demand = DEMAND_2;
      c["kantai:webapps"][0].replicas = 3;
      c["kantai:knative"].services[0].scale.target = 50;
    });
    // up's engine event log, not a preview: the RoutingPlan dynamic provider has no preview, so the
    // new plan is unknown there and every object rendered from it shows as an update (the event
    // log's ops also show that nothing is replaced)
    const own = [
      `update kubernetes:apps/v1:Deployment app-${app}-deployment`,
      `update kubernetes:serving.knative.dev/v1:Service fn-${fn}-service`,
    ];
    const ops = run.timed("up (3 changes)", () => run.upOps());
    const after = rendered(planOf(run.state()));
    // with `reweight` on, the proxies' routes belong to the re-planner: Pulumi ignores those fields
    // (components/routing/latencyAwareService.ts REPLANNER_IGNORED_FIELDS), so a ConfigMap whose
    // only change is there is not updated by `up` — the re-planner rewrites it from measurements
    const owned = (k: string) => (ROUTED.reweight?.enabled ? withoutReplannerFields(after[k]) : after[k]);
    const ownedBefore = (k: string) => (ROUTED.reweight?.enabled ? withoutReplannerFields(before[k]) : before[k]);
    const routing = Object.keys(after)
      .filter((k) => JSON.stringify(owned(k)) !== JSON.stringify(ownedBefore(k)))
      .map((k) => `update ${PULUMI_TYPE[k.split("/")[0]]} ${k.split("/")[1]}`);
    const rerendered = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    expect(rerendered.length).toBeGreaterThan(0); // the change reaches the routing objects
    expect(routing.length).toBeLessThan(Object.keys(after).length); // some routing objects stay as they are
    // with reweight on: some proxy route changed in the rendering and was left to the re-planner
    if (ROUTED.reweight?.enabled) expect(rerendered.length).toBeGreaterThan(routing.length);
    expect(changedOf(ops).sort()).toEqual(
      [`update pulumi-nodejs:dynamic/kantai/routing:RoutingPlan ${ROUTED.name}-plan`, ...routing, ...own].sort(),
    );
    const plan = planOf(run.state());
    for (const n of Object.keys(ROUTED.nodes))
      expect(kubectlJson(run.cp, ["get", "deployment", `${ROUTED.name}-${n}`]).spec.replicas).toBe(
        plan.replicas[n] ?? 0,
      );
    expect(kubectlJson(run.cp, ["get", "deployment", app]).spec.replicas).toBe(3);
    const ksvc = kubectlJson(run.cp, ["get", "services.serving.knative.dev", fn]);
    expect(ksvc.spec.template.metadata.annotations["autoscaling.knative.dev/target"]).toBe("50");
  });

  // Issue 15 §5 on the engine: the day-2 steps of components/k8s/k3sCluster.ts (docs/decisions/0020)
  it("a K3s version bump: the preview changes exactly the day-2 upgrade steps, in roll order, and no Kubernetes object", () => {
    const cluster = stackFile["kantai:k3s"].edge;
    const nodes: { name: string; role: string }[] = cluster.nodes;
    const order = [...nodes.filter((n) => n.role === "server"), ...nodes.filter((n) => n.role === "agent")];
    run.editConfig((c) => (c["kantai:k3s"].edge.version = "v1.34.2+k3s1"));
    const steps = run.timed("preview (k3s bump)", () => run.previewSteps()).filter((s) => s.op !== "same");
    const cmd = "command:remote:Command";
    const day2 = [
      `update ${cmd} edge-etcd-snapshot`,
      ...order.flatMap((n) => ["drain", "upgrade", "gate"].map((s) => `update ${cmd} edge-${n.name}-${s}`)),
    ];
    // Not the kubeconfig read, and so no Kubernetes object: a read that runs again is unknown in the
    // preview, and the real provider then replaces itself and every object on it (pulumi-kubernetes
    // provider/pkg/provider/provider.go DiffConfig: "We can't tell for sure if a computed value has
    // changed, so we make the conservative choice and force a replacement"), and each yaml/v2
    // ConfigFile, unrendered, shows all its objects deleted — a bump's preview listed 88 objects.
    expect(changedOf(steps)).toEqual(day2);
    // up runs the same steps (its event log lists them as they finish: the order is the preview's)
    expect(changedOf(run.timed("up (k3s bump)", () => run.upOps()))).toEqual(day2);
  });

  it("adding a node: its own steps are created, the cluster-wide node check updated, no other node's step re-runs", () => {
    run.editConfig((c) => c["kantai:k3s"].edge.nodes.push({ ...ADDED_EDGE_PI }));
    const steps = run.timed("preview (add node)", () => run.previewSteps()).filter((s) => s.op !== "same");
    const cmd = "command:remote:Command";
    expect(changedOf(steps).sort()).toEqual(
      [
        ...["prepare", "boot", "forget", "install", "drain", "upgrade", "gate"].map(
          (s) => `create ${cmd} edge-pi-4-${s}`,
        ),
        `update ${cmd} edge-nodes`,
      ].sort(),
    );
  });

  it("destroy leaves none of kantai's objects behind", () => {
    const objs = k8sObjects(run.state());
    // the VM templates are protected (kantai protects what VMs are cloned from): destroy leaves them
    // and what they stand on, and nothing else
    run.timed("destroy", () =>
      run.pulumi(["destroy", "--yes", "--skip-preview", "--non-interactive", "--exclude-protected"]),
    );
    const kept = (run.state().resources ?? []).filter((r: any) => r.custom && !r.type.startsWith("pulumi:providers:"));
    console.log(`kept by destroy --exclude-protected: ${kept.map((r: any) => nameOf(r.urn)).join(", ")}`);
    expect(kept.filter((r: any) => r.type.startsWith("kubernetes:"))).toEqual([]);
    expect(kept.some((r: any) => r.protect)).toBe(true);
    // every object the stack created is gone, Knative's CRDs included (serving-crds is the stack's;
    // the patched ConfigMaps went with serving-core's namespace)
    waitFor(() => run.present(objs).length === 0);
    expect(run.present(objs)).toEqual([]);
    expect(run.managedLeft("deployments,services,configmaps,secrets,ingressroutes.traefik.io")).toBe("");
  });
});
