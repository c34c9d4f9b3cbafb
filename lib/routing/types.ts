/**
 * Public types of the routing library. The JSON shapes here are a stable interface: the CLI reads
 * `RoutingInput` and prints `RoutingPlan` (docs/reference/routing-cli.md).
 */

/** One node that may run replicas and may receive requests. */
export interface RoutingNode {
  /** Node name: the `kubernetes.io/hostname` label value. */
  readonly name: string;
  /** Most replicas this node may run (integer ≥ 0). */
  readonly maxPods: number;
  /** Requests per second one replica serves (μ, > 0); mean service time is 1000/μ ms. */
  readonly serviceRate: number;
}

/** Input of a plan, as read from JSON. */
export interface RoutingInput {
  readonly nodes: readonly RoutingNode[];
  /** Round-trip time in ms from an ingress node to a serving node: `rttMs[from][to]`. A missing diagonal entry is 0. */
  readonly rttMs: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Requests per second entering at each node; nodes not listed have no demand. */
  readonly demand: Readonly<Record<string, number>>;
  /** Replica budget R: the replicas of the plan sum to exactly R. */
  readonly replicas: number;
}

/** The plan: the CLI's output and the RoutingPlan resource's `plan` output. */
export interface RoutingPlan {
  /** Replicas per node, every node listed (0 included), keys sorted. */
  readonly replicas: Record<string, number>;
  /** Per ingress node, the fraction of its requests sent to each serving node. Rows sum to 1; zero entries are omitted. */
  readonly weights: Record<string, Record<string, number>>;
  readonly predicted: {
    /** Mean response time (RTT + M/M/c sojourn) in ms, demand-weighted over all requests. */
    readonly meanMs: number;
  };
}

export const ALGORITHMS = ["optimal", "even", "nearest", "ikukantai"] as const;
/** `optimal`: kantai's optimiser; the others are the baselines of docs/concepts/routing.md. */
export type Algorithm = (typeof ALGORITHMS)[number];

/** One input problem: a field path (`rttMs.edge.cloud1`) and what is wrong with it. */
export interface InputIssue {
  readonly path: string;
  readonly message: string;
}

/** Thrown for invalid input; `message` is every issue as `path: message`, one per line. */
export class RoutingInputError extends Error {
  readonly issues: readonly InputIssue[];
  constructor(issues: readonly InputIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
    this.name = "RoutingInputError";
    this.issues = issues;
  }
}

/**
 * The validated problem in indexed form. Nodes are sorted by name, so every algorithm is
 * independent of the order of the input (ties are broken by name).
 */
export interface Problem {
  readonly names: readonly string[];
  readonly n: number;
  readonly maxPods: Int32Array;
  /** Service rate μ_j per replica, req/s. */
  readonly mu: Float64Array;
  /** RTT, row-major n×n, ms: rtt[i*n + j] from ingress i to serving node j. */
  readonly rtt: Float64Array;
  /** Demand λ_i, req/s. */
  readonly demand: Float64Array;
  readonly totalDemand: number;
  /** Replica budget R. */
  readonly replicas: number;
}

/** A weight row in sparse form: serving-node indices (ascending) and fractions. */
export interface SparseRow {
  readonly to: number[];
  readonly w: number[];
}

/** A plan in indexed form: replicas per node and one weight row per ingress node. */
export interface IndexedPlan {
  readonly replicas: Int32Array;
  readonly rows: SparseRow[];
}
