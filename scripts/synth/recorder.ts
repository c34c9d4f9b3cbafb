/**
 * Runs a Pulumi program under the mock runtime (SIMULATED: no engine, no cloud, no credentials)
 * and records every resource registration with its exact inputs and options.
 * Secret values are replaced by the string "[secret]" in what it returns.
 */
import * as pulumi from "@pulumi/pulumi";
import { synthMocks } from "./mocks";

export const SECRET = "[secret]";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource; undefined for top-level resources. */
  readonly parent?: string;
  /** True for custom (provider) resources, false for components. */
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly protect?: boolean;
  readonly deleteBeforeReplace?: boolean;
  /** Input paths whose changes are ignored after create. */
  readonly ignoreChanges?: string[];
  /** Names of explicit `dependsOn` resources. */
  readonly dependsOn: string[];
  /** Names of the `replaceWith` resources (their replacement replaces this one). */
  readonly replaceWith?: string[];
  /** Name of the `deletedWith` resource (its deletion makes this one's delete a no-op). */
  readonly deletedWith?: string;
  /** How many `transforms` the resource carries (they run on its children, e.g. a ConfigFile's objects). */
  readonly transforms?: number;
}

export interface RecordOptions {
  readonly project?: string;
  readonly stack?: string;
  /** Config as Pulumi passes it: "kantai:key" → string (JSON for structured values). */
  readonly config?: Record<string, string>;
  /** Config keys holding secrets. */
  readonly secretKeys?: string[];
}

export interface Recording<T> {
  readonly resources: RecordedResource[];
  readonly result: T;
}

const nameOf = (r: unknown): string => (r as { __name?: string }).__name ?? "<unnamed>";

/** Resolve Inputs/Outputs/Promises deeply; secrets become "[secret]" unless `reveal`. */
export async function resolveDeep(v: unknown, reveal = false): Promise<unknown> {
  if (pulumi.Output.isInstance(v)) {
    const o = v as unknown as { promise(): Promise<unknown>; isSecret: Promise<boolean>; isKnown: Promise<boolean> };
    const [value, secret, known] = await Promise.all([o.promise(), o.isSecret, o.isKnown]);
    if (secret && !reveal) return SECRET;
    if (!known) return "[unknown]";
    return resolveDeep(value, reveal);
  }
  if (v instanceof Promise) return resolveDeep(await v, reveal);
  if (pulumi.Resource.isInstance(v)) return `[resource ${nameOf(v)}]`;
  if (pulumi.asset.Asset.isInstance(v) || pulumi.asset.Archive.isInstance(v)) return "[asset]";
  if (Array.isArray(v)) return Promise.all((v as unknown[]).map((x) => resolveDeep(x, reveal)));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const r = await resolveDeep((v as Record<string, unknown>)[k], reveal);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return v;
}

async function dependsOnNames(d: unknown): Promise<string[]> {
  if (d === undefined) return [];
  const v = pulumi.Output.isInstance(d) ? await (d as unknown as { promise(): Promise<unknown> }).promise() : await d;
  const list = Array.isArray(v) ? v : [v];
  const flat = await Promise.all(
    list.map(async (x) =>
      pulumi.Output.isInstance(x) ? (x as unknown as { promise(): Promise<unknown> }).promise() : x,
    ),
  );
  return flat
    .flat()
    .filter((x) => x !== undefined)
    .map(nameOf);
}

/**
 * Run `program` as a stack under mocks and record what it registers.
 * Call once per process: Pulumi's runtime state is global.
 */
export async function recordProgram<T>(program: () => T, opts: RecordOptions = {}): Promise<Recording<T>> {
  pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);
  pulumi.runtime.setMocks(synthMocks, opts.project ?? "kantai", opts.stack ?? "dev", false);
  const pending: Promise<RecordedResource>[] = [];
  const registered: Promise<unknown>[] = [];
  const ids: Promise<unknown>[] = [];
  let result: T | undefined;
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      const o = a.opts as pulumi.CustomResourceOptions;
      const res = a.resource;
      registered.push(Promise.resolve().then(() => (res.urn as unknown as { promise(): Promise<unknown> }).promise()));
      ids.push(
        res instanceof pulumi.CustomResource
          ? Promise.resolve().then(() => (res.id as unknown as { promise(): Promise<unknown> }).promise())
          : Promise.resolve(),
      );
      pending.push(
        (async (): Promise<RecordedResource> => ({
          type: a.type,
          name: a.name,
          ...(o.parent ? { parent: nameOf(o.parent) } : {}),
          custom: a.resource instanceof pulumi.CustomResource,
          inputs: (await resolveDeep(a.props)) as Record<string, unknown>,
          ...(o.protect !== undefined ? { protect: o.protect } : {}),
          ...(o.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: o.deleteBeforeReplace } : {}),
          ...(o.ignoreChanges !== undefined ? { ignoreChanges: [...o.ignoreChanges] } : {}),
          dependsOn: await dependsOnNames(o.dependsOn),
          ...(o.replaceWith?.length ? { replaceWith: o.replaceWith.map(nameOf) } : {}),
          ...(o.deletedWith ? { deletedWith: nameOf(o.deletedWith) } : {}),
          ...(o.transforms?.length ? { transforms: o.transforms.length } : {}),
        }))(),
      );
      return undefined;
    });
    try {
      result = program();
    } catch (e) {
      failure = e;
    }
    return {};
  });
  if (failure) throw failure;
  const resources = await Promise.all(pending);
  // Wait until every registration has completed, so nothing is left in flight. A provider that
  // no resource uses (e.g. a cluster's, in a stack that deploys nothing on it) finishes its
  // registration a turn after its URN resolves: wait for ids and one more turn of the loop.
  await Promise.all(registered);
  await Promise.all(ids);
  await new Promise((resolve) => setImmediate(resolve));
  return { resources, result: result as T };
}
