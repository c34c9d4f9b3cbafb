import * as path from "node:path";
import { expect } from "vitest";
import { readStackFile } from "../../scripts/synth/stackFile";
import { ConfigError, decodeConfigValue, parseConfig } from "../../stacks/config";
import { ROOT } from "./devConfig";

/** Parse and return the "key: message" lines of the ConfigError (the test fails if none is thrown). */
export function problems(raw: Record<string, unknown>, ctx?: Parameters<typeof parseConfig>[1]): string[] {
  try {
    parseConfig(raw, ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.key}: ${i.message}`);
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

/** A committed stack file's config, decoded, keyed without the namespace, and its secret keys. */
export function stackRaw(name: "edge" | "lab"): { raw: Record<string, any>; secretKeys: string[] } {
  const { config, secretKeys } = readStackFile(path.join(ROOT, `Pulumi.${name}.yaml`));
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(config)) raw[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return { raw: structuredClone(raw), secretKeys };
}

/** The stack's config after `edit`, parsed. */
export const parsedStack = (edit: (r: Record<string, any>) => void = () => {}, name: "edge" | "lab" = "edge") => {
  const s = stackRaw(name);
  edit(s.raw);
  return parseConfig(s.raw, { stack: name, secretKeys: s.secretKeys });
};

/** The "key: message" lines of the ConfigError for the stack's config after `edit`. */
export function stackProblems(edit: (r: Record<string, any>) => void, name: "edge" | "lab" = "edge"): string[] {
  const s = stackRaw(name);
  edit(s.raw);
  return problems(s.raw, { stack: name, secretKeys: s.secretKeys });
}
