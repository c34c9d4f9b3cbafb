// `pulumi preview` of every stack of the repository's program on the real engine, offline.
//
// Stacks are the repository root's Pulumi.<stack>.yaml files. A stack's test configuration
// is test/engine/fixtures/stacks/Pulumi.<stack>.yaml when present (dummy endpoints and
// tokens), else the root file itself; its passphrase is the one in
// test/engine/fixtures/stacks/passphrases.json, else "kantai-dev" (the project's convention
// for checked-in placeholder secrets, see Pulumi.dev.yaml). The program is copied to a
// temporary directory so that nothing in the working tree changes.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, FIXTURES, pulumi, REPO, standinCalls, workspace, type Workspace } from "./support/engine";

const STACKS_DIR = path.join(FIXTURES, "stacks");
const DEFAULT_PASSPHRASE = "kantai-dev";
const passphrases: Record<string, string> = JSON.parse(
  fs.readFileSync(path.join(STACKS_DIR, "passphrases.json"), "utf8"),
);
const stacks = fs
  .readdirSync(REPO)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => Boolean(s))
  .sort();

// Plugins the engine may load for the program: the real dynamic-provider shim and the
// stand-ins (tools/standins). Anything else would mean a plugin this suite cannot provide.
const PACKAGES = new Set([
  "pulumi",
  "kantai",
  "pulumi-nodejs",
  "command",
  "random",
  "proxmoxve",
  "kubernetes",
  "cloudflare",
]);

const workspaces: Workspace[] = [];
afterAll(() => workspaces.forEach(cleanup));

describe("preview every stack of the program offline", () => {
  it("the repository has at least one stack", () => {
    expect(stacks.length).toBeGreaterThan(0);
  });

  for (const stack of stacks) {
    it(`preview --stack ${stack}`, () => {
      const passphrase = passphrases[stack] ?? DEFAULT_PASSPHRASE;
      const ws = workspace(REPO, {
        passphrase,
        // only the program: no tests, no other stacks' files
        filter: (rel) => rel !== "test" && !/^Pulumi\..+\.yaml$/.test(rel),
      });
      workspaces.push(ws);
      const override = path.join(STACKS_DIR, `Pulumi.${stack}.yaml`);
      fs.copyFileSync(
        fs.existsSync(override) ? override : path.join(REPO, `Pulumi.${stack}.yaml`),
        path.join(ws.program, `Pulumi.${stack}.yaml`),
      );

      pulumi(ws, ["stack", "init", stack, "--non-interactive"]);
      const run = pulumi(ws, ["preview", "--json", "--non-interactive", "--stack", stack], { allowFail: true });
      let preview: any;
      try {
        preview = JSON.parse(run.stdout);
      } catch {
        throw new Error(`preview of ${stack} printed no JSON (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
      }
      const errors = (preview.diagnostics ?? []).filter((d: any) => d.severity === "error");
      expect(errors.map((d: any) => `${d.urn ?? ""} ${d.message}`)).toEqual([]);
      expect(run.status).toBe(0);

      // a fresh stack: everything is a create, the summary agrees with the steps
      const steps: any[] = preview.steps;
      expect(steps.length).toBeGreaterThan(1);
      expect([...new Set(steps.map((s) => s.op))]).toEqual(["create"]);
      expect(preview.changeSummary).toEqual({ create: steps.length });
      const types = steps.map((s) => s.urn.split("::")[2].split("$").pop() as string);
      for (const t of types) expect(PACKAGES, `resource type ${t}`).toContain(t.split(":")[0]);

      // every custom resource went through a plugin's Check; the stand-ins found no input
      // that the SDK's declared shape does not allow
      const checks = standinCalls(ws).filter((c) => ["check", "checkConfig", "invoke", "construct"].includes(c.method));
      const failed = checks.filter((c) => (c.failures ?? []).length > 0);
      expect(failed.map((c) => ({ at: c.urn ?? c.token ?? c.type, failures: c.failures }))).toEqual([]);
      // Check is owed for every custom resource whose provider is configured. A provider whose
      // config is unknown in preview (e.g. a kubeconfig a command prints on `up`) is left
      // unconfigured by the engine, which then passes its resources' inputs through unchecked.
      const unconfigured = new Set(
        standinCalls(ws)
          .filter((c) => c.method === "checkConfig" && c.unknowns)
          .map((c) => c.urn),
      );
      const providerUrn = (ref: string) => ref.split("::").slice(0, -1).join("::");
      const owed = steps.filter(
        (s) =>
          s.newState?.custom &&
          !s.newState.type.startsWith("pulumi:providers:") &&
          !s.newState.type.startsWith("pulumi-nodejs:") &&
          !unconfigured.has(providerUrn(s.newState.provider ?? "")),
      );
      const checkedUrns = new Set(checks.map((c) => c.urn));
      expect(owed.filter((s) => !checkedUrns.has(s.urn)).map((s) => s.urn)).toEqual([]);
      expect(owed.length).toBeGreaterThan(0);
      const perPackage: Record<string, number> = {};
      for (const t of types) perPackage[t.split(":")[0]] = (perPackage[t.split(":")[0]] ?? 0) + 1;
      const passedThrough = steps.filter(
        (s) => s.newState?.custom && !s.newState.type.startsWith("pulumi:providers:") && !owed.includes(s),
      ).length;
      console.log(
        `preview ${stack}: ${steps.length} creates ${JSON.stringify(perPackage)}; ${owed.length} resources checked by a ` +
          `stand-in, ${passedThrough} dynamic or under a provider unconfigured in preview`,
      );
    });
  }
});
