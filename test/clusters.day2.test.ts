/**
 * Day 2 on K3s clusters (issue 15), recorded under Pulumi's mock runtime (SIMULATED, see
 * scripts/synth/mocks.ts: no engine diff runs, nothing is deployed). What the engine would do is
 * read off the recording: which resources' inputs change between two configs (an update runs only
 * for those: command.remote.Command re-runs on an input change), which appear (created) or vanish
 * (deleted), and the explicit dependencies that order them. Pulumi runs creates in dependency order
 * and deletes in reverse ("The dependsOn option ensures that resource creation, update, and
 * deletion operations are executed in the correct order",
 * https://www.pulumi.com/docs/concepts/options/dependson/): a resource is deleted before the ones
 * it depends on.
 *
 * edge: the clusters fixture (three servers — pi-1, pi-2 on site home, vm-1 on site lab — and two
 * agents, a Pi and a VM); lab: Pulumi.lab.yaml (one VM server, four VM agents).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { RecordedResource } from "../scripts/synth/recorder";
import { ROOT } from "./support/devConfig";
import { ADDED_EDGE_PI, type RawCluster } from "./support/k3sRaw";
import { runSynth } from "./support/tools";

/** A recorded command's inputs (what the tests read). */
interface Inputs {
  create?: string;
  delete?: string;
  stdin?: string;
  triggers?: unknown[];
  [k: string]: unknown;
}
type Rec = Map<string, RecordedResource & { inputs: Inputs }>;

/**
 * Synth (`npm run synth`, a subprocess per recording: Pulumi's mock runtime is process-wide) of
 * `file` with its kantai:k3s edited by `mutate` and `extra` keys added (secure ones as secrets).
 */
async function record(
  file: string,
  stack: string,
  mutate?: (k3s: Record<string, RawCluster>) => void,
  extra: Record<string, unknown> = {},
): Promise<Rec> {
  const doc = parse(readFileSync(path.join(ROOT, file), "utf8"));
  mutate?.(doc.config["kantai:k3s"]);
  Object.assign(doc.config, extra);
  const dir = mkdtempSync(path.join(tmpdir(), "kantai-day2-"));
  const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
  writeFileSync(stackFile, stringify(doc));
  const r = runSynth(["--stack-file", stackFile, "--out", path.join(dir, "out")]);
  if (r.status !== 0) throw new Error(`synth failed: ${r.stderr}${r.stdout}`);
  const resources = JSON.parse(readFileSync(path.join(dir, "out", "resources.json"), "utf8")) as (RecordedResource & {
    inputs: Inputs;
  })[];
  return new Map(resources.map((x) => [x.name, x]));
}

/** What an `up` from `before` to `after` does, resource by resource (inputs compared exactly). */
function diff(before: Rec, after: Rec, prefix: string) {
  const mine = (m: Rec) => [...m.keys()].filter((n) => n.startsWith(prefix));
  const created = mine(after).filter((n) => !before.has(n));
  const deleted = mine(before).filter((n) => !after.has(n));
  const changed = mine(after).filter(
    (n) => before.has(n) && JSON.stringify(before.get(n)!.inputs) !== JSON.stringify(after.get(n)!.inputs),
  );
  return { created: created.sort(), deleted: deleted.sort(), changed: changed.sort() };
}

const get = (m: Rec, n: string) => {
  const r = m.get(n);
  if (!r) throw new Error(`no resource ${n}`);
  return r;
};

const EDGE = "test/fixtures/Pulumi.clusters.yaml";
const SERVERS = ["pi-1", "pi-2", "vm-1"];
const AGENTS = ["pi-3", "vm-2"];
const ALL = [...SERVERS, ...AGENTS];
const roll = (c: string, ns: readonly string[]) =>
  ns.flatMap((n) => [`${c}-${n}-drain`, `${c}-${n}-upgrade`, `${c}-${n}-gate`]);

describe("edge (three servers, mixed Pi/VM): the rolling upgrade", async () => {
  const base = await record(EDGE, "clusters");

  it("one drain → upgrade → gate per node, servers then agents in config order, after an etcd snapshot", () => {
    expect(get(base, "edge-etcd-snapshot").dependsOn).toEqual(["edge-pi-1-install"]);
    let previous = ["edge-etcd-snapshot"];
    for (const n of ALL) {
      expect(get(base, `edge-${n}-drain`).dependsOn, n).toEqual([`edge-${n}-install`, ...previous]);
      expect(get(base, `edge-${n}-upgrade`).dependsOn, n).toEqual([`edge-${n}-drain`]);
      expect(get(base, `edge-${n}-gate`).dependsOn, n).toEqual([`edge-${n}-upgrade`]);
      previous = [`edge-${n}-gate`];
    }
    expect(get(base, "edge-nodes").dependsOn).toEqual(ALL.map((n) => `edge-${n}-gate`));
    expect(get(base, "edge-kubeconfig").dependsOn).toEqual(["edge-nodes"]);
  });

  it("the upgrade step runs on the node, drain and gate on the first server; the version is an input of exactly these", () => {
    for (const n of ALL) {
      const up = get(base, `edge-${n}-upgrade`).inputs;
      expect(up.create, n).toContain("v1.34.1+k3s1");
      expect(up.create, n).toContain(`INSTALL_K3S_EXEC=${SERVERS.includes(n) ? "server" : "agent"}`);
      expect(get(base, `edge-${n}-drain`).inputs.create, n).toContain("v1.34.1+k3s1");
      expect(get(base, `edge-${n}-gate`).inputs.create, n).toContain(
        "kantai: K3s health gate after the upgrade of " + n,
      );
      // The configure step no longer carries the version.
      expect(get(base, `edge-${n}-install`).inputs.create, n).not.toContain("v1.34.1+k3s1");
    }
  });

  it("a version bump changes exactly the snapshot and every node's drain/upgrade/gate (not the kubeconfig read)", async () => {
    const bumped = await record(EDGE, "clusters", (k) => (k.edge.version = "v1.34.2+k3s1"));
    const d = diff(base, bumped, "edge");
    expect(d.created).toEqual([]);
    expect(d.deleted).toEqual([]);
    expect(d.changed).toEqual([...roll("edge", ALL), "edge-etcd-snapshot"].sort());
    expect(get(bumped, "edge-etcd-snapshot").inputs.create).toContain("--name '\\''kantai-pre-v1-34-2-k3s1'\\''");
  });

  it("maxUnavailable: 2 upgrades the two agents together, after the last server", async () => {
    const wide = await record(EDGE, "clusters", (k) => (k.edge.upgrade = { maxUnavailable: 2 }));
    expect(get(wide, "edge-pi-3-drain").dependsOn).toEqual(["edge-pi-3-install", "edge-vm-1-gate"]);
    expect(get(wide, "edge-vm-2-drain").dependsOn).toEqual(["edge-vm-2-install", "edge-vm-1-gate"]);
    // Dependencies are not inputs: changing the batch size re-runs nothing.
    expect(diff(base, wide, "edge").changed).toEqual([]);
  });

  it("adding an agent creates its own steps only; the cluster-wide nodes step updates to wait for it; no other node's step changes", async () => {
    const added = await record(EDGE, "clusters", (k) => k.edge.nodes.push({ ...ADDED_EDGE_PI }));
    const d = diff(base, added, "edge");
    expect(d.created).toEqual(
      [
        "edge-pi-4-boot",
        "edge-pi-4-forget",
        "edge-pi-4-install",
        "edge-pi-4-prepare",
        ...roll("edge", ["pi-4"]),
      ].sort(),
    );
    expect(d.deleted).toEqual([]);
    expect(d.changed).toEqual(["edge-nodes"]);
    // It joins last in the roll, after every server's configure step.
    expect(get(added, "edge-pi-4-drain").dependsOn).toEqual(["edge-pi-4-install", "edge-vm-2-gate"]);
    expect(get(added, "edge-pi-4-install").dependsOn).toEqual([
      "edge-pi-4-boot",
      ...SERVERS.map((s) => `edge-${s}-install`),
      "edge-pi-4-forget",
    ]);
  });

  it("adding a server creates its own steps only (no other server's config or tls-san changes)", async () => {
    const added = await record(EDGE, "clusters", (k) => {
      k.edge.nodes.splice(3, 0, {
        name: "pi-5",
        role: "server",
        site: "home",
        ip: "192.168.1.25",
        externalIp: "203.0.113.25",
        host: { user: "pi" },
      });
      k.edge.nodes.splice(4, 0, {
        name: "pi-6",
        role: "server",
        site: "home",
        ip: "192.168.1.26",
        externalIp: "203.0.113.26",
        host: { user: "pi" },
      });
    });
    const d = diff(base, added, "edge");
    expect(d.changed).toEqual(["edge-nodes"]);
    expect(d.created.filter((n) => !/pi-[56]/.test(n))).toEqual([]);
  });

  it("removing an agent (a VM): drain → (uninstall, skipped: the VM goes) → destroy the VM → delete its Node, in that order", async () => {
    const removed = await record(
      EDGE,
      "clusters",
      (k) => (k.edge.nodes = k.edge.nodes.filter((n) => n.name !== "vm-2")),
    );
    const d = diff(base, removed, "edge");
    expect(d.created).toEqual([]);
    expect(d.changed).toEqual(["edge-nodes"]);
    expect(d.deleted).toEqual(
      [
        "edge-vm-2",
        "edge-vm-2-forget",
        "edge-vm-2-install",
        "edge-vm-2-prepare",
        "edge-vm-2-user-data",
        "edge-vm-2-vm",
        ...roll("edge", ["vm-2"]),
      ].sort(),
    );
    // Deletes run dependents first: gate → upgrade → drain → install → prepare → VM → forget: the
    // Node object goes once the machine is gone (else its kubelet would register it again).
    expect(get(base, "edge-vm-2-gate").dependsOn).toEqual(["edge-vm-2-upgrade"]);
    expect(get(base, "edge-vm-2-upgrade").dependsOn).toEqual(["edge-vm-2-drain"]);
    expect(get(base, "edge-vm-2-drain").dependsOn).toContain("edge-vm-2-install");
    expect(get(base, "edge-vm-2-install").dependsOn).toContain("edge-vm-2-prepare");
    expect(get(base, "edge-vm-2-prepare").dependsOn).toEqual(["edge-vm-2"]);
    expect(get(base, "edge-vm-2").dependsOn).toEqual(["edge-vm-2-forget"]);
    expect(get(base, "edge-vm-2-forget").dependsOn).toEqual([]);
    // The drain's delete drains; the forget step has only a delete, on the first server.
    expect(get(base, "edge-vm-2-drain").inputs.delete).toContain("kantai: K3s drain of vm-2 before its removal");
    const forget = get(base, "edge-vm-2-forget").inputs;
    expect(forget.create).toBeUndefined();
    expect(forget.delete).toContain('kc delete node "$NODE" --ignore-not-found --wait=true');
    expect(forget.delete).not.toContain("etcd_ready");
    // The uninstall of a VM that is destroyed anyway is skipped (deletedWith); the drain and forget,
    // which run on the first server, are not tied to the VM.
    expect(get(base, "edge-vm-2-install").deletedWith).toBe("edge-vm-2-vm");
    expect(get(base, "edge-vm-2-drain").deletedWith).toBeUndefined();
    expect(get(base, "edge-vm-2-forget").deletedWith).toBeUndefined();
    expect(get(base, "edge-vm-2-drain").replaceWith).toBeUndefined();
    expect(get(base, "edge-vm-2-upgrade").replaceWith).toEqual(["edge-vm-2-vm"]);
  });

  it("removing a server (pi-2, with previousServers): its forget step waits for etcd to be healthy; others unchanged", async () => {
    const removed = await record(EDGE, "clusters", (k) => {
      k.edge.previousServers = ["pi-1", "pi-2", "vm-1"];
      k.edge.nodes = k.edge.nodes.filter((n) => n.name !== "pi-2");
    });
    const d = diff(base, removed, "edge");
    expect(d.deleted).toEqual(
      [
        "edge-pi-2-boot",
        "edge-pi-2-forget",
        "edge-pi-2-install",
        "edge-pi-2-prepare",
        ...roll("edge", ["pi-2"]),
      ].sort(),
    );
    expect(d.changed).toEqual(["edge-nodes"]);
    expect(get(base, "edge-pi-2-forget").inputs.delete).toContain("etcd_ready");
    expect(get(base, "edge-pi-2-install").deletedWith).toBeUndefined(); // a Pi: the uninstall runs
  });

  it("the first server has no forget step and its drain no delete (it goes only with the whole cluster)", () => {
    expect(base.has("edge-pi-1-forget")).toBe(false);
    expect(get(base, "edge-pi-1-drain").inputs.delete).toBeUndefined();
  });
});

describe("edge: HA API address and snapshots", async () => {
  const ha = await record(
    EDGE,
    "clusters",
    (k) => {
      k.edge.vip = { address: "192.168.1.20" };
      k.edge.snapshots = {
        schedule: "0 */6 * * *",
        retention: 10,
        s3: { endpoint: "minio.home.lan:9000", bucket: "k3s-edge", folder: "edge" },
      };
    },
    { "kantai:etcdS3AccessKey": { secure: "v1:AAAA" }, "kantai:etcdS3SecretKey": { secure: "v1:BBBB" } },
  );

  it("kube-vip runs on the servers of the VIP's site only; every server's tls-san lists the VIP; the API is the VIP", () => {
    expect(get(ha, "edge-pi-1-install").inputs.create).toContain("static pod kube-vip");
    expect(get(ha, "edge-pi-2-install").inputs.create).toContain("static pod kube-vip");
    expect(get(ha, "edge-vm-1-install").inputs.create).not.toContain("kube-vip");
    expect(get(ha, "edge-pi-3-install").inputs.create).not.toContain("kube-vip");
    for (const s of SERVERS)
      expect(get(ha, `edge-${s}-install`).inputs.create, s).toMatch(/tls-san:\n {2}- 192\.168\.1\.20\n/);
    expect(get(ha, "edge-kubeconfig").inputs.triggers).toEqual(["192.168.1.20"]);
  });

  it("snapshot schedule and S3 target in the servers' config; credentials only on stdin, as secrets", () => {
    for (const s of SERVERS) {
      const i = get(ha, `edge-${s}-install`).inputs;
      expect(i.create, s).toContain(
        "etcd-snapshot-schedule-cron: 0 */6 * * *\netcd-snapshot-retention: 10\netcd-s3: true\netcd-s3-endpoint: minio.home.lan:9000\netcd-s3-bucket: k3s-edge\netcd-s3-folder: edge\n",
      );
      expect(i.create, s).not.toContain("synth-placeholder-secret");
      expect(i.stdin, s).toBe("[secret]");
    }
    expect(get(ha, "edge-pi-3-install").inputs.create).not.toContain("etcd-s3");
  });
});

describe("lab (one VM server, three VM agents)", async () => {
  const base = await record("Pulumi.lab.yaml", "lab");
  const nodes = ["lab-cp", "lab-w1", "lab-w2", "lab-w3"];

  it("no etcd, so no snapshot; the roll starts at the server and goes through the agents one by one", () => {
    expect(base.has("lab-etcd-snapshot")).toBe(false);
    let previous: string[] = [];
    for (const n of nodes) {
      expect(get(base, `lab-${n}-drain`).dependsOn, n).toEqual([`lab-${n}-install`, ...previous]);
      expect(get(base, `lab-${n}-upgrade`).dependsOn, n).toEqual([`lab-${n}-drain`]);
      previous = [`lab-${n}-gate`];
    }
  });

  it("a version bump changes exactly every node's drain/upgrade/gate (not the kubeconfig read)", async () => {
    const bumped = await record("Pulumi.lab.yaml", "lab", (k) => (k.lab.version = "v1.34.2+k3s1"));
    const d = diff(base, bumped, "lab");
    expect(d).toEqual({ created: [], deleted: [], changed: [...roll("lab", nodes)].sort() });
  });

  it("removing a worker VM deletes its steps and VM; nothing else but the nodes step changes", async () => {
    const removed = await record(
      "Pulumi.lab.yaml",
      "lab",
      (k) => (k.lab.nodes = k.lab.nodes.filter((n) => n.name !== "lab-w3")),
    );
    const d = diff(base, removed, "lab");
    expect(d.changed).toEqual(["lab-nodes"]);
    expect(d.deleted).toEqual(
      [
        "lab-lab-w3",
        "lab-lab-w3-forget",
        "lab-lab-w3-install",
        "lab-lab-w3-prepare",
        "lab-lab-w3-user-data",
        "lab-lab-w3-vm",
        ...roll("lab", ["lab-w3"]),
      ].sort(),
    );
  });

  it("the single-server API address is unchanged (the Proxmox-host forward)", () => {
    expect(get(base, "lab-kubeconfig").inputs.triggers).toEqual(["10.15.40.20"]);
    expect(base.has("lab-api-forward")).toBe(true);
  });
});

describe("synth of the edge stack (Pulumi.edge.yaml) shows the day-2 resources", async () => {
  const edgeStack = await record("Pulumi.edge.yaml", "edge");
  const nodes = ["pi-1", "pi-2", "edge-vm-1", "pi-3", "edge-vm-2"];

  it("the roll for every node, the etcd snapshot, kube-vip on the home servers, the VIP as the API address", () => {
    for (const n of nodes)
      for (const s of ["drain", "upgrade", "gate"]) expect(edgeStack.has(`edge-${n}-${s}`), `${n} ${s}`).toBe(true);
    expect(get(edgeStack, "edge-etcd-snapshot").dependsOn).toEqual(["edge-pi-1-install"]);
    expect(get(edgeStack, "edge-pi-1-install").inputs.create).toContain("ghcr.io/kube-vip/kube-vip:v1.2.2");
    expect(get(edgeStack, "edge-pi-2-install").inputs.create).toContain("ghcr.io/kube-vip/kube-vip:v1.2.2");
    expect(get(edgeStack, "edge-edge-vm-1-install").inputs.create).not.toContain("kube-vip");
    expect(get(edgeStack, "edge-pi-1-install").inputs.create).toContain("etcd-snapshot-schedule-cron: 0 */6 * * *");
    expect(get(edgeStack, "edge-pi-3-drain").inputs.create).toContain("--timeout=600s");
    expect(get(edgeStack, "edge-kubeconfig").inputs.triggers).toEqual(["192.168.1.20"]);
  });
});
