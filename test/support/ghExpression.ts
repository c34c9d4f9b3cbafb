/**
 * A small evaluator for the GitHub Actions expressions kantai's workflows use in `if:` and
 * `runs-on:`, so tests can check what a job does for a given event. It follows the documented
 * semantics (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions):
 * `&&`/`||` return an operand (not a boolean), `==` compares strings case-insensitively, a missing
 * property is null, `fromJSON`, `format`, `startsWith`, `contains` as documented. Anything else is an
 * error, never a guess. It is a test aid: actionlint remains the real checker of the syntax.
 */
type Value = null | boolean | number | string | Value[] | { [k: string]: Value };

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|(==|!=|&&|\|\||!|\(|\)|,|\.|\[|\])|([A-Za-z_][\w-]*))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`expression: cannot read ${JSON.stringify(src.slice(TOKEN.lastIndex))}`);
    if (m[1] !== undefined) out.push(`#${m[1]}`);
    else if (m[2] !== undefined) out.push(`'${m[2].replace(/''/g, "'")}`);
    else out.push(m[3] ?? m[4]);
  }
  return out;
}

const truthy = (v: Value): boolean =>
  !(v === null || v === false || v === 0 || v === "" || (typeof v === "number" && Number.isNaN(v)));
const str = (v: Value): string => (v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
function equal(a: Value, b: Value): boolean {
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  if (a === null || b === null) return a === b;
  if (typeof a === "object" || typeof b === "object") return a === b;
  return Number(a) === Number(b);
}

/** Evaluate `expr` (without the `${{ }}`) against the contexts (github, vars, matrix, …). */
export function evaluate(expr: string, contexts: Record<string, Value>): Value {
  const t = tokenize(expr);
  let i = 0;
  const peek = () => t[i];
  const take = (want?: string) => {
    const tok = t[i++];
    if (want !== undefined && tok !== want)
      throw new Error(`expression: expected ${want}, got ${tok ?? "end"} in ${expr}`);
    return tok;
  };
  const functions: Record<string, (args: Value[]) => Value> = {
    fromjson: ([s]) => JSON.parse(str(s)),
    format: ([f, ...a]) => str(f).replace(/\{(\d+)\}/g, (_, n) => str(a[Number(n)])),
    startswith: ([a, b]) => str(a).toLowerCase().startsWith(str(b).toLowerCase()),
    contains: ([a, b]) =>
      Array.isArray(a) ? a.some((x) => equal(x, b)) : str(a).toLowerCase().includes(str(b).toLowerCase()),
  };
  function primary(): Value {
    const tok = take();
    if (tok === undefined) throw new Error(`expression: unexpected end of ${expr}`);
    if (tok === "(") {
      const v = or();
      take(")");
      return v;
    }
    if (tok === "!") return !truthy(primary());
    if (tok.startsWith("#")) return Number(tok.slice(1));
    if (tok.startsWith("'")) return tok.slice(1);
    if (tok === "true" || tok === "false") return tok === "true";
    if (tok === "null") return null;
    if (peek() === "(") {
      const fn = functions[tok.toLowerCase()];
      if (!fn) throw new Error(`expression: function ${tok} is not supported by this evaluator`);
      take("(");
      const args: Value[] = [];
      while (peek() !== ")") {
        args.push(or());
        if (peek() === ",") take(",");
      }
      take(")");
      return fn(args);
    }
    if (!(tok in contexts)) throw new Error(`expression: unknown context ${tok}`);
    let v: Value = contexts[tok];
    for (;;) {
      if (peek() === ".") {
        take(".");
        const key = take();
        v = v !== null && typeof v === "object" && !Array.isArray(v) ? (v[key] ?? null) : null;
      } else if (peek() === "[") {
        take("[");
        const key = or();
        take("]");
        v = Array.isArray(v)
          ? (v[Number(key)] ?? null)
          : v !== null && typeof v === "object"
            ? (v[str(key)] ?? null)
            : null;
      } else return v;
    }
  }
  function comparison(): Value {
    let v = primary();
    while (peek() === "==" || peek() === "!=") {
      const op = take();
      const r = primary();
      v = op === "==" ? equal(v, r) : !equal(v, r);
    }
    return v;
  }
  function and(): Value {
    let v = comparison();
    while (peek() === "&&") {
      take();
      const r = comparison();
      v = truthy(v) ? r : v;
    }
    return v;
  }
  function or(): Value {
    let v = and();
    while (peek() === "||") {
      take();
      const r = and();
      v = truthy(v) ? v : r;
    }
    return v;
  }
  const v = or();
  if (i !== t.length) throw new Error(`expression: unexpected ${t[i]} in ${expr}`);
  return v;
}

/** A workflow value: `${{ … }}` alone is evaluated; a plain value is returned as it is. */
export function evaluateField(field: unknown, contexts: Record<string, Value>): Value {
  if (typeof field !== "string") return field as Value;
  const m = /^\$\{\{([\s\S]*)\}\}$/.exec(field.trim());
  return m ? evaluate(m[1], contexts) : field;
}

/** A job's `if:` as GitHub runs it: a bare expression, `${{ }}` optional; absent means true. */
export function jobRuns(cond: unknown, contexts: Record<string, Value>): boolean {
  if (cond === undefined) return true;
  const text = String(cond).trim();
  const m = /^\$\{\{([\s\S]*)\}\}$/.exec(text);
  return truthy(evaluate(m ? m[1] : text, contexts));
}
