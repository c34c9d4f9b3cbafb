// Stand-in behaviour for the "random" provider (@pulumi/random): generates values
// locally with node:crypto following the SDK's documented inputs. Every input change
// replaces (as in the real provider: all random inputs force a new value).
import * as crypto from "node:crypto";
import type { Behaviour } from "./standin";
import { plain, secret } from "./wire";

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

const pick = (chars: string, n: number) =>
  Array.from({ length: n }, () => chars[crypto.randomInt(chars.length)]).join("");

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function randomString(a: any): string {
  const length: number = a.length;
  const on = (k: string, dflt = true) => (a[k] === undefined ? dflt : Boolean(a[k]));
  const classes: [string, number][] = [];
  if (on("lower")) classes.push([LOWER, a.minLower ?? 0]);
  if (on("upper")) classes.push([UPPER, a.minUpper ?? 0]);
  if (on("numeric") && on("number")) classes.push([DIGITS, a.minNumeric ?? 0]);
  if (on("special")) classes.push([a.overrideSpecial ?? SPECIAL, a.minSpecial ?? 0]);
  const all = classes.map(([c]) => c).join("");
  if (!all) throw new Error("random stand-in: no character class enabled");
  const required = classes.flatMap(([c, n]) => (n > 0 ? [pick(c, n)] : [])).join("");
  if (required.length > length) throw new Error("random stand-in: minimum counts exceed length");
  return shuffle([...(required + pick(all, length - required.length))]).join("");
}

const PETS = ["otter", "heron", "lynx", "wren", "ibex", "koi", "mole", "newt"];
const ADJS = ["brave", "calm", "eager", "fond", "keen", "merry", "proud", "quiet"];

export const randomBehaviour: Behaviour = {
  async create(token, _name, inputs) {
    const a = plain(inputs);
    const kind = token.split(":").pop();
    switch (kind) {
      case "RandomString":
        return { outs: { ...inputs, result: randomString(a) } };
      case "RandomPassword": {
        const result = randomString(a);
        const salt = crypto.randomBytes(16).toString("base64url");
        // a stand-in hash (scrypt), shaped like the real provider's output
        const bcryptHash = `$standin-scrypt$${salt}$${crypto.scryptSync(result, salt, 32).toString("base64url")}`;
        return { outs: { ...inputs, result: secret(result), bcryptHash: secret(bcryptHash) } };
      }
      case "RandomId": {
        const bytes = crypto.randomBytes(a.byteLength);
        const prefix = a.prefix ?? "";
        const b64Url = prefix + bytes.toString("base64url");
        return {
          id: b64Url,
          outs: {
            ...inputs,
            hex: prefix + bytes.toString("hex"),
            b64Url,
            b64Std: prefix + bytes.toString("base64"),
            dec: prefix + BigInt("0x" + (bytes.toString("hex") || "0")).toString(10),
          },
        };
      }
      case "RandomBytes": {
        const bytes = crypto.randomBytes(a.length);
        return { outs: { ...inputs, base64: secret(bytes.toString("base64")), hex: secret(bytes.toString("hex")) } };
      }
      case "RandomInteger": {
        const result = crypto.randomInt(a.min, a.max + 1);
        return { id: String(result), outs: { ...inputs, result } };
      }
      case "RandomUuid": {
        const result = crypto.randomUUID();
        return { id: result, outs: { ...inputs, result } };
      }
      case "RandomPet": {
        const n = a.length ?? 2;
        const words = [
          ...Array.from({ length: n - 1 }, () => ADJS[crypto.randomInt(ADJS.length)]),
          PETS[crypto.randomInt(PETS.length)],
        ];
        const id = [a.prefix, ...words].filter(Boolean).join(a.separator ?? "-");
        return { id, outs: { ...inputs } };
      }
      case "RandomShuffle": {
        const results = shuffle(a.inputs ?? []).slice(0, a.resultCount ?? (a.inputs ?? []).length);
        return { outs: { ...inputs, results } };
      }
      default:
        return undefined as any; // generic echo
    }
  },
  replaces(_token, changed) {
    return changed;
  },
};
