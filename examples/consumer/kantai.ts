/**
 * Typed access to a kantai stack's outputs from another Pulumi program.
 * The contract is stacks/outputs.ts (docs/reference/outputs.md): copy that file, or depend on
 * this repository, to get the types.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AnyStackOutputs, EdgeOutputs, LabOutputs } from "../../stacks/outputs";

/** Every output key of T as a Pulumi Output (secret outputs, like `kubeconfig`, stay secret). */
export type StackOutputsOf<T> = { readonly [K in keyof T]-?: pulumi.Output<T[K]> };

/** Composition name → its outputs type. */
export interface KantaiCompositions {
  readonly edge: EdgeOutputs;
  readonly lab: LabOutputs;
}

/** The stack's `composition` output when it is the expected one; otherwise an error naming the stack. */
export function checkComposition<C extends string>(stack: string, actual: string, expected: C): C {
  if (actual !== expected) throw new Error(`${stack} is a "${actual}" stack, not "${expected}"`);
  return expected;
}

/**
 * Read a kantai stack's outputs with their contract's types. `composition` is checked at run
 * time against the stack's own `composition` output, so a reference to the wrong stack fails
 * with a clear message instead of producing undefined values.
 */
export function kantaiStack<C extends keyof KantaiCompositions>(
  ref: pulumi.StackReference,
  composition: C,
): StackOutputsOf<KantaiCompositions[C]> {
  const checked = pulumi
    .all([ref.name, ref.requireOutput("composition")])
    .apply(([name, actual]: [string, AnyStackOutputs["composition"]]) => checkComposition(name, actual, composition));
  return new Proxy({} as StackOutputsOf<KantaiCompositions[C]>, {
    get: (_target, key) =>
      key === "composition" ? checked : pulumi.all([checked, ref.getOutput(String(key))]).apply(([, v]) => v),
  });
}
