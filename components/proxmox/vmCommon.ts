import { createHash } from "node:crypto";
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
    // kantai gives every VM a static address, so nothing reads the agent's IP report: without
    // `waitForIp.disabled` the provider waits up to `timeout` for the agent on every create and every
    // refresh of a VM whose agent is not (yet) running (VmLegacyAgentWaitForIp in the SDK's types).
    agent: { enabled: true, timeout: "15m", trim: true, waitForIp: { disabled: true } },
    bootOrders: ["scsi0"],
  } satisfies Partial<proxmox.VmLegacyArgs>;
}

/**
 * `<prefix>-<first 12 hex of sha256(content)><suffix>`: a snippet whose content changes gets a new
 * file, so the replacement (created before the old one is deleted) never shares a path with the file
 * it replaces.
 */
export function contentAddressedName(prefix: string, content: string, suffix: string): string {
  return `${prefix}-${createHash("sha256").update(content).digest("hex").slice(0, 12)}${suffix}`;
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
