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

/** The Raspberry Pi agent the day-2 tests add to the edge cluster (a fourth Pi at home). */
export const ADDED_EDGE_PI: RawNode = {
  name: "pi-4",
  role: "agent",
  site: "home",
  ip: "192.168.1.24",
  externalIp: "203.0.113.24",
  host: { user: "pi", raspberryPi: true },
};
