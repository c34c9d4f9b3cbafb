/**
 * Config of the lab's self-hosted GitHub Actions runner (`kantai:ciRunner`, `kantai:githubRunnerToken`),
 * validated here and resolved into CiRunnerConfig. Read by stacks/config.ts (the one place config is
 * read); see docs/how-to/ci-runner.md and docs/decisions/0019-ci-runner-vm.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

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

/** Schema primitives shared with stacks/config.ts. */
export interface CiSchemaPrimitives {
  readonly vmId: z.ZodNumber;
  readonly ipv4: z.ZodType<string>;
  readonly dnsLabel: z.ZodType<string>;
  readonly cores: z.ZodNumber;
  readonly memoryMb: z.ZodNumber;
}

/** Raw keys of this area (spread into stacks/config.ts's schema). */
export function ciKeys(p: CiSchemaPrimitives) {
  const runner = z.strictObject({
    /** Repository the runner serves, "owner/name". Required. */
    repository,
    /** VM and host name. */
    name: p.dnsLabel.default("ci-runner"),
    /** VM ID. */
    vmId: p.vmId.default(810),
    /** Address on the internal bridge. */
    ip: p.ipv4.default("10.0.0.40"),
    /** Template to clone (a key of `templates`). */
    template: z.string().default("standalone"),
    cores: p.cores.default(2),
    memoryMb: p.memoryMb.default(2048),
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

/** What parseCi needs from the rest of the config (the bookkeeping of stacks/config.ts). */
export interface CiParseContext {
  fail(key: string, message: string): void;
  claim(kind: "id" | "ip" | "name", value: number | string, key: string, what: string): void;
  checkVmIp(key: string, ip: string, what: string): void;
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
  ctx.checkVmIp("ciRunner.ip", c.ip, "the CI runner");
  ctx.claim("id", c.vmId, "ciRunner.vmId", what);
  ctx.claim("ip", c.ip, "ciRunner.ip", what);
  ctx.claim("name", c.name, "ciRunner.name", what);
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
