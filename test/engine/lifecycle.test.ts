// The real Pulumi engine on a stack that needs no cloud (test/engine/fixtures/local):
// up, up --expect-no-changes, a config change whose preview shows exactly the expected
// diff, destroy leaving nothing; secrets stay encrypted in the state file.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  changedPaths,
  cleanup,
  FIXTURES,
  pulumi,
  standinCalls,
  stateText,
  workspace,
  type Workspace,
} from "./support/engine";

const PROJECT = "kantai-engine-local";
const STACK = "lifecycle";
const TOKEN = "kantai-test-token-7f3e9a1c55d04b2e";
const NAMES = ["db-password", "suffix", "greeting-file", "token-file", "manifest", "banner"];

let ws: Workspace;
let suffix = "";
let password = "";

const read = (f: string) => fs.readFileSync(path.join(ws.out, f), "utf8");
const outputs = () => JSON.parse(pulumi(ws, ["stack", "output", "--json", "--show-secrets"]).stdout);
const exportState = () => JSON.parse(pulumi(ws, ["stack", "export"]).stdout).deployment;
const previewJson = () => JSON.parse(pulumi(ws, ["preview", "--json", "--non-interactive"]).stdout);
const nameOf = (urn: string) => urn.split("::").pop()!;

beforeAll(() => {
  ws = workspace(path.join(FIXTURES, "local"), { passphrase: "kantai-engine-test" });
  pulumi(ws, ["stack", "init", STACK, "--non-interactive"]);
  pulumi(ws, ["config", "set", "outDir", ws.out]);
  pulumi(ws, ["config", "set", "--secret", "apiToken", TOKEN]);
});

afterAll(() => cleanup(ws));

describe("local stack: up / up / change / destroy on the real engine", () => {
  it("up creates every resource in dependency order", () => {
    const up = pulumi(ws, ["up", "--yes", "--non-interactive", "--skip-preview"]);
    expect(up.stdout).toMatch(/\+ 7 created/);

    const deployment = exportState();
    const customs = deployment.resources.filter((r: any) => r.custom && !r.type.startsWith("pulumi:providers:"));
    expect(customs.map((r: any) => nameOf(r.urn)).sort()).toEqual([...NAMES].sort());
    const types = Object.fromEntries(customs.map((r: any) => [nameOf(r.urn), r.type]));
    expect(types).toEqual({
      "db-password": "random:index/randomPassword:RandomPassword",
      suffix: "random:index/randomString:RandomString",
      "greeting-file": "command:local:Command",
      "token-file": "command:local:Command",
      manifest: "command:local:Command",
      banner: "pulumi-nodejs:dynamic:Resource",
    });
    // the engine recorded the explicit and the data dependencies of the manifest
    const manifest = customs.find((r: any) => nameOf(r.urn) === "manifest");
    expect(manifest.dependencies.map(nameOf).sort()).toEqual(["greeting-file", "suffix", "token-file"]);

    const out = outputs();
    suffix = out.suffixValue;
    password = out.passwordValue;
    expect(suffix).toMatch(/^[a-z0-9]{6}$/);
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(out.greetingStdout).toBe("hello");
    expect(out.invoked).toBe("kantai-invoke");
    expect(out.bannerBytes).toBe(Buffer.byteLength(`hello, ${suffix}`));

    // the files the commands and the dynamic provider wrote
    expect(read("greeting.txt")).toBe("hello");
    expect(read("banner.txt")).toBe(`hello, ${suffix}`);
    expect(read("manifest.txt")).toBe(`suffix=${suffix} greeting=hello\n`);
    expect(read("token.sha")).toBe(crypto.createHash("sha256").update(TOKEN).digest("hex").slice(0, 16) + "\n");
  });

  it("a second up changes nothing (--expect-no-changes)", () => {
    const up = pulumi(ws, ["up", "--yes", "--non-interactive", "--expect-no-changes"]);
    expect(up.stdout).toMatch(/7 unchanged/);
    expect(previewJson().changeSummary).toEqual({ same: 7 });
  });

  it("a config change previews exactly two in-place updates with the expected property diffs", () => {
    pulumi(ws, ["config", "set", "greeting", "bonjour"]);
    const preview = previewJson();
    expect(preview.changeSummary).toEqual({ same: 5, update: 2 });

    const changed = preview.steps.filter((s: any) => s.op !== "same");
    expect(changed.map((s: any) => [s.op, nameOf(s.urn)]).sort()).toEqual([
      ["update", "banner"],
      ["update", "greeting-file"],
    ]);
    const diffs = Object.fromEntries(
      changed.map((s: any) => {
        const { __provider: _a, ...olds } = s.oldState.inputs;
        const { __provider: _b, ...news } = s.newState.inputs;
        return [nameOf(s.urn), changedPaths(olds, news)];
      }),
    );
    expect(diffs).toEqual({ "greeting-file": ["environment.GREETING"], banner: ["text"] });
    const banner = changed.find((s: any) => nameOf(s.urn) === "banner");
    expect(banner.newState.inputs.text).toBe(`bonjour, ${suffix}`);
  });

  it("up applies the change in place: same random values, updated files", () => {
    const up = pulumi(ws, ["up", "--yes", "--non-interactive", "--skip-preview"]);
    expect(up.stdout).toMatch(/~ 2 updated/);
    expect(up.stdout).toMatch(/5 unchanged/);
    const out = outputs();
    expect(out.suffixValue).toBe(suffix);
    expect(out.passwordValue).toBe(password);
    expect(out.greetingStdout).toBe("bonjour");
    expect(read("greeting.txt")).toBe("bonjour");
    expect(read("banner.txt")).toBe(`bonjour, ${suffix}`);
    expect(read("manifest.txt")).toBe(`suffix=${suffix} greeting=hello\n`); // not re-run
    pulumi(ws, ["up", "--yes", "--non-interactive", "--expect-no-changes"]);
  });

  it("secrets stay encrypted in the state file and the stack config", () => {
    const text = stateText(ws, PROJECT, STACK);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(password);
    expect(fs.readFileSync(path.join(ws.program, `Pulumi.${STACK}.yaml`), "utf8")).not.toContain(TOKEN);

    const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
    const isEncrypted = (v: any) =>
      v && v["4dabf18193072939515e22adb298388d"] === SECRET_SIG && typeof v.ciphertext === "string";
    const resources = JSON.parse(text).checkpoint.latest.resources;
    const byName = (n: string) => resources.find((r: any) => r.custom && nameOf(r.urn) === n);
    expect(
      isEncrypted(byName("token-file").inputs.environment.TOKEN) ||
        isEncrypted(byName("token-file").inputs.environment),
    ).toBe(true);
    expect(isEncrypted(byName("db-password").outputs.result)).toBe(true);
    const stack = resources.find((r: any) => r.type === "pulumi:pulumi:Stack");
    expect(isEncrypted(stack.outputs.passwordValue)).toBe(true);
    // the stand-ins' call record redacts secrets too
    expect(fs.readFileSync(ws.callLog, "utf8")).not.toContain(TOKEN);
  });

  it("destroy deletes everything: empty state, files removed by the delete commands", () => {
    const destroy = pulumi(ws, ["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    expect(destroy.stdout).toMatch(/- 7 deleted/);
    expect(exportState().resources ?? []).toEqual([]);
    expect(fs.readdirSync(ws.out)).toEqual([]);
    const deletes = standinCalls(ws)
      .filter((c) => c.method === "delete")
      .map((c) => nameOf(c.urn!));
    expect(deletes.sort()).toEqual(["db-password", "greeting-file", "manifest", "suffix", "token-file"]);
  });
});
