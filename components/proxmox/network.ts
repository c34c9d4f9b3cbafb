import * as command from "@pulumi/command";
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { asHostRoot, renderNatCreate, renderNatDelete, type NatSpec } from "../../lib/render/hostScripts";
import type { Artifact } from "../artifact";
import type { SshConnection } from "../connection";

export interface ProxmoxNetworkArgs {
  /** Proxmox node that carries the bridge. */
  readonly node: string;
  /** Bridge name. Seed: "vmbr2". */
  readonly bridge: string;
  /** Canonical internal subnet, e.g. "10.0.0.0/24". */
  readonly subnet: string;
  /** Bridge address = the VMs' gateway, e.g. "10.0.0.1". */
  readonly gateway: string;
  /** Prefix length of `subnet`. */
  readonly prefix: number;
  /** Host interface the NAT masquerades to. Seed: "vmbr0". */
  readonly uplink: string;
  /** SSH connection to the node, for forwarding and NAT. */
  readonly connection: pulumi.Input<SshConnection>;
  /** Comment on the bridge. Defaults to "kantai internal network". */
  readonly comment?: string;
}

/**
 * The internal bridge (no ports, like the seed's vmbr2) plus IPv4 forwarding and a MASQUERADE rule
 * to the uplink, owned by a systemd unit on the host so it survives reboots. Re-running adds no
 * duplicate rule; destroying removes it. Any change to the NAT inputs replaces the host command
 * (old rule removed first, then the new one added).
 */
export class ProxmoxNetwork extends pulumi.ComponentResource {
  public readonly bridge: proxmox.network.linux.Bridge;
  public readonly nat: command.remote.Command;
  public readonly bridgeName: pulumi.Output<string>;
  public readonly gateway: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: ProxmoxNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token names the class (kantai:<area>:<Kind>). It was "kantai:proxmox:Network": the alias
    // keeps the existing component and, through it, its children (the engine combines a parent's
    // aliases with each child's name and type), so the rename replaces nothing.
    // https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/
    super(
      "kantai:proxmox:ProxmoxNetwork",
      name,
      {},
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), { type: "kantai:proxmox:Network" }],
      },
    );

    this.bridge = new proxmox.network.linux.Bridge(
      `${name}-bridge`,
      {
        nodeName: args.node,
        name: args.bridge,
        address: `${args.gateway}/${args.prefix}`,
        autostart: true,
        vlanAware: false,
        comment: args.comment ?? "kantai internal network",
      },
      { parent: this },
    );

    const spec: NatSpec = { bridge: args.bridge, subnet: args.subnet, uplink: args.uplink };
    const create = renderNatCreate(spec);
    const del = renderNatDelete(spec);
    this.nat = new command.remote.Command(
      `${name}-nat`,
      // As root: directly, or with `sudo -n` when kantai:sshUser is not root.
      {
        connection: args.connection,
        create: asHostRoot(create, "kantai-nat-create"),
        delete: asHostRoot(del, "kantai-nat-delete"),
        triggers: [args.bridge, args.subnet, args.uplink],
      },
      { parent: this, dependsOn: [this.bridge], deleteBeforeReplace: true },
    );

    this.bridgeName = this.bridge.name.apply((n) => n ?? args.bridge);
    this.gateway = args.gateway;
    this.artifacts = [
      { path: `${name}/nat-create.sh`, kind: "shell", resource: `${name}-nat`, content: create },
      { path: `${name}/nat-delete.sh`, kind: "shell", resource: `${name}-nat`, content: del },
    ];
    this.registerOutputs({ bridgeName: this.bridgeName, gateway: this.gateway });
  }
}
