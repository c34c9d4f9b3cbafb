import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../artifact";
import { commonVmArgs, userDataSnippet, type VmDatastores, type VmDns } from "./vmCommon";

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
}

/** A full clone of a template with its own user-data snippet, static address, cores and memory. */
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
      { node: args.node, datastore: args.datastores.snippets, fileName: `kantai-${args.hostname}.user-data.yaml`, data: args.userData },
      this,
    );
    this.vm = new proxmox.VmLegacy(
      `${name}-vm`,
      {
        nodeName: args.node,
        vmId: args.vmId,
        name: args.hostname,
        description: "kantai VM. Managed by Pulumi.",
        tags: [...(args.tags ?? ["kantai"])],
        clone: { vmId: args.templateVmId, nodeName: args.node, datastoreId: args.datastores.disks, full: true },
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
      { parent: this },
    );
    this.ip = args.address.split("/")[0];
    this.hostname = args.hostname;
    this.artifacts = [{ path: args.artifactPath, kind: "cloud-init", resource: `${name}-user-data`, content: args.userData }];
    this.registerOutputs({ ip: this.ip, hostname: this.hostname });
  }
}
