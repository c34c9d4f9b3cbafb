/**
 * Checks preflight makes from a stack's config alone (no network). Pure.
 */
import type { Finding } from "./findings";
import { findPlaceholders, type PlaceholderInput } from "./placeholders";

/**
 * File names the `import` content type accepts for a download or upload: pve-storage
 * src/PVE/Storage.pm `$UPLOAD_IMPORT_EXT_RE_1 = qr/\.(ova|qcow2|raw|vmdk)/`, used by
 * src/PVE/API2/Storage/Status.pm download_url ("invalid filename or wrong extension").
 */
export const IMPORT_FILE_RE = /^[A-Za-z0-9._-]+\.(ova|qcow2|raw|vmdk)$/;

/** RFC 5737 documentation networks and RFC 2606 example domains: never a real deployment's. */
const DOC_IPV4 = /\b(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}\b/;
const DOC_DOMAIN = /(^|\.)example\.(com|net|org)$/i;
/** The committed edge stack's Cloudflare account and zone ids. */
const DOC_HEX_ID = /^(0123456789abcdef){2}$|^(fedcba9876543210){2}$/;

/** Secret keys whose values preflight may not have (stack file read without the passphrase). */
const SECRET_VALUE_KEYS = new Set([
  "kantai:proxmoxApiToken",
  "kantai:sshPrivateKey",
  "kantai:cloudflareApiToken",
  "kantai:githubRunnerToken",
]);

function walk(v: unknown, at: string, visit: (key: string, s: string) => void): void {
  if (typeof v === "string") visit(at, v);
  else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`, visit));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) walk(x, at.endsWith(":") ? `${at}${k}` : `${at}.${k}`, visit);
}

export interface ConfigCheckInput extends PlaceholderInput {
  /** False when the secrets could not be decrypted: their values are not judged. */
  readonly secretsKnown: boolean;
}

export function configChecks(input: ConfigCheckInput): Finding[] {
  const out: Finding[] = [];
  const { raw, stack } = input;
  const s = ` --stack ${stack}`;

  for (const p of findPlaceholders(input)) {
    if (!input.secretsKnown && SECRET_VALUE_KEYS.has(p.key)) continue;
    out.push({ level: "error", check: "placeholder", where: p.key, message: p.message, fix: p.fix });
  }
  if (!input.secretsKnown) {
    out.push({
      level: "skipped",
      check: "placeholder",
      where: "secrets",
      message: "the stack's secrets could not be decrypted, so their values were not checked",
      fix: `run with PULUMI_CONFIG_PASSPHRASE set and the pulumi CLI on $PATH (preflight runs \`pulumi config --show-secrets --json${s}\`)`,
    });
  }

  const image = raw.image as { fileName?: unknown } | undefined;
  if (image && typeof image.fileName === "string") {
    if (!IMPORT_FILE_RE.test(image.fileName)) {
      const stem = image.fileName.replace(/\.[^.]*$/, "");
      out.push({
        level: "error",
        check: "config",
        where: "kantai:image.fileName",
        message: `"${image.fileName}": Proxmox stores import content only as .qcow2, .raw, .vmdk or .ova ("invalid filename or wrong extension"); Ubuntu's .img cloud images are qcow2`,
        fix: `pulumi config set --path image.fileName ${stem}.qcow2${s}`,
      });
    } else {
      out.push({
        level: "ok",
        check: "config",
        where: "kantai:image.fileName",
        message: `"${image.fileName}" has an extension import content accepts`,
      });
    }
  }

  if (raw.proxmoxInsecure === true) {
    out.push({
      level: "warning",
      check: "config",
      where: "kantai:proxmoxInsecure",
      message: "the Proxmox API's TLS certificate is not verified",
      fix: `install a certificate the machine running pulumi trusts (Datacenter > ACME, or pvenode cert set), then pulumi config set proxmoxInsecure false${s}`,
    });
  }

  const docs: string[] = [];
  walk(raw, "kantai:", (key, v) => {
    if (SECRET_VALUE_KEYS.has(key)) return;
    if (DOC_IPV4.test(v) || DOC_DOMAIN.test(v) || DOC_HEX_ID.test(v)) docs.push(`${key} = ${v}`);
  });
  for (const d of docs) {
    const key = d.slice(0, d.indexOf(" = "));
    out.push({
      level: "warning",
      check: "config",
      where: key,
      message: `${d.slice(d.indexOf(" = ") + 3)} is a documentation placeholder (RFC 5737 address, example domain or the committed id)`,
      fix: `pulumi config set --path '${key.slice("kantai:".length)}' <your value>${s}`,
    });
  }
  return out;
}
