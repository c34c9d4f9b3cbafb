// preflight's judgement of recorded Proxmox VE API answers (test/fixtures/preflight/README.md
// names the upstream definition of every shape). Each case changes the healthy recording in one
// named way and asserts the exact finding.
import { describe, expect, it } from "vitest";
import { apiChecks } from "../lib/preflight/api";
import type { Finding } from "../lib/preflight/findings";
import { requirements, rolePrivileges } from "../lib/preflight/requirements";
import { devTarget, RECORDING, snapshotOf, type Recording } from "./support/preflight";

const t = devTarget();
const fresh = (): Recording => JSON.parse(JSON.stringify(RECORDING));
const problems = (fs: Finding[]) => fs.filter((f) => f.level === "error" || f.level === "warning");
const run = (change: (r: Recording) => void, target = t) => {
  const r = fresh();
  change(r);
  return problems(apiChecks(target, snapshotOf(target, r)));
};

describe("preflight against a recorded PVE 8.4 host", () => {
  it("the dev stack's target: what it creates on the host", () => {
    expect(t.templates.map((x) => `${x.name}:${x.vmId}@${x.node}`)).toEqual([
      "template-standalone:8000@pve",
      "template-knative:9000@pve",
    ]);
    expect(t.vms.map((x) => x.vmId)).toEqual([800, 801, 802, 803, 804, 805, 600]);
    expect(t.storage).toEqual({ images: "local", disks: "local-lvm", snippets: "local" });
  });

  it("a host that has everything: no problem, and each check passed", () => {
    const all = apiChecks(t, snapshotOf(t, fresh()));
    expect(problems(all)).toEqual([]);
    const byCheck = (c: string) => all.filter((f) => f.check === c).map((f) => `${f.where}: ${f.message}`);
    expect(byCheck("version")).toEqual(["/version: Proxmox VE 8.4 (pve-manager 8.4.1)"]);
    expect(byCheck("storage")).toEqual([
      'local on pve: has content type "import" (the cloud image)',
      'local-lvm on pve: has content type "images" (VM disks)',
      'local on pve: has content type "snippets" (cloud-init snippets)',
    ]);
    expect(byCheck("privileges").length).toBe(requirements(t).length);
    expect(byCheck("vm-ids")).toContain("VM 800: free for VM kenobi-1");
    expect(byCheck("template")).toEqual([
      "VM 8000: free for template template-standalone",
      "VM 9000: free for template template-knative",
    ]);
    expect(byCheck("image")).toEqual([
      "local:import/jammy-server-cloudimg-amd64.qcow2: not on the datastore yet: the first `pulumi up` downloads it",
    ]);
    expect(byCheck("repository")).toEqual(["/nodes/pve/apt/repositories: No-Subscription enabled"]);
  });

  it("PVE 8.3 is too old for .qcow2 import downloads", () => {
    expect(run((r) => (r["/version"] = { release: "8.3", version: "8.3.5", repoid: "dac3aa88bac3f300" }))).toEqual([
      {
        level: "error",
        check: "version",
        where: "/version",
        message:
          "Proxmox VE 8.3 (pve-manager 8.3.5) cannot download a .qcow2 cloud image as import content; kantai needs 8.4 or later",
        fix: "upgrade the node: apt update && apt full-upgrade (or the major upgrade guide for 7.x)",
      },
    ]);
  });

  it("a storage without import and snippets: one pvesm command adds both", () => {
    const found = run((r) => {
      for (const k of ["/storage", "/nodes/pve/storage"]) r[k][0].content = "iso,vztmpl,backup";
    });
    expect(found.map((f) => `${f.where}: ${f.message} | ${f.fix}`)).toEqual([
      'local on pve: storage "local" lacks content type "import" (the cloud image); it has iso,vztmpl,backup | pvesm set local --content iso,vztmpl,backup,import,snippets',
      'local on pve: storage "local" lacks content type "snippets" (cloud-init snippets); it has iso,vztmpl,backup | pvesm set local --content iso,vztmpl,backup,import,snippets',
    ]);
  });

  it("images on an LVM-thin storage cannot hold the import file", () => {
    const target = { ...t, storage: { ...t.storage, images: "local-lvm" } };
    const found = run(() => undefined, target).filter((f) => f.check === "storage");
    expect(found.map((f) => `${f.message} | ${f.fix}`)).toEqual([
      'storage "local-lvm" is of type lvmthin, which cannot hold "import" content (the cloud image); it needs a file-based storage such as "local" (dir) | pulumi config set --path storage.images local --stack dev',
    ]);
  });

  it("a storage missing on the node, disabled or inactive", () => {
    expect(run((r) => r["/nodes/pve/storage"].splice(1, 1)).map((f) => f.message)).toEqual([
      'storage "local-lvm" (kantai:storage.disks, for VM disks) does not exist on node pve',
    ]);
    expect(run((r) => (r["/nodes/pve/storage"][1].active = 0)).map((f) => f.message)).toEqual([
      'storage "local-lvm" is not active (not mounted or unreachable)',
    ]);
  });

  it("missing privileges: each named on its path, and one role that has them all (PVE 8: VM.Monitor)", () => {
    const found = run((r) => {
      delete r["/access/permissions?path=/storage/local"]["/storage/local"]["Datastore.AllocateTemplate"];
      r["/access/permissions?path=/sdn/zones/localnetwork/vmbr2"] = {};
    });
    expect(found.map((f) => `${f.where}: ${f.message} | ${f.fix}`)).toEqual([
      "/storage/local: the token lacks Datastore.AllocateTemplate, needed to download the cloud image | pveum acl modify /storage/local --tokens 'kantai@pve!deploy' --roles KantaiDeploy",
      "/sdn/zones/localnetwork/vmbr2: the token lacks SDN.Use, needed to attach VMs to vmbr2 | pveum acl modify /sdn/zones/localnetwork/vmbr2 --tokens 'kantai@pve!deploy' --roles KantaiDeploy",
      "role KantaiDeploy: a role with every privilege kantai needs (a privilege-separated token also needs them on its user) | " +
        'pveum role add KantaiDeploy --privs "Datastore.AllocateSpace,Datastore.AllocateTemplate,Datastore.Audit,SDN.Use,Sys.Audit,Sys.Modify,VM.Allocate,VM.Audit,VM.Clone,VM.Config.CPU,VM.Config.Cloudinit,VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,VM.Config.Network,VM.Config.Options,VM.Monitor,VM.PowerMgmt" && ' +
        "pveum acl modify / --users 'kantai@pve' --roles KantaiDeploy && pveum acl modify / --tokens 'kantai@pve!deploy' --roles KantaiDeploy",
    ]);
  });

  it("download-url's alternative: Sys.AccessNetwork on the node instead of Sys.Modify on /", () => {
    const found = run((r) => {
      const root = r["/access/permissions?path=/"]["/"];
      delete root["Sys.Modify"];
    });
    expect(found).toEqual([]);
    const both = run((r) => {
      delete r["/access/permissions?path=/"]["/"]["Sys.Modify"];
      delete r["/access/permissions?path=/nodes/pve"]["/nodes/pve"]["Sys.AccessNetwork"];
    });
    expect(both[0].message).toBe(
      "the token lacks Sys.Modify (or Sys.AccessNetwork on /nodes/pve), needed to let the node fetch a URL (download-url)",
    );
  });

  it("PVE 9 dropped VM.Monitor: VM.GuestAgent.Audit is what the agent reads need", () => {
    const found = run((r) => {
      r["/version"] = { release: "9.0", version: "9.0.10", repoid: "deb1ca707ec72a89" };
      for (const v of [800, 801, 802, 803, 804, 805, 600])
        delete r[`/access/permissions?path=/vms/${v}`][`/vms/${v}`]["VM.Monitor"];
    });
    expect(found.filter((f) => f.where === "/vms/800").map((f) => f.message)).toEqual([
      "the token lacks VM.GuestAgent.Audit, needed to read kenobi-1's addresses from the guest agent",
    ]);
    expect(rolePrivileges(requirements(t), 9)).toContain("VM.GuestAgent.Audit");
    expect(rolePrivileges(requirements(t), 9)).not.toContain("VM.Monitor");
    expect(rolePrivileges(requirements(t), 8)).not.toContain("VM.GuestAgent.Audit");
  });

  it("a VM ID another guest holds: the fix names a free range for the key", () => {
    const found = run((r) =>
      r["/cluster/resources?type=vm"].push({
        id: "qemu/802",
        type: "qemu",
        vmid: 802,
        name: "old-web",
        node: "pve",
        status: "stopped",
        template: 0,
      }),
    );
    expect(found).toEqual([
      {
        level: "error",
        check: "vm-ids",
        where: "VM 802",
        message: 'VM ID 802, wanted for VM kenobi-3 (kantai:fleet.firstVmId), is taken by qemu "old-web" on pve',
        fix: "pick a free ID: pulumi config set --path fleet.firstVmId 102 --stack dev",
      },
    ]);
  });

  it("the template present already: a warning; its ID held by a plain VM: an error", () => {
    const present = run((r) =>
      r["/cluster/resources?type=vm"].push({
        id: "qemu/8000",
        type: "qemu",
        vmid: 8000,
        name: "template-standalone",
        node: "pve",
        status: "stopped",
        template: 1,
      }),
    );
    expect(present.map((f) => `${f.level} ${f.check} ${f.message}`)).toEqual([
      'warning template qemu "template-standalone" on pve (a template) exists already: fine if this stack created it; a new stack\'s first `pulumi up` fails on it ("VM 8000 already exists")',
    ]);
    const plain = run((r) =>
      r["/cluster/resources?type=vm"].push({
        id: "qemu/9000",
        type: "qemu",
        vmid: 9000,
        name: "k8s",
        node: "pve",
        status: "running",
        template: 0,
      }),
    );
    expect(plain.map((f) => `${f.level} ${f.message}`)).toEqual([
      'error VM ID 9000, wanted for template template-knative (kantai:templates.knative.vmId), is taken by qemu "k8s" on pve',
    ]);
  });

  it("the image on the datastore already", () => {
    const found = run((r) =>
      r["/nodes/pve/storage/local/content?content=import"].push({
        volid: "local:import/jammy-server-cloudimg-amd64.qcow2",
        format: "qcow2",
        size: 675282944,
        content: "import",
        ctime: 1726140000,
      }),
    );
    expect(found.map((f) => `${f.message} | ${f.fix}`)).toEqual([
      "is on the datastore already (qcow2, 675282944 bytes): fine if this stack downloaded it; a new stack's download fails on a file it did not create (overwriteUnmanaged is false) | pvesm free local:import/jammy-server-cloudimg-amd64.qcow2   (or pulumi import the download)",
    ]);
  });

  it("the enterprise repository without a subscription (PVE's default after install)", () => {
    const found = run((r) => {
      const repos = r["/nodes/pve/apt/repositories"]["standard-repos"];
      repos[0].status = 1;
      repos[1].status = undefined;
      repos[3].status = 1;
    });
    expect(found).toEqual([
      {
        level: "error",
        check: "repository",
        where: "/nodes/pve/apt/repositories",
        message:
          "Enterprise, Ceph Reef Enterprise enabled without an active subscription (notfound): apt-get update answers 401 Unauthorized and the gateway install stops",
        fix: 'web UI: pve > Updates > Repositories: disable the enterprise ones, Add "No-Subscription" (docs/how-to/first-deploy.md#5-package-repository-enterprise-or-no-subscription)',
      },
    ]);
    expect(
      run((r) => {
        r["/nodes/pve/apt/repositories"]["standard-repos"][0].status = 1;
        r["/nodes/pve/subscription"] = { status: "active" };
      }),
    ).toEqual([]);
  });

  it("a configured node the cluster does not have", () => {
    const found = run((r) => (r["/nodes"][0].node = "pve1"));
    expect(found.map((f) => `${f.where}: ${f.message} | ${f.fix}`)).toContain(
      `kantai:proxmoxNodes[0].name: node "pve" is not in the cluster (it has "pve1") | pulumi config set --path 'proxmoxNodes[0].name' <node name as in the web UI> --stack dev`,
    );
  });

  it("a failed call is reported with a fix for its cause", () => {
    const snap = {
      ...snapshotOf(t, fresh()),
      failures: {
        "GET /version": "GET https://10.15.40.20:8006/api2/json/version return Error 401 authentication failure: {}",
      },
    };
    expect(apiChecks(t, snap)[0]).toEqual({
      level: "error",
      check: "api",
      where: "GET /version",
      message: "GET https://10.15.40.20:8006/api2/json/version return Error 401 authentication failure: {}",
      fix: "check kantai:proxmoxApiToken: pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=<secret uuid>' --stack dev",
    });
  });
});
