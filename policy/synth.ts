/**
 * Run the pack's rules over synth output (`npm run synth -- --stack <s> --out <dir>`), offline:
 * every resource in resources.json, the stack outputs in outputs.json (secrets are "[secret]"
 * there), and every Kubernetes manifest synth rendered (artifacts of kind "kubernetes").
 * No @pulumi imports. Usage: `npx tsx policy/synth.ts <synth-dir>` (exit 1 on any violation).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import {
  manifestKind,
  plaintextSecretOutputs,
  RESOURCE_RULES,
  STACK_OUTPUTS_POLICY,
  workloadResourceFindings,
} from "./rules";

/** One entry of synth's resources.json. */
export interface SynthResource {
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly protect?: boolean;
}

export interface Violation {
  readonly policy: string;
  /** Resource name, `<file>#<kind>/<name>` for a manifest, or "stack" for outputs. */
  readonly resource: string;
  readonly message: string;
}

/** Violations of resources, outputs and rendered Kubernetes manifests, in that order. */
export function checkSynth(input: {
  resources: readonly SynthResource[];
  outputs: Record<string, unknown>;
  manifests?: readonly { file: string; text: string }[];
}): Violation[] {
  const out: Violation[] = [];
  for (const r of input.resources) {
    if (!r.custom) continue;
    for (const [policy, { rule }] of Object.entries(RESOURCE_RULES)) {
      for (const message of rule({ type: r.type, name: r.name, props: r.inputs, protect: r.protect }))
        out.push({ policy, resource: r.name, message });
    }
  }
  for (const message of plaintextSecretOutputs(input.outputs))
    out.push({ policy: STACK_OUTPUTS_POLICY.name, resource: "stack", message });
  for (const m of input.manifests ?? []) {
    for (const doc of parseAllDocuments(m.text)) {
      const obj = doc.toJS();
      const kind = obj && manifestKind(obj);
      if (!kind) continue;
      for (const message of workloadResourceFindings(kind, obj)) {
        out.push({ policy: "k8s-resources", resource: `${m.file}#${obj.kind}/${obj.metadata?.name ?? "?"}`, message });
      }
    }
  }
  return out;
}

/** checkSynth over a synth output directory. */
export function checkSynthDir(dir: string): Violation[] {
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  const artifacts: { path: string; kind: string }[] = read("artifacts.json");
  return checkSynth({
    resources: read("resources.json"),
    outputs: read("outputs.json"),
    manifests: artifacts
      .filter((a) => a.kind === "kubernetes")
      .map((a) => ({ file: a.path, text: fs.readFileSync(path.join(dir, a.path), "utf8") })),
  });
}

/** One line per violation, as the CLI prints them. */
export const formatViolation = (v: Violation): string => `[${v.policy}] ${v.resource}: ${v.message}`;

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: npx tsx policy/synth.ts <synth-dir>");
    process.exit(2);
  }
  const violations = checkSynthDir(path.resolve(dir));
  for (const v of violations) console.error(formatViolation(v));
  console.log(`kantai policy: ${violations.length} violation(s) in ${dir}`);
  process.exit(violations.length === 0 ? 0 : 1);
}
