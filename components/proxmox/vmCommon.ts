import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";

/** Datastores a VM uses. */
export interface VmDatastores {
  /** VM disks and the cloud-init drive. Seed: "local-lvm". */
  readonly disks: string;
  /** cloud-init snippets (Snippets content type). Seed: "local". */
  readonly snippets: string;
}

/** DNS a VM's cloud-init configures: resolvers and search domain. */
export interface VmDns {
  readonly servers: readonly string[];
  readonly domain: string;
}

/** Settings every kantai VM and template shares (seed 000's template flags). */
export function commonVmArgs(bridge: pulumi.Input<string>) {
  return {
    scsiHardware: "virtio-scsi-pci",
    networkDevices: [{ bridge, model: "virtio", firewall: false }],
    serialDevices: [{ device: "socket" }],
    vga: { type: "serial0" },
    operatingSystem: { type: "l26" },
    agent: { enabled: true, timeout: "15m", trim: true },
    bootOrders: ["scsi0"],
  } satisfies Partial<proxmox.VmLegacyArgs>;
}

/** A cloud-init user-data snippet stored on the node. Its id goes to `initialization.userDataFileId`. */
export function userDataSnippet(
  name: string,
  args: { node: string; datastore: string; fileName: string; data: string },
  parent: pulumi.Resource,
): proxmox.FileLegacy {
  return new proxmox.FileLegacy(
    name,
    {
      nodeName: args.node,
      datastoreId: args.datastore,
      contentType: "snippets",
      sourceRaw: { data: args.data, fileName: args.fileName },
      overwrite: true,
    },
    { parent },
  );
}
