/**
 * Reads a `Pulumi.<stack>.yaml` into the config map Pulumi would hand the program.
 * `secure:` values cannot be decrypted offline: synth substitutes a well-formed PLACEHOLDER for
 * each and marks the key secret, so the program sees "a secret is set" without its value.
 */
import * as fs from "node:fs";
import { parse } from "yaml";

/** Placeholders for secret keys kantai knows; well-formed so validation passes. */
export const SECRET_PLACEHOLDERS: Readonly<Record<string, string>> = {
  "kantai:proxmoxApiToken": "synth@pve!placeholder=00000000-0000-0000-0000-000000000000",
  "kantai:sshPrivateKey":
    "-----BEGIN OPENSSH PRIVATE KEY-----\nsynth placeholder, not a key\n-----END OPENSSH PRIVATE KEY-----\n",
  "kantai:cloudflareApiToken": "synthplaceholdersynthplaceholdersynthpla",
};

export interface StackFileConfig {
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

export class StackFileError extends Error {}

export function readStackFile(path: string): StackFileConfig {
  if (!fs.existsSync(path)) throw new StackFileError(`stack file ${path} does not exist`);
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(path, "utf8"));
  } catch (e) {
    throw new StackFileError(`stack file ${path} is not valid YAML: ${(e as Error).message}`);
  }
  const cfg = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  if (typeof cfg !== "object" || Array.isArray(cfg))
    throw new StackFileError(`stack file ${path}: "config" must be a mapping`);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(cfg)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
      config[k] = SECRET_PLACEHOLDERS[k] ?? "synth-placeholder-secret";
      secretKeys.push(k);
    } else {
      config[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
  }
  return { config, secretKeys };
}
