/** The synth command as users run it: outputs, redaction, --stack-file, and clear failures. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parseSynthArgs, stackOfFile } from "../scripts/synth";
import { ROOT } from "./support/devConfig";
import { runSynth } from "./support/tools";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "kantai-synth-test-"));

/** Write a copy of Pulumi.dev.yaml with `edit` applied to its config and return its path. */
/** A stack file's `config:` map as parsed YAML: key → scalar or object. */
type StackConfigDoc = Record<string, Record<string, unknown> | string>;

/** The object value of `key` (a structured config key such as kantai:fleet). */
const obj = (c: StackConfigDoc, key: string) => c[key] as Record<string, unknown>;

function variant(edit: (cfg: StackConfigDoc) => void): string {
  const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
  edit(doc.config);
  const file = path.join(tmp(), "Pulumi.variant.yaml");
  fs.writeFileSync(file, stringify(doc));
  return file;
}

describe("npm run synth", () => {
  it("writes resources, outputs and artifacts with secrets redacted", () => {
    const out = tmp();
    const r = runSynth(["--stack", "dev", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/synth dev: 51 resources, 24 artifacts .*simulated: nothing was deployed/);
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
    expect(resources[0]).toMatchObject({
      type: "pulumi:providers:proxmoxve",
      name: "proxmox",
      inputs: { apiToken: "[secret]" },
    });
    const outputs = JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8"));
    expect(outputs.fleet.loadBalancer.ip).toBe("10.0.0.35");
    const all =
      fs.readFileSync(path.join(out, "resources.json"), "utf8") +
      fs.readFileSync(path.join(out, "outputs.json"), "utf8");
    expect(all).not.toMatch(/PRIVATE KEY|placeholder=0000|synth-placeholder-secret/);
  });

  it("is deterministic: two runs write identical files", () => {
    const a = tmp();
    const b = tmp();
    expect(runSynth(["--stack", "dev", "--out", a]).status).toBe(0);
    expect(runSynth(["--stack", "dev", "--out", b]).status).toBe(0);
    for (const f of ["resources.json", "outputs.json", "artifacts.json", "files/hosts/db.hosts.pve"]) {
      expect(fs.readFileSync(path.join(a, f), "utf8"), f).toBe(fs.readFileSync(path.join(b, f), "utf8"));
    }
  });

  it("--stack-file reads any stack-shaped file: a 3-VM fleet renders 3 sites", () => {
    const file = variant((c) => {
      obj(c, "kantai:fleet").size = 3;
      obj(c, "kantai:fleet").loadBalancer = { name: "kenobi-lb" };
    });
    const out = tmp();
    const r = runSynth(["--stack", "small", "--out", out, "--stack-file", file]);
    expect(r.status, r.stderr).toBe(0);
    const outputs = JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8"));
    expect(outputs.fleet.siteUrls).toEqual([
      "http://one.standalone.hosts.pve",
      "http://two.standalone.hosts.pve",
      "http://three.standalone.hosts.pve",
    ]);
    expect(outputs.fleet.loadBalancer).toEqual({ name: "kenobi-lb", vmId: 803, ip: "10.0.0.33" });
  });

  it("--stack-file alone names the stack after the file (Pulumi.<stack>.yaml)", () => {
    const file = variant((c) => {
      obj(c, "kantai:fleet").size = 2;
    });
    const out = tmp();
    const r = runSynth(["--stack-file", file, "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^synth variant: \d+ resources, \d+ artifacts -> /);
    const outputs = JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8"));
    expect(outputs.fleet.siteUrls).toEqual(["http://one.standalone.hosts.pve", "http://two.standalone.hosts.pve"]);
  });

  it("a missing or unknown argument is named, with the usage, exit 2", () => {
    const usage =
      "usage: npm run synth -- --stack <name> --out <dir> | --stack-file <path> --out <dir> [--stack <name>]";
    expect(parseSynthArgs(["--stack-file", "Pulumi.dev.yaml"])).toBe("missing --out <dir>");
    expect(parseSynthArgs(["--out", "x"])).toBe("missing --stack <name> (or --stack-file <path>)");
    expect(parseSynthArgs([])).toBe("missing --stack <name> (or --stack-file <path>) and --out <dir>");
    expect(parseSynthArgs(["--stack-file", "a/Pulumi.edge.yaml", "--out", "o"])).toEqual({
      stack: "edge",
      out: path.resolve("o"),
      stackFile: path.resolve("a/Pulumi.edge.yaml"),
    });
    expect(stackOfFile("/x/site-b.yaml")).toBe("site-b");
    // As users see it (a subprocess): the first line names the problem; no stack trace.
    for (const [args, msg] of [
      [["--stack", "dev"], "synth: missing --out <dir>"],
      [["--stack", "dev", "--out", "x", "--stak", "y"], "synth: Unknown option '--stak'"],
    ] as const) {
      const r = runSynth([...args]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.split("\n")[0], args.join(" ")).toContain(msg);
      expect(r.stderr, args.join(" ")).toContain(usage);
      expect(r.stderr, args.join(" ")).not.toMatch(/\n\s+at /);
    }
  });

  it("a bad config exits non-zero with the key named, and writes nothing", () => {
    const file = variant((c) => {
      obj(c, "kantai:network").gateway = "10.9.9.9";
    });
    const out = path.join(tmp(), "never");
    const r = runSynth(["--stack", "bad", "--out", out, "--stack-file", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("kantai:network.gateway: 10.9.9.9 is outside 10.0.0.0/24");
    expect(fs.existsSync(out)).toBe(false);
  });

  it("a missing required secret is named", () => {
    const file = variant((c) => {
      delete c["kantai:proxmoxApiToken"];
    });
    const r = runSynth(["--stack", "bad", "--out", tmp(), "--stack-file", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("kantai:proxmoxApiToken: is required");
  });

  it("a secret stored in plaintext is refused", () => {
    const file = variant((c) => {
      c["kantai:proxmoxApiToken"] = "root@pam!kantai=00000000-0000-0000-0000-000000000000";
    });
    const r = runSynth(["--stack", "bad", "--out", tmp(), "--stack-file", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("kantai:proxmoxApiToken: must be stored as a secret");
  });

  it("usage errors and missing files are explained", () => {
    const r1 = runSynth(["--stack", "dev"]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain("usage: npm run synth -- --stack <name> --out <dir>");
    const r2 = runSynth(["--stack", "nope", "--out", tmp()]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/stack file .*Pulumi\.nope\.yaml does not exist/);
  });
});
