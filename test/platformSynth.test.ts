/**
 * Synth of the `edge` and `lab` stacks as users run it (SIMULATED: Pulumi mocks, nothing is
 * deployed): every Kubernetes object the program registers is written as a `kind: kubernetes`
 * artifact and validates against its schema (kubernetes-models, @kubernetes-models/{knative,
 * traefik,istio}, the Strimzi CRD schema in support/k8sSchemas.ts); every other artifact passes
 * its real tool; the outputs follow the contract in stacks/outputs.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { objectId, parseManifests, type K8sObject } from "../lib/render/k8s";
import { checkSynthDir, formatViolation } from "../policy/synth";
import { validateAll } from "./support/k8sSchemas";
import { runSynth, runTool } from "./support/tools";

interface Entry {
  path: string;
  kind: string;
  resource: string;
}
interface Synth {
  dir: string;
  artifacts: Entry[];
  resources: { type: string; name: string; parent?: string; inputs: any; dependsOn: string[] }[];
  outputs: any;
  stdout: string;
}

const synths: Record<string, Synth> = {};

beforeAll(() => {
  for (const stack of ["edge", "lab"]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kantai-synth-${stack}-`));
    const r = runSynth(["--stack", stack, "--out", dir]);
    expect(r.status, r.stderr).toBe(0);
    const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    synths[stack] = {
      dir,
      artifacts: read("artifacts.json"),
      resources: read("resources.json"),
      outputs: read("outputs.json"),
      stdout: r.stdout,
    };
  }
});

const validators: Record<string, (file: string) => void | Promise<void>> = {
  kubernetes: async (f) => {
    const objs = parseManifests(fs.readFileSync(f, "utf8"));
    expect(objs.length, f).toBeGreaterThan(0);
    expect(await validateAll(objs), f).toEqual([]);
  },
  "cloud-init": (f) => {
    const r = runTool("cloud-init", ["schema", "--config-file", f]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  },
  caddyfile: (f) => {
    const r = runTool("caddy", ["validate", "--adapter", "caddyfile", "--config", f]);
    expect(r.status, r.stderr).toBe(0);
  },
  "named-conf": (f) => expect(runTool("named-checkconf", [f]).status).toBe(0),
  "bind-zone": (f) => {
    const origin = /^\$ORIGIN (\S+)\.$/m.exec(fs.readFileSync(f, "utf8"))![1];
    expect(runTool("named-checkzone", [origin, f]).status).toBe(0);
  },
  shell: (f) => {
    const r = runTool("shellcheck", ["--shell=sh", "--severity=style", f]);
    expect(r.status, r.stdout).toBe(0);
  },
  // util-linux's own fstab parser (findmnt(8) --verify). The target (/srv/kantai) and the labelled disk
  // exist only on the storage node, so only parse errors and a wrong filesystem type count here.
  fstab: (f) => {
    const r = runTool("findmnt", ["--verify", "--verbose", "--tab-file", f]);
    const out = r.stdout + r.stderr;
    expect(out, f).toMatch(/^0 parse errors,/m);
    expect(out, f).not.toMatch(/\[E\] (unsupported|wrong) .*(type|fs)/i);
  },
  // exports(5) syntax: `<path> <network>(<options>)…`. exportfs(8) reads only the live table, so the real
  // exportfs runs on this file in a mount namespace in test/storage.node.test.ts.
  exports: (f) => {
    const lines = fs
      .readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(lines.length, f).toBeGreaterThan(0);
    for (const l of lines)
      expect(l, f).toMatch(/^\/\S+( \d+\.\d+\.\d+\.\d+\/\d+\([a-z_]+(=[^,()\s]+)?(,[a-z_]+(=[^,()\s]+)?)*\))+$/);
  },
  // K3s' /etc/rancher/k3s/config.yaml: YAML mapping (K3s reads no other format).
  other: (f) => expect(typeof parse(fs.readFileSync(f, "utf8")), f).toBe("object"),
};

/**
 * Kubernetes manifests written for the user to apply by hand, not registered by the program:
 * MariaDB's restore Job (docs/how-to/restore.md runs it with kubectl).
 */
const NOT_APPLIED_FILES = ["files/mariadb/restore-job.yaml"];
/**
 * Manifests no Kubernetes provider applies: the restore Job (applied by hand) and kube-vip's static
 * pods (written into each server's pod-manifests directory over SSH; the kubelet runs them).
 */
const NOT_APPLIED = { includes: (p: string) => NOT_APPLIED_FILES.includes(p) || p.endsWith(".kube-vip.yaml") };

/** Objects a kubernetes artifact of `s` contains (the applied ones). */
function artifactObjects(s: Synth): K8sObject[] {
  return s.artifacts
    .filter((a) => a.kind === "kubernetes" && !NOT_APPLIED.includes(a.path))
    .flatMap((a) => parseManifests(fs.readFileSync(path.join(s.dir, a.path), "utf8")));
}

/** What the program registers with the Kubernetes provider: objects by id, and manifests installed from pinned sources. */
function registered(s: Synth): { ids: string[]; sources: string[] } {
  const ids: string[] = [];
  const sources: string[] = [];
  for (const r of s.resources) {
    const m = /^kubernetes:(.+):([A-Za-z]+)$/.exec(r.type);
    if (!m) continue;
    if (r.type === "kubernetes:yaml/v2:ConfigFile") sources.push(r.inputs.file);
    else if (r.type === "kubernetes:helm.sh/v4:Chart") sources.push(`${r.inputs.chart}@${r.inputs.version}`);
    else if (r.type === "kubernetes:yaml/v2:ConfigGroup") ids.push(...r.inputs.objs.map((o: K8sObject) => objectId(o)));
    else {
      const apiVersion = r.inputs.apiVersion ?? m[1].replace(/^core\//, "");
      const kind = r.inputs.kind ?? m[2].replace(/Patch$/, "");
      ids.push(objectId({ apiVersion, kind, metadata: r.inputs.metadata }));
    }
  }
  return { ids: ids.sort(), sources };
}

describe.each(["edge", "lab"])("synth %s", (stack) => {
  it("passes every artifact through its real validator", async () => {
    const s = synths[stack];
    for (const a of s.artifacts) {
      const v = validators[a.kind];
      expect(v, `no validator for kind ${a.kind}`).toBeDefined();
      await v(path.join(s.dir, a.path));
    }
  });

  it("writes every Kubernetes object the program registers as a kubernetes artifact, once", () => {
    const s = synths[stack];
    const written = artifactObjects(s).map(objectId).sort();
    expect(new Set(written).size).toBe(written.length);
    expect(written).toEqual(registered(s).ids);
    // The hand-applied manifests are not registered.
    const manual = s.artifacts
      .filter((a) => NOT_APPLIED.includes(a.path))
      .flatMap((a) => parseManifests(fs.readFileSync(path.join(s.dir, a.path), "utf8")));
    for (const o of manual) expect(registered(s).ids).not.toContain(objectId(o));
  });

  it("passes kantai's policy pack (resource limits, proxied tunnel DNS, secret outputs, …)", () => {
    expect(checkSynthDir(synths[stack].dir).map(formatViolation)).toEqual([]);
  });

  it("the kubeconfig is a secret output and no secret reaches resources or outputs", () => {
    const s = synths[stack];
    expect(s.outputs.kubeconfig).toBe("[secret]");
    const all = JSON.stringify(s.resources) + JSON.stringify(s.outputs);
    expect(all).not.toMatch(/PRIVATE KEY|placeholder=0000|synthplaceholder/);
  });
});

describe("synth edge", () => {
  it("the fstab and exports validators can fail (a cut fstab line, an exports client with a space before its options)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-storage-bad-"));
    fs.writeFileSync(path.join(dir, "fstab"), "LABEL=kantai-hdd\n");
    fs.writeFileSync(path.join(dir, "kantai.exports"), "/srv/kantai/nfs 192.168.1.0/24 (rw,sync)\n");
    await expect(async () => validators.fstab(path.join(dir, "fstab"))).rejects.toThrow(/0 parse errors/);
    await expect(async () => validators.exports(path.join(dir, "kantai.exports"))).rejects.toThrow(/to match/);
  });

  it("renders the platform's Kubernetes objects", () => {
    expect(
      artifactObjects(synths.edge).map((o) => `${o.kind} ${o.metadata.namespace ?? "-"}/${o.metadata.name}`),
    ).toEqual([
      "IngressRoute kourier-system/knative-ingress",
      "ConfigMap knative-serving/config-network",
      "ConfigMap knative-serving/config-domain",
      "ConfigMap knative-serving/config-autoscaler",
      "ConfigMap knative-serving/config-observability",
      "Namespace -/cloudflared",
      "Secret cloudflared/cloudflared-token",
      "Deployment cloudflared/cloudflared",
      "ConfigMap default/fibonacci-source",
      "Service default/fibonacci",
      "Deployment default/blog",
      "Service default/blog",
      "IngressRoute default/blog",
      "Deployment default/status",
      "Service default/status",
      "IngressRoute default/status",
      "Deployment default/lil-linko",
      "Service default/lil-linko",
      "IngressRoute default/lil-linko",
      "ConfigMap kube-system/coredns-custom",
      // kantai:routing's LatencyAwareService: per routing node a workload, its headless Service, the proxy's config and Deployment; the front Service.
      ...["edge-vm-1", "edge-vm-2", "pi-1", "pi-2"].flatMap((n) => [
        `Deployment default/whoami-${n}`,
        `Service default/whoami-${n}`,
        `ConfigMap default/whoami-proxy-${n}`,
        `Deployment default/whoami-proxy-${n}`,
      ]),
      "Service default/whoami",
      // kantai:observability's MeasuredLatency: namespace and Grafana's admin Secret, RTT agents,
      // the proxies' monitor, the dashboards, Knative's monitors, whoami's re-planner.
      "Namespace -/monitoring",
      "Secret monitoring/kantai-prometheus-grafana-admin",
      "ConfigMap monitoring/rtt-agent",
      "Service monitoring/rtt-agent",
      "DaemonSet monitoring/rtt-agent",
      "ServiceMonitor monitoring/rtt-agent",
      "Service default/whoami-proxy-metrics",
      "ServiceMonitor default/whoami-proxy",
      "ConfigMap monitoring/kantai-dashboard-cluster-nodes",
      "ConfigMap monitoring/kantai-dashboard-kantai-routing",
      "ConfigMap monitoring/kantai-dashboard-knative-serving",
      "PodMonitor monitoring/knative-queue-proxy",
      "ServiceMonitor knative-serving/knative-autoscaler",
      ...["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service", "ServiceMonitor"].map(
        (k) => `${k} default/whoami-replanner`,
      ),
      // kantai:storageNode's StorageClass on the NFS export, then kantai:mariadb's objects and backup volume.
      "StorageClass -/nfs-hdd",
      "Namespace -/mariadb",
      "StorageClass -/mariadb-local",
      "PersistentVolume -/mariadb-data-mariadb-0",
      "Secret mariadb/mariadb-credentials",
      "Secret default/lil-linko-database",
      "ConfigMap mariadb/mariadb-scripts",
      "Service mariadb/mariadb-headless",
      "Service mariadb/mariadb",
      "StatefulSet mariadb/mariadb",
      "Job mariadb/mariadb-provision-90e4f075",
      "CronJob mariadb/mariadb-backup",
      "PersistentVolume -/mariadb-mariadb-backups",
      "PersistentVolumeClaim mariadb/mariadb-backups",
    ]);
  });

  it("installs Knative from pinned release URLs", () => {
    expect(registered(synths.edge).sources).toEqual([
      // kantai:storageNode: csi-driver-nfs's pinned release manifests, in deploy/install-driver.sh's order.
      ...["rbac-csi-nfs", "csi-nfs-driverinfo", "csi-nfs-controller", "csi-nfs-node"].map(
        (f) => `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v4.13.4/deploy/v4.13.4/${f}.yaml`,
      ),
      "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-crds.yaml",
      "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-core.yaml",
      "https://github.com/knative-extensions/net-kourier/releases/download/knative-v1.23.0/kourier.yaml",
      // kantai:observability: Prometheus and Grafana from the pinned chart.
      "kube-prometheus-stack@88.5.3",
    ]);
  });

  it("the secret in the cloudflared artifact is a placeholder, never the token", () => {
    const secret = artifactObjects(synths.edge).find((o) => o.kind === "Secret") as any;
    expect(secret.stringData).toEqual({ token: "[secret]" });
  });

  it("chain: cluster → Knative → tunnel → apps, and the CoreDNS rewrite after the apps", () => {
    const dep = (n: string) => synths.edge.resources.find((r) => r.name === n)!.dependsOn;
    expect(dep("knative")).toEqual(["edge"]);
    expect(dep("tunnel")).toEqual(["knative"]);
    expect(dep("fn-fibonacci")).toEqual(["knative"]);
    expect(dep("app-blog")).toEqual(["tunnel"]);
    expect(dep("app-status")).toEqual(["tunnel"]);
    // A WebApp with a database also waits for MariaDB, which waits for the storage node's export.
    expect(dep("app-lil-linko")).toEqual(["tunnel", "mariadb"]);
    expect(dep("storage")).toEqual(["edge"]);
    expect(dep("coredns")).toEqual(["app-blog", "app-status", "app-lil-linko"]);
    expect(dep("whoami-plan")).toEqual(["edge"]);
    expect(dep("whoami")).toEqual(["edge"]);
  });

  it("tunnel: one ingress rule per hostname (WebApps to Traefik, the function to Kourier with its Knative host), then 404", () => {
    const config = synths.edge.resources.find((r) => r.name === "tunnel-config")!;
    expect(config.inputs.config.ingresses).toEqual([
      { hostname: "blog.example.com", service: "http://traefik.kube-system.svc.cluster.local:80" },
      {
        hostname: "fib.example.com",
        service: "http://kourier.kourier-system.svc.cluster.local:80",
        originRequest: { httpHostHeader: "fibonacci.default.kn.example.com" },
      },
      { hostname: "lil-linko.example.com", service: "http://traefik.kube-system.svc.cluster.local:80" },
      { hostname: "uptime.example.com", service: "http://traefik.kube-system.svc.cluster.local:80" },
      { service: "http_status:404" },
    ]);
    const cnames = synths.edge.resources
      .filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord")
      .map((r) => [r.inputs.name, r.inputs.content, r.inputs.proxied]);
    expect(cnames).toEqual([
      ["blog.example.com", "tunnel-tunnel-id.cfargotunnel.com", true],
      ["fib.example.com", "tunnel-tunnel-id.cfargotunnel.com", true],
      ["lil-linko.example.com", "tunnel-tunnel-id.cfargotunnel.com", true],
      ["uptime.example.com", "tunnel-tunnel-id.cfargotunnel.com", true],
    ]);
  });

  it("outputs follow the contract (EdgeOutputs)", () => {
    const o = synths.edge.outputs;
    expect(Object.keys(o)).toEqual([
      "composition",
      "cluster",
      "apiServer",
      "kubeconfig",
      "nodes",
      "knative",
      "tunnel",
      "serviceUrls",
      "routing",
      "storage",
      "mariadb",
    ]);
    expect(o.composition).toBe("edge");
    expect(o.cluster).toBe("edge");
    // The HA API address: the kube-vip VIP of the edge cluster (kantai:k3s.edge.vip).
    expect(o.apiServer).toBe("https://192.168.1.20:6443");
    expect(o.nodes.map((n: any) => `${n.name} ${n.role} ${n.site} ${n.kind} ${n.ip} ${n.externalIp}`)).toEqual([
      "pi-1 server home host 192.168.1.21 203.0.113.21",
      "pi-2 server home host 192.168.1.22 203.0.113.22",
      "edge-vm-1 server lab vm 10.0.0.41 198.51.100.41",
      "pi-3 agent home host 192.168.1.23 203.0.113.23",
      "edge-vm-2 agent lab vm 10.0.0.42 198.51.100.42",
    ]);
    expect(o.knative).toEqual({
      domain: "kn.example.com",
      ingress: "kourier",
      ingressService: "kourier.kourier-system.svc.cluster.local:80",
      releases: registered(synths.edge).sources.filter(
        (x) => x.startsWith("https://") && !x.includes("/csi-driver-nfs/"),
      ),
    });
    expect(o.tunnel).toEqual({
      id: "tunnel-tunnel-id",
      cname: "tunnel-tunnel-id.cfargotunnel.com",
      hostnames: ["blog.example.com", "fib.example.com", "lil-linko.example.com", "uptime.example.com"],
    });
    expect(o.serviceUrls).toEqual({
      fibonacci: "https://fib.example.com",
      blog: "https://blog.example.com",
      status: "https://uptime.example.com",
      "lil-linko": "https://lil-linko.example.com",
    });
    // The synth's own plan (lib/routing on the RoutingPlan's input): mocks run no dynamic provider.
    expect(o.routing).toEqual({
      whoami: {
        namespace: "default",
        algorithm: "optimal",
        replicas: { "edge-vm-1": 0, "edge-vm-2": 4, "pi-1": 0, "pi-2": 2 },
        predictedMeanMs: 16.6755,
        url: "http://whoami.default.svc.cluster.local:80",
      },
    });
    // Addresses only: the credentials are in Secrets, never in outputs.
    expect(o.storage).toEqual({
      node: "pi-3",
      server: "192.168.1.23",
      exportPath: "/srv/kantai/nfs",
      storageClass: "nfs-hdd",
    });
    expect(o.mariadb).toEqual({ host: "mariadb.mariadb.svc.cluster.local", port: 3306, databases: ["lil_linko"] });
  });
});

describe("synth lab (seed 001)", () => {
  it("renders Serving config, Istio settings, Strimzi Kafka on local volumes, the Kafka Broker and the sample function", () => {
    expect(
      artifactObjects(synths.lab).map((o) => `${o.kind} ${o.metadata.namespace ?? "-"}/${o.metadata.name}`),
    ).toEqual([
      "IngressRoute istio-system/knative-ingress",
      "ConfigMap knative-serving/config-network",
      "ConfigMap knative-serving/config-domain",
      "ConfigMap knative-serving/config-autoscaler",
      "PeerAuthentication knative-serving/default",
      "Namespace -/default",
      "Namespace -/kafka",
      "StorageClass -/kafka-local",
      "PersistentVolume -/kantai-kafka-0",
      "PersistentVolume -/kantai-kafka-1",
      "PersistentVolume -/kantai-kafka-2",
      "Kafka kafka/kantai",
      "KafkaNodePool kafka/dual-role",
      "ConfigMap knative-eventing/kafka-broker-config",
      "Broker default/default",
      "Service default/helloworld-go",
    ]);
    const pvNodes = artifactObjects(synths.lab)
      .filter((o) => o.kind === "PersistentVolume")
      .map((o: any) => o.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]);
    expect(pvNodes).toEqual(["lab-w1", "lab-w2", "lab-w3"]);
  });

  it("installs Serving, Istio, Eventing, the Kafka broker and Tekton from pinned URLs, Strimzi from its chart", () => {
    expect(registered(synths.lab).sources).toEqual([
      "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-crds.yaml",
      "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-core.yaml",
      "https://github.com/knative-extensions/net-istio/releases/download/knative-v1.23.0/istio.yaml",
      "https://github.com/knative-extensions/net-istio/releases/download/knative-v1.23.0/net-istio.yaml",
      "https://github.com/knative/eventing/releases/download/knative-v1.23.0/eventing-crds.yaml",
      "https://github.com/knative/eventing/releases/download/knative-v1.23.0/eventing-core.yaml",
      "https://github.com/knative-extensions/eventing-kafka-broker/releases/download/knative-v1.23.0/eventing-kafka-controller.yaml",
      "https://github.com/knative-extensions/eventing-kafka-broker/releases/download/knative-v1.23.0/eventing-kafka-broker.yaml",
      "oci://quay.io/strimzi-helm/strimzi-kafka-operator@0.48.0",
      "https://infra.tekton.dev/tekton-releases/pipeline/previous/v1.0.0/release.yaml",
    ]);
  });

  it("outputs follow the contract (LabOutputs): one server and three workers, Kafka bootstrap, no tunnel", () => {
    const o = synths.lab.outputs;
    expect(o.composition).toBe("lab");
    expect(o.tunnel).toBeUndefined();
    expect(o.nodes.map((n: any) => `${n.name} ${n.role} ${n.kind} ${n.ip}`)).toEqual([
      "lab-cp server vm 10.0.0.50",
      "lab-w1 agent vm 10.0.0.51",
      "lab-w2 agent vm 10.0.0.52",
      "lab-w3 agent vm 10.0.0.53",
    ]);
    expect(o.knative.kafkaBootstrap).toBe("kantai-kafka-bootstrap.kafka.svc.cluster.local:9092");
    expect(o.knative.ingress).toBe("istio");
    expect(o.serviceUrls).toEqual({ "helloworld-go": "http://helloworld-go.default.lab.hosts.pve" });
  });
});
