// A stand-in provider plugin: serves the provider gRPC protocol with
// @pulumi/pulumi/provider, checks every input against the npm SDK's declared shape,
// records every call, and keeps resource state as the engine gives it.
//
// It is NOT the real provider. It never talks to a cloud API. It exists so that the
// real Pulumi engine (preview, up, diff, state, secrets) can run where the real
// plugin binary cannot be built (docs/decisions/0005-engine-from-modules.md).
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import type * as pprovider from "@pulumi/pulumi/provider";
import { loadShapes, type PackageShapes, type ResourceShape } from "./shapes";
import { checkObject, containsUnknown, deepEqual, fabricate, plain, redact, UNKNOWN, type Failure } from "./wire";

export interface Behaviour {
  /** resource tokens this stand-in gives real-ish behaviour to (others: generic echo). */
  create?(token: string, name: string, inputs: any): Promise<{ id?: string; outs: any }>;
  update?(token: string, id: string, olds: any, news: any, name?: string): Promise<{ outs: any }>;
  delete?(token: string, id: string, props: any): Promise<void>;
  /** input properties whose change replaces the resource. */
  replaces?(token: string, changed: string[], olds: any, news: any): string[];
  invoke?(token: string, args: any): Promise<any | undefined>;
}

export interface StandinSpec {
  name: string;
  npm: string;
  behaviour?: Behaviour;
}

export function engineDir(): string {
  return process.env.KANTAI_ENGINE_DIR || path.join(process.env.HOME || "/tmp", ".cache", "kantai-engine");
}

/** The plugin version the SDK asks the engine for (package.json pulumi.version, else version). */
export function sdkVersion(spec: StandinSpec): string {
  const pkgJson = require.resolve(`${spec.npm}/package.json`, { paths: [path.resolve(__dirname, "..", "..")] });
  const j = JSON.parse(fs.readFileSync(pkgJson, "utf8"));
  return j.pulumi?.version ?? j.version;
}

export function shapesFor(spec: StandinSpec): PackageShapes {
  return loadShapes(spec.npm, path.join(engineDir(), "shapes"), path.resolve(__dirname, "..", ".."));
}

/** `kubernetes:<apiVersion>:<kind>[Patch]` built by apiextensions.CustomResource(Patch) from its inputs. */
function isCustomResourceToken(token: string, inputs: any): boolean {
  const v = plain(inputs ?? {});
  return token === `kubernetes:${v.apiVersion}:${v.kind}` || token === `kubernetes:${v.apiVersion}:${v.kind}Patch`;
}

const tokenOf = (urn: string): string => {
  // urn:pulumi:<stack>::<project>::<qualified type>::<name>; the type's last $-segment is ours
  const parts = urn.split("::");
  return parts[2].split("$").pop()!;
};
const nameOf = (urn: string): string => urn.split("::").slice(3).join("::");

function record(entry: Record<string, unknown>): void {
  const file = process.env.KANTAI_STANDIN_LOG;
  if (!file) return;
  fs.appendFileSync(file, JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n");
}

export interface StandinProvider extends pprovider.Provider {
  /** CheckConfig: the provider resource's inputs against the SDK's ProviderArgs. */
  checkConfig(urn: string, olds: any, news: any): Promise<{ inputs: any; failures: Failure[] }>;
}

export function makeProvider(spec: StandinSpec): StandinProvider {
  // The shapes (up to 2 MB of JSON) load on the first call that needs them: the engine starts
  // every plugin the program's packages name, most of which a given run never calls.
  let loaded: PackageShapes | undefined;
  const shapes = new Proxy({} as PackageShapes, {
    get: (_t, prop) => (loaded ??= shapesFor(spec))[prop as keyof PackageShapes],
  });
  const b = spec.behaviour ?? {};
  const version: string = sdkVersion(spec);
  const resourceShape = (token: string): ResourceShape | undefined => shapes.resources[token];

  const checkInputs = (token: string, inputs: any): Failure[] => {
    const rs = resourceShape(token);
    if (!rs && shapes.customResourceArgs && isCustomResourceToken(token, inputs)) {
      const failures: Failure[] = [];
      checkObject(inputs ?? {}, shapes.defs[shapes.customResourceArgs], "", shapes, failures);
      return failures;
    }
    if (!rs)
      return [{ property: "", reason: `stand-in ${spec.name}: the SDK ${spec.npm} declares no resource ${token}` }];
    const failures: Failure[] = [];
    if (rs.args) checkObject(inputs ?? {}, shapes.defs[rs.args], "", shapes, failures);
    return failures;
  };

  const fillOutputs = (token: string, inputs: any): any => {
    const rs = resourceShape(token);
    const argProps = (rs?.args && shapes.defs[rs.args]?.props) || {};
    const outs = { ...inputs };
    for (const [k, s] of Object.entries(rs?.outputs ?? {})) {
      if (outs[k] === undefined && !(k in argProps)) {
        const v = fabricate(s, k, shapes);
        if (v !== undefined) outs[k] = v;
      }
    }
    return outs;
  };

  return {
    version,
    async checkConfig(urn, _olds, news) {
      const rs = resourceShape(`pulumi:providers:${spec.name}`);
      const def = rs?.args ? shapes.defs[rs.args] : undefined;
      const failures: Failure[] = [];
      if (def) {
        // provider config may arrive JSON-encoded (legacy string config); decode for the check
        const decoded: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(news ?? {})) {
          const want = def.props[k]?.shape.k;
          if (typeof v === "string" && want && want !== "string" && want !== "any" && want !== "literal") {
            try {
              decoded[k] = JSON.parse(v);
              continue;
            } catch {
              /* keep the string: the check reports it */
            }
          }
          decoded[k] = v;
        }
        // "version" and "__internal" are engine bookkeeping, not SDK inputs
        delete decoded.version;
        checkObject(decoded, def, "", shapes, failures);
      }
      // provider config often holds credentials that may arrive unwrapped: record names only
      // unknowns (preview): the engine will not configure the provider nor call Check for its
      // resources (it passes their inputs through); the record says so for the tests
      const unknowns = JSON.stringify(news ?? {}).includes(UNKNOWN);
      record({
        provider: spec.name,
        version,
        method: "checkConfig",
        urn,
        inputs: Object.keys(news ?? {}).sort(),
        unknowns,
        failures,
      });
      return { inputs: news, failures };
    },
    async check(urn, olds, news) {
      const token = tokenOf(urn);
      const failures = checkInputs(token, news);
      record({ provider: spec.name, version, method: "check", urn, inputs: redact(news), failures });
      return { inputs: news, failures };
    },
    async diff(id, urn, olds, news) {
      const token = tokenOf(urn);
      const rs = resourceShape(token);
      const argProps = new Set(Object.keys((rs?.args && shapes.defs[rs.args]?.props) || {}));
      const keys = new Set([...Object.keys(news), ...Object.keys(olds).filter((k) => argProps.has(k))]);
      const changed = [...keys].filter((k) => !k.startsWith("__") && !deepEqual(olds[k], news[k]));
      const replaces = changed.length && b.replaces ? b.replaces(token, changed, olds, news) : [];
      record({ provider: spec.name, version, method: "diff", urn, id, changed, replaces });
      return { changes: changed.length > 0, replaces };
    },
    async create(urn, inputs) {
      const token = tokenOf(urn);
      const name = nameOf(urn);
      const res = (b.create && (await b.create(token, name, inputs))) || undefined;
      const id = res?.id ?? `standin-${spec.name}-${crypto.createHash("sha1").update(urn).digest("hex").slice(0, 12)}`;
      const outs = res ? res.outs : fillOutputs(token, inputs);
      record({ provider: spec.name, version, method: "create", urn, id, inputs: redact(inputs) });
      return { id, outs };
    },
    async read(id, urn, props) {
      record({ provider: spec.name, version, method: "read", urn, id });
      return { id, props };
    },
    async update(id, urn, olds, news) {
      const token = tokenOf(urn);
      const res = (b.update && (await b.update(token, id, olds, news, nameOf(urn)))) || undefined;
      record({ provider: spec.name, version, method: "update", urn, id, inputs: redact(news) });
      return { outs: res ? res.outs : fillOutputs(token, news) };
    },
    async delete(id, urn, props) {
      const token = tokenOf(urn);
      if (b.delete) await b.delete(token, id, props);
      record({ provider: spec.name, version, method: "delete", urn, id });
    },
    async invoke(token, args) {
      const fs_ = shapes.functions[token];
      const failures: Failure[] = [];
      if (!fs_) {
        failures.push({
          property: "",
          reason: `stand-in ${spec.name}: the SDK ${spec.npm} declares no function ${token}`,
        });
      } else if (fs_.args) {
        checkObject(args ?? {}, shapes.defs[fs_.args], "", shapes, failures);
      }
      let outputs: any = {};
      if (failures.length === 0) {
        const real = b.invoke ? await b.invoke(token, args) : undefined;
        if (real !== undefined) outputs = real;
        else if (fs_?.result)
          outputs = { ...plain(args), ...(fabricate({ k: "ref", name: fs_.result }, "result", shapes) as object) };
      }
      record({ provider: spec.name, version, method: "invoke", token, inputs: redact(args), failures });
      return { outputs, failures };
    },
    async construct(name, type, inputs, options) {
      // Multi-language components (kubernetes yaml/v2, helm v4): register the component
      // itself, check its inputs, create no children (a stand-in does not render them).
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
      const raw = await resolveInputs(inputs);
      const failures = checkInputs(type, raw);
      record({ provider: spec.name, version, method: "construct", type, name, inputs: redact(raw), failures });
      if (failures.length) {
        throw new Error(
          `stand-in ${spec.name}: invalid inputs for ${type} ${name}: ` +
            failures.map((f) => `${f.property}: ${f.reason}`).join("; "),
        );
      }
      const comp = new pulumi.ComponentResource(type, name, {}, options);
      const state: Record<string, unknown> = {};
      const rs = resourceShape(type);
      for (const [k, s] of Object.entries(rs?.outputs ?? {})) {
        const v = fabricate(s, k, shapes);
        if (v !== undefined) state[k] = v;
      }
      return { urn: comp.urn, state };
    },
  };
}

async function resolveInputs(inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    const o = pulumi.output(v as any);
    // preview: unknown outputs never resolve; treat them as unknown after a short wait
    out[k] = await Promise.race([
      new Promise((resolve) => o.apply((x: unknown) => resolve(x))),
      new Promise((resolve) => setTimeout(() => resolve(undefined), 2000)),
    ]);
  }
  return out;
}

export { containsUnknown };
