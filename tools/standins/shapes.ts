// Declared input/output shapes of a Pulumi provider SDK, read from the SDK's own
// TypeScript declarations (.d.ts) with the TypeScript compiler API.
//
// Used by the stand-in provider plugins (see ./README.md): they check the inputs
// the engine sends against the shape the SDK declares, and fabricate outputs of
// the declared shape. A stand-in proves engine behaviour, not the cloud API.
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";

export type Shape =
  | { k: "any" }
  | { k: "string" }
  | { k: "number" }
  | { k: "boolean" }
  | { k: "asset" }
  | { k: "archive" }
  | { k: "literal"; values: (string | number | boolean)[] }
  | { k: "array"; of: Shape }
  | { k: "map"; of: Shape }
  | { k: "ref"; name: string }
  | { k: "union"; of: Shape[] };

export interface PropShape {
  shape: Shape;
  required: boolean;
}

export interface ObjectDef {
  props: Record<string, PropShape>;
  /** declared with a string index signature too: other property names are allowed. */
  open?: boolean;
}

export interface ResourceShape {
  /** a multi-language component the provider constructs (e.g. kubernetes:yaml/v2:ConfigGroup). */
  component?: boolean;
  /** name of the def in `defs` holding the Args interface (undefined: the resource takes no args). */
  args?: string;
  /** declared output properties of the resource class. */
  outputs: Record<string, Shape>;
}

export interface FunctionShape {
  args?: string;
  result?: string;
}

export interface PackageShapes {
  package: string;
  version: string;
  resources: Record<string, ResourceShape>;
  functions: Record<string, FunctionShape>;
  defs: Record<string, ObjectDef>;
  /**
   * kubernetes only: CustomResourceArgs, for the resource types the SDK builds at run time
   * (`kubernetes:<apiVersion>:<kind>` of apiextensions.CustomResource / CustomResourcePatch).
   */
  customResourceArgs?: string;
}

/** bump when the JSON layout or the reading rules change (cache file names carry it). */
const SHAPES_FORMAT = 2;

const TYPE_RE = /__pulumiType\s*=\s*['"]([^'"]+)['"]/g;
const INVOKE_RE = /runtime\.invoke(?:Output|Single|SingleOutput)?\(\s*['"]([^'"]+)['"]/g;

function listJsFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules") continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listJsFiles(p, out);
    else if (e.name.endsWith(".js")) out.push(p);
  }
  return out;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Build the shapes of every resource and function of the SDK package at `pkgDir`. */
export function extractShapes(pkgDir: string): PackageShapes {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ts: typeof import("typescript") = require("typescript");
  const pkgJson = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));

  // 1. token -> (d.ts file, class or function name), by scanning the compiled JS.
  const resourceFiles = new Map<string, { dts: string; cls: string; component: boolean }>();
  const functionFiles = new Map<string, { dts: string; fn: string }>();
  for (const js of listJsFiles(pkgDir)) {
    const text = fs.readFileSync(js, "utf8");
    const dts = js.replace(/\.js$/, ".d.ts");
    if (!fs.existsSync(dts)) continue;
    for (const m of text.matchAll(TYPE_RE)) {
      const token = m[1];
      if (token.startsWith("pulumi:providers:")) continue;
      const cls = token.split(":").pop()!;
      const component = /true\s*\/\*remote\*\//.test(text);
      if (!resourceFiles.has(token)) resourceFiles.set(token, { dts, cls, component });
    }
    for (const m of text.matchAll(INVOKE_RE)) {
      const token = m[1];
      if (token.startsWith("pulumi:")) continue;
      const fn = token.split(":").pop()!;
      if (!functionFiles.has(token)) functionFiles.set(token, { dts, fn });
    }
  }
  // The provider resource itself (pulumi:providers:<name>) lives in provider.d.ts.
  const providerDts = path.join(pkgDir, "provider.d.ts");

  const roots = new Set<string>([...resourceFiles.values()].map((v) => v.dts));
  for (const v of functionFiles.values()) roots.add(v.dts);
  if (fs.existsSync(providerDts)) roots.add(providerDts);
  const crDts = path.join(pkgDir, "apiextensions", "customResource.d.ts");
  if (fs.existsSync(crDts)) roots.add(crDts);

  const program = ts.createProgram([...roots], {
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  });
  const checker = program.getTypeChecker();
  const defs: Record<string, ObjectDef> = {};
  const inProgress = new Set<string>();

  const isNullish = (t: import("typescript").Type) =>
    (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)) !== 0;

  const symName = (t: import("typescript").Type): string | undefined => (t.aliasSymbol ?? t.getSymbol())?.getName();

  const isWrapper = (t: import("typescript").Type): boolean => {
    const n = t.getSymbol()?.getName();
    return n === "Promise" || n === "OutputInstance" || n === "Output" || n === "OutputConstructor";
  };

  const defName = (t: import("typescript").Type): string => {
    const sym = t.aliasSymbol ?? t.getSymbol();
    if (sym && sym.getName() !== "__type" && sym.getName() !== "__object") {
      const fq = checker
        .getFullyQualifiedName(sym)
        .replace(/^".*?node_modules\//, "")
        .replace(/"/g, "");
      return fq;
    }
    // anonymous object literal type: name it by its printed text
    const text = checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation);
    return "anon:" + crypto.createHash("sha1").update(text).digest("hex").slice(0, 12);
  };

  function conv(t: import("typescript").Type, depth = 0): Shape {
    if (depth > 40) return { k: "any" };
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return { k: "any" };
    if (t.isUnion()) {
      const members = t.types.filter((m) => !isNullish(m));
      // Input<T> = T | Promise<T> | OutputInstance<T>: keep T only.
      const plain = members.filter((m) => !isWrapper(m));
      const parts = (plain.length ? plain : members).map((m) => conv(m, depth + 1));
      return simplifyUnion(parts);
    }
    if (t.isIntersection()) {
      // Output<T> = OutputInstance<T> & Lifted<T>
      const w = t.types.find(isWrapper);
      if (w) return conv(w, depth + 1);
    }
    if (isWrapper(t)) {
      const args = checker.getTypeArguments(t as import("typescript").TypeReference);
      return args.length ? conv(args[0], depth + 1) : { k: "any" };
    }
    if (t.flags & ts.TypeFlags.StringLiteral)
      return { k: "literal", values: [(t as import("typescript").StringLiteralType).value] };
    if (t.flags & ts.TypeFlags.NumberLiteral)
      return { k: "literal", values: [(t as import("typescript").NumberLiteralType).value] };
    if (t.flags & ts.TypeFlags.BooleanLiteral) return { k: "boolean" };
    if (t.flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral)) return { k: "string" };
    if (t.flags & ts.TypeFlags.Number) return { k: "number" };
    if (t.flags & ts.TypeFlags.Boolean) return { k: "boolean" };
    if (t.flags & ts.TypeFlags.EnumLike) return { k: "any" };
    if (checker.isArrayType(t) || checker.isTupleType(t)) {
      const args = checker.getTypeArguments(t as import("typescript").TypeReference);
      return { k: "array", of: args.length ? conv(args[0], depth + 1) : { k: "any" } };
    }
    const name = symName(t);
    if (name && /Archive$/.test(name)) return { k: "archive" };
    if (name && /Asset$/.test(name)) return { k: "asset" };
    if (t.flags & ts.TypeFlags.Object) {
      const props = checker.getPropertiesOfType(t);
      const strIndex = checker.getIndexInfoOfType(t, ts.IndexKind.String);
      if (props.length === 0 && strIndex) return { k: "map", of: conv(strIndex.type, depth + 1) };
      if (props.length === 0) return { k: "any" };
      const dn = defName(t);
      if (!defs[dn] && !inProgress.has(dn)) {
        inProgress.add(dn);
        const def: ObjectDef = { props: {}, ...(strIndex ? { open: true } : {}) };
        for (const p of props) {
          const decl = p.valueDeclaration ?? p.declarations?.[0];
          if (!decl) continue;
          const pt = checker.getTypeOfSymbolAtLocation(p, decl);
          def.props[p.getName()] = {
            shape: conv(pt, depth + 1),
            required: (p.flags & ts.SymbolFlags.Optional) === 0,
          };
        }
        defs[dn] = def;
        inProgress.delete(dn);
      }
      return { k: "ref", name: dn };
    }
    return { k: "any" };
  }

  function simplifyUnion(parts: Shape[]): Shape {
    const flat: Shape[] = [];
    for (const p of parts) p.k === "union" ? flat.push(...p.of) : flat.push(p);
    if (flat.some((p) => p.k === "any")) return { k: "any" };
    const hasString = flat.some((p) => p.k === "string");
    const out: Shape[] = [];
    const literals: (string | number | boolean)[] = [];
    const seen = new Set<string>();
    for (const p of flat) {
      if (p.k === "literal") {
        if (hasString && p.values.every((v) => typeof v === "string")) continue;
        literals.push(...p.values);
        continue;
      }
      const key = JSON.stringify(p);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(p);
      }
    }
    if (literals.length) out.push({ k: "literal", values: [...new Set(literals)] });
    return out.length === 1 ? out[0] : { k: "union", of: out };
  }

  const findInterface = (sf: import("typescript").SourceFile, name: string) => {
    const sym = checker.getSymbolAtLocation(sf);
    const exp = sym ? checker.getExportsOfModule(sym).find((s) => s.getName() === name) : undefined;
    return exp ? checker.getDeclaredTypeOfSymbol(exp) : undefined;
  };

  const argsDef = (sf: import("typescript").SourceFile, name: string): string | undefined => {
    const t = findInterface(sf, name);
    if (!t) return undefined;
    const s = conv(t);
    return s.k === "ref" ? s.name : undefined;
  };

  const resources: Record<string, ResourceShape> = {};
  for (const [token, { dts, cls, component }] of resourceFiles) {
    const sf = program.getSourceFile(dts);
    if (!sf) continue;
    const outputs: Record<string, Shape> = {};
    const classType = findInterface(sf, cls);
    if (classType) {
      for (const p of checker.getPropertiesOfType(classType)) {
        const n = p.getName();
        if (n.startsWith("__") || n === "urn" || n === "id") continue;
        if (p.flags & (ts.SymbolFlags.Method | ts.SymbolFlags.Accessor)) continue;
        const decl = p.valueDeclaration ?? p.declarations?.[0];
        if (!decl) continue;
        outputs[n] = conv(checker.getTypeOfSymbolAtLocation(p, decl));
      }
    }
    resources[token] = { args: argsDef(sf, cls + "Args"), outputs, ...(component ? { component } : {}) };
  }
  const functions: Record<string, FunctionShape> = {};
  for (const [token, { dts, fn }] of functionFiles) {
    const sf = program.getSourceFile(dts);
    if (!sf) continue;
    functions[token] = { args: argsDef(sf, upperFirst(fn) + "Args"), result: argsDef(sf, upperFirst(fn) + "Result") };
  }
  const crSf = program.getSourceFile(crDts);
  const customResourceArgs = crSf ? argsDef(crSf, "CustomResourceArgs") : undefined;
  const providerSf = program.getSourceFile(providerDts);
  const name: string = pkgJson.pulumi?.name ?? pkgJson.name;
  if (providerSf) {
    resources[`pulumi:providers:${name}`] = { args: argsDef(providerSf, "ProviderArgs"), outputs: {} };
  }
  return {
    package: name,
    version: pkgJson.pulumi?.version ?? pkgJson.version,
    resources,
    functions,
    defs,
    ...(customResourceArgs ? { customResourceArgs } : {}),
  };
}

/**
 * Shapes of the SDK package `npmName`, cached as JSON under `cacheDir` (keyed by
 * package name and version) because reading the declarations of a large SDK
 * (kubernetes) takes tens of seconds.
 */
export function loadShapes(npmName: string, cacheDir: string, resolveFrom: string): PackageShapes {
  const pkgJsonPath = require.resolve(`${npmName}/package.json`, { paths: [resolveFrom] });
  const pkgDir = path.dirname(pkgJsonPath);
  const version = JSON.parse(fs.readFileSync(pkgJsonPath, "utf8")).version;
  const file = path.join(cacheDir, `shapes-v${SHAPES_FORMAT}-${npmName.replace(/[@/]/g, "_")}-${version}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8"));
  const shapes = extractShapes(pkgDir);
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(shapes));
  fs.renameSync(tmp, file);
  return shapes;
}
