/**
 * K3sCluster, recorded under Pulumi's mock runtime (SIMULATED, see scripts/synth/mocks.ts) from the
 * clusters fixture: the dev stack plus "edge", three servers (two Pis, one VM) and two agents (a Pi
 * and a VM) on two sites. Exact inputs and the dependency chain VM → prepare → (boot check) →
 * install → nodes → kubeconfig → provider; servers before agents; the token a secret on stdin.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { asRoot } from "../lib/render/remoteShell";
import { recordProgram, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";

let resources: RecordedResource[] = [];
let outputs: any;
let artifacts: { path: string; kind: string; resource: string; content: string }[] = [];

beforeAll(async () => {
  const { config, secretKeys } = devStackConfig("test/fixtures/Pulumi.clusters.yaml");
  const { run } = await import("../stacks");
  const { resolveDeep } = await import("../scripts/synth/recorder");
  const rec = await recordProgram(() => run(), { config, secretKeys, stack: "clusters" });
  resources = rec.resources;
  outputs = await resolveDeep(rec.result.outputs);
  artifacts = (await resolveDeep(rec.result.artifacts, true)) as typeof artifacts;
});

const byName = (n: string) => {
  const r = resources.find((x) => x.name === n);
  if (!r) throw new Error(`no resource named ${n}`);
  return r as RecordedResource & { inputs: any };
};
const artifact = (p: string) => {
  const a = artifacts.find((x) => x.path === p);
  if (!a) throw new Error(`no artifact ${p}; have ${artifacts.map((x) => x.path).join(", ")}`);
  return a;
};
const SERVERS = ["pi-1", "pi-2", "vm-1"];
const AGENTS = ["pi-3", "vm-2"];
const PIS = ["pi-1", "pi-2", "pi-3"];
const VMS = ["vm-1", "vm-2"];

describe("K3sCluster edge", () => {
  it("registers exactly its children", () => {
    const mine = resources.filter((r) => r.name === "edge" || r.name.startsWith("edge-"));
    expect(mine.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "kantai:k8s:K3sCluster edge",
        "random:index/randomPassword:RandomPassword edge-token",
        ...VMS.flatMap((v) => [
          `kantai:proxmox:ClonedVm edge-${v}`,
          `proxmoxve:index/fileLegacy:FileLegacy edge-${v}-user-data`,
          `proxmoxve:index/vmLegacy:VmLegacy edge-${v}-vm`,
        ]),
        ...[...SERVERS, ...AGENTS].flatMap((n) => [
          `command:remote:Command edge-${n}-prepare`,
          `command:remote:Command edge-${n}-install`,
        ]),
        ...PIS.map((n) => `command:remote:Command edge-${n}-boot`),
        // Day 2 (test/clusters.day2.test.ts): per node the roll, per node but the first a forget step, the etcd snapshot.
        ...[...SERVERS, ...AGENTS].flatMap((n) =>
          ["drain", "upgrade", "gate"].map((s) => `command:remote:Command edge-${n}-${s}`),
        ),
        ...[...SERVERS, ...AGENTS].filter((n) => n !== "pi-1").map((n) => `command:remote:Command edge-${n}-forget`),
        "command:remote:Command edge-etcd-snapshot",
        "command:remote:Command edge-nodes",
        "command:remote:Command edge-kubeconfig",
        "pulumi:providers:kubernetes edge-k8s",
      ].sort(),
    );
    for (const r of mine.filter((x) => x.name !== "edge")) expect(r.parent, r.name).toMatch(/^edge/);
    expect(byName("edge").dependsOn).toEqual(["lan", "hosts"]); // after the gateway, every VM's resolver (issue 10 item 4)
  });

  it("the join token: a 48-character RandomPassword, sent as a secret on stdin, never in a command line", () => {
    expect(byName("edge-token").inputs).toEqual({ length: 48, special: false });
    for (const n of [...SERVERS, ...AGENTS]) {
      const i = byName(`edge-${n}-install`).inputs;
      expect(i.stdin, n).toBe("[secret]");
      expect(i.logging, n).toBe("stderr");
      expect(i.connection, n).toBe("[secret]");
      expect(i.create, n).not.toContain("synth-edge-token");
    }
  });

  it("order: VM → prepare → boot check (Pis) → install; servers one by one, then agents", () => {
    for (const v of VMS) expect(byName(`edge-${v}-prepare`).dependsOn).toEqual([`edge-${v}`]);
    for (const p of PIS) {
      expect(byName(`edge-${p}-prepare`).dependsOn).toEqual([]);
      expect(byName(`edge-${p}-boot`).dependsOn).toEqual([`edge-${p}-prepare`]);
    }
    expect(byName("edge-pi-1-install").dependsOn).toEqual(["edge-pi-1-boot"]);
    expect(byName("edge-pi-2-install").dependsOn).toEqual(["edge-pi-2-boot", "edge-pi-1-install", "edge-pi-2-forget"]);
    expect(byName("edge-vm-1-install").dependsOn).toEqual([
      "edge-vm-1-prepare",
      "edge-pi-1-install",
      "edge-pi-2-install",
    ]);
    const servers = SERVERS.map((s) => `edge-${s}-install`);
    expect(byName("edge-pi-3-install").dependsOn).toEqual(["edge-pi-3-boot", ...servers, "edge-pi-3-forget"]);
    expect(byName("edge-vm-2-install").dependsOn).toEqual(["edge-vm-2-prepare", ...servers]);
    // Every node is Ready at the version (its gate) before labels, taints and the kubeconfig.
    expect(byName("edge-nodes").dependsOn).toEqual([...SERVERS, ...AGENTS].map((n) => `edge-${n}-gate`));
    expect(byName("edge-kubeconfig").dependsOn).toEqual(["edge-nodes"]);
  });

  // Issue 10 item 8. A VM replaced by the provider (bpg #1636: user-data edits replace the VM) keeps
  // its VM ID and address, so the steps' inputs and triggers do not change and an update would not
  // run: each step on a VM names the VM in `replaceWith` ("force a replace operation on the current
  // resource every time one of the given resources is replaced", custom resources only —
  // https://www.pulumi.com/docs/iac/concepts/resources/options/replacewith/), and `deletedWith`
  // ("the provider's Delete method will not be called for this resource if the specified resource is
  // being deleted as well", node_modules/@pulumi/pulumi/resource.d.ts) keeps the old step's uninstall
  // off the new VM. Hosts (Pis) have no VM and neither option.
  it("steps on a VM are replaced with the VM (replaceWith) and skip their delete when it goes (deletedWith)", () => {
    for (const v of VMS) {
      for (const step of ["prepare", "install"]) {
        const r = byName(`edge-${v}-${step}`);
        expect(r.replaceWith, `${v} ${step}`).toEqual([`edge-${v}-vm`]);
        expect(r.deletedWith, `${v} ${step}`).toBe(`edge-${v}-vm`);
      }
    }
    for (const p of PIS) {
      for (const step of ["prepare", "boot", "install"]) {
        expect(byName(`edge-${p}-${step}`).replaceWith, `${p} ${step}`).toBeUndefined();
        expect(byName(`edge-${p}-${step}`).deletedWith, `${p} ${step}`).toBeUndefined();
      }
    }
    // Any replaced VM is a new node to wait for and label; the first server (pi-1) is no VM here.
    expect(byName("edge-nodes").replaceWith).toEqual(VMS.map((v) => `edge-${v}-vm`));
    expect(byName("edge-kubeconfig").replaceWith).toBeUndefined();
  });

  it("a Pi's boot check re-runs when the prepare step reports a new boot; its connection waits for the host", () => {
    const boot = byName("edge-pi-1-boot").inputs;
    expect(boot.triggers).toEqual([""]); // the prepare step's stdout (empty under mocks)
    expect(boot.create).toBe(asRoot(artifact("edge/pi-1.boot-check.sh").content, "kantai-boot-pi-1"));
    expect(boot.create).toContain("cgroup_memory=1");
  });

  it("the kubeconfig: read on the first server, not logged, its stdout secret; the provider gets it as a secret", () => {
    const kc = byName("edge-kubeconfig").inputs;
    expect(kc.logging).toBe("none");
    expect(kc.triggers).toEqual(["203.0.113.21"]);
    expect(kc.create).toBe(asRoot(artifact("edge/kubeconfig.sh").content, "kantai-kubeconfig"));
    expect(byName("edge-k8s").inputs).toEqual({
      kubeconfig: "[secret]",
      enableServerSideApply: "true",
      enableConfigMapMutable: "true",
    });
  });

  it("each node's K3s config: pinned version, node/external IPs, WireGuard, etcd on the first server, joins by site", () => {
    const cfg = (n: string) => parse(artifact(`edge/${n}.config.yaml`).content);
    expect(cfg("pi-1")).toEqual({
      "token-file": "/etc/rancher/k3s/kantai-token",
      "node-name": "pi-1",
      "node-ip": "192.168.1.21",
      "node-external-ip": "203.0.113.21",
      "cluster-init": true,
      "flannel-backend": "wireguard-native",
      "flannel-external-ip": true,
      "tls-san": ["203.0.113.21", "192.168.1.21"],
      "write-kubeconfig-mode": "0600",
      "node-label": ["topology.kubernetes.io/zone=home"],
    });
    // Same site: the first server's own address; another site: its external address.
    expect(cfg("pi-2").server).toBe("https://192.168.1.21:6443");
    expect(cfg("pi-2")["cluster-init"]).toBeUndefined();
    expect(cfg("vm-1").server).toBe("https://203.0.113.21:6443");
    expect(cfg("pi-3")).toEqual({
      "token-file": "/etc/rancher/k3s/kantai-token",
      server: "https://192.168.1.21:6443",
      "node-name": "pi-3",
      "node-ip": "192.168.1.23",
      "node-external-ip": "203.0.113.23",
      "node-label": ["kantai.dev/storage=hdd", "topology.kubernetes.io/zone=home"],
      "node-taint": ["kantai.dev/storage=hdd:NoSchedule"],
    });
    expect(cfg("vm-2")["node-label"]).toEqual(["topology.kubernetes.io/zone=lab"]);
    const install = byName("edge-pi-3-install").inputs;
    expect(install.create).toBe(asRoot(artifact("edge/pi-3.install.sh").content, "kantai-install-pi-3"));
    expect(install.update).toBe(install.create);
    expect(install.delete).toBe(asRoot(artifact("edge/pi-3.uninstall.sh").content, "kantai-uninstall-pi-3"));
    expect(artifact("edge/pi-3.install.sh").content).toContain(artifact("edge/pi-3.config.yaml").content);
    // The version is the upgrade step's (test/clusters.day2.test.ts), not the configure step's.
    expect(artifact("edge/pi-3.install.sh").content).not.toContain("INSTALL_K3S_VERSION");
    expect(artifact("edge/pi-3.upgrade.sh").content).toContain('INSTALL_K3S_VERSION="$VERSION" INSTALL_K3S_EXEC=agent');
  });

  it("labels and taints are converged on the first server after every node is Ready", () => {
    const nodes = artifact("edge/nodes.sh").content;
    expect(nodes).toContain(
      "k3s kubectl label node 'pi-3' --overwrite 'kantai.dev/storage=hdd' 'topology.kubernetes.io/zone=home' >/dev/null",
    );
    expect(nodes).toContain("k3s kubectl taint node 'pi-3' --overwrite 'kantai.dev/storage=hdd:NoSchedule' >/dev/null");
    for (const n of [...SERVERS, ...AGENTS]) expect(nodes).toContain(`node_ready '${n}'`);
    expect(byName("edge-nodes").inputs.create).toBe(asRoot(nodes, "kantai-nodes"));
  });

  it("prepare: Pis get the cgroup edit (and iptables-legacy where asked); VMs wait for cloud-init; all load wireguard", () => {
    const pi1 = artifact("edge/pi-1.prepare.sh").content;
    const pi3 = artifact("edge/pi-3.prepare.sh").content;
    const vm = artifact("edge/vm-1.prepare.sh").content;
    expect(pi1).toContain("kantai_cmdline_edit \"$cmdline\" 'cgroup_memory=1' 'cgroup_enable=memory'");
    expect(pi1).toContain("stretch|buster) want_legacy=1 ;;");
    expect(pi3).toContain("want_legacy=1\nif");
    expect(vm).toContain("cloud-init status --wait");
    expect(vm).not.toContain("cmdline");
    for (const s of [pi1, pi3, vm]) expect(s).toContain("modprobe wireguard");
    expect(byName("edge-vm-1-prepare").inputs.create).toBe(asRoot(vm, "kantai-prepare-vm-1"));
  });

  it("VM nodes: clones of their templates with their own size and address, user-data without passwords", () => {
    expect(byName("edge-vm-1-vm").inputs).toMatchObject({
      vmId: 741,
      name: "vm-1",
      clone: { vmId: 8000, nodeName: "pve", full: true },
      cpu: { cores: 2 },
      memory: { dedicated: 2048 },
      tags: ["kantai", "edge", "k3s-server"],
      initialization: { ipConfigs: [{ ipv4: { address: "10.0.0.41/24", gateway: "10.0.0.1" } }] },
    });
    expect(byName("edge-vm-2-vm").inputs).toMatchObject({
      vmId: 742,
      clone: { vmId: 9000 },
      cpu: { cores: 6 },
      memory: { dedicated: 8192 },
      tags: ["kantai", "edge", "k3s-agent"],
    });
    const ud = artifact("edge/vm-1.user-data.yaml").content;
    expect(ud).toContain("ssh_pwauth: false");
    expect(ud).not.toContain("docker.io");
  });

  it("exports the cluster in the outputs contract, kubeconfig secret", () => {
    expect(outputs.k3s).toEqual([
      {
        name: "edge",
        apiServer: "https://203.0.113.21:6443",
        kubeconfig: "[secret]",
        version: "v1.34.1+k3s1",
        flannelBackend: "wireguard-native",
        nodes: [
          { name: "pi-1", role: "server", site: "home", ip: "192.168.1.21", externalIp: "203.0.113.21", kind: "host" },
          { name: "pi-2", role: "server", site: "home", ip: "192.168.1.22", externalIp: "203.0.113.22", kind: "host" },
          { name: "vm-1", role: "server", site: "lab", ip: "10.0.0.41", externalIp: "198.51.100.41", kind: "vm" },
          { name: "pi-3", role: "agent", site: "home", ip: "192.168.1.23", externalIp: "203.0.113.23", kind: "host" },
          { name: "vm-2", role: "agent", site: "lab", ip: "10.0.0.42", externalIp: "198.51.100.42", kind: "vm" },
        ],
      },
    ]);
  });
});
