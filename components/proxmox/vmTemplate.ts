import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../artifact";
import { commonVmArgs, type VmDatastores, type VmDns } from "./vmCommon";
import { TemplateGuard } from "./templateGuard";

export interface VmTemplateArgs {
  /** Proxmox node. */
  readonly node: string;
  /** Template VM ID. Seed: 8000 (standalone), 9000 (knative). */
  readonly vmId: number;
  /** Template VM name. Defaults to "template-<component name>". */
  readonly vmName?: string;
  /** Cores of the profile (clones may override). Seed: 1 (standalone), 6 (knative). */
  readonly cores: number;
  /** Memory of the profile, MB. Seed: 512 (standalone), 8192 (knative). */
  readonly memoryMb: number;
  /** Size of the imported disk after resize, GB (kantai:templates.<key>.diskGb; default: stacks/config). */
  readonly diskGb: number;
  /** Volume id of the cloud image ("local:import/<file>"). */
  readonly importFrom: pulumi.Input<string>;
  /** What identifies the image (URL, file name, checksum): a change replaces the template. */
  readonly imageIdentity: string;
  /** Bridge of the NIC. */
  readonly bridge: pulumi.Input<string>;
  readonly datastores: VmDatastores;
  /** DNS servers and search domain for clones. */
  readonly dns: VmDns;
  /**
   * Allow this run to replace the template (kantai:templates.<key>.allowReplace): unprotects it and
   * lets the guard pass. False: an edit that would replace it fails in preview (default in stacks/config/proxmox.ts).
   */
  readonly allowReplace: boolean;
}

/**
 * A cloud-image VM template (seed 000's `qm create … && qm template`): imported and resized disk on
 * virtio-scsi, serial console, cloud-init drive, QEMU guest agent. It is never booted, so it has no
 * user-data of its own: each clone brings its user-data (users, SSH keys, packages), and an SSH
 * key rotation does not touch the template.
 *
 * Protected: `pulumi destroy` refuses to delete it, and an edit that would replace it (node, VM ID,
 * image, disk datastore, a smaller disk) fails in preview with what to do (TemplateGuard), unless
 * `allowReplace` is set. A replacement deletes the old template first (its VM ID is fixed).
 */
export class VmTemplate extends pulumi.ComponentResource {
  public readonly vm: proxmox.VmLegacy;
  public readonly guard: TemplateGuard;
  /** Template VM ID (an output, so clones depend on the template). */
  public readonly vmId: pulumi.Output<number>;
  public readonly node: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: VmTemplateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:proxmox:VmTemplate", name, {}, opts);
    const vmName = args.vmName ?? `template-${name}`;
    const { allowReplace, diskGb } = args;
    this.guard = new TemplateGuard(
      `${name}-guard`,
      {
        key: name,
        vmName,
        vmId: args.vmId,
        node: args.node,
        image: args.imageIdentity,
        diskDatastore: args.datastores.disks,
        diskGb,
        allowReplace,
      },
      { parent: this },
    );
    this.vm = new proxmox.VmLegacy(
      `${name}-vm`,
      {
        nodeName: args.node,
        vmId: args.vmId,
        name: vmName,
        description: "kantai VM template (cloud image + cloud-init). Managed by Pulumi.",
        tags: ["kantai", "template"],
        template: true,
        started: false,
        onBoot: false,
        cpu: { cores: args.cores, sockets: 1, type: "x86-64-v2-AES" },
        memory: { dedicated: args.memoryMb },
        ...commonVmArgs(args.bridge),
        disks: [
          {
            interface: "scsi0",
            datastoreId: args.datastores.disks,
            importFrom: args.importFrom,
            size: diskGb,
            discard: "on",
            ssd: true,
          },
        ],
        initialization: {
          datastoreId: args.datastores.disks,
          interface: "ide2",
          dns: { servers: [...args.dns.servers], domain: args.dns.domain },
        },
      },
      { parent: this, protect: !allowReplace, deleteBeforeReplace: true, dependsOn: [this.guard] },
    );
    this.vmId = this.vm.vmId.apply((id) => id ?? args.vmId);
    this.node = args.node;
    this.artifacts = [];
    this.registerOutputs({ vmId: this.vmId });
  }
}
