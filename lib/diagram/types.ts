/** The shapes of lib/diagram: synth's output as read (input) and the topology drawn from it (output). */

/**
 * The inputs lib/diagram reads, by the providers' field names (Proxmox VM, file and bridge,
 * Cloudflare tunnel, config and DNS record, Kubernetes objects). Parsed JSON: any field may be
 * absent; values whose type varies are `unknown` and checked where they are read.
 */
export interface ResourceInputs {
  readonly [key: string]: unknown;
  readonly nodeName?: string;
  readonly name?: unknown;
  readonly address?: unknown;
  readonly endpoint?: unknown;
  readonly template?: unknown;
  readonly vmId?: number | string;
  readonly cpu?: { readonly cores?: number };
  readonly memory?: { readonly dedicated?: number };
  readonly clone?: { readonly nodeName?: string; readonly vmId?: number | string };
  readonly initialization?: {
    readonly ipConfigs?: readonly ({ readonly ipv4?: { readonly address?: unknown } } | undefined)[];
    readonly userDataFileId?: unknown;
  };
  readonly connection?: { readonly host?: unknown };
  readonly datastoreId?: unknown;
  readonly sourceRaw?: { readonly fileName?: unknown };
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown };
  readonly spec?: {
    readonly routes?: readonly {
      readonly match?: unknown;
      readonly services?: readonly (
        { readonly name?: unknown; readonly namespace?: unknown; readonly port?: unknown } | undefined
      )[];
    }[];
  };
  readonly config?: {
    readonly ingresses?: readonly {
      readonly service?: unknown;
      readonly hostname?: unknown;
      readonly originRequest?: { readonly httpHostHeader?: unknown };
    }[];
  };
  readonly tunnelId?: unknown;
  readonly content?: unknown;
  readonly value?: unknown;
  readonly proxied?: unknown;
}

/** One entry of synth's resources.json. */
export interface SynthResource {
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly custom: boolean;
  readonly inputs: ResourceInputs;
  readonly protect?: boolean;
  /** Names of the resource's explicit `dependsOn`. */
  readonly dependsOn?: readonly string[];
}

/** What synth wrote for one stack. `files` maps an artifact's `path` to its text. */
export interface SynthOutput {
  readonly stack: string;
  readonly resources: readonly SynthResource[];
  readonly outputs: Record<string, unknown>;
  readonly artifacts: readonly { readonly path: string; readonly kind: string; readonly resource: string }[];
  readonly files: Readonly<Record<string, string>>;
}

export type NodeKind =
  "template" | "vm" | "k8s-node" | "server" | "dns" | "service" | "tunnel" | "hostname" | "external";
export type GroupKind = "site" | "host" | "cluster";
export type EdgeKind = "route" | "dns" | "clone";

export interface TopologyNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** First line: the name. */
  readonly label: string;
  /** Further lines: ids, addresses, sizes. */
  readonly detail: readonly string[];
  /** Enclosing group, if any. */
  readonly group?: string;
}

export interface TopologyGroup {
  readonly id: string;
  readonly kind: GroupKind;
  readonly label: string;
  readonly parent?: string;
}

export interface TopologyEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label?: string;
}

export interface Topology {
  readonly title: string;
  readonly groups: readonly TopologyGroup[];
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
}

/** A cluster node as the stack outputs list it (`nodes: [{name, role, site, ip, externalIp, kind}]`). */
export interface OutputClusterNode {
  readonly cluster?: string;
  readonly name: string;
  readonly role?: string;
  readonly site?: string;
  readonly ip?: string;
  readonly externalIp?: string;
}
