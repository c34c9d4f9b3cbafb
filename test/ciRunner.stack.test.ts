/**
 * The CI runner in the dev stack: config rules with their exact messages, and the registrations
 * under Pulumi's mock runtime (SIMULATED: scripts/synth/mocks.ts) with their exact inputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { recordProgram, resolveDeep, type RecordedResource } from "../scripts/synth/recorder";
import { parseConfig } from "../stacks/config";
import { devRaw, devStackConfig } from "./support/devConfig";
import { problems } from "./support/configProblems";

const secretKeys = ["kantai:proxmoxApiToken", "kantai:sshPrivateKey", "kantai:githubRunnerToken"];

describe("kantai:ciRunner config", () => {
  it("resolves the committed dev stack's runner with its defaults", () => {
    const c = parseConfig(devRaw(), { secretKeys });
    expect({ ...c.ciRunner, githubToken: undefined }).toEqual({
      repository: "acme/homelab",
      name: "ci-runner",
      vmId: 810,
      ip: "10.0.0.40",
      template: "standalone",
      node: "pve",
      cores: 2,
      memoryMb: 2048,
      labels: ["kantai"],
      apiUrl: "https://api.github.com",
      githubToken: undefined,
    });
  });

  it.each([
    [{ repository: "acme" }, 'kantai:ciRunner.repository: must be a GitHub repository "owner/name"'],
    [
      { labels: ["self-hosted"] },
      "kantai:ciRunner.labels[0]: is a label GitHub assigns by itself (self-hosted, Linux, X64, ARM64, ARM); give a custom one",
    ],
    [{ labels: [] }, "kantai:ciRunner.labels: needs at least one custom label"],
    [{ apiUrl: "http://ghe.lan/api/v3" }, "kantai:ciRunner.apiUrl: must be an https:// URL"],
    [{ template: "big" }, 'kantai:ciRunner.template: unknown template "big" (templates has "standalone", "knative")'],
    [{ ip: "10.0.0.1" }, "kantai:ciRunner.ip: 10.0.0.1 (the CI runner) is the gateway address"],
    [
      { ip: "10.0.1.5" },
      "kantai:ciRunner.ip: 10.0.1.5 (the CI runner) is outside the bridge subnet 10.0.0.0/24 or is its network/broadcast address",
    ],
    [
      { vmId: 800 },
      'kantai:ciRunner.vmId: VM ID 800 of CI runner "ci-runner" is already used by web VM "kenobi-1" (kantai:fleet.firstVmId)',
    ],
    [
      { ip: "10.0.0.30" },
      'kantai:ciRunner.ip: address 10.0.0.30 of CI runner "ci-runner" is already used by web VM "kenobi-1" (kantai:fleet.firstIp)',
    ],
  ])("rejects %j", (change, message) => {
    const raw = devRaw();
    raw.ciRunner = { ...raw.ciRunner, ...change };
    expect(problems(raw, { secretKeys })).toEqual([message]);
  });

  it("needs the token, as a secret", () => {
    const raw = devRaw();
    delete raw.githubRunnerToken;
    expect(problems(raw, { secretKeys })).toEqual([
      "kantai:githubRunnerToken: is required with kantai:ciRunner (pulumi config set --secret githubRunnerToken <fine-grained token with Administration: read and write>)",
    ]);
    expect(problems(devRaw(), { secretKeys: secretKeys.slice(0, 2) })).toEqual([
      "kantai:githubRunnerToken: must be stored as a secret (pulumi config set --secret githubRunnerToken …), not in plaintext",
    ]);
  });

  it("refuses a token without a runner", () => {
    const raw = devRaw();
    delete raw.ciRunner;
    expect(problems(raw, { secretKeys })).toEqual([
      "kantai:githubRunnerToken: is set but kantai:ciRunner is not: remove it, or configure the runner (docs/how-to/ci-runner.md)",
    ]);
  });
});

describe("the runner's registrations in the dev stack (simulated)", () => {
  let resources: RecordedResource[] = [];
  let outputs: any;
  beforeAll(async () => {
    const { config, secretKeys: keys } = devStackConfig();
    const { run } = await import("../stacks");
    const rec = await recordProgram(() => run(), { config, secretKeys: keys, stack: "dev" });
    resources = rec.resources;
    outputs = await resolveDeep(rec.result.outputs);
  });
  const byName = (n: string) => resources.find((r) => r.name === n) as (RecordedResource & { inputs: any }) | undefined;

  it("clones the runner VM from the standalone template, after the gateway, with the runner's user-data", () => {
    expect(byName("ci-runner")?.type).toBe("kantai:ci:ActionsRunner");
    const vm = byName("ci-runner-vm-vm")!;
    expect(vm.inputs).toMatchObject({
      vmId: 810,
      name: "ci-runner",
      cpu: { cores: 2 },
      memory: { dedicated: 2048 },
      tags: ["kantai", "ci"],
    });
    expect(vm.inputs.initialization.ipConfigs).toEqual([{ ipv4: { address: "10.0.0.40/24", gateway: "10.0.0.1" } }]);
    const userData = parse(String(byName("ci-runner-vm-user-data")!.inputs.sourceRaw.data));
    const env = userData.write_files.find((f: { path: string }) => f.path === "/etc/kantai-runner/runner.env").content;
    expect(env).toContain("KANTAI_RUNNER_REPOSITORY=acme/homelab\nKANTAI_RUNNER_LABELS=kantai\n");
    expect(byName("ci-runner")!.dependsOn).toEqual(expect.arrayContaining(["hosts"]));
  });

  it("writes the token over SSH on stdin, as a secret, again when the VM is replaced", () => {
    const token = byName("ci-runner-token")!;
    expect(token.type).toBe("command:remote:Command");
    expect(token.inputs.stdin).toBe("[secret]");
    expect(token.inputs.connection).toBe("[secret]");
    expect(token.inputs.create).toContain("install -m 0600 -o root -g root /dev/stdin /etc/kantai-runner/github-token");
    expect(token.replaceWith).toEqual(["ci-runner-vm-vm"]);
  });

  it("outputs the labels workflows use, and no token", () => {
    expect(outputs.ciRunner).toEqual({
      name: "ci-runner",
      vmId: 810,
      ip: "10.0.0.40",
      repository: "acme/homelab",
      labels: ["self-hosted", "kantai"],
    });
    expect(JSON.stringify(outputs)).not.toContain("synth-placeholder-secret");
  });
});
