import * as path from "node:path";
import { decodeConfigValue } from "../../stacks/config";
import { readStackFile } from "../../scripts/synth/stackFile";

export const ROOT = path.resolve(__dirname, "..", "..");

/** The dev stack's config as Pulumi would pass it ("kantai:key" → string), with synth's secret placeholders. */
export function devStackConfig(file = "Pulumi.dev.yaml") {
  return readStackFile(path.join(ROOT, file));
}

/** The dev stack's config decoded to raw values keyed without the namespace (what parseConfig takes). */
export function devRaw(): Record<string, any> {
  const { config } = devStackConfig();
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(config)) raw[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return structuredClone(raw);
}
