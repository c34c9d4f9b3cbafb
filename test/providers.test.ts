/**
 * The provider convention of docs/concepts/components.md, over every stack: a component takes its
 * providers in `opts.providers` and its children inherit them through `parent`
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/providers/: explicit `provider`, then
 * the resource's `providers` map, then the parent's). So every Kubernetes, Cloudflare and Proxmox
 * resource reaches the engine with the provider the stack built — none falls back to a default
 * provider, which would deploy to whatever cluster or account the ambient configuration names.
 * The provider references are those the SDK sends in RegisterResource, seen through Pulumi's mock
 * runtime (SIMULATED, scripts/synth/mocks.ts), the same run `npm run synth` does.
 */
import { describe, expect, it } from "vitest";
import { recordProgram } from "../scripts/synth/recorder";
import { synthMocks } from "../scripts/synth/mocks";
import { devStackConfig } from "./support/devConfig";

const STACKS = ["dev", "edge", "lab"] as const;
/** Packages whose providers carry a target (a cluster, an account, a host): never the default one. */
const TARGETED = ["kubernetes", "cloudflare", "proxmoxve"];

interface Registration {
  readonly type: string;
  readonly name: string;
  /** The provider reference sent to the engine ("<urn>::<id>"), "" for none (the engine's default). */
  readonly provider: string;
}

async function registrations(stack: (typeof STACKS)[number]): Promise<Registration[]> {
  const seen: Registration[] = [];
  const original = synthMocks.newResource;
  synthMocks.newResource = (args) => {
    seen.push({ type: args.type, name: args.name, provider: args.provider ?? "" });
    return original(args);
  };
  try {
    const { config, secretKeys } = devStackConfig(`Pulumi.${stack}.yaml`);
    const { run } = await import("../stacks");
    await recordProgram(() => run(), { config, secretKeys, stack });
  } finally {
    synthMocks.newResource = original;
  }
  return seen;
}

/** Resources of a targeted package registered without an explicit provider (so with the engine's default). */
export function defaultProvided(rs: readonly Registration[]): string[] {
  return rs
    .filter((r) => !r.type.startsWith("pulumi:providers:") && TARGETED.includes(r.type.split(":")[0]))
    .filter((r) => r.provider === "" || /::default_[^:]*::/.test(r.provider))
    .map((r) => `${r.type} "${r.name}"`);
}

describe("every Kubernetes, Cloudflare and Proxmox resource uses the stack's provider", () => {
  for (const stack of STACKS) {
    it(`stack ${stack}`, async () => {
      const rs = await registrations(stack);
      // The check has something to check: every stack has Kubernetes and Proxmox resources.
      expect(rs.filter((r) => r.type.startsWith("kubernetes:")).length).toBeGreaterThan(0);
      expect(rs.filter((r) => r.type.startsWith("proxmoxve:")).length).toBeGreaterThan(3);
      expect(defaultProvided(rs)).toEqual([]);
      // Each Kubernetes resource goes to a cluster's provider built by the stack (a K3s cluster's or grogu's).
      for (const r of rs.filter((x) => x.type.startsWith("kubernetes:")))
        expect(r.provider, `${r.type} ${r.name}`).toMatch(/\$pulumi:providers:kubernetes::[a-z0-9-]+-k8s::/);
    });
  }

  it("catches a resource left to the default provider", () => {
    const urn = "urn:pulumi:edge::kantai::pulumi:pulumi:Stack$pulumi:providers:kubernetes";
    expect(
      defaultProvided([
        { type: "kubernetes:core/v1:Namespace", name: "a", provider: `${urn}::edge-k8s::edge-k8s-id` },
        { type: "kubernetes:core/v1:Namespace", name: "b", provider: "" },
        { type: "kubernetes:core/v1:Namespace", name: "c", provider: `${urn}::default_4_34_2::id` },
        { type: "command:remote:Command", name: "d", provider: "" },
      ]),
    ).toEqual(['kubernetes:core/v1:Namespace "b"', 'kubernetes:core/v1:Namespace "c"']);
  });
});
