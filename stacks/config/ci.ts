/**
 * Config of the lab's self-hosted GitHub Actions runner (`kantai:ciRunner`, `kantai:githubRunnerToken`),
 * validated here and resolved into CiRunnerConfig. Read by stacks/config/load.ts (the one place config
 * is read); see docs/how-to/ci-runner.md and docs/decisions/0019-ci-runner-vm.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { cores, dnsLabel, ipv4, memoryMb, vmId, type Fail, type VmBook } from "./primitives";

/** A repository `owner/name` as GitHub spells them (https://docs.github.com/en/repositories: owner up to 39 characters). */
const repository = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/, 'must be a GitHub repository "owner/name"');
/**
 * A custom runner label. GitHub assigns "self-hosted", the OS and the architecture itself; a custom
 * label may not repeat those (docs: "Using labels with self-hosted runners").
 */
const label = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "must be a runner label (letters, digits, '.', '_', '-')")
  .refine((l) => !["self-hosted", "linux", "x64", "arm64", "arm"].includes(l.toLowerCase()), {
    message: "is a label GitHub assigns by itself (self-hosted, Linux, X64, ARM64, ARM); give a custom one",
  });

/** Raw keys of this area (spread into stacks/config/load.ts's schema). */
export function ciKeys() {
  const runner = z.strictObject({
    /** Repository the runner serves, "owner/name". Required. */
    repository,
    /** VM and host name. */
    name: dnsLabel.default("ci-runner"),
    /** VM ID. */
    vmId: vmId.default(810),
    /** Address on the internal bridge. */
    ip: ipv4.default("10.0.0.40"),
    /** Template to clone (a key of `templates`). */
    template: z.string().default("standalone"),
    cores: cores.default(2),
    memoryMb: memoryMb.default(2048),
    /** Custom labels (GitHub adds self-hosted, Linux, X64). The workflows' default is ["self-hosted", "kantai"]. */
    labels: z.array(label).min(1, "needs at least one custom label").default(["kantai"]),
    /** GitHub's REST API (GitHub Enterprise Server: https://<host>/api/v3). */
    apiUrl: z.url({ protocol: /^https$/, message: "must be an https:// URL" }).default("https://api.github.com"),
  });
  return {
    ciRunner: runner.optional(),
    /** Fine-grained token, "Administration: read and write" on the repository. Secret. */
    githubRunnerToken: z.string().min(1, "must not be empty").optional(),
  };
}

type Keys = ReturnType<typeof ciKeys>;
type RawRunner = NonNullable<z.output<Keys["ciRunner"]>>;

export interface CiRunnerConfig {
  readonly repository: string;
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
  readonly template: string;
  readonly node: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly labels: readonly string[];
  readonly apiUrl: string;
  readonly githubToken: pulumi.Output<string>;
}

export interface CiConfig {
  readonly ciRunner?: CiRunnerConfig;
}

/** What parseCi needs from the rest of the config. */
export interface CiParseContext {
  readonly fail: Fail;
  /** The VM bookkeeping of stacks/config/proxmox.ts. */
  readonly book: VmBook;
  readonly templates: Readonly<Record<string, { readonly node: string }>>;
  readonly secretKeys?: readonly string[];
}

export function parseCi(r: { ciRunner?: RawRunner; githubRunnerToken?: string }, ctx: CiParseContext): CiConfig {
  if (r.githubRunnerToken !== undefined && !r.ciRunner) {
    ctx.fail(
      "githubRunnerToken",
      "is set but kantai:ciRunner is not: remove it, or configure the runner (docs/how-to/ci-runner.md)",
    );
  }
  if (!r.ciRunner) return {};
  const c = r.ciRunner;
  const template = ctx.templates[c.template];
  if (!template) {
    ctx.fail(
      "ciRunner.template",
      `unknown template "${c.template}" (templates has ${
        Object.keys(ctx.templates)
          .map((t) => `"${t}"`)
          .join(", ") || "none"
      })`,
    );
  }
  if (r.githubRunnerToken === undefined) {
    ctx.fail(
      "githubRunnerToken",
      "is required with kantai:ciRunner (pulumi config set --secret githubRunnerToken <fine-grained token with Administration: read and write>)",
    );
  } else if (ctx.secretKeys && !ctx.secretKeys.includes("kantai:githubRunnerToken")) {
    ctx.fail(
      "githubRunnerToken",
      "must be stored as a secret (pulumi config set --secret githubRunnerToken …), not in plaintext",
    );
  }
  const what = `CI runner "${c.name}"`;
  ctx.book.checkVmIp("ciRunner.ip", c.ip, "the CI runner");
  ctx.book.claim("id", c.vmId, "ciRunner.vmId", what);
  ctx.book.claim("ip", c.ip, "ciRunner.ip", what);
  ctx.book.claim("name", c.name, "ciRunner.name", what);
  return {
    ciRunner: {
      repository: c.repository,
      name: c.name,
      vmId: c.vmId,
      ip: c.ip,
      template: c.template,
      node: template?.node ?? "",
      cores: c.cores,
      memoryMb: c.memoryMb,
      labels: c.labels,
      apiUrl: c.apiUrl.replace(/\/$/, ""),
      githubToken: pulumi.secret(r.githubRunnerToken ?? ""),
    },
  };
}
