/**
 * The naming convention of docs/concepts/architecture.md, over every stack: each child resource is
 * named after its parent component, `${parent}-…`, so two instances of a component never collide
 * and a child's name says where it belongs. Registrations come from Pulumi's mock runtime
 * (SIMULATED, scripts/synth/mocks.ts), the same run `npm run synth` does.
 */
import { describe, expect, it } from "vitest";
import { recordProgram, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";

const STACKS = ["dev", "edge", "lab"] as const;

async function registrations(stack: (typeof STACKS)[number]): Promise<RecordedResource[]> {
  const { config, secretKeys } = devStackConfig(`Pulumi.${stack}.yaml`);
  const { run } = await import("../stacks");
  return (await recordProgram(() => run(), { config, secretKeys, stack })).resources;
}

/** Children whose name does not start with their parent's name and "-". */
export function misnamed(resources: readonly RecordedResource[]): string[] {
  return resources
    .filter((r) => r.parent !== undefined && !r.name.startsWith(`${r.parent}-`))
    .map((r) => `${r.type} "${r.name}" under "${r.parent}"`);
}

describe("every child is named `${parent}-…`", () => {
  for (const stack of STACKS) {
    it(`stack ${stack}`, async () => {
      const resources = await registrations(stack);
      // The check has something to check: components with children exist in every stack.
      expect(resources.filter((r) => r.parent !== undefined).length).toBeGreaterThan(10);
      expect(misnamed(resources)).toEqual([]);
    });
  }

  it("catches a child named without its parent's prefix", () => {
    const rs = [
      { type: "kantai:x:A", name: "a", custom: false, inputs: {}, dependsOn: [] },
      { type: "kantai:x:B", name: "a-b", parent: "a", custom: false, inputs: {}, dependsOn: [] },
      { type: "kantai:x:C", name: "ab", parent: "a", custom: false, inputs: {}, dependsOn: [] },
    ] as unknown as RecordedResource[];
    expect(misnamed(rs)).toEqual(['kantai:x:C "ab" under "a"']);
  });
});
