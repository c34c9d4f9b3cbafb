/**
 * StackConfig as a union discriminated by `composition` (stacks/config/compositions.ts): each
 * committed stack's config parses to its member with what its composition builds resolved — the
 * platform's cluster, the tunnel, the storage node's host, Knative's Kafka — and the types refuse
 * what a composition does not have (checked by `tsc --noEmit`, which `npm test` runs first).
 */
import { describe, expect, it } from "vitest";
import {
  assembleComposition,
  parseConfig,
  type EdgeConfig,
  type LabConfig,
  type ResolvedParts,
  type StackConfig,
  type TunnelConfig,
} from "../stacks/config";
import { parsedStack, stackProblems } from "./support/configProblems";
import { devRaw } from "./support/devConfig";

const edgeCfg = (): EdgeConfig => {
  const c: StackConfig = parsedStack(undefined, "edge");
  if (c.composition !== "edge") throw new Error(`the edge stack parsed as "${c.composition}"`);
  return c;
};

describe("StackConfig per composition", () => {
  it("dev is a HomelabConfig with its fleet and grogu, and no platform cluster", () => {
    const c = parseConfig(devRaw());
    expect(c.composition).toBe("homelab");
    if (c.composition !== "homelab") return;
    expect(c.fleet?.instances.map((s) => s.name)).toEqual(["kenobi-1", "kenobi-2", "kenobi-3", "kenobi-4", "kenobi-5"]);
    expect(c.grogu?.name).toBe("grogu");
    expect("platform" in c).toBe(false);
    expect(c.routing).toBeUndefined();
    expect(c.storageNode).toBeUndefined();
  });

  it("edge carries the platform's cluster itself (kantai:k3s.edge), the tunnel, its Cloudflare keys and the storage node's host", () => {
    const c = edgeCfg();
    expect(c.platformCluster).toBe("edge");
    expect(c.platform).toBe(c.k3s.find((k) => k.name === "edge"));
    expect(c.tunnel.name).toBe("kantai-edge");
    expect(c.cloudflare.zone).toBe("example.com");
    // Pulumi.edge.yaml: kantai:storageNode.node is pi-3, a Raspberry Pi reached over SSH, tainted for the disk.
    expect(c.storageNode?.node).toBe("pi-3");
    expect(c.storageHost).toMatchObject({
      name: "pi-3",
      host: { address: "192.168.1.23", user: "pi", port: 22 },
      taints: ["kantai.dev/storage=hdd:NoSchedule"],
    });
    expect(c.fleet).toBeUndefined();
    expect(c.grogu).toBeUndefined();
  });

  it("edge resolves the platform's cluster once: kantai:platformCluster, else the first of kantai:k3s, for the platform, routing and storage", () => {
    // A second, host-only cluster listed before "edge".
    const other = {
      sites: { away: { cidr: "172.16.0.0/24" } },
      nodes: [{ name: "o-1", role: "server", site: "away", ip: "172.16.0.10", host: { user: "pi" } }],
    };
    const c = parsedStack((r) => {
      r.k3s = { other, ...r.k3s };
      r.platformCluster = "edge";
    });
    if (c.composition !== "edge") throw new Error("not edge");
    expect(c.k3s.map((k) => k.name)).toEqual(["other", "edge"]);
    expect(c.platform).toBe(c.k3s[1]);
    expect(c.storageHost?.name).toBe("pi-3");
    // Without kantai:platformCluster the first cluster is the platform's: storage and routing are checked against it.
    const issues = stackProblems((r) => {
      r.k3s = { other, ...r.k3s };
      delete r.platformCluster;
    });
    expect(issues).toContain('kantai:storageNode.node: unknown node "pi-3" (cluster "other" has "o-1")');
    expect(
      issues.some(
        (i) => i.startsWith("kantai:routing.services[0].nodes.") && i.includes('(cluster "other" has "o-1")'),
      ),
    ).toBe(true);
  });

  it("lab carries the platform's cluster and Knative with Eventing and Kafka", () => {
    const c: StackConfig = parsedStack(undefined, "lab");
    expect(c.composition).toBe("lab");
    if (c.composition !== "lab") return;
    const lab: LabConfig = c;
    expect(lab.platform.name).toBe(lab.platformCluster);
    expect(lab.knative.eventing.kafka.brokers).toBe(3);
    expect(lab.routing).toBeUndefined();
  });

  it("a member the rules should have refused is an internal error, not a stack with a hole", () => {
    const c = edgeCfg();
    const parts = { ...c, composition: "edge" } as unknown as ResolvedParts;
    expect(() => assembleComposition(parts, undefined)).toThrow(
      "kantai internal error: the edge composition without a platform cluster (stacks/config/compositions.ts)",
    );
    expect(() => assembleComposition({ ...parts, composition: "lab" }, c.platform)).toThrow(
      'kantai internal error: kantai:routing passed the "lab" composition\'s rules',
    );
    expect(() => assembleComposition({ ...parts, tunnel: undefined }, c.platform)).toThrow(
      "kantai internal error: the edge composition without kantai:tunnel (stacks/config/compositions.ts)",
    );
  });

  it("the types say what a composition has (tsc --noEmit checks these lines)", () => {
    const e = edgeCfg();
    // Required by edge, so not optional in EdgeConfig: this line does not compile if it were.
    const tunnel: TunnelConfig = e.tunnel;
    // Refused on edge, so typed undefined: this line does not compile if EdgeConfig allowed a fleet.
    const fleet: undefined = e.fleet;
    // @ts-expect-error an EdgeConfig is not a LabConfig (lab requires Knative with Kafka).
    const lab: LabConfig = e;
    expect([tunnel.name, fleet, lab.composition]).toEqual(["kantai-edge", undefined, "edge"]);
  });
});
