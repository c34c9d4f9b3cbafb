// The stand-in provider plugins check inputs against the npm SDKs' declared shapes, and
// the real engine reports their Check failures (test/engine/fixtures/badinput).
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, FIXTURES, pulumi, standinCalls, workspace, type Workspace } from "./support/engine";

let ws: Workspace;

beforeAll(() => {
  ws = workspace(path.join(FIXTURES, "badinput"), { passphrase: "kantai-engine-test" });
  pulumi(ws, ["stack", "init", "bad", "--non-interactive"]);
});

afterAll(() => cleanup(ws));

/** Preview case `name`; returns the engine's output and the stand-ins' Check failures. */
function preview(name: string) {
  pulumi(ws, ["config", "set", "case", name]);
  const run = pulumi(ws, ["preview", "--non-interactive"], { allowFail: true });
  const checks = standinCalls(ws).filter((c) => c.method === "check" && c.urn?.endsWith(`::${name}`));
  return { run, output: run.stdout + run.stderr, checks, failures: checks.flatMap((c) => c.failures ?? []) };
}

describe("stand-in plugins check inputs against the SDK's declared shape, through the engine", () => {
  it("valid inputs of every stand-in pass Check and the preview succeeds", () => {
    const { run } = preview("ok");
    expect(run.status).toBe(0);
    const checked = standinCalls(ws).filter((c) => c.method === "check");
    const byName = Object.fromEntries(checked.map((c) => [c.urn!.split("::").pop(), [c.provider, c.failures]]));
    expect(byName).toEqual({
      "ok-bridge": ["proxmoxve", []],
      "ok-record": ["cloudflare", []],
      "ok-ns": ["kubernetes", []],
      "ok-ksvc": ["kubernetes", []],
      "ok-cmd": ["command", []],
    });
    // a multi-language component goes to Construct, a data source to Invoke
    const other = standinCalls(ws)
      .filter((c) => c.method === "construct" || c.method === "invoke")
      .map((c) => [c.provider, c.method, c.type ?? c.token, c.failures]);
    expect(other.sort()).toEqual([
      ["cloudflare", "invoke", "cloudflare:index/getZone:getZone", []],
      ["kubernetes", "construct", "kubernetes:yaml/v2:ConfigGroup", []],
    ]);
    // provider resources (explicit and default) went through CheckConfig
    const configs = standinCalls(ws).filter((c) => c.method === "checkConfig");
    expect(configs.map((c) => c.urn!.split("::").pop()).sort()).toEqual([
      "default_1_2_1",
      "default_4_34_2",
      "default_6_22_1",
      "ok-provider",
    ]);
    expect(configs.flatMap((c) => c.failures ?? [])).toEqual([]);
    expect(run.stdout).toMatch(/\+ 8 to create/);
  });

  it("proxmoxve provider resource: an undeclared property in its config (CheckConfig)", () => {
    const { run, output } = preview("bad-provider");
    const failures = standinCalls(ws)
      .filter((c) => c.method === "checkConfig" && c.urn?.endsWith("::bad-provider"))
      .flatMap((c) => c.failures ?? []);
    expect(failures).toEqual([
      { property: "ssh.agentt", reason: 'unknown property "agentt" (not declared by the SDK)' },
    ]);
    expect(run.status).not.toBe(0);
    expect(output).toContain("resource 'bad-provider': property ssh.agentt");
  });

  const cases: [string, string, { property: string; reason: string }][] = [
    [
      "bad-vm",
      "proxmoxve: a string where a number is declared",
      { property: "cpu.cores", reason: 'expected number, got string "two"' },
    ],
    [
      "typo-vm",
      "proxmoxve: an undeclared nested property",
      { property: "networkDevices[0].modle", reason: 'unknown property "modle" (not declared by the SDK)' },
    ],
    [
      "bad-ttl",
      "cloudflare: a string where a number is declared",
      { property: "ttl", reason: 'expected number, got string "auto"' },
    ],
    [
      "bad-ns",
      "kubernetes: an undeclared property in metadata",
      { property: "metadata.labelz", reason: 'unknown property "labelz" (not declared by the SDK)' },
    ],
    [
      "bad-ksvc",
      "kubernetes: a CustomResource's metadata (other top-level fields are open)",
      { property: "metadata.namespce", reason: 'unknown property "namespce" (not declared by the SDK)' },
    ],
    [
      "bad-cmd",
      "command: a value outside a declared enum",
      { property: "logging", reason: 'expected one of "stdout", "stderr", "stdoutAndStderr", "none", got "loud"' },
    ],
  ];
  for (const [name, title, failure] of cases) {
    it(title, () => {
      const { run, output, failures } = preview(name);
      expect(failures).toEqual([failure]);
      expect(run.status).not.toBe(0);
      // the engine stopped on the plugin's failure and says where
      expect(output).toContain(`resource '${name}': property ${failure.property}`);
      expect(output).toContain(failure.reason);
    });
  }
});
