/**
 * The committed stack files' public placeholders, and how to recognise them in a stack's config.
 * Pure (no @pulumi): used by the program's refusal (stacks/config/placeholders.ts) and by preflight.
 *
 * Pulumi.dev.yaml, Pulumi.edge.yaml and Pulumi.lab.yaml ship with secrets encrypted under the
 * public passphrase "kantai-dev" so that offline previews work: a dummy Proxmox token, a throwaway
 * SSH key pair (its public half is in sshPublicKeys) and a dummy Cloudflare token. synth
 * (scripts/synth/stackFile.ts) substitutes placeholders of its own. None of them may reach a real
 * Proxmox host, Pi or Cloudflare account.
 */
import { createHash } from "node:crypto";

/** The passphrase the committed stack files' secrets are encrypted with (public). */
export const PUBLIC_PASSPHRASE = "kantai-dev";

/**
 * `encryptionsalt` of the committed stack files. Pulumi's passphrase secrets manager keeps the
 * PBKDF2 salt and the word "pulumi" encrypted with the derived key in this one value and checks the
 * passphrase by decrypting it (pulumi/pulumi sdk/go/common/resource/config/crypt.go, pkg/secrets/
 * passphrase/manager.go): a stack whose program runs with this salt was unlocked with "kantai-dev".
 * `pulumi stack change-secrets-provider passphrase` writes a new salt.
 */
export const PUBLIC_ENCRYPTION_SALT = "v1:gsV5PIamuGQ=:v1:95fkDEXzfWE5uJN3:Rl93TgOYBf9lgAwQCecn46wfm47/bg==";

/** Public half (OpenSSH key blob, base64) of the committed throwaway key pair ("kantai-dev-placeholder"). */
export const PLACEHOLDER_SSH_PUBLIC_BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAIBtRuVGxWYkPKqB9S+AEsxXyi+0pldp6R0THvR6FHmNg";

/**
 * sha256 of the committed placeholder secrets' plaintexts (decrypted with "kantai-dev"):
 * proxmoxApiToken "kantai@pve!dev=00000000-…", the throwaway sshPrivateKey, cloudflareApiToken.
 */
export const PLACEHOLDER_SECRET_SHA256: Readonly<Record<string, readonly string[]>> = {
  proxmoxApiToken: ["7943e23a5ac83423379e6ea47df808be6380eb587a1ebb04dd08f214d5db09fc"],
  sshPrivateKey: ["5b3c68b354130f3009b39113f4c9454397b413fd1c6a7ad8c35e29b31e869e50"],
  cloudflareApiToken: ["322f7a033d0f1a5abe3012b337c2e174d4ced834422a6f8de0dba0627cf7ab99"],
};

/** One placeholder found: the key, what is wrong, and the command that fixes it. */
export interface PlaceholderFinding {
  readonly key: string;
  readonly message: string;
  readonly fix: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
/** An all-zero UUID is no token Proxmox issues (it generates random UUIDs). */
const ZERO_UUID = /=0{8}-0{4}-0{4}-0{4}-0{12}$/;

/**
 * The public key blob inside an unencrypted or encrypted OpenSSH private key ("openssh-key-v1":
 * magic, cipher, kdf, kdf options, key count, then the first public key as a string; see
 * openssh-portable PROTOCOL.key). Undefined when the text is not in that format.
 */
export function opensshPublicBlob(privateKey: string): string | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(privateKey);
  if (!m) return undefined;
  const buf = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
  const magic = Buffer.from("openssh-key-v1\0", "latin1");
  if (buf.length < magic.length || !buf.subarray(0, magic.length).equals(magic)) return undefined;
  let off = magic.length;
  const str = (): Buffer | undefined => {
    if (off + 4 > buf.length) return undefined;
    const n = buf.readUInt32BE(off);
    off += 4;
    if (off + n > buf.length) return undefined;
    const s = buf.subarray(off, off + n);
    off += n;
    return s;
  };
  if (!str() || !str() || !str()) return undefined; // cipher, kdf, kdf options
  if (off + 4 > buf.length) return undefined;
  off += 4; // number of keys
  const pub = str();
  return pub && pub.length > 0 ? pub.toString("base64") : undefined;
}

/** Whether a proxmoxApiToken value is a placeholder (committed, synth's, or an all-zero secret). */
export function isPlaceholderToken(v: string): boolean {
  return PLACEHOLDER_SECRET_SHA256.proxmoxApiToken.includes(sha256(v)) || ZERO_UUID.test(v.trim());
}

/** Whether an sshPrivateKey value is the committed throwaway key or a stand-in text. */
export function isPlaceholderPrivateKey(v: string): boolean {
  if (PLACEHOLDER_SECRET_SHA256.sshPrivateKey.includes(sha256(v))) return true;
  if (opensshPublicBlob(v) === PLACEHOLDER_SSH_PUBLIC_BLOB) return true;
  return /placeholder/i.test(v);
}

/** Whether an OpenSSH public key line is the committed throwaway key's public half. */
export function isPlaceholderPublicKey(v: string): boolean {
  return v.trim().split(/\s+/)[1] === PLACEHOLDER_SSH_PUBLIC_BLOB;
}

/** Whether a githubRunnerToken value is the committed placeholder (or synth's substitute). */
export function isPlaceholderGithubToken(v: string): boolean {
  return /^REPLACE-WITH-|placeholder/i.test(v.trim());
}

/** Whether a cloudflareApiToken value is a placeholder. */
export function isPlaceholderCloudflareToken(v: string): boolean {
  return PLACEHOLDER_SECRET_SHA256.cloudflareApiToken.includes(sha256(v)) || /placeholder/i.test(v);
}

export interface PlaceholderInput {
  /** `kantai:*` values without the namespace, decoded (stacks/config/load.ts rawFromConfigMap). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** Stack name, for the commands printed. */
  readonly stack: string;
  /** `encryptionsalt` of Pulumi.<stack>.yaml, when the file was readable. */
  readonly encryptionSalt?: string;
  /** PULUMI_CONFIG_PASSPHRASE, when set. */
  readonly passphrase?: string;
}

/**
 * Every placeholder a stack's config still holds, in the order a user fixes them: the passphrase
 * first (changing it re-encrypts the secrets), then each secret, then the public key list.
 */
export function findPlaceholders(input: PlaceholderInput): PlaceholderFinding[] {
  const { raw, stack } = input;
  const out: PlaceholderFinding[] = [];
  const s = ` --stack ${stack}`;
  if (input.encryptionSalt === PUBLIC_ENCRYPTION_SALT || input.passphrase === PUBLIC_PASSPHRASE) {
    out.push({
      key: `Pulumi.${stack}.yaml encryptionsalt`,
      message: `the stack's secrets are encrypted with the public passphrase "${PUBLIC_PASSPHRASE}"`,
      fix: `pulumi stack change-secrets-provider passphrase${s}   (enter a passphrase of your own; then set PULUMI_CONFIG_PASSPHRASE to it)`,
    });
  }
  const str = (k: string) => (typeof raw[k] === "string" ? (raw[k] as string) : undefined);
  const token = str("proxmoxApiToken");
  if (token !== undefined && isPlaceholderToken(token)) {
    out.push({
      key: "kantai:proxmoxApiToken",
      message: "is a placeholder, not a Proxmox API token",
      fix: `pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=<secret uuid>'${s}`,
    });
  }
  const key = str("sshPrivateKey");
  if (key !== undefined && isPlaceholderPrivateKey(key)) {
    out.push({
      key: "kantai:sshPrivateKey",
      message: "is the committed throwaway key (its private half is public)",
      fix: `pulumi config set --secret sshPrivateKey${s} < ~/.ssh/id_ed25519`,
    });
  }
  const cf = str("cloudflareApiToken");
  if (cf !== undefined && isPlaceholderCloudflareToken(cf)) {
    out.push({
      key: "kantai:cloudflareApiToken",
      message: "is a placeholder, not a Cloudflare API token",
      fix: `pulumi config set --secret cloudflareApiToken <token with Account.Cloudflare Tunnel:Edit and Zone.DNS:Edit>${s}`,
    });
  }
  const gh = str("githubRunnerToken");
  if (gh !== undefined && isPlaceholderGithubToken(gh)) {
    out.push({
      key: "kantai:githubRunnerToken",
      message: "is a placeholder, not a GitHub token",
      fix: `pulumi config set --secret githubRunnerToken <fine-grained token: Administration read and write on the repository>${s}`,
    });
  }
  const pubs = Array.isArray(raw.sshPublicKeys) ? (raw.sshPublicKeys as unknown[]) : [];
  pubs.forEach((p, i) => {
    if (typeof p === "string" && isPlaceholderPublicKey(p)) {
      out.push({
        key: `kantai:sshPublicKeys[${i}]`,
        message: "is the committed throwaway key's public half: anyone can log in to the VMs with it",
        fix: `pulumi config set --path 'sshPublicKeys[${i}]' "$(cat ~/.ssh/id_ed25519.pub)"${s}`,
      });
    }
  });
  return out;
}

/** The refusal text: one problem and its fix per finding. */
export function placeholderMessage(findings: readonly PlaceholderFinding[], stack: string): string {
  return (
    `stack "${stack}" still uses the public placeholders of the committed stack file; ` +
    `refusing to run against real endpoints (docs/how-to/first-deploy.md):\n` +
    findings.map((f) => `  - ${f.key}: ${f.message}\n      set: ${f.fix}`).join("\n")
  );
}
