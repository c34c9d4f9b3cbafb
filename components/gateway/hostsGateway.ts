import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderNamedConf, renderZone } from "../../lib/render/bind";
import { renderRootCaddyfile, type RootProxyRoute } from "../../lib/render/caddy";
import { asHostRoot, renderGatewayInstall, renderGatewayRemove } from "../../lib/render/hostScripts";
import type { Artifact } from "../artifact";
import type { SshConnection } from "../connection";

export interface HostsGatewayArgs {
  /** Base domain served by BIND. Seed: "hosts.pve". */
  readonly domain: string;
  /** Address of the gateway host: target of `ns` and `*` records. */
  readonly address: string;
  /** Networks in the ACL "internal" (allowed to query and recurse). */
  readonly internalNetworks: readonly string[];
  /** Upstream resolvers. Seed: 1.1.1.1, 1.0.0.1. */
  readonly forwarders: readonly string[];
  /** Root proxy routes `*.<label>.<domain>` → upstream. */
  readonly routes: readonly RootProxyRoute[];
  /** SSH connection to the host that runs BIND and Caddy (the Proxmox node). */
  readonly connection: pulumi.Input<SshConnection>;
  /** Zone file path on the host. Defaults to "/var/lib/bind/db.<domain>". */
  readonly zoneFile?: string;
}

/**
 * The "hosts" gateway on the Proxmox host (see docs/decisions/0002-gateway-on-proxmox-host.md):
 * BIND answering the base domain (wildcard to the gateway) and forwarding the rest for internal
 * networks only, and a root Caddy routing `*.<label>.<domain>` to the fleet's load balancer, grogu
 * and others. One idempotent SSH command installs and updates both; content changes re-run it.
 */
export class HostsGateway extends pulumi.ComponentResource {
  public readonly install: command.remote.Command;
  public readonly namedConf: string;
  public readonly zone: string;
  public readonly caddyfile: string;
  public readonly nameserver: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: HostsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:gateway:HostsGateway", name, {}, opts);
    const zoneFile = args.zoneFile ?? `/var/lib/bind/db.${args.domain}`;
    this.zone = renderZone({ domain: args.domain, gatewayAddress: args.address });
    this.namedConf = renderNamedConf({
      domain: args.domain,
      zoneFile,
      internalNetworks: args.internalNetworks,
      forwarders: args.forwarders,
    });
    this.caddyfile = renderRootCaddyfile({ domain: args.domain, routes: args.routes });
    const create = renderGatewayInstall({
      domain: args.domain,
      namedConf: this.namedConf,
      zone: this.zone,
      zoneFile,
      caddyfile: this.caddyfile,
    });
    const remove = renderGatewayRemove(zoneFile);
    this.install = new command.remote.Command(
      `${name}-install`,
      // As root: directly, or with `sudo -n` when kantai:sshUser is not root.
      {
        connection: args.connection,
        create: asHostRoot(create, "kantai-gateway"),
        update: asHostRoot(create, "kantai-gateway"),
        delete: asHostRoot(remove, "kantai-gateway-remove"),
      },
      { parent: this, customTimeouts: { create: "15m", update: "15m" } },
    );
    this.nameserver = args.address;
    this.artifacts = [
      { path: `${name}/named.conf`, kind: "named-conf", resource: `${name}-install`, content: this.namedConf },
      { path: `${name}/db.${args.domain}`, kind: "bind-zone", resource: `${name}-install`, content: this.zone },
      { path: `${name}/Caddyfile`, kind: "caddyfile", resource: `${name}-install`, content: this.caddyfile },
      { path: `${name}/install.sh`, kind: "shell", resource: `${name}-install`, content: create },
      { path: `${name}/remove.sh`, kind: "shell", resource: `${name}-install`, content: remove },
    ];
    this.registerOutputs({ nameserver: this.nameserver });
  }
}
