/**
 * The stack outputs contract: what other repos read with `StackReference`.
 * Keys are stable; new keys may be added, existing ones keep their meaning.
 */

export interface VmOutput {
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
}

/** Outputs of the `homelab` composition (the `dev` stack). */
export interface HomelabOutputs {
  readonly composition: "homelab";
  /** Base domain served by the gateway's BIND, e.g. "hosts.pve". */
  readonly domain: string;
  /** DNS server (and root proxy) address for clients. */
  readonly nameserver: string;
  readonly network: { readonly bridge: string; readonly cidr: string; readonly gateway: string };
  /** Template VM IDs by template key. */
  readonly templates: Readonly<Record<string, number>>;
  /** The conventional fleet, when configured. */
  readonly fleet?: {
    readonly instances: readonly VmOutput[];
    readonly loadBalancer: VmOutput;
    /** http://one.standalone.<domain> … one per instance count. */
    readonly siteUrls: readonly string[];
  };
  /** The gateway's own test URL (answers "Hello, world!"). */
  readonly testUrl: string;
}

export type StackOutputs = HomelabOutputs;
