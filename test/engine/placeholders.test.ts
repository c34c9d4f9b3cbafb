// Issue 10 item 13 on the real engine: the repository's program with the committed dev stack
// (placeholders, passphrase "kantai-dev").
// - With the stand-in providers on $PATH (this suite's normal setup) the preview runs: the offline
//   suite is not blocked (test/engine/preview.test.ts previews every stack the same way).
// - With PULUMI_IGNORE_AMBIENT_PLUGINS=true the engine would load installed (real) providers
//   (pulumi/pulumi sdk/go/common/workspace/plugins.go getPluginInfoAndPath), so it is a real run:
//   the program must stop before registering any resource, print what to set, and no stack trace
//   (a RunError: @pulumi/pulumi cmd/run/run.js "Always hide the stack for RunErrors").
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, pulumi, REPO, workspace, type Workspace } from "./support/engine";

const workspaces: Workspace[] = [];
afterAll(() => workspaces.forEach(cleanup));

function devWorkspace(): Workspace {
  const ws = workspace(REPO, {
    passphrase: "kantai-dev",
    filter: (rel) => rel !== "test" && !/^Pulumi\..+\.yaml$/.test(rel),
  });
  workspaces.push(ws);
  fs.copyFileSync(path.join(REPO, "Pulumi.dev.yaml"), path.join(ws.program, "Pulumi.dev.yaml"));
  pulumi(ws, ["stack", "init", "dev", "--non-interactive"]);
  return ws;
}

describe("the committed placeholders on the real engine", () => {
  it("a real run (providers not the stand-ins) is refused before any resource, without a stack trace", () => {
    const ws = devWorkspace();
    ws.env.PULUMI_IGNORE_AMBIENT_PLUGINS = "true";
    const run = pulumi(ws, ["preview", "--non-interactive", "--stack", "dev"], { allowFail: true });
    const out = run.stdout + run.stderr;
    expect(run.status).not.toBe(0);
    expect(out).toContain(
      'stack "dev" still uses the public placeholders of the committed stack file; refusing to run against real endpoints (docs/how-to/first-deploy.md):',
    );
    for (const line of [
      `  - Pulumi.dev.yaml encryptionsalt: the stack's secrets are encrypted with the public passphrase "kantai-dev"`,
      "      set: pulumi stack change-secrets-provider passphrase --stack dev",
      "  - kantai:proxmoxApiToken: is a placeholder, not a Proxmox API token",
      "      set: pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=<secret uuid>' --stack dev",
      "  - kantai:sshPrivateKey: is the committed throwaway key (its private half is public)",
      "      set: pulumi config set --secret sshPrivateKey --stack dev < ~/.ssh/id_ed25519",
      "  - kantai:githubRunnerToken: is a placeholder, not a GitHub token",
      "  - kantai:sshPublicKeys[0]: is the committed throwaway key's public half: anyone can log in to the VMs with it",
    ]) {
      expect(out).toContain(line);
    }
    expect(out).not.toMatch(/unhandled exception|^\s+at .+\(.+:\d+:\d+\)$/m);
    // nothing but the stack itself was registered
    expect(out).not.toMatch(/proxmoxve:|kantai:proxmox:|command:remote:/);
  });

  it("a config mistake stops the preview with the key and the problem, before any resource, without a stack trace", () => {
    // stacks/config/primitives.ts ConfigError is a RunError: @pulumi/pulumi cmd/run/run.js prints a
    // RunError's message alone; any other Error as "failed with an unhandled exception" and its stack.
    const ws = devWorkspace();
    pulumi(ws, ["config", "set", "--path", "kantai:image.fileName", "jammy.img", "--stack", "dev"]);
    const run = pulumi(ws, ["preview", "--non-interactive", "--stack", "dev"], { allowFail: true });
    const out = run.stdout + run.stderr;
    expect(run.status).not.toBe(0);
    expect(out).toContain("invalid kantai configuration (1 problem):");
    expect(out).toContain(
      `  - kantai:image.fileName: must be a file name ending in ".qcow2", ".raw", ".vmdk" or ".ova" (the extensions Proxmox's import content type accepts)`,
    );
    expect(out).not.toMatch(/unhandled exception|ConfigError:|^\s+at .+\(.+:\d+:\d+\)$/m);
    expect(out).not.toMatch(/proxmoxve:|kantai:proxmox:|command:remote:/);
  });

  it("with the stand-ins on $PATH (the offline suite) the same stack previews", () => {
    const ws = devWorkspace();
    const run = pulumi(ws, ["preview", "--json", "--non-interactive", "--stack", "dev"], { allowFail: true });
    expect(run.stderr + run.stdout).not.toContain("still uses the public placeholders");
    expect(run.status).toBe(0);
    const steps: any[] = JSON.parse(run.stdout).steps;
    expect(steps.some((s) => s.urn.includes("proxmoxve:index/vmLegacy:VmLegacy"))).toBe(true);
  });
});
