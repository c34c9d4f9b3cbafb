import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderLoadBalancerCaddyfile, siteWords } from "../../lib/render/caddy";
import { LB_CADDYFILE, LB_UNIT, renderLoadBalancerUserData, renderWebUserData } from "../../lib/render/fleet";
import { renderLoadBalancerConfig } from "../../lib/render/hostScripts";
import { asRoot } from "../../lib/render/remoteShell";
import type { Artifact } from "../artifact";
import { DIAL_PATIENT, sshConnection } from "../k8s/connections";
import { ClonedVm } from "../proxmox/clonedVm";
import { webServiceSource } from "../webService";
import type { VmDatastores } from "../proxmox/vmCommon";

/** One VM of the fleet: stable name, VM ID and address. */
export interface FleetSlot {
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
}

export interface ConventionalFleetArgs {
  /** Proxmox node of the VMs. */
  readonly node: string;
  /** Template to clone (VmTemplate.vmId). */
  readonly templateVmId: pulumi.Input<number>;
  /** Web VMs in instance order (seed: kenobi-1..5, 10.0.0.30-34, VM 800-804). */
  readonly instances: readonly FleetSlot[];
  /** Cores per web VM. Seed: 1. */
  readonly cores: number;
  /** Memory per web VM, MB. Seed: 512. */
  readonly memoryMb: number;
  /** Web service port. Seed: 3000. */
  readonly port: number;
  /** Container image running the web service. Seed-equivalent: "node:22-alpine". */
  readonly image: string;
  /** The load balancer VM (seed: kenobi-6, 10.0.0.35, 1 core / 1024 MB). */
  readonly loadBalancer: FleetSlot & { readonly cores: number; readonly memoryMb: number; readonly caddyImage: string };
  /** Base domain of the sites (`<n>.<label>.<domain>`). */
  readonly domain: string;
  /** Sub-domain label (kantai:fleet.label; default in stacks/config/proxmox.ts). */
  readonly label: string;
  /** Subnet prefix length of the bridge. */
  readonly prefix: number;
  readonly gateway: string;
  readonly dnsServers: readonly string[];
  readonly bridge: pulumi.Input<string>;
  readonly datastores: VmDatastores;
  /** Login user (kantai:vmUser; default in stacks/config/proxmox.ts). */
  readonly user: string;
  readonly sshAuthorizedKeys: readonly string[];
  /** Source of the web service. Defaults to the repo's web/server.js. */
  readonly serviceSource?: string;
  /** Private key for SSH to the load balancer (through `jump`), which re-applies its Caddyfile. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The Proxmox node kantai reaches the bridge's VMs through. */
  readonly jump: { readonly host: string; readonly user: string };
}

/**
 * Seed 000's conventional system ("kenobi"): N web VMs running the fibonacci web service, and a
 * load-balancer VM whose Caddy serves `one…N.<label>.<domain>`, site k spreading requests over
 * the first k web VMs with least-conn and health checks.
 */
export class ConventionalFleet extends pulumi.ComponentResource {
  public readonly instances: ClonedVm[];
  public readonly loadBalancer: ClonedVm;
  /** Writes the load balancer's Caddyfile over SSH and restarts Caddy; re-runs when it changes. */
  public readonly loadBalancerConfig: command.remote.Command;
  /** Web VM addresses in instance order. */
  public readonly instanceIps: string[];
  public readonly loadBalancerIp: string;
  /** Site URLs in instance-count order: http://one.standalone.<domain>, … */
  public readonly siteUrls: string[];
  public readonly caddyfile: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: ConventionalFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:fleet:ConventionalFleet", name, {}, opts);
    const label = args.label;
    const serviceSource = args.serviceSource ?? webServiceSource();
    const dns = { servers: args.dnsServers, domain: args.domain };
    const common = {
      node: args.node,
      templateVmId: args.templateVmId,
      gateway: args.gateway,
      dns,
      bridge: args.bridge,
      datastores: args.datastores,
    };

    this.instances = args.instances.map((slot, i) => {
      const userData = renderWebUserData({
        hostname: slot.name,
        domain: args.domain,
        user: args.user,
        sshAuthorizedKeys: args.sshAuthorizedKeys,
        port: args.port,
        image: args.image,
        serviceSource,
      });
      return new ClonedVm(
        `${name}-${i + 1}`,
        {
          ...common,
          vmId: slot.vmId,
          hostname: slot.name,
          address: `${slot.ip}/${args.prefix}`,
          cores: args.cores,
          memoryMb: args.memoryMb,
          userData,
          artifactPath: `${name}/${slot.name}.user-data.yaml`,
          tags: ["kantai", name, "web"],
          startupOrder: 10,
        },
        { parent: this },
      );
    });

    this.caddyfile = renderLoadBalancerCaddyfile({
      domain: args.domain,
      label,
      backends: args.instances.map((s) => `${s.ip}:${args.port}`),
    });
    const lb = args.loadBalancer;
    this.loadBalancer = new ClonedVm(
      `${name}-lb`,
      {
        ...common,
        vmId: lb.vmId,
        hostname: lb.name,
        address: `${lb.ip}/${args.prefix}`,
        cores: lb.cores,
        memoryMb: lb.memoryMb,
        userData: renderLoadBalancerUserData({
          hostname: lb.name,
          domain: args.domain,
          user: args.user,
          sshAuthorizedKeys: args.sshAuthorizedKeys,
          caddyImage: lb.caddyImage,
        }),
        artifactPath: `${name}/${lb.name}.user-data.yaml`,
        tags: ["kantai", name, "lb"],
        startupOrder: 20,
      },
      { parent: this, dependsOn: this.instances },
    );

    const lbScript = renderLoadBalancerConfig({ caddyfile: this.caddyfile, unit: LB_UNIT, path: LB_CADDYFILE });
    this.loadBalancerConfig = new command.remote.Command(
      `${name}-lb-config`,
      {
        connection: sshConnection({ host: lb.ip, user: args.user, jump: args.jump }, args.sshPrivateKey, DIAL_PATIENT),
        create: asRoot(lbScript, "kantai-lb-config"),
        update: asRoot(lbScript, "kantai-lb-config"),
        // A replaced load balancer VM is a new machine: write its Caddyfile again.
        triggers: [this.loadBalancer.vm.id],
      },
      { parent: this, dependsOn: [this.loadBalancer], customTimeouts: { create: "20m", update: "10m" } },
    );

    this.instanceIps = args.instances.map((s) => s.ip);
    this.loadBalancerIp = lb.ip;
    this.siteUrls = siteWords(args.instances.length).map((w) => `http://${w}.${label}.${args.domain}`);
    this.artifacts = [
      ...this.instances.flatMap((v) => v.artifacts),
      ...this.loadBalancer.artifacts,
      {
        path: `${name}/${lb.name}.Caddyfile`,
        kind: "caddyfile",
        resource: `${name}-lb-config`,
        content: this.caddyfile,
      },
      { path: `${name}/${lb.name}.config.sh`, kind: "shell", resource: `${name}-lb-config`, content: lbScript },
    ];
    this.registerOutputs({
      instanceIps: this.instanceIps,
      loadBalancerIp: this.loadBalancerIp,
      siteUrls: this.siteUrls,
    });
  }
}
