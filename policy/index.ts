/**
 * kantai's CrossGuard policy pack. Run it with any preview or update:
 *   pulumi preview --policy-pack policy
 * Every rule is mandatory. The rules themselves are pure functions in ./rules (tested in
 * test/policy.test.ts); this file only wires them to @pulumi/policy.
 */
import { PolicyPack, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { plaintextSecretOutputs, RESOURCE_RULES, STACK_OUTPUTS_POLICY } from "./rules";
import { secretPathsOf, trackSecrets, unproxied } from "./secrets";

trackSecrets();

/** The pack's policies: one resource policy per rule in RESOURCE_RULES, plus the stack-outputs policy. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  ...Object.entries(RESOURCE_RULES).map(([name, { description, rule }]): ResourceValidationPolicy => ({
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      for (const message of rule({ type: args.type, name: args.name, props: args.props, protect: args.opts.protect }))
        reportViolation(message);
    },
  })),
  {
    name: STACK_OUTPUTS_POLICY.name,
    description: STACK_OUTPUTS_POLICY.description,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
      const stack = args.resources.find((r) => r.type === "pulumi:pulumi:Stack" && r.parent === undefined);
      if (!stack) return;
      const secret = secretPathsOf(stack.props);
      for (const message of plaintextSecretOutputs(unproxied(stack.props), (p) => secret.has(p)))
        reportViolation(message, stack.urn);
    },
  },
];

new PolicyPack("kantai", { policies, enforcementLevel: "mandatory" });
