import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../artifact";
import { commonVmArgs, contentAddressedName, userDataSnippet, type VmDatastores, type VmDns } from "./vmCommon";

/**
 * Full clones of one template that may run at once. Proxmox locks the template's config for each
 * clone, and several clones of one template started together time out on that lock
 * (bpg/terraform-provider-proxmox#995, #1521); the provider's `clone.retries` retries a failed clone.
 */
export const CLONE_PARALLELISM = 2;
/** Retries of a clone that failed (the provider's `clone.retries`). */
export const CLONE_RETRIES = 3;

/**
 * Clones registered so far, per template. Keyed by the template's `vmId` Output object (one per
 * VmTemplate, shared by every consumer: fleet, grogu, K3s), so the bound holds across components
 * without any of them knowing about the others. A WeakMap: nothing outlives the program run.
 */
const clonesOfTemplate = new WeakMap<object, proxmox.VmLegacy[]>();

/** The clones a new clone of `template` must wait for: the one `parallelism` places back, if any. */
export function cloneAfter(template: pulumi.Input<number>, parallelism = CLONE_PARALLELISM): proxmox.VmLegacy[] {
  if (typeof template !== "object" || template === null) return [];
  const earlier = clonesOfTemplate.get(template) ?? [];
  return earlier.length >= parallelism ? [earlier[earlier.length - parallelism]] : [];
}

function registerClone(template: pulumi.Input<number>, vm: proxmox.VmLegacy): void {
  if (typeof template !== "object" || template === null) return;
  const list = clonesOfTemplate.get(template) ?? [];
  list.push(vm);
  clonesOfTemplate.set(template, list);
}

export interface ClonedVmArgs {
  /** Proxmox node. */
  readonly node: string;
  /** VM ID. */
  readonly vmId: number;
  /** VM and host name. */
  readonly hostname: string;
  /** Template VM ID to clone (an output of VmTemplate, so the clone depends on it). */
  readonly templateVmId: pulumi.Input<number>;
  /** Address with prefix, e.g. "10.0.0.30/24". */
  readonly address: string;
  /** Default gateway. */
  readonly gateway: string;
  readonly dns: VmDns;
  readonly cores: number;
  readonly memoryMb: number;
  /** Bridge of the NIC. */
  readonly bridge: pulumi.Input<string>;
  readonly datastores: VmDatastores;
  /** Complete cloud-init user-data (rendered by the caller). */
  readonly userData: string;
  /** Where synth writes the user-data, relative to files/. */
  readonly artifactPath: string;
  /** Proxmox tags. Defaults to ["kantai"]. */
  readonly tags?: readonly string[];
  /** Boot order on the host; lower starts first. Defaults to unset. */
  readonly startupOrder?: number;
  /** Clones of the same template that may be created at once. Defaults to CLONE_PARALLELISM (2). */
  readonly cloneParallelism?: number;
}

/**
 * What a component running one VM cloned onto the internal bridge shares (grogu, the CI runner):
 * the clone's placement and size, its static address, and the SSH access kantai reaches it with
 * (through a Proxmox node, since the bridge is internal).
 */
export interface BridgeVmArgs {
  /** Proxmox node of the VM (the template's node). */
  readonly node: string;
  /** VM ID. */
  readonly vmId: number;
  /** VM and host name. */
  readonly hostname: string;
  /** Template to clone (a VmTemplate's vmId output, so the clone depends on it). */
  readonly templateVmId: pulumi.Input<number>;
  /** Address on the internal bridge, without prefix. */
  readonly ip: string;
  /** Prefix length of the bridge's subnet. */
  readonly prefix: number;
  /** Default gateway. */
  readonly gateway: string;
  readonly dns: VmDns;
  readonly cores: number;
  readonly memoryMb: number;
  readonly bridge: pulumi.Input<string>;
  readonly datastores: VmDatastores;
  /** Login user of the VM (SSH keys only). */
  readonly user: string;
  readonly sshAuthorizedKeys: readonly string[];
  /** Private key for SSH to the VM (through `jump`). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The Proxmox node kantai already reaches over SSH; the VM sits behind it. */
  readonly jump: { readonly host: string; readonly user: string };
}

/** The ClonedVm arguments a BridgeVmArgs fixes: placement, size, network (`ip/prefix`). */
export function bridgeVmPlacement(
  a: BridgeVmArgs,
): Pick<
  ClonedVmArgs,
  | "node"
  | "vmId"
  | "hostname"
  | "templateVmId"
  | "address"
  | "gateway"
  | "dns"
  | "cores"
  | "memoryMb"
  | "bridge"
  | "datastores"
> {
  return {
    node: a.node,
    vmId: a.vmId,
    hostname: a.hostname,
    templateVmId: a.templateVmId,
    address: `${a.ip}/${a.prefix}`,
    gateway: a.gateway,
    dns: a.dns,
    cores: a.cores,
    memoryMb: a.memoryMb,
    bridge: a.bridge,
    datastores: a.datastores,
  };
}

/**
 * A full clone of a template with its own user-data snippet, static address, cores and memory.
 *
 * Replacement is safe (docs/decisions/0009-vm-replacement.md): a changed user-data gets a new
 * snippet file (content-addressed name), so the old snippet's delete cannot remove the new one;
 * the VM is deleted before its replacement is created, because the replacement keeps the fixed VM
 * ID. A replaced template (kantai:templates.<key>.allowReplace) deletes and re-clones its clones:
 * their `clone.vmId` comes from it, and Pulumi's delete-before-replace removes such dependents first.
 */
export class ClonedVm extends pulumi.ComponentResource {
  public readonly vm: proxmox.VmLegacy;
  public readonly snippet: proxmox.FileLegacy;
  public readonly ip: string;
  public readonly hostname: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: ClonedVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:proxmox:ClonedVm", name, {}, opts);
    this.snippet = userDataSnippet(
      `${name}-user-data`,
      {
        node: args.node,
        datastore: args.datastores.snippets,
        fileName: contentAddressedName(`kantai-${args.hostname}`, args.userData, ".user-data.yaml"),
        data: args.userData,
      },
      this,
    );
    const after = cloneAfter(args.templateVmId, args.cloneParallelism);
    this.vm = new proxmox.VmLegacy(
      `${name}-vm`,
      {
        nodeName: args.node,
        vmId: args.vmId,
        name: args.hostname,
        description: "kantai VM. Managed by Pulumi.",
        tags: [...(args.tags ?? ["kantai"])],
        clone: {
          vmId: args.templateVmId,
          nodeName: args.node,
          datastoreId: args.datastores.disks,
          full: true,
          retries: CLONE_RETRIES,
        },
        started: true,
        onBoot: true,
        ...(args.startupOrder !== undefined ? { startup: { order: args.startupOrder, upDelay: 5, downDelay: 5 } } : {}),
        cpu: { cores: args.cores, sockets: 1, type: "x86-64-v2-AES" },
        memory: { dedicated: args.memoryMb },
        ...commonVmArgs(args.bridge),
        initialization: {
          datastoreId: args.datastores.disks,
          interface: "ide2",
          ipConfigs: [{ ipv4: { address: args.address, gateway: args.gateway } }],
          dns: { servers: [...args.dns.servers], domain: args.dns.domain },
          userDataFileId: this.snippet.id,
        },
      },
      { parent: this, deleteBeforeReplace: true, ...(after.length > 0 ? { dependsOn: after } : {}) },
    );
    registerClone(args.templateVmId, this.vm);
    this.ip = args.address.split("/")[0];
    this.hostname = args.hostname;
    this.artifacts = [
      { path: args.artifactPath, kind: "cloud-init", resource: `${name}-user-data`, content: args.userData },
    ];
    this.registerOutputs({ ip: this.ip, hostname: this.hostname });
  }
}
