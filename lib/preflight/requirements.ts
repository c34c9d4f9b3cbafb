/**
 * The Proxmox privileges kantai's resources need, per ACL path, each with the upstream check it
 * comes from. Pure. Sources (pve-* repositories on git.proxmox.com, mirrored on GitHub as
 * proxmox/<name>):
 *
 * - download.File → POST /nodes/{node}/storage/{storage}/download-url: pve-storage
 *   src/PVE/API2/Storage/Status.pm `download_url` permissions: `Datastore.AllocateTemplate` on
 *   /storage/{storage} and (`Sys.Audit`+`Sys.Modify` on / or `Sys.AccessNetwork` on /nodes/{node}).
 * - importFrom "<storage>:import/<file>": pve-storage src/PVE/Storage.pm `check_volume_access`:
 *   import volumes need `Datastore.AllocateSpace` or `Datastore.Audit` on /storage/{storage}.
 * - network.linux.Bridge → POST/PUT /nodes/{node}/network: pve-manager PVE/API2/Network.pm,
 *   `Sys.Modify` on /nodes/{node}.
 * - VmLegacy create/clone/config/start: qemu-server src/PVE/API2/Qemu.pm — create: `VM.Allocate` on
 *   /vms/{vmid}, `Datastore.AllocateSpace` on used storages, `SDN.Use` on used bridges; clone:
 *   `VM.Clone` on the source, `VM.Allocate` on /vms/{newid}; config: the `VM.Config.*` privilege of
 *   each option; start/stop: `VM.PowerMgmt`; status: `VM.Audit`.
 * - Bridges as SDN objects: pve-guest-common src/PVE/GuestHelpers.pm `check_vnet_access`:
 *   `SDN.Use` on /sdn/zones/localnetwork/{bridge}.
 * - Guest agent reads (the provider waits for the agent's addresses): qemu-server agent API,
 *   `VM.GuestAgent.Audit` (PVE 9) or `VM.Monitor` (PVE 8; removed in 9).
 * - APT repositories and subscription status: pve-manager PVE/API2/APT.pm `repositories`
 *   (`Sys.Audit` on /nodes/{node}); PVE/API2/Subscription.pm (any user).
 */
import type { PreflightTarget } from "./findings";

/** One way to satisfy a requirement: all of `privs` on `path`. */
export interface PrivOption {
  readonly path: string;
  readonly privs: readonly string[];
}

export interface Requirement {
  /** Satisfied when any option holds in full. */
  readonly options: readonly PrivOption[];
  readonly why: string;
}

const VM_CONFIG = [
  "VM.Audit",
  "VM.Config.CPU",
  "VM.Config.Memory",
  "VM.Config.Disk",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.Config.HWType",
  "VM.Config.Cloudinit",
  "VM.PowerMgmt",
];

/** Every privilege requirement of the target, in the order resources are created. */
export function requirements(t: PreflightTarget): Requirement[] {
  const out: Requirement[] = [];
  out.push({
    options: [{ path: `/storage/${t.storage.images}`, privs: ["Datastore.AllocateTemplate", "Datastore.Audit"] }],
    why: "download the cloud image",
  });
  out.push({
    options: [
      { path: "/", privs: ["Sys.Audit", "Sys.Modify"] },
      { path: `/nodes/${t.image.node}`, privs: ["Sys.AccessNetwork"] },
    ],
    why: "let the node fetch a URL (download-url)",
  });
  out.push({
    options: [{ path: `/nodes/${t.networkNode}`, privs: ["Sys.Audit", "Sys.Modify"] }],
    why: "create the internal bridge",
  });
  out.push({
    options: [{ path: `/storage/${t.storage.disks}`, privs: ["Datastore.AllocateSpace", "Datastore.Audit"] }],
    why: "allocate VM disks",
  });
  out.push({
    options: [{ path: `/storage/${t.storage.snippets}`, privs: ["Datastore.Audit"] }],
    why: "read back cloud-init snippets",
  });
  out.push({
    options: [{ path: `/sdn/zones/localnetwork/${t.bridge}`, privs: ["SDN.Use"] }],
    why: `attach VMs to ${t.bridge}`,
  });
  for (const tpl of t.templates) {
    out.push({
      options: [{ path: `/vms/${tpl.vmId}`, privs: ["VM.Allocate", "VM.Clone", ...VM_CONFIG] }],
      why: `create template ${tpl.name} and clone it`,
    });
  }
  for (const vm of t.vms) {
    out.push({
      options: [{ path: `/vms/${vm.vmId}`, privs: ["VM.Allocate", ...VM_CONFIG] }],
      why: `clone, configure and start ${vm.name}`,
    });
    out.push({
      options: [
        { path: `/vms/${vm.vmId}`, privs: ["VM.GuestAgent.Audit"] },
        { path: `/vms/${vm.vmId}`, privs: ["VM.Monitor"] },
      ],
      why: `read ${vm.name}'s addresses from the guest agent`,
    });
  }
  return out;
}

/** Distinct ACL paths the requirements name (one /access/permissions call each). */
export function requiredPaths(reqs: readonly Requirement[]): string[] {
  return [...new Set(reqs.flatMap((r) => r.options.map((o) => o.path)))];
}

/**
 * Privileges that exist only from / until a PVE major version (pve-access-control
 * debian/changelog: 9.0.2 "drop VM.Monitor in favor of more granular VM.GuestAgent.*").
 */
export function privilegeExists(priv: string, pveMajor: number): boolean {
  if (priv === "VM.Monitor") return pveMajor < 9;
  if (priv.startsWith("VM.GuestAgent.")) return pveMajor >= 9;
  return true;
}

/** Privileges for a role that satisfies every requirement on PVE `pveMajor` (its first option that exists there). */
export function rolePrivileges(reqs: readonly Requirement[], pveMajor: number): string[] {
  const pick = (r: Requirement) =>
    r.options.find((o) => o.privs.every((p) => privilegeExists(p, pveMajor))) ?? r.options[0];
  return [...new Set(reqs.flatMap((r) => pick(r).privs))].sort();
}
