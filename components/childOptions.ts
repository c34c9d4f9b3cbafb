import type * as pulumi from "@pulumi/pulumi";

/**
 * The options of a component's child (docs/concepts/components.md): parented to the component, so
 * its URN nests under the component's and it takes the component's providers — a component gets
 * its providers through its own resource options (`opts.providers`), and "a child resource created
 * with a component as its parent automatically picks up the matching provider from the
 * component's inherited map" (https://www.pulumi.com/docs/iac/concepts/resources/options/providers/);
 * created after `dependsOn`; with the child's own options in `extra` (timeouts, ignoreChanges,
 * aliases, …). No child passes `provider` itself.
 */
export function childOptions(
  parent: pulumi.Resource,
  dependsOn: readonly pulumi.Resource[] = [],
  extra: Omit<pulumi.CustomResourceOptions, "parent" | "dependsOn" | "provider"> = {},
): pulumi.CustomResourceOptions {
  return { parent, dependsOn: [...dependsOn], ...extra };
}
