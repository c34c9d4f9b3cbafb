/**
 * The stack outputs contract: what other repos read with `StackReference`.
 * Keys are stable; new keys may be added, existing ones keep their meaning.
 */

export interface VmOutput {
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
}

/** grogu (seed 000's Minikube + Knative VM). */
export interface GroguOutputs {
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
  /** Kubernetes API, `https://<ip>:<port>`. */
  readonly apiServer: string;
  /** Admin kubeconfig: a secret (`pulumi stack output --show-secrets`). */
  readonly kubeconfig: string;
  /** Knative's internal domain (`<svc>.default.<knativeDomain>`). */
  readonly knativeDomain: string;
  /** How a Knative service in "default" is reached through the gateway: `http://{service}.grogu.<domain>`. */
  readonly serviceUrlTemplate: string;
  /** URLs of the services kantai deploys on grogu (the demo), by name. */
  readonly serviceUrls: Readonly<Record<string, string>>;
}

/** One K3s cluster (kantai:k3s.<name>). */
export interface K3sClusterOutputs {
  readonly name: string;
  /** Kubernetes API, `https://<address>:6443`. */
  readonly apiServer: string;
  /** Admin kubeconfig: a secret. */
  readonly kubeconfig: string;
  readonly version: string;
  readonly flannelBackend: string;
  readonly nodes: readonly ClusterNodeOutput[];
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
  /** grogu, when configured (kantai:grogu). */
  readonly grogu?: GroguOutputs;
  /** K3s clusters, when configured (kantai:k3s). */
  readonly k3s?: readonly K3sClusterOutputs[];
  /** The lab's self-hosted GitHub Actions runner, when configured (kantai:ciRunner). No token. */
  readonly ciRunner?: CiRunnerOutput;
}

/** The CI runner VM: what a workflow's `runs-on` needs and where the VM is. */
export interface CiRunnerOutput {
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
  readonly repository: string;
  /** Every label the runner registers with, GitHub's "self-hosted" first. */
  readonly labels: readonly string[];
}

export type StackOutputs = HomelabOutputs;

// ---------------------------------------------------------------------------------------------
// Cluster platforms (`edge`, `lab`): see docs/reference/outputs.md.

/** A Kubernetes node of the cluster. */
export interface ClusterNodeOutput {
  readonly name: string;
  readonly role: "server" | "agent";
  /** Site (network); also the node's `topology.kubernetes.io/zone` label. */
  readonly site: string;
  /** Address on its site's network. */
  readonly ip: string;
  /** Address the other sites reach it at, when set. */
  readonly externalIp?: string;
  /** "host" for an existing machine (e.g. a Raspberry Pi), "vm" for a Proxmox clone. */
  readonly kind: "host" | "vm";
}

export interface KnativeOutput {
  /** Route domain: a function `f` in namespace `ns` answers at `f.ns.<domain>`. */
  readonly domain: string;
  readonly ingress: "kourier" | "istio";
  /** In-cluster address of the ingress gateway, "host:port". */
  readonly ingressService: string;
  /** Release manifest URLs installed, in order. */
  readonly releases: readonly string[];
  /** Kafka bootstrap "host:port" inside the cluster, when Eventing runs with Kafka. */
  readonly kafkaBootstrap?: string;
}

export interface TunnelOutput {
  /** Cloudflare tunnel id. */
  readonly id: string;
  /** `<id>.cfargotunnel.com`, the target of every hostname's CNAME. */
  readonly cname: string;
  /** Public hostnames routed through the tunnel, sorted. */
  readonly hostnames: readonly string[];
}

/** What both cluster compositions export. */
export interface ClusterPlatformOutputs {
  /** Name of the K3s cluster the platform runs on (a key of kantai:k3s). */
  readonly cluster: string;
  /** `https://<address>:6443`. */
  readonly apiServer: string;
  /** Admin kubeconfig. SECRET: read it with `requireOutput`, it stays encrypted in state. */
  readonly kubeconfig: string;
  readonly nodes: readonly ClusterNodeOutput[];
  readonly knative?: KnativeOutput;
  readonly tunnel?: TunnelOutput;
  /** Every service by name: a WebApp's or a published function's public https URL, else a function's in-cluster Knative URL. */
  readonly serviceUrls: Readonly<Record<string, string>>;
}

/** One latency-aware service (kantai:routing.services[]): the routing plan as applied. */
export interface RoutingServiceOutput {
  readonly namespace: string;
  /** "optimal", "even", "nearest" or "ikukantai". */
  readonly algorithm: string;
  /** Replicas per node (every routing node, 0 included), keys sorted. */
  readonly replicas: Readonly<Record<string, number>>;
  /** Predicted mean response time (RTT + M/M/c sojourn), ms. */
  readonly predictedMeanMs: number;
  /** In-cluster URL of the front Service: `http://<name>.<namespace>.svc.cluster.local:80`. */
  readonly url: string;
}

/** Outputs of the `edge` composition: multi-site K3s, Knative, the tunnel and WebApps. */
export interface EdgeOutputs extends ClusterPlatformOutputs {
  readonly composition: "edge";
  readonly tunnel: TunnelOutput;
  /** Latency-aware services by name, when kantai:routing is set. */
  readonly routing?: Readonly<Record<string, RoutingServiceOutput>>;
  /** The storage node's NFS export, when kantai:storageNode is set. */
  readonly storage?: {
    readonly node: string;
    readonly server: string;
    readonly exportPath: string;
    readonly storageClass?: string;
  };
  /** MariaDB's in-cluster address, when kantai:mariadb is set (no credentials: they live in Secrets). */
  readonly mariadb?: { readonly host: string; readonly port: number; readonly databases: readonly string[] };
}

/** Outputs of the `lab` composition (seed 001): VM cluster with Serving, Eventing and Kafka. */
export interface LabOutputs extends ClusterPlatformOutputs {
  readonly composition: "lab";
  readonly knative: KnativeOutput & { readonly kafkaBootstrap: string };
}

/** Every composition's outputs; `composition` tells them apart. */
export type AnyStackOutputs = HomelabOutputs | EdgeOutputs | LabOutputs;

/** How a composition returns its outputs: each top-level value may still be a Pulumi Output. */
export type Exported<T> = { readonly [K in keyof T]: import("@pulumi/pulumi").Input<T[K]> };
