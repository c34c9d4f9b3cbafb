// Values as the Pulumi engine sends them to a provider (structpb JSON with "special
// signature" objects for secrets, unknowns, assets, resource references), and the
// check of such values against a declared Shape.
import type { ObjectDef, PackageShapes, Shape } from "./shapes";

export const SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
export const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface Failure {
  property: string;
  reason: string;
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

export const isSecret = (v: unknown): v is { value: unknown } => isObj(v) && v[SIG] === SECRET_SIG;
export const isUnknown = (v: unknown) => v === UNKNOWN;
export const secret = (value: unknown) => ({ [SIG]: SECRET_SIG, value });

/** True if `v` (or anything inside it) is an unknown value (preview). */
export function containsUnknown(v: unknown): boolean {
  if (isUnknown(v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isObj(v)) {
    if (v[SIG] === OUTPUT_SIG) return !("value" in v) || containsUnknown(v.value);
    return Object.values(v).some(containsUnknown);
  }
  return false;
}

/** Strip secret/output wrappers: the plain value (for running commands, comparing). */
export function plain(v: unknown): any {
  if (Array.isArray(v)) return v.map(plain);
  if (isObj(v)) {
    if (v[SIG] === SECRET_SIG) return plain(v.value);
    if (v[SIG] === OUTPUT_SIG) return plain(v.value);
    if (v[SIG] !== undefined) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** Same value with every secret replaced by "[secret]" (for the call record). */
export function redact(v: unknown): any {
  if (Array.isArray(v)) return v.map(redact);
  if (isObj(v)) {
    if (v[SIG] === SECRET_SIG) return "[secret]";
    if (v[SIG] === OUTPUT_SIG) return v.secret ? "[secret]" : redact(v.value);
    if (v[SIG] !== undefined) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
  }
  return v;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canon(plain(a))) === JSON.stringify(canon(plain(b)));
}

function canon(v: any): any {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canon(v[k])]),
    );
  return v;
}

const describe = (s: Shape): string => {
  switch (s.k) {
    case "array":
      return `array of ${describe(s.of)}`;
    case "map":
      return `map of ${describe(s.of)}`;
    case "ref":
      return "object";
    case "literal":
      return `one of ${s.values.map((x) => JSON.stringify(x)).join(", ")}`;
    case "union":
      return s.of.map(describe).join(" or ");
    default:
      return s.k;
  }
};

/** Check `value` against `shape`; push failures with dotted property paths. */
export function checkValue(value: unknown, shape: Shape, at: string, shapes: PackageShapes, out: Failure[]): void {
  if (value === null || value === undefined || isUnknown(value)) return;
  if (isObj(value)) {
    const sig = value[SIG];
    if (sig === SECRET_SIG) return checkValue(value.value, shape, at, shapes, out);
    if (sig === OUTPUT_SIG) return "value" in value ? checkValue(value.value, shape, at, shapes, out) : undefined;
    if (sig === RESOURCE_SIG) return; // a resource reference stands for its id/urn
    if (sig === ASSET_SIG || sig === ARCHIVE_SIG) {
      if (["asset", "archive", "any"].includes(shape.k) || shape.k === "union") return;
      out.push({ property: at, reason: `expected ${describe(shape)}, got an asset or archive` });
      return;
    }
  }
  const bad = (what: string): void => {
    out.push({ property: at, reason: `expected ${describe(shape)}, got ${what}` });
  };
  const kind = Array.isArray(value) ? "array" : typeof value;
  switch (shape.k) {
    case "any":
      return;
    case "string":
    case "number":
    case "boolean":
      if (typeof value !== shape.k) bad(`${kind} ${JSON.stringify(value)}`);
      return;
    case "asset":
    case "archive":
      return bad(kind);
    case "literal":
      if (!shape.values.includes(value as any)) bad(JSON.stringify(value));
      return;
    case "array":
      if (!Array.isArray(value)) return bad(kind);
      value.forEach((x, i) => checkValue(x, shape.of, `${at}[${i}]`, shapes, out));
      return;
    case "map":
      if (!isObj(value)) return bad(kind);
      for (const [k, x] of Object.entries(value)) checkValue(x, shape.of, at ? `${at}.${k}` : k, shapes, out);
      return;
    case "ref": {
      if (!isObj(value)) return bad(kind);
      const def = shapes.defs[shape.name];
      if (def) checkObject(value, def, at, shapes, out);
      return;
    }
    case "union": {
      for (const member of shape.of) {
        const trial: Failure[] = [];
        checkValue(value, member, at, shapes, trial);
        if (trial.length === 0) return;
      }
      // report against the member of the same JSON kind, if exactly one
      const sameKind = shape.of.filter((m) =>
        m.k === "ref" || m.k === "map" ? kind === "object" : m.k === "array" ? kind === "array" : m.k === kind,
      );
      if (sameKind.length === 1) return checkValue(value, sameKind[0], at, shapes, out);
      return bad(`${kind} ${JSON.stringify(plain(value)).slice(0, 80)}`);
    }
  }
}

/** Check an object's properties: unknown names, missing required ones, each value's shape. */
export function checkObject(
  value: Record<string, unknown>,
  def: ObjectDef,
  at: string,
  shapes: PackageShapes,
  out: Failure[],
): void {
  const join = (k: string) => (at ? `${at}.${k}` : k);
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith("__")) continue; // engine bookkeeping such as __defaults
    const prop = def.props[k];
    if (!prop) {
      if (def.open) continue;
      out.push({ property: join(k), reason: `unknown property "${k}" (not declared by the SDK)` });
      continue;
    }
    checkValue(v, prop.shape, join(k), shapes, out);
  }
  for (const [k, prop] of Object.entries(def.props)) {
    if (prop.required && (value[k] === undefined || value[k] === null)) {
      out.push({ property: join(k), reason: `missing required property "${k}"` });
    }
  }
}

/** A value of the declared shape, for outputs a stand-in cannot compute. */
export function fabricate(shape: Shape, name: string, shapes: PackageShapes, depth = 0): unknown {
  switch (shape.k) {
    case "string":
      return `standin-${name}`;
    case "number":
      return 0;
    case "boolean":
      return false;
    case "literal":
      return shape.values[0];
    case "array":
      return [];
    case "map":
      return {};
    case "union":
      return fabricate(shape.of[0], name, shapes, depth);
    case "ref": {
      const def = shapes.defs[shape.name];
      if (!def || depth > 3) return {};
      const out: Record<string, unknown> = {};
      for (const [k, p] of Object.entries(def.props)) {
        if (p.required) out[k] = fabricate(p.shape, k, shapes, depth + 1);
      }
      return out;
    }
    default:
      return undefined;
  }
}
