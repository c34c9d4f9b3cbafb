/** kantai:grogu and kantai:k3s: the typed result and every rule, with its exact message. */
import { describe, expect, it } from "vitest";
import { decodeConfigValue, parseConfig, GROGU_DEFAULTS, isLabelKey, isTaint, K3S_VERSION } from "../stacks/config";
import { devRaw, devStackConfig } from "./support/devConfig";
import { problems } from "./support/configProblems";

/** The clusters fixture (dev + a two-site K3s cluster "edge") as raw values. */
function clustersRaw(): Record<string, any> {
  const { config } = devStackConfig("test/fixtures/Pulumi.clusters.yaml");
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(config)) raw[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return structuredClone(raw);
}

/** Seed 001's shape: one control plane and N workers, all Proxmox VMs on one site. */
function seed001(workers: number) {
  return {
    sites: { lab: { cidr: "10.0.0.0/24" } },
    nodes: [
      { name: "lab-cp", role: "server", site: "lab", ip: "10.0.0.50", vm: { vmId: 750, template: "knative" } },
      ...Array.from({ length: workers }, (_, i) => ({
        name: `lab-worker-${i + 1}`,
        role: "agent",
        site: "lab",
        ip: `10.0.0.${51 + i}`,
        vm: { vmId: 751 + i, template: "standalone", cores: 2, memoryMb: 4096 },
      })),
    ],
  };
}

describe("kantai:grogu", () => {
  it("dev: seed 000's grogu with the pinned versions", () => {
    const c = parseConfig(devRaw());
    expect(c.grogu).toEqual({
      name: "grogu",
      vmId: 600,
      ip: "10.0.0.10",
      template: "knative",
      node: "pve",
      cores: 6,
      memoryMb: 8192,
      label: "grogu",
      kubectlVersion: "v1.34.1",
      minikube: {
        version: "v1.37.0",
        kubernetesVersion: "v1.34.0",
        staticIp: "192.168.49.2",
        apiServerPort: 8443,
        addons: ["dashboard", "metrics-server"],
      },
      knative: { servingVersion: "1.23.0", kourierVersion: "1.23.0", domain: "local.knative", kourierNodePort: 31080 },
      dashboardNodePort: 30000,
      caddyImage: "caddy:2.10",
      demo: { name: "fibonacci-behavior", image: "node:22-alpine", source: "web" },
    });
  });

  it("an empty object takes every default: the template's size, the pinned releases, no demo", () => {
    const raw = devRaw();
    raw.grogu = {};
    const g = parseConfig(raw).grogu!;
    expect(g).toMatchObject({
      name: "grogu",
      vmId: 600,
      ip: "10.0.0.10",
      cores: 6,
      memoryMb: 8192,
      kubectlVersion: GROGU_DEFAULTS.kubectlVersion,
    });
    expect(g.minikube.version).toBe(GROGU_DEFAULTS.minikubeVersion);
    expect(g.knative.servingVersion).toBe(GROGU_DEFAULTS.servingVersion);
    expect(g.demo).toBeUndefined();
  });

  it("is optional", () => {
    const raw = devRaw();
    delete raw.grogu;
    expect(parseConfig(raw).grogu).toBeUndefined();
  });
});

describe("kantai:k3s", () => {
  it("the fixture: servers first, labels and taints on their nodes, WireGuard between sites", () => {
    const [edge] = parseConfig(clustersRaw()).k3s;
    expect(edge.name).toBe("edge");
    expect(edge.version).toBe("v1.34.1+k3s1");
    expect(edge.flannelBackend).toBe("wireguard-native");
    expect(edge.nodes.map((n) => `${n.role} ${n.name}`)).toEqual([
      "server pi-1",
      "server pi-2",
      "server vm-1",
      "agent pi-3",
      "agent vm-2",
    ]);
    expect(edge.nodes[0]).toEqual({
      name: "pi-1",
      role: "server",
      site: "home",
      ip: "192.168.1.21",
      externalIp: "203.0.113.21",
      labels: {},
      taints: [],
      host: { address: "192.168.1.21", user: "pi", port: 22, raspberryPi: true },
    });
    expect(edge.nodes[3]).toMatchObject({
      name: "pi-3",
      labels: { "kantai.dev/storage": "hdd" },
      taints: ["kantai.dev/storage=hdd:NoSchedule"],
      host: { iptablesLegacy: true },
    });
    // A VM takes its Proxmox node, cores and memory from its template unless given.
    expect(edge.nodes[4]).toMatchObject({
      name: "vm-2",
      vm: { vmId: 742, template: "knative", node: "pve", cores: 6, memoryMb: 8192 },
    });
    expect(edge.nodes[2]).toMatchObject({
      vm: { vmId: 741, template: "standalone", node: "pve", cores: 2, memoryMb: 2048 },
    });
  });

  it("seed 001's shape is one configuration: 1 server + N VM workers, one site, default version and vxlan", () => {
    const raw = devRaw();
    raw.k3s = { lab: seed001(10) };
    const [lab] = parseConfig(raw).k3s;
    expect(lab.version).toBe(K3S_VERSION);
    expect(lab.flannelBackend).toBe("vxlan");
    expect(lab.nodes).toHaveLength(11);
    expect(lab.nodes.filter((n) => n.role === "server").map((n) => n.name)).toEqual(["lab-cp"]);
    expect(lab.nodes.every((n) => n.vm !== undefined)).toBe(true);
  });

  it("is empty when unset", () => {
    expect(parseConfig(devRaw()).k3s).toEqual([]);
  });
});

describe("cluster rules, each naming its key", () => {
  const cases: [string, (r: Record<string, any>) => void, string][] = [
    [
      "a label on an unknown node",
      (r) => (r.k3s.edge.labels["pi-9"] = { a: "b" }),
      'kantai:k3s.edge.labels.pi-9: unknown node "pi-9" (nodes are "pi-1", "pi-2", "vm-1", "pi-3", "vm-2")',
    ],
    [
      "a taint on an unknown node",
      (r) => (r.k3s.edge.taints.nope = ["a=b:NoSchedule"]),
      'kantai:k3s.edge.taints.nope: unknown node "nope" (nodes are "pi-1", "pi-2", "vm-1", "pi-3", "vm-2")',
    ],
    [
      "zero servers",
      (r) => r.k3s.edge.nodes.forEach((n: any) => (n.role = "agent")),
      "kantai:k3s.edge.nodes: the cluster needs at least one server (role: server)",
    ],
    [
      "an even number of servers (embedded etcd)",
      (r) => (r.k3s.edge.nodes[3].role = "server"),
      "kantai:k3s.edge.nodes: 4 servers means embedded etcd, which needs an odd number of servers (1, 3, 5…) to keep quorum",
    ],
    [
      "a site with no reachable address",
      (r) => {
        delete r.k3s.edge.nodes[0].externalIp;
        delete r.k3s.edge.nodes[3].externalIp;
      },
      'kantai:k3s.edge.sites.home: no address the other sites can reach for nodes "pi-1", "pi-3": give each an externalIp, or set routable: true if the site\'s addresses are routed between sites',
    ],
    [
      "duplicate node names",
      (r) => (r.k3s.edge.nodes[1].name = "pi-1"),
      'kantai:k3s.edge.nodes[1].name: duplicate node name "pi-1" (also kantai:k3s.edge.nodes[0])',
    ],
    [
      "duplicate node addresses",
      (r) => (r.k3s.edge.nodes[1].ip = "192.168.1.21"),
      'kantai:k3s.edge.nodes[1].ip: address 192.168.1.21 of node "pi-2" is already used by node "pi-1"',
    ],
    [
      "duplicate external addresses",
      (r) => (r.k3s.edge.nodes[1].externalIp = "203.0.113.21"),
      'kantai:k3s.edge.nodes[1].externalIp: external address 203.0.113.21 of node "pi-2" is already used by node "pi-1" (WireGuard needs one endpoint per node)',
    ],
    [
      "a VM ID the fleet uses",
      (r) => (r.k3s.edge.nodes[2].vm.vmId = 800),
      'kantai:k3s.edge.nodes[2].vm.vmId: VM ID 800 of K3s node "vm-1" is already used by web VM "kenobi-1" (kantai:fleet.firstVmId)',
    ],
    [
      "a VM address grogu uses",
      (r) => (r.k3s.edge.nodes[2].ip = "10.0.0.10"),
      'kantai:k3s.edge.nodes[2].ip: address 10.0.0.10 of K3s node "vm-1" is already used by grogu "grogu" (kantai:grogu.ip)',
    ],
    [
      "a VM named like a fleet VM",
      (r) => (r.k3s.edge.nodes[4].name = "kenobi-6"),
      'kantai:k3s.edge.nodes[4].name: name kenobi-6 of K3s node "kenobi-6" is already used by load balancer "kenobi-6" (kantai:fleet.loadBalancer.name)',
    ],
    [
      "a VM outside the bridge",
      (r) => {
        r.k3s.edge.sites.lab.cidr = "10.9.0.0/24";
        r.k3s.edge.nodes[2].ip = "10.9.0.41";
      },
      'kantai:k3s.edge.nodes[2].ip: 10.9.0.41 (K3s node "vm-1") is outside the bridge subnet 10.0.0.0/24 or is its network/broadcast address',
    ],
    [
      "an unknown site",
      (r) => (r.k3s.edge.nodes[0].site = "office"),
      'kantai:k3s.edge.nodes[0].site: unknown site "office" (sites has "home", "lab")',
    ],
    [
      "an address outside its site",
      (r) => (r.k3s.edge.nodes[0].ip = "192.168.7.21"),
      'kantai:k3s.edge.nodes[0].ip: 192.168.7.21 is outside site "home" (192.168.1.0/24)',
    ],
    [
      "an external address inside another site",
      (r) => (r.k3s.edge.nodes[0].externalIp = "10.0.0.77"),
      'kantai:k3s.edge.nodes[0].externalIp: 10.0.0.77 is inside site "lab" (10.0.0.0/24), but node "pi-1" is on site "home"',
    ],
    [
      "vxlan across sites",
      (r) => (r.k3s.edge.flannelBackend = "vxlan"),
      'kantai:k3s.edge.flannelBackend: nodes on 2 sites ("home", "lab") need "wireguard-native": "vxlan" is neither encrypted nor routed between networks',
    ],
    [
      "a zone label by hand",
      (r) => (r.k3s.edge.labels["pi-1"] = { "topology.kubernetes.io/zone": "attic" }),
      'kantai:k3s.edge.labels.pi-1: "topology.kubernetes.io/zone" is set from the node\'s site; remove it here',
    ],
    [
      "both host and vm",
      (r) => (r.k3s.edge.nodes[0].vm = { vmId: 760, template: "standalone" }),
      'kantai:k3s.edge.nodes[0]: needs exactly one of "host" (an existing machine reached over SSH) and "vm" (a Proxmox clone), not both',
    ],
    [
      "neither host nor vm",
      (r) => delete r.k3s.edge.nodes[0].host,
      'kantai:k3s.edge.nodes[0]: needs exactly one of "host" (an existing machine reached over SSH) and "vm" (a Proxmox clone), found neither',
    ],
    [
      "an unknown template",
      (r) => (r.k3s.edge.nodes[2].vm.template = "jammy"),
      'kantai:k3s.edge.nodes[2].vm.template: unknown template "jammy" (templates has "standalone", "knative")',
    ],
    [
      "an unknown Proxmox node",
      (r) => (r.k3s.edge.nodes[2].vm.node = "pve7"),
      'kantai:k3s.edge.nodes[2].vm.node: unknown node "pve7" (proxmoxNodes has "pve")',
    ],
    [
      "a malformed taint",
      (r) => (r.k3s.edge.taints["pi-3"] = ["storage"]),
      'kantai:k3s.edge.taints.pi-3[0]: must be a taint "key[=value]:NoSchedule|PreferNoSchedule|NoExecute"',
    ],
    [
      "a malformed K3s version",
      (r) => (r.k3s.edge.version = "1.34"),
      'kantai:k3s.edge.version: must be a K3s release like "v1.34.1+k3s1"',
    ],
    [
      "a bad role",
      (r) => (r.k3s.edge.nodes[0].role = "master"),
      'kantai:k3s.edge.nodes[0].role: must be "server" or "agent"',
    ],
    [
      "grogu outside the bridge subnet",
      (r) => (r.grogu.ip = "10.1.0.10"),
      "kantai:grogu.ip: 10.1.0.10 (grogu) is outside the bridge subnet 10.0.0.0/24 or is its network/broadcast address",
    ],
    [
      "grogu on the gateway address",
      (r) => (r.grogu.ip = "10.0.0.1"),
      "kantai:grogu.ip: 10.0.0.1 (grogu) is the gateway address",
    ],
    [
      "grogu's VM ID taken",
      (r) => (r.grogu.vmId = 805),
      'kantai:grogu.vmId: VM ID 805 of grogu "grogu" is already used by load balancer "kenobi-6" (kantai:fleet.loadBalancer.vmId)',
    ],
    [
      "grogu's address taken",
      (r) => (r.grogu.ip = "10.0.0.31"),
      'kantai:grogu.ip: address 10.0.0.31 of grogu "grogu" is already used by web VM "kenobi-2" (kantai:fleet.firstIp)',
    ],
    [
      "a gateway route colliding with grogu's",
      (r) => r.gateway.routes.push({ label: "grogu", upstream: "10.0.0.10:80" }),
      'kantai:gateway.routes[0].label: "grogu" is grogu\'s route (kantai:grogu.label): grogu adds it itself, remove it here',
    ],
    [
      "grogu on the fleet's label",
      (r) => (r.grogu.label = "standalone"),
      'kantai:grogu.label: "standalone" is already routed to the fleet',
    ],
    [
      "grogu's template unknown",
      (r) => (r.grogu.template = "big"),
      'kantai:grogu.template: unknown template "big" (templates has "standalone", "knative")',
    ],
    [
      "a NodePort out of range",
      (r) => (r.grogu.knative.kourierNodePort = 8080),
      "kantai:grogu.knative.kourierNodePort: NodePorts start at 30000",
    ],
    [
      "two uses of one NodePort",
      (r) => (r.grogu.dashboardNodePort = 31080),
      "kantai:grogu.dashboardNodePort: 31080 is also kantai:grogu.knative.kourierNodePort",
    ],
    [
      "a demo with an unknown source",
      (r) => (r.grogu.demo.source = "git"),
      'kantai:grogu.demo.source: must be "web" or "none"',
    ],
  ];

  it.each(cases)("%s", (_name, mutate, expected) => {
    const raw = clustersRaw();
    mutate(raw);
    expect(problems(raw)).toContain(expected);
  });

  it("a single-site cluster needs no external addresses", () => {
    const raw = devRaw();
    raw.k3s = { lab: seed001(2) };
    expect(() => parseConfig(raw)).not.toThrow();
  });

  it("a routable site is reachable without external addresses", () => {
    const raw = clustersRaw();
    for (const n of raw.k3s.edge.nodes) if (n.site === "lab") delete n.externalIp;
    raw.k3s.edge.sites.lab.routable = true;
    expect(() => parseConfig(raw)).not.toThrow();
  });

  it("a cluster VM keeps its address unique against the fleet, once per clash", () => {
    const raw = clustersRaw();
    raw.k3s.edge.nodes[2].ip = "10.0.0.30";
    expect(problems(raw)).toEqual([
      'kantai:k3s.edge.nodes[2].ip: address 10.0.0.30 of K3s node "vm-1" is already used by web VM "kenobi-1" (kantai:fleet.firstIp)',
    ]);
  });
});

describe("label and taint syntax", () => {
  it.each([
    ["kantai.dev/storage", true],
    ["topology.kubernetes.io/zone", true],
    ["app", true],
    ["-bad", false],
    ["Bad.Prefix/x", false],
    ["a/b/c", false],
  ])("label key %s → %s", (k, ok) => expect(isLabelKey(k)).toBe(ok));

  it.each([
    ["dedicated=storage:NoSchedule", true],
    ["gpu:NoExecute", true],
    ["a=b:PreferNoSchedule", true],
    ["a=b", false],
    ["a=b:Sometimes", false],
  ])("taint %s → %s", (t, ok) => expect(isTaint(t)).toBe(ok));
});
