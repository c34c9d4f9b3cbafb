/**
 * TemplateGuard: a dynamic resource that makes `pulumi preview` refuse an edit that would replace a
 * protected VM template, with a message that names the config key and says what to do.
 *
 * Pulumi refuses to replace a protected resource (pkg/resource/deploy/step_generator.go: "unable to
 * replace resource … as it is currently marked for protection"), but only once the provider's diff
 * says "replace" — and for a template whose image is being re-downloaded that is known only during
 * `up`, after other resources have changed. The guard compares the template's replacing inputs
 * (node, VM ID, image, disk datastore, disk shrink) with their previous values in `check`, which
 * the engine calls during preview, and reports a check failure. With `allowReplace` the template
 * is unprotected for that run (Pulumi allows unprotect and replace in one update: it checks
 * `new.Protect && old.Protect`) and the guard passes.
 *
 * Closure-serialized like RoutingPlan's provider: no imports at run time, no top-level state.
 */
import * as pulumi from "@pulumi/pulumi";

export const TEMPLATE_GUARD_MODULE = "kantai/proxmox";
export const TEMPLATE_GUARD_KIND = "TemplateGuard";

/** The inputs of a template that, when changed, replace it. */
export interface TemplateGuardInputs {
  /** Key in kantai:templates. */
  readonly key: string;
  readonly vmName: string;
  readonly vmId: number;
  readonly node: string;
  /** Image the disk is imported from: URL, stored file name, checksum ("" when none). */
  readonly image: string;
  readonly diskDatastore: string;
  readonly diskGb: number;
  /** kantai:templates.<key>.allowReplace. */
  readonly allowReplace: boolean;
}

/**
 * Problems with going from `olds` to `news`: one failure per replacing change, empty on first
 * create, when nothing replacing changed, or when `allowReplace` is set. Pure.
 */
export function templateGuardFailures(
  olds: Partial<TemplateGuardInputs>,
  news: TemplateGuardInputs,
): { property: string; reason: string }[] {
  if (olds.vmId === undefined || news.allowReplace) return [];
  const changes: [keyof TemplateGuardInputs, string][] = [];
  const fields: [keyof TemplateGuardInputs, string][] = [
    ["vmId", "vmId"],
    ["node", "node"],
    ["image", "the cloud image (kantai:image)"],
    ["diskDatastore", "the disk datastore (kantai:storage.disks)"],
  ];
  for (const [f, what] of fields) {
    if (olds[f] !== undefined && String(olds[f]) !== String(news[f]))
      changes.push([f, `${what} ${String(olds[f])} → ${String(news[f])}`]);
  }
  if (typeof olds.diskGb === "number" && news.diskGb < olds.diskGb) {
    changes.push(["diskGb", `diskGb ${olds.diskGb} → ${news.diskGb} (Proxmox cannot shrink a disk)`]);
  }
  return changes.map(([property, change]) => ({
    property,
    reason:
      `kantai:templates.${news.key}: ${change} would replace the protected template "${news.vmName}" (VM ${String(olds.vmId)}), ` +
      `and with it every VM cloned from it: they are deleted first and cloned again from the new template (their disks' content is lost). ` +
      `To go ahead, set kantai:templates.${news.key}.allowReplace to true for one \`pulumi up\`, then remove it; otherwise revert the change.`,
  }));
}

export const templateGuardProvider: pulumi.dynamic.ResourceProvider<TemplateGuardInputs, TemplateGuardInputs> = {
  async check(olds, news) {
    const failures = templateGuardFailures((olds ?? {}) as Partial<TemplateGuardInputs>, news);
    return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
  },
  async diff(_id, olds, news) {
    const keys = Object.keys(news) as (keyof TemplateGuardInputs)[];
    return {
      changes: keys.some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k])),
      replaces: [],
      deleteBeforeReplace: false,
    };
  },
  async create(news) {
    return { id: `template-guard-${news.key}`, outs: news };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
};

export class TemplateGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: TemplateGuardInputs, opts?: pulumi.CustomResourceOptions) {
    super(templateGuardProvider, name, { ...args }, opts, TEMPLATE_GUARD_MODULE, TEMPLATE_GUARD_KIND);
  }
}
