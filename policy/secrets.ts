/**
 * Secret awareness for stack validations. @pulumi/policy 1.21 hands a stack validation every
 * resource's properties with secrets already unwrapped, so a policy cannot tell `pulumi.secret(x)`
 * from a plaintext `x`. The engine does send the secret markers; `trackSecrets()` records, for each
 * properties object @pulumi/policy deserializes, the paths that were secret (the values themselves
 * are untouched), and `secretPathsOf(props)` reads them back. Tested in test/policy.test.ts
 * against @pulumi/policy's own deserializer.
 */
const SIG_KEY = "4dabf18193072939515e22adb298388d"; // @pulumi/pulumi runtime/rpc specialSigKey
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"; // specialSecretSig
const PROXY_TARGET = "__getSpecialProxyTarget"; // @pulumi/policy proxy getSpecialProxyTarget

const recorded = new WeakMap<object, ReadonlySet<string>>();
let installed = false;

/** Dotted paths (`a.b`, `a[0]`) of the secret values in a raw (serialized) property object. */
export function secretPaths(raw: unknown): Set<string> {
  const paths = new Set<string>();
  const walk = (v: unknown, p: string) => {
    if (v === null || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) {
      paths.add(p);
      return;
    }
    for (const [k, x] of Object.entries(o)) walk(x, p === "" ? k : Array.isArray(v) ? `${p}[${k}]` : `${p}.${k}`);
  };
  walk(raw, "");
  return paths;
}

/** Install the recorder into @pulumi/policy's deserializer (idempotent). */
export function trackSecrets(): void {
  if (installed) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require("@pulumi/policy/deserialize") as {
    deserializeProperties: (s: { toJavaScript(): unknown }, proxySecrets: boolean) => object;
  };
  const original = mod.deserializeProperties;
  mod.deserializeProperties = (struct, proxySecrets) => {
    const props = original(struct, proxySecrets);
    recorded.set(props, secretPaths(struct.toJavaScript()));
    return props;
  };
  installed = true;
}

/** The object behind @pulumi/policy's property proxies. */
export function unproxied<T extends object>(props: T): T {
  return ((props as Record<string, unknown>)[PROXY_TARGET] as T | undefined) ?? props;
}

/** The secret paths recorded for `props`; throws when trackSecrets() was not installed or did not see them. */
export function secretPathsOf(props: object): ReadonlySet<string> {
  const paths = recorded.get(unproxied(props));
  if (!installed || paths === undefined) {
    throw new Error(
      "kantai policy: cannot tell secret outputs from plaintext ones (trackSecrets() saw no properties: @pulumi/policy changed its deserializer?)",
    );
  }
  return paths;
}
