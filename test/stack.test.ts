/**
 * Component tests: the dev stack runs under Pulumi's mock runtime (SIMULATED, see
 * scripts/synth/mocks.ts) and every registration is recorded with its exact inputs and options.
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { recordProgram, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";

let resources: RecordedResource[] = [];
let outputs: any;

beforeAll(async () => {
  const { config, secretKeys } = devStackConfig();
  const { run } = await import("../stacks");
  const { resolveDeep } = await import("../scripts/synth/recorder");
  const rec = await recordProgram(() => run(), { config, secretKeys, stack: "dev" });
  resources = rec.resources;
  outputs = await resolveDeep(rec.result.outputs);
});

const byName = (n: string) => {
  const r = resources.find((x) => x.name === n);
  if (!r) throw new Error(`no resource named ${n}; have ${resources.map((x) => x.name).join(", ")}`);
  return r as RecordedResource & { inputs: any };
};
const ofType = (t: string) => resources.filter((r) => r.type === t);

const VM = "proxmoxve:index/vmLegacy:VmLegacy";

describe("dev stack registrations", () => {
  it("creates exactly the expected resources", () => {
    const count: Record<string, number> = {};
    for (const r of resources) count[r.type] = (count[r.type] ?? 0) + 1;
    expect(count).toEqual({
      "pulumi:providers:proxmoxve": 1,
      "kantai:proxmox:ProxmoxNetwork": 1,
      "proxmoxve:network/linux/bridge:Bridge": 1,
      "command:remote:Command": 8,
      "kantai:proxmox:CloudImage": 1,
      "proxmoxve:download/file:File": 1,
      "kantai:proxmox:VmTemplate": 2,
      "pulumi-nodejs:dynamic/kantai/proxmox:TemplateGuard": 2,
      "kantai:proxmox:ClonedVm": 8,
      "kantai:fleet:ConventionalFleet": 1,
      "kantai:gateway:HostsGateway": 1,
      "kantai:ci:ActionsRunner": 1,
      "proxmoxve:index/fileLegacy:FileLegacy": 8,
      [VM]: 10,
      "kantai:k8s:GroguNode": 1,
      "pulumi:providers:kubernetes": 1,
      "kantai:knative:KnativeService": 1,
      "kubernetes:serving.knative.dev/v1:Service": 1,
      "kubernetes:core/v1:ConfigMap": 1,
    });
  });

  it("names every child after its parent component", () => {
    for (const r of resources.filter((x) => x.parent)) {
      expect(r.name.startsWith(`${r.parent}-`), `${r.name} under ${r.parent}`).toBe(true);
    }
  });

  it("the bridge: vmbr2 at 10.0.0.1/24 with no ports", () => {
    expect(byName("lan-bridge").inputs).toEqual({
      nodeName: "pve",
      name: "vmbr2",
      address: "10.0.0.1/24",
      autostart: true,
      vlanAware: false,
      comment: "kantai internal network",
    });
  });

  it("NAT: a host command after the bridge, replaced old-first when its inputs change", () => {
    const nat = byName("lan-nat");
    expect(nat.dependsOn).toEqual(["lan-bridge"]);
    expect(nat.deleteBeforeReplace).toBe(true);
    expect(nat.inputs.connection).toBe("[secret]");
    expect(nat.inputs.triggers).toEqual(["vmbr2", "10.0.0.0/24", "vmbr0"]);
    // Quoted inside asHostRoot's `sh -c '…'`: every ' of the script reads '\''.
    expect(nat.inputs.create).toContain(`-s '\\''10.0.0.0/24'\\'' -o '\\''vmbr0'\\'' -j MASQUERADE`);
    expect(nat.inputs.create).toContain(`systemctl enable '\\''kantai-nat-vmbr2.service'\\''`);
    expect(nat.inputs.delete).toContain(`'\\''/usr/local/sbin/kantai-nat-vmbr2'\\'' down`);
  });

  it("host scripts run as root for any kantai:sshUser: directly as root, else sudo -n (issue 10 item 10)", () => {
    // Same rule as the K3s scripts (lib/render/remoteShell.ts asRoot); Proxmox VE ships no sudo for root,
    // so root runs the script directly.
    for (const [name, field] of [
      ["lan-nat", "create"],
      ["lan-nat", "delete"],
      ["hosts-install", "create"],
      ["hosts-install", "update"],
      ["hosts-install", "delete"],
    ] as const) {
      const cmd = byName(name).inputs[field] as string;
      expect(cmd, `${name}.${field}`).toMatch(
        /^if \[ "\$\(id -u\)" -eq 0 \]; then exec sh -c '.*'; else exec sudo -n sh -c '.*'; fi$/s,
      );
    }
  });

  it("the cloud image: the pinned jammy build, verified by checksum", () => {
    expect(byName("ubuntu-jammy-file").inputs).toMatchObject({
      nodeName: "pve",
      datastoreId: "local",
      contentType: "import",
      fileName: "jammy-server-cloudimg-amd64.qcow2",
      checksum: "5da0b3d37d02ca6c6760caa4041b4df14e08abc7bc9b2db39133eef8ee145f6d",
      checksumAlgorithm: "sha256",
    });
  });

  it.each([
    ["standalone", 8000, 1, 512],
    ["knative", 9000, 6, 8192],
  ])("template %s: VM %i, %i cores / %i MB, protected, imported disk resized to 10 GB", (key, vmId, cores, mem) => {
    const t = byName(`${key}-vm`);
    expect(t.protect).toBe(true);
    expect(t.inputs).toMatchObject({
      nodeName: "pve",
      vmId,
      name: `template-${key}`,
      template: true,
      started: false,
      cpu: { cores, sockets: 1, type: "x86-64-v2-AES" },
      memory: { dedicated: mem },
      scsiHardware: "virtio-scsi-pci",
      serialDevices: [{ device: "socket" }],
      vga: { type: "serial0" },
      agent: { enabled: true },
      networkDevices: [{ bridge: "vmbr2", model: "virtio", firewall: false }],
      disks: [
        {
          interface: "scsi0",
          datastoreId: "local-lvm",
          importFrom: "local:import/jammy-server-cloudimg-amd64.qcow2",
          size: 10,
        },
      ],
      initialization: {
        datastoreId: "local-lvm",
        interface: "ide2",
        dns: { servers: ["10.15.40.20"], domain: "hosts.pve" },
      },
    });
    expect(t.inputs.initialization.userAccount).toBeUndefined();
    // Never booted: no user-data of its own, so an SSH key rotation does not touch it.
    expect(t.inputs.initialization.userDataFileId).toBeUndefined();
    // Fixed VM ID: a replacement must delete the old template first. The guard runs before it.
    expect(t.deleteBeforeReplace).toBe(true);
    expect(t.dependsOn).toEqual([`${key}-guard`]);
    expect(byName(`${key}-guard`).inputs).toMatchObject({
      key,
      vmName: `template-${key}`,
      vmId,
      node: "pve",
      diskDatastore: "local-lvm",
      diskGb: 10,
      allowReplace: false,
    });
  });

  it("the cloud image is removed before a replacement downloads it under the same name", () => {
    expect(byName("ubuntu-jammy-file").deleteBeforeReplace).toBe(true);
  });

  it("the fleet: kenobi-1..5 cloned from template 8000 at 10.0.0.30-34, 1 core / 512 MB", () => {
    for (let i = 1; i <= 5; i++) {
      const vm = byName(`kenobi-${i}-vm`);
      expect(vm.parent).toBe(`kenobi-${i}`);
      expect(byName(`kenobi-${i}`).parent).toBe("kenobi");
      expect(vm.protect).toBeUndefined();
      expect(vm.inputs).toMatchObject({
        nodeName: "pve",
        vmId: 799 + i,
        name: `kenobi-${i}`,
        clone: { vmId: 8000, nodeName: "pve", datastoreId: "local-lvm", full: true },
        started: true,
        onBoot: true,
        cpu: { cores: 1 },
        memory: { dedicated: 512 },
        networkDevices: [{ bridge: "vmbr2", model: "virtio" }],
        initialization: {
          ipConfigs: [{ ipv4: { address: `10.0.0.${29 + i}/24`, gateway: "10.0.0.1" } }],
        },
      });
      const snippet = byName(`kenobi-${i}-user-data`);
      expect(snippet.inputs.contentType).toBe("snippets");
      expect(snippet.inputs.sourceRaw.data).toContain(`INSTANCE=kenobi-${i}`);
      // Content-addressed: sha256 of the user-data in the name, and the VM points at that file.
      const digest = createHash("sha256").update(snippet.inputs.sourceRaw.data).digest("hex").slice(0, 12);
      expect(snippet.inputs.sourceRaw.fileName).toBe(`kantai-kenobi-${i}-${digest}.user-data.yaml`);
      expect(vm.inputs.initialization.userDataFileId).toBe(
        `local:snippets/kantai-kenobi-${i}-${digest}.user-data.yaml`,
      );
    }
  });

  it("every clone is replaced safely: deleted first (fixed VM ID)", () => {
    // A user-data change replaces the VM (initialization.user_data_file_id forces replacement:
    // bpg/terraform-provider-proxmox#1636, #2901); with a fixed vmId, create-before-delete would
    // collide on the ID, so the old VM goes first.
    const clones = ofType(VM).filter((r) => (r.inputs as any).clone);
    expect(clones.length).toBe(8);
    for (const vm of clones) {
      expect(vm.deleteBeforeReplace, vm.name).toBe(true);
    }
  });

  it("clones of one template: at most two at once, each with clone retries (bpg #995)", () => {
    // bpg/terraform-provider-proxmox#995 and #1521: concurrent clones of one template fail with
    // "can't lock file '/var/lock/qemu-server/lock-<id>.conf' - got timeout"; clone.retries retries
    // (VmLegacyClone.retries in the SDK's types), and the k-th clone waits for the (k-2)-th.
    const of8000 = ofType(VM)
      .filter((r) => (r.inputs as any).clone?.vmId === 8000)
      .map((r) => r.name);
    expect(of8000).toEqual([
      "kenobi-1-vm",
      "kenobi-2-vm",
      "kenobi-3-vm",
      "kenobi-4-vm",
      "kenobi-5-vm",
      "kenobi-lb-vm",
      "ci-runner-vm-vm",
    ]);
    of8000.forEach((n, k) => {
      expect(byName(n).dependsOn, n).toEqual(k >= 2 ? [of8000[k - 2]] : []);
      expect(byName(n).inputs.clone.retries, n).toBe(3);
    });
  });

  it("no VM waits for the guest agent's IP report (static addresses; 15-min wait on refresh)", () => {
    // VmLegacyAgentWaitForIp.disabled (SDK types/input.d.ts): "the provider does not wait for the
    // agent during refresh and at the end of apply".
    for (const vm of ofType(VM)) expect((vm.inputs as any).agent.waitForIp, vm.name).toEqual({ disabled: true });
  });

  it("the load balancer: kenobi-6 at 10.0.0.35, 1 core / 1 GB, after the web VMs", () => {
    const lb = byName("kenobi-lb");
    expect(lb.dependsOn).toEqual(["kenobi-1", "kenobi-2", "kenobi-3", "kenobi-4", "kenobi-5"]);
    expect(byName("kenobi-lb-vm").inputs).toMatchObject({
      vmId: 805,
      name: "kenobi-6",
      clone: { vmId: 8000 },
      cpu: { cores: 1 },
      memory: { dedicated: 1024 },
      initialization: { ipConfigs: [{ ipv4: { address: "10.0.0.35/24", gateway: "10.0.0.1" } }] },
    });
    // The gateway is every VM's only resolver: VMs come after it (issue 10 item 4).
    expect(byName("kenobi").dependsOn).toEqual(["lan", "hosts"]);
    expect(byName("grogu").dependsOn).toEqual(["lan", "hosts"]);
  });

  it("a fleet-size change re-applies the load balancer's Caddyfile over SSH instead of replacing the VM", () => {
    const ud = byName("kenobi-lb-user-data").inputs.sourceRaw.data as string;
    expect(ud).not.toContain("reverse_proxy");
    expect(ud).not.toContain("10.0.0.30:3000");
    expect(ud).not.toMatch(/enable.*kantai-caddy/);
    const cfg = byName("kenobi-lb-config");
    expect(cfg.parent).toBe("kenobi");
    expect(cfg.dependsOn).toEqual(["kenobi-lb"]);
    expect(cfg.inputs.connection).toBe("[secret]");
    expect(cfg.inputs.update).toBe(cfg.inputs.create);
    expect(cfg.inputs.create).toMatch(/^sudo -n sh -c /);
    for (let i = 0; i < 5; i++) expect(cfg.inputs.create).toContain(`10.0.0.${30 + i}:3000`);
    expect(cfg.inputs.triggers).toHaveLength(1);
  });

  it("the gateway: one idempotent host command with install, update and removal", () => {
    const cmd = byName("hosts-install");
    expect(cmd.inputs.connection).toBe("[secret]");
    expect(cmd.inputs.update).toBe(cmd.inputs.create);
    expect(cmd.inputs.create).toContain("apt-get install -y -q bind9 bind9-utils caddy");
    expect(cmd.inputs.delete).toContain("named.conf.kantai-orig");
  });

  it("keeps secrets secret: the provider's token and SSH settings, every connection", () => {
    const p = byName("proxmox");
    expect(p.inputs.apiToken).toBe("[secret]");
    expect(p.inputs.ssh).toBe("[secret]");
    const text = JSON.stringify(resources);
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).not.toContain("placeholder=00000000");
  });

  it("sets no password anywhere: SSH keys only", () => {
    for (const r of ofType("proxmoxve:index/fileLegacy:FileLegacy")) {
      const data = (r.inputs as any).sourceRaw.data as string;
      expect(data).toContain("ssh_pwauth: false");
      expect(data).toContain("lock_passwd: true");
      expect(data).not.toMatch(/^\s*(password|passwd|chpasswd|plain_text_passwd):/m);
    }
    for (const r of ofType(VM)) expect((r.inputs as any).initialization?.userAccount).toBeUndefined();
  });

  it("exports the outputs contract", () => {
    expect(outputs).toEqual({
      composition: "homelab",
      domain: "hosts.pve",
      nameserver: "10.15.40.20",
      network: { bridge: "vmbr2", cidr: "10.0.0.0/24", gateway: "10.0.0.1" },
      templates: { standalone: 8000, knative: 9000 },
      fleet: {
        instances: [1, 2, 3, 4, 5].map((i) => ({ name: `kenobi-${i}`, vmId: 799 + i, ip: `10.0.0.${29 + i}` })),
        loadBalancer: { name: "kenobi-6", vmId: 805, ip: "10.0.0.35" },
        siteUrls: ["one", "two", "three", "four", "five"].map((w) => `http://${w}.standalone.hosts.pve`),
      },
      testUrl: "http://test.hosts.pve",
      grogu: {
        name: "grogu",
        vmId: 600,
        ip: "10.0.0.10",
        apiServer: "https://10.0.0.10:8443",
        kubeconfig: "[secret]",
        knativeDomain: "local.knative",
        serviceUrlTemplate: "http://{service}.grogu.hosts.pve",
        serviceUrls: { "fibonacci-behavior": "http://fibonacci-behavior.grogu.hosts.pve" },
      },
      ciRunner: {
        name: "ci-runner",
        vmId: 810,
        ip: "10.0.0.40",
        repository: "acme/homelab",
        labels: ["self-hosted", "kantai"],
      },
    });
  });
});
