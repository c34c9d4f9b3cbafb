/**
 * preflight: what a stack needs from its Proxmox host, checked before the first `pulumi up`.
 *
 *   npm run preflight -- --stack <name> [--stack-file <path>] [--no-api] [--no-ssh] [--ca <pem>] [--json]
 *
 * 1. Config alone: validation (stacks/config/), the committed placeholders, the image file name,
 *    documentation addresses (lib/preflight/configChecks.ts).
 * 2. With kantai:proxmoxApiToken: the Proxmox API, through its own GET client (lib/preflight/pveClient.ts) — version,
 *    nodes, storages and their content types, the token's privileges, free VM IDs, the template and
 *    the image present or not, package repositories (lib/preflight/client.ts, api.ts).
 * 3. With kantai:sshPrivateKey: each node over SSH (lib/preflight/ssh.ts).
 *
 * Config comes from `pulumi config --show-secrets --json --stack <name>` when the pulumi CLI can
 * decrypt it (PULUMI_CONFIG_PASSPHRASE set); otherwise from Pulumi.<name>.yaml without the secrets'
 * values (only the config-only checks run). PROXMOX_VE_API_TOKEN and PROXMOX_VE_SSH_PRIVATE_KEY
 * (the provider's own variable names) override the two secrets. Exit status: 1 when any check
 * found an error, 2 for bad usage, else 0. It changes nothing anywhere.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { apiChecks } from "../lib/preflight/api";
import { collectSnapshot } from "../lib/preflight/client";
import { configChecks } from "../lib/preflight/configChecks";
import { formatFindings, type Finding, type PreflightTarget } from "../lib/preflight/findings";
import { isPlaceholderPrivateKey, isPlaceholderToken } from "../lib/preflight/placeholders";
import { probeScript, sshChecks, type SshResult } from "../lib/preflight/ssh";
import { ConfigError, parseConfig, rawFromConfigMap, type StackConfig, stackEncryptionSalt } from "../stacks/config";
import { readStackFile, StackFileError } from "./synth/stackFile";

export interface LoadedConfig {
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  readonly secretsKnown: boolean;
  readonly source: string;
}

/** The stack's config: decrypted through the pulumi CLI when it can, else the stack file without secrets. */
export function loadStackConfig(root: string, stack: string, stackFile?: string): LoadedConfig {
  if (!stackFile) {
    const res = spawnSync("pulumi", ["config", "--show-secrets", "--json", "--stack", stack], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (res.status === 0) {
      try {
        const json = JSON.parse(res.stdout) as Record<string, { value?: string; secret?: boolean }>;
        const config: Record<string, string> = {};
        const secretKeys: string[] = [];
        for (const [k, v] of Object.entries(json)) {
          if (v.value !== undefined) config[k] = v.value;
          if (v.secret) secretKeys.push(k);
        }
        return { config, secretKeys, secretsKnown: true, source: `pulumi config --stack ${stack}` };
      } catch {
        // fall through to the file
      }
    }
  }
  const file = stackFile ?? path.join(root, `Pulumi.${stack}.yaml`);
  const { config, secretKeys } = readStackFile(file);
  return {
    config,
    secretKeys,
    secretsKnown: false,
    source: `${path.relative(process.cwd(), file) || file} (secrets not decrypted)`,
  };
}

/** What preflight checks, from the validated config. */
export function targetOf(cfg: StackConfig, tokenId?: string): PreflightTarget {
  const vms: { vmId: number; name: string; node: string; key: string }[] = [];
  if (cfg.fleet) {
    cfg.fleet.instances.forEach((s) =>
      vms.push({ vmId: s.vmId, name: s.name, node: cfg.fleet!.node, key: "kantai:fleet.firstVmId" }),
    );
    const lb = cfg.fleet.loadBalancer;
    vms.push({ vmId: lb.vmId, name: lb.name, node: cfg.fleet.node, key: "kantai:fleet.loadBalancer.vmId" });
  }
  if (cfg.grogu)
    vms.push({ vmId: cfg.grogu.vmId, name: cfg.grogu.name, node: cfg.grogu.node, key: "kantai:grogu.vmId" });
  for (const c of cfg.k3s) {
    c.nodes.forEach((n, i) => {
      if (n.vm)
        vms.push({ vmId: n.vm.vmId, name: n.name, node: n.vm.node, key: `kantai:k3s.${c.name}.nodes[${i}].vm.vmId` });
    });
  }
  return {
    stack: cfg.stack,
    endpoint: cfg.proxmox.endpoint,
    insecure: cfg.proxmox.insecure,
    tokenId,
    sshUser: cfg.proxmox.sshUser,
    nodes: cfg.proxmox.nodes,
    bridge: cfg.network.bridge,
    networkNode: cfg.network.node,
    storage: cfg.storage,
    image: { node: cfg.network.node, fileName: cfg.image.fileName },
    templates: Object.values(cfg.templates).map((t) => ({
      key: t.key,
      vmId: t.vmId,
      node: t.node,
      name: `template-${t.key}`,
    })),
    vms,
  };
}

/** Run the probe on one node with OpenSSH (key in a 0600 temp file, batch mode, no agent). */
export function runSsh(
  node: { name: string; address: string },
  user: string,
  key: string,
  snippetsDir?: string,
): SshResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-preflight-"));
  try {
    const keyFile = path.join(dir, "key");
    fs.writeFileSync(keyFile, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
    const res = spawnSync(
      "ssh",
      [
        "-i",
        keyFile,
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        `UserKnownHostsFile=${path.join(dir, "known_hosts")}`,
        `${user}@${node.address}`,
        "sh",
        "-s",
      ],
      { input: probeScript(snippetsDir), encoding: "utf8", timeout: 60_000 },
    );
    return {
      node: node.name,
      address: node.address,
      user,
      status: res.status ?? 255,
      stdout: res.stdout ?? "",
      stderr: res.stderr ?? res.error?.message ?? "",
      snippetsDir,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface PreflightOptions {
  readonly stack: string;
  readonly root: string;
  readonly stackFile?: string;
  readonly api: boolean;
  readonly ssh: boolean;
  readonly ca?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Config already loaded (tests); else loadStackConfig. */
  readonly loaded?: LoadedConfig;
}

export async function preflight(o: PreflightOptions): Promise<Finding[]> {
  const env = o.env ?? process.env;
  const loaded = o.loaded ?? loadStackConfig(o.root, o.stack, o.stackFile);
  const raw = rawFromConfigMap(loaded.config);
  if (env.PROXMOX_VE_API_TOKEN) raw.proxmoxApiToken = env.PROXMOX_VE_API_TOKEN;
  if (env.PROXMOX_VE_SSH_PRIVATE_KEY) raw.sshPrivateKey = env.PROXMOX_VE_SSH_PRIVATE_KEY;
  const tokenKnown = loaded.secretsKnown || !!env.PROXMOX_VE_API_TOKEN;
  const keyKnown = loaded.secretsKnown || !!env.PROXMOX_VE_SSH_PRIVATE_KEY;
  const findings: Finding[] = [
    { level: "ok", check: "config", where: "source", message: loaded.source },
    ...configChecks({
      raw,
      stack: o.stack,
      encryptionSalt: stackEncryptionSalt(o.stackFile ? path.dirname(o.stackFile) : o.root, o.stack),
      passphrase: env.PULUMI_CONFIG_PASSPHRASE,
      secretsKnown: loaded.secretsKnown,
    }),
  ];
  let cfg: StackConfig;
  try {
    cfg = parseConfig(raw, { project: "kantai", stack: o.stack, secretKeys: loaded.secretKeys });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const i of e.issues) findings.push({ level: "error", check: "config", where: i.key, message: i.message });
    findings.push({
      level: "skipped",
      check: "api",
      where: "Proxmox API and SSH",
      message: "not checked until the config is valid",
    });
    return findings;
  }
  findings.push({
    level: "ok",
    check: "config",
    where: `Pulumi.${o.stack}.yaml`,
    message: `valid (${cfg.composition})`,
  });

  const token = typeof raw.proxmoxApiToken === "string" ? raw.proxmoxApiToken : "";
  const target = targetOf(cfg, token.includes("=") ? token.slice(0, token.indexOf("=")) : undefined);
  let snippetsPath: string | undefined;
  if (!o.api) findings.push({ level: "skipped", check: "api", where: cfg.proxmox.endpoint, message: "--no-api" });
  else if (!tokenKnown || isPlaceholderToken(token)) {
    findings.push({
      level: "skipped",
      check: "api",
      where: cfg.proxmox.endpoint,
      message: "no real API token (set kantai:proxmoxApiToken, or PROXMOX_VE_API_TOKEN for this run)",
    });
  } else {
    const ca = o.ca ? fs.readFileSync(o.ca, "utf8") : undefined;
    const snap = await collectSnapshot(target, {
      endpoint: cfg.proxmox.endpoint,
      token,
      insecure: cfg.proxmox.insecure,
      ca,
    });
    findings.push(...apiChecks(target, snap));
    const st = snap.storageConfig?.find((s) => s.storage === cfg.storage.snippets);
    if (st?.path) snippetsPath = path.posix.join(st.path, "snippets");
  }

  const key = typeof raw.sshPrivateKey === "string" ? raw.sshPrivateKey : "";
  if (!o.ssh) findings.push({ level: "skipped", check: "ssh", where: "nodes", message: "--no-ssh" });
  else if (!keyKnown || isPlaceholderPrivateKey(key)) {
    findings.push({
      level: "skipped",
      check: "ssh",
      where: "nodes",
      message: "no real SSH key (set kantai:sshPrivateKey, or PROXMOX_VE_SSH_PRIVATE_KEY for this run)",
    });
  } else {
    for (const n of cfg.proxmox.nodes) findings.push(...sshChecks(runSsh(n, cfg.proxmox.sshUser, key, snippetsPath)));
  }
  return findings;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      "stack-file": { type: "string" },
      "no-api": { type: "boolean", default: false },
      "no-ssh": { type: "boolean", default: false },
      ca: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!values.stack) {
    console.error(
      "usage: npm run preflight -- --stack <name> [--stack-file <path>] [--no-api] [--no-ssh] [--ca <pem>] [--json]",
    );
    return 2;
  }
  const findings = await preflight({
    stack: values.stack,
    root: path.resolve(__dirname, ".."),
    stackFile: values["stack-file"] && path.resolve(values["stack-file"]),
    api: !values["no-api"],
    ssh: !values["no-ssh"],
    ca: values.ca,
  });
  console.log(values.json ? JSON.stringify(findings, null, 2) : formatFindings(findings));
  return findings.some((f) => f.level === "error") ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof StackFileError) console.error(e.message);
      else console.error((e as Error).stack ?? String(e));
      process.exit(2);
    },
  );
}
