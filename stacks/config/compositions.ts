/**
 * The compositions and what each one is: every "X requires / forbids Y" rule between a composition
 * and the keys, the cluster the platform runs on (resolved once, here), and `StackConfig`, a union
 * discriminated by `composition` whose members carry exactly what their stack builds — resolved and
 * non-optional where the composition requires it — so the stacks need no casts, `!` or "config
 * guarantees" comments.
 *
 * The rules run from stacks/config/load.ts at the point their messages always came (so the order of a
 * ConfigError's lines is unchanged); `assembleComposition` runs last, on a config without problems.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CiConfig } from "./ci";
import type { ClustersConfig, GroguConfig, K3sClusterConfig } from "./clusters";
import type { ObservabilityServiceConfig } from "./observability";
import type { CloudflareConfig, KnativeConfig, PlatformConfig, TunnelConfig } from "./platform";
import { quoted, type Fail, type NetworkConfig, type TemplateConfig } from "./primitives";
import type { DatastoresConfig, FleetConfig, GatewayConfig, ImageConfig, ProxmoxNode } from "./proxmox";
import type { RoutingServiceConfig } from "./routing";
import type { MariadbConfig, StorageHost, StorageNodeConfig } from "./storage";

/** Stack compositions kantai knows. */
export const COMPOSITIONS = ["homelab", "edge", "lab"] as const;
export type Composition = (typeof COMPOSITIONS)[number];

// ---------------------------------------------------------------------------------------------
// The typed result: one member per composition.

/** What every composition has: the Proxmox host, its bridge, image, templates and hosts gateway, the K3s clusters. */
interface CommonConfig extends Omit<ClustersConfig, "grogu">, CiConfig, PlatformConfig {
  readonly project: string;
  readonly stack: string;
  readonly domain: string;
  readonly proxmox: {
    readonly endpoint: string;
    readonly insecure: boolean;
    readonly apiToken: pulumi.Output<string>;
    readonly sshUser: string;
    readonly sshPrivateKey: pulumi.Output<string>;
    readonly nodes: readonly ProxmoxNode[];
    /** Address of every node of `nodes`, by name (every node name in the config was checked against it). */
    readonly addresses: Readonly<Record<string, string>>;
  };
  readonly access: { readonly vmUser: string; readonly sshPublicKeys: readonly string[] };
  readonly network: NetworkConfig;
  readonly image: ImageConfig;
  readonly storage: DatastoresConfig;
  readonly templates: Readonly<Record<string, TemplateConfig>>;
  readonly gateway: GatewayConfig;
}

/** The keys only the edge composition builds; the other compositions refuse them. */
interface NoEdgeKeys {
  readonly routing?: undefined;
  readonly observability?: undefined;
  readonly storageNode?: undefined;
  readonly storageHost?: undefined;
  readonly mariadb?: undefined;
}

/**
 * `homelab` (seed 000): the fleet, grogu, the CI runner and K3s clusters on the Proxmox host. The
 * platform keys are validated when a K3s cluster is configured, but this composition does not build them.
 */
export interface HomelabConfig extends CommonConfig, NoEdgeKeys {
  readonly composition: "homelab";
  readonly fleet?: FleetConfig;
  readonly grogu?: GroguConfig;
}

/** What both cluster compositions (`edge`, `lab`) have: the platform's cluster, resolved; no fleet, no grogu. */
interface ClusterCompositionConfig extends CommonConfig {
  /** Name of the cluster the platform runs on (kantai:platformCluster, else the first of kantai:k3s). */
  readonly platformCluster: string;
  /** That cluster's config. */
  readonly platform: K3sClusterConfig;
  readonly fleet?: undefined;
  readonly grogu?: undefined;
}

/** kantai:storageNode with the platform cluster's node it names (reached over SSH), and the MariaDB on it. */
type EdgeStateful =
  | { readonly storageNode: StorageNodeConfig; readonly storageHost: StorageHost; readonly mariadb?: MariadbConfig }
  | { readonly storageNode?: undefined; readonly storageHost?: undefined; readonly mariadb?: undefined };

/** `edge`: the multi-site cluster with the Cloudflare tunnel (required), routing, observability and storage. */
export type EdgeConfig = ClusterCompositionConfig & {
  readonly composition: "edge";
  readonly tunnel: TunnelConfig;
  readonly cloudflare: CloudflareConfig;
  readonly routing?: { readonly services: readonly RoutingServiceConfig[] };
  readonly observability?: ObservabilityServiceConfig;
} & EdgeStateful;

/** Knative with Eventing and Kafka, as the lab composition requires. */
export type LabKnativeConfig = KnativeConfig & {
  readonly eventing: NonNullable<KnativeConfig["eventing"]> & {
    readonly kafka: NonNullable<NonNullable<KnativeConfig["eventing"]>["kafka"]>;
  };
};

/** `lab` (seed 001): the VM cluster with Serving, Eventing and Kafka (required) and Tekton. */
export interface LabConfig extends ClusterCompositionConfig, NoEdgeKeys {
  readonly composition: "lab";
  readonly knative: LabKnativeConfig;
}

/** The validated configuration of one stack; `composition` tells what it builds. */
export type StackConfig = HomelabConfig | EdgeConfig | LabConfig;

// ---------------------------------------------------------------------------------------------
// The rules.

/** What the requires/forbids rules look at (raw keys, before the areas resolve them). */
export interface CompositionFacts {
  readonly composition: Composition;
  readonly k3sClusters: number;
  readonly tunnel: boolean;
  readonly fleet: boolean;
  readonly grogu: boolean;
  readonly kafka: boolean;
}

/** What edge and lab require and forbid (homelab neither): reported before the platform keys' own rules. */
export function compositionRules(f: CompositionFacts, fail: Fail): void {
  if (f.composition === "edge") {
    if (f.k3sClusters === 0) fail("k3s", 'is required by the "edge" composition (a K3s cluster of Pi and VM nodes)');
    if (!f.tunnel) fail("tunnel", 'is required by the "edge" composition (the Cloudflare tunnel)');
  }
  if (f.composition === "edge" || f.composition === "lab") {
    if (f.fleet)
      fail("fleet", `is not part of the "${f.composition}" composition (the conventional fleet belongs to "homelab")`);
    if (f.grogu) fail("grogu", `is not part of the "${f.composition}" composition (grogu belongs to "homelab")`);
  }
  if (f.composition === "lab") {
    if (f.k3sClusters === 0) fail("k3s", 'is required by the "lab" composition (seed 001\'s VM cluster)');
    if (!f.kafka)
      fail("knative.eventing.kafka", 'is required by the "lab" composition (seed 001: Serving, Eventing and Kafka)');
  }
}

/** The keys only the edge composition builds, and why, in the words of their message. */
const EDGE_ONLY = {
  routing: (c: string) =>
    `is not part of the "${c}" composition (latency-aware routing runs on the "edge" composition's cluster)`,
  observability: (c: string) =>
    `is not part of the "${c}" composition (measured latencies and dashboards run on the "edge" composition's cluster)`,
  storageNode: (c: string) => `is wired in the edge composition only (this stack's composition is "${c}")`,
} as const;

/**
 * Whether the area of `key` is parsed in this composition: always on edge; elsewhere never, and
 * reported when the key is set. (kantai:routing's reweight needs nothing outside edge: it is refused there.)
 */
export function edgeOnly(key: keyof typeof EDGE_ONLY, set: boolean, composition: Composition, fail: Fail): boolean {
  if (composition === "edge") return true;
  if (set) fail(key, EDGE_ONLY[key](composition));
  return false;
}

/**
 * The cluster the platform (Knative, tunnel, WebApps, routing, storage) runs on: kantai:platformCluster
 * when set (undefined, and reported, when no cluster has that name), else the first of kantai:k3s.
 * On homelab a platform key without any K3s cluster is reported here; edge and lab report the
 * missing kantai:k3s in compositionRules.
 */
export function resolvePlatformCluster<C extends { readonly name: string }>(
  r: {
    readonly platformCluster?: string;
    readonly knative?: unknown;
    readonly tunnel?: unknown;
    readonly webapps?: unknown;
  },
  k3s: readonly C[],
  composition: Composition,
  fail: Fail,
): C | undefined {
  if (r.platformCluster !== undefined) {
    const cluster = k3s.find((c) => c.name === r.platformCluster);
    if (!cluster)
      fail(
        "platformCluster",
        `unknown K3s cluster "${r.platformCluster}" (kantai:k3s has ${quoted(k3s.map((c) => c.name)) || "none"})`,
      );
    return cluster;
  }
  const cluster = k3s[0];
  if (!cluster && composition === "homelab") {
    const first =
      r.knative !== undefined
        ? "knative"
        : r.tunnel !== undefined
          ? "tunnel"
          : r.webapps !== undefined
            ? "webapps"
            : undefined;
    if (first) fail(first, "needs a K3s cluster to run on (kantai:k3s is not set)");
  }
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// The union, assembled.

/** Everything the areas resolved, composition not yet told apart. */
export type ResolvedParts = CommonConfig & {
  readonly composition: Composition;
  readonly fleet?: FleetConfig;
  readonly grogu?: GroguConfig;
  readonly routing?: { readonly services: readonly RoutingServiceConfig[] };
  readonly observability?: ObservabilityServiceConfig;
  readonly storageNode?: StorageNodeConfig;
  readonly storageHost?: StorageHost;
  readonly mariadb?: MariadbConfig;
};

/**
 * A value the rules above established for this composition. Missing, it is a bug in stacks/config/,
 * not a config mistake (those were reported as a ConfigError before this runs).
 */
function established<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`kantai internal error: ${what} (stacks/config/compositions.ts)`);
  return value;
}

/** The keys the rules refuse in this composition: none of them may have come through. */
function refused(parts: ResolvedParts, keys: readonly (keyof ResolvedParts)[]): void {
  for (const k of keys) {
    if (parts[k] !== undefined)
      throw new Error(`kantai internal error: kantai:${k} passed the "${parts.composition}" composition's rules`);
  }
}

/** The member of StackConfig the composition selects, from a config without problems. */
export function assembleComposition(parts: ResolvedParts, platform: K3sClusterConfig | undefined): StackConfig {
  const { routing, observability, storageNode, storageHost, mariadb, fleet, grogu, ...common } = parts;
  switch (parts.composition) {
    case "homelab":
      refused(parts, ["routing", "observability", "storageNode", "mariadb"]);
      return { ...common, composition: "homelab", fleet, grogu };
    case "edge": {
      refused(parts, ["fleet", "grogu"]);
      const cluster = established(platform, "the edge composition without a platform cluster");
      const stateful: EdgeStateful = storageNode
        ? {
            storageNode,
            storageHost: established(storageHost, "kantai:storageNode without its node"),
            ...(mariadb ? { mariadb } : {}),
          }
        : {};
      if (!storageNode) refused(parts, ["mariadb"]);
      return {
        ...common,
        composition: "edge",
        platformCluster: cluster.name,
        platform: cluster,
        tunnel: established(common.tunnel, "the edge composition without kantai:tunnel"),
        cloudflare: established(common.cloudflare, "the edge composition without its Cloudflare keys"),
        ...(routing ? { routing } : {}),
        ...(observability ? { observability } : {}),
        ...stateful,
      };
    }
    case "lab": {
      refused(parts, ["fleet", "grogu", "routing", "observability", "storageNode", "mariadb"]);
      const cluster = established(platform, "the lab composition without a platform cluster");
      const knative = established(common.knative, "the lab composition without kantai:knative");
      const eventing = established(knative.eventing, "the lab composition without Knative Eventing");
      const kafka = established(eventing.kafka, "the lab composition without Kafka");
      return {
        ...common,
        composition: "lab",
        platformCluster: cluster.name,
        platform: cluster,
        knative: { ...knative, eventing: { ...eventing, kafka } },
      };
    }
  }
}
