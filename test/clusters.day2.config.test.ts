/**
 * Day-2 config rules of kantai:k3s.<cluster> (issue 15), each with its exact message: the HA API
 * address (vip), etcd snapshots and their S3 credentials, upgrade settings, and server removals
 * checked against `previousServers` (config cannot read the deployed state: the user states the
 * servers deployed now; docs/how-to/day-2.md). etcd keeps working while a majority of its members
 * agree ("a cluster of N members tolerates (N-1)/2 failures",
 * https://etcd.io/docs/v3.6/faq/#what-is-failure-tolerance).
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../scripts/synth/stackFile";
import { ConfigError, decodeConfigValue, parseConfig } from "../stacks/config";
import { ROOT } from "./support/devConfig";
import type { RawCluster } from "./support/k3sRaw";

interface Raw {
  k3s: Record<string, RawCluster>;
  routing?: unknown;
  etcdS3AccessKey?: string;
  etcdS3SecretKey?: string;
  [k: string]: unknown;
}

function raw(file: string): Raw {
  const { config } = readStackFile(path.join(ROOT, file));
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) r[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return structuredClone(r) as unknown as Raw;
}
const edge = () => raw("Pulumi.edge.yaml");
const lab = () => raw("Pulumi.lab.yaml");
function problems(r: Raw, stack: string, secretKeys?: string[]): string[] {
  try {
    parseConfig(r, { stack, ...(secretKeys ? { secretKeys } : {}) });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.key}: ${i.message}`);
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}
/** Remove nodes from edge's cluster (and edge's routing example, which names them). */
const without = (r: Raw, ...names: string[]) => {
  r.k3s.edge.nodes = r.k3s.edge.nodes.filter((n) => !names.includes(n.name));
  delete r.routing;
};

describe("kantai:k3s.<cluster> day-2 settings", () => {
  it("edge's stack: the VIP on site home (its two Pi servers), snapshots, a 600 s drain timeout, one agent at a time", () => {
    const [c] = parseConfig(edge(), { stack: "edge" }).k3s;
    expect(c.vip).toEqual({ address: "192.168.1.20", interface: "eth0", site: "home" });
    expect(c.snapshots).toEqual({ schedule: "0 */6 * * *", retention: 10 });
    expect(c.upgrade).toEqual({ drainTimeoutSeconds: 600, maxUnavailable: 1 });
    expect(c.serverStepDown).toBe(false);
  });
  it("lab's: defaults, no VIP, no snapshots", () => {
    const [c] = parseConfig(lab(), { stack: "lab" }).k3s;
    expect(c.upgrade).toEqual({ drainTimeoutSeconds: 300, maxUnavailable: 1 });
    expect(c.vip).toBeUndefined();
    expect(c.snapshots).toBeUndefined();
  });
  it("removing one of three servers with previousServers is accepted (3 → 2, on the way to 1)", () => {
    const r = edge();
    r.k3s.edge.previousServers = ["pi-1", "pi-2", "edge-vm-1"];
    without(r, "edge-vm-1");
    r.k3s.edge.vip = undefined;
    const [c] = parseConfig(r, { stack: "edge" }).k3s;
    expect(c.nodes.filter((n) => n.role === "server").map((n) => n.name)).toEqual(["pi-1", "pi-2"]);
    expect(c.serverStepDown).toBe(true);
  });

  it.each<[string, string, (r: Raw) => void, string[]]>([
    [
      "a VIP outside every site",
      "edge",
      (r) => (r.k3s.edge.vip = { address: "172.16.0.10" }),
      [
        "kantai:k3s.edge.vip.address: 172.16.0.10 is outside every site of the cluster (home 192.168.1.0/24, lab 10.0.0.0/24): kube-vip announces it with ARP on the servers' own network",
      ],
    ],
    [
      "a VIP that is a node's address",
      "edge",
      (r) => (r.k3s.edge.vip = { address: "192.168.1.23" }),
      ['kantai:k3s.edge.vip.address: 192.168.1.23 is already the address of node "pi-3"'],
    ],
    [
      "a VIP on a site with one server",
      "edge",
      (r) => (r.k3s.edge.vip = { address: "10.0.0.40" }),
      [
        'kantai:k3s.edge.vip.address: 10.0.0.40 is on site "lab", which has one server ("edge-vm-1"): the address can move only between at least two servers on its network',
      ],
    ],
    [
      "a VIP that is the site's broadcast address",
      "edge",
      (r) => (r.k3s.edge.vip = { address: "192.168.1.255" }),
      [
        'kantai:k3s.edge.vip.address: 192.168.1.255 is the network or broadcast address of site "home" (192.168.1.0/24)',
      ],
    ],
    [
      "a VIP with one server",
      "lab",
      (r) => (r.k3s.lab.vip = { address: "10.0.0.49" }),
      ["kantai:k3s.lab.vip: a virtual API address needs more than one server (the cluster has 1); remove vip"],
    ],
    [
      "a VIP and an apiAddress",
      "edge",
      (r) => (r.k3s.edge.apiAddress = "k3s.example.com"),
      ["kantai:k3s.edge.apiAddress: the virtual API address (vip) is the API address: remove apiAddress"],
    ],
    [
      "snapshots on a single server",
      "lab",
      (r) => (r.k3s.lab.snapshots = {}),
      [
        "kantai:k3s.lab.snapshots: etcd snapshots need embedded etcd, i.e. more than one server (the cluster has 1); a single server keeps its data in SQLite",
      ],
    ],
    [
      "an S3 target without credentials",
      "edge",
      (r) => (r.k3s.edge.snapshots!.s3 = { endpoint: "minio.home.lan:9000", bucket: "k3s-edge" }),
      [
        "kantai:etcdS3AccessKey: is required by kantai:k3s.edge.snapshots.s3 (pulumi config set --secret etcdS3AccessKey …)",
        "kantai:etcdS3SecretKey: is required by kantai:k3s.edge.snapshots.s3 (pulumi config set --secret etcdS3SecretKey …)",
      ],
    ],
    [
      "a bad cron expression",
      "edge",
      (r) => (r.k3s.edge.snapshots!.schedule = "hourly"),
      ['kantai:k3s.edge.snapshots.schedule: must be a five-field cron expression like "0 */6 * * *"'],
    ],
    [
      "maxUnavailable 0",
      "edge",
      (r) => (r.k3s.edge.upgrade!.maxUnavailable = 0),
      ["kantai:k3s.edge.upgrade.maxUnavailable: must be at least 1"],
    ],
    [
      "removing the last server",
      "lab",
      (r) => {
        r.k3s.lab.previousServers = ["lab-cp"];
        r.k3s.lab.nodes = r.k3s.lab.nodes.filter((n) => n.name !== "lab-cp");
      },
      [
        'kantai:k3s.lab.nodes: removes the last server ("lab-cp"; kantai:k3s.lab.previousServers lists "lab-cp"): a cluster keeps at least one of its servers; to delete the cluster, remove kantai:k3s.lab',
      ],
    ],
    [
      "removing two of three etcd servers at once (quorum loss)",
      "edge",
      (r) => {
        r.k3s.edge.previousServers = ["pi-1", "pi-2", "edge-vm-1"];
        r.k3s.edge.vip = undefined;
        delete r.k3s.edge.snapshots;
        without(r, "pi-2", "edge-vm-1");
      },
      [
        'kantai:k3s.edge.nodes: removes 2 of 3 etcd servers ("pi-2", "edge-vm-1") in one change: etcd keeps quorum only with 2 of its 3 members; remove at most 1 per pulumi up',
      ],
    ],
    [
      "removing the first server",
      "edge",
      (r) => {
        r.k3s.edge.previousServers = ["pi-1", "pi-2", "edge-vm-1"];
        r.k3s.edge.vip = undefined;
        without(r, "pi-1");
      },
      [
        'kantai:k3s.edge.nodes: removes the first server "pi-1", which the other nodes join through and which holds cluster-init; remove the other servers instead',
      ],
    ],
    [
      "two servers without a previous third (still refused)",
      "edge",
      (r) => {
        r.k3s.edge.vip = undefined;
        without(r, "edge-vm-1");
      },
      [
        "kantai:k3s.edge.nodes: 2 servers means embedded etcd, which needs an odd number of servers (1, 3, 5…) to keep quorum",
      ],
    ],
  ])("refuses %s, naming the key", (_what, stack, edit, messages) => {
    const r = stack === "lab" ? lab() : edge();
    edit(r);
    expect(problems(r, stack)).toEqual(messages);
  });

  it("S3 credentials that are not secrets are refused; as secrets they reach the cluster config", () => {
    const r = edge();
    r.k3s.edge.snapshots!.s3 = { endpoint: "minio.home.lan:9000", bucket: "k3s-edge" };
    r.etcdS3AccessKey = "AKIAEXAMPLE";
    r.etcdS3SecretKey = "c2VjcmV0";
    const base = ["kantai:sshPrivateKey", "kantai:proxmoxApiToken", "kantai:cloudflareApiToken"];
    expect(problems(r, "edge", base)).toEqual([
      "kantai:etcdS3AccessKey: must be a secret (pulumi config set --secret etcdS3AccessKey …)",
      "kantai:etcdS3SecretKey: must be a secret (pulumi config set --secret etcdS3SecretKey …)",
    ]);
    const [c] = parseConfig(r, {
      stack: "edge",
      secretKeys: [...base, "kantai:etcdS3AccessKey", "kantai:etcdS3SecretKey"],
    }).k3s;
    expect(c.snapshots?.s3).toEqual({ endpoint: "minio.home.lan:9000", bucket: "k3s-edge" });
    expect(c.s3Credentials).toBeDefined();
    r.etcdS3SecretKey = "has space";
    expect(problems(r, "edge")).toEqual([
      "kantai:etcdS3SecretKey: must be a non-empty S3 key of letters, digits and + / = . _ -",
    ]);
  });
});
