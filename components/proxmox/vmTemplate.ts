import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { BASE_PACKAGES, renderUserData } from "../../lib/render/cloudInit";
import type { Artifact } from "../artifact";
import { commonVmArgs, userDataSnippet, type VmDatastores, type VmDns } from "./vmCommon";

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
  /** Size of the imported disk after resize, GB. Defaults to 10. */
  readonly diskGb?: number;
  /** Volume id of the cloud image ("local:import/<file>"). */
  readonly importFrom: pulumi.Input<string>;
  /** Bridge of the NIC. */
  readonly bridge: pulumi.Input<string>;
  readonly datastores: VmDatastores;
  /** Login user. Defaults to "ubuntu". */
  readonly user?: string;
  /** Public SSH keys (password login stays disabled). */
  readonly sshAuthorizedKeys: readonly string[];
  /** DNS servers and search domain for clones. */
  readonly dns: VmDns;
}

/**
 * A cloud-image VM template (seed 000's `qm create … && qm template`): imported and resized disk on
 * virtio-scsi, serial console, cloud-init drive, QEMU guest agent, base packages via cloud-init.
 * Protected: `pulumi destroy` refuses to delete it until `protect` is lifted.
 */
export class VmTemplate extends pulumi.ComponentResource {
  public readonly vm: proxmox.VmLegacy;
  public readonly snippet: proxmox.FileLegacy;
  /** Template VM ID (an output, so clones depend on the template). */
  public readonly vmId: pulumi.Output<number>;
  public readonly node: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: VmTemplateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:proxmox:VmTemplate", name, {}, opts);
    const vmName = args.vmName ?? `template-${name}`;
    const userData = renderUserData({
      hostname: vmName,
      user: args.user,
      sshAuthorizedKeys: args.sshAuthorizedKeys,
      packages: BASE_PACKAGES,
      runcmd: [["systemctl", "enable", "--now", "qemu-guest-agent"]],
    });
    this.snippet = userDataSnippet(
      `${name}-user-data`,
      { node: args.node, datastore: args.datastores.snippets, fileName: `kantai-${vmName}.user-data.yaml`, data: userData },
      this,
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
            size: args.diskGb ?? 10,
            discard: "on",
            ssd: true,
          },
        ],
        initialization: {
          datastoreId: args.datastores.disks,
          interface: "ide2",
          dns: { servers: [...args.dns.servers], domain: args.dns.domain },
          userDataFileId: this.snippet.id,
        },
      },
      { parent: this, protect: true },
    );
    this.vmId = this.vm.vmId.apply((id) => id ?? args.vmId);
    this.node = args.node;
    this.artifacts = [{ path: `templates/${vmName}.user-data.yaml`, kind: "cloud-init", resource: `${name}-user-data`, content: userData }];
    this.registerOutputs({ vmId: this.vmId });
  }
}
