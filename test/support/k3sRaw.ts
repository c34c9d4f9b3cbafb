/** The parts of kantai:k3s the day-2 tests edit (the stack files' raw values). */
export interface RawNode {
  name: string;
  role: string;
  [k: string]: unknown;
}
export interface RawCluster {
  nodes: RawNode[];
  version?: string;
  vip?: { address: string };
  snapshots?: { schedule?: string; retention?: number; s3?: Record<string, string> };
  upgrade?: { maxUnavailable?: number; drainTimeoutSeconds?: number };
  previousServers?: string[];
  apiAddress?: string;
  [k: string]: unknown;
}
