// Issue 10 item 13: a real run refuses the committed stack files' public placeholders; synth
// (mock runtime) and the engine suite (stand-in plugins on $PATH) are not refused.
//
// Upstream rules this relies on, each checked below where it can be:
// - Pulumi's passphrase secrets manager: key = PBKDF2-SHA256(passphrase, salt, 1,000,000 rounds),
//   values AES-256-GCM "v1:<nonce>:<ciphertext+tag>", `encryptionsalt` = "v1:<salt>:" + the word
//   "pulumi" encrypted (pulumi/pulumi sdk/go/common/resource/config/crypt.go,
//   pkg/secrets/passphrase/manager.go, v3.259.0 as pinned in tools/cli/go.mod).
// - Ambient plugins: the engine takes pulumi-resource-<name> from $PATH unless
//   PULUMI_IGNORE_AMBIENT_PLUGINS is "1"/"true" (sdk/go/common/workspace/plugins.go
//   getPluginInfoAndPath; sdk/go/common/util/env/env.go BoolValue.Value).
// - RunError: @pulumi/pulumi cmd/run/run.js prints a RunError's message alone ("Always hide the
//   stack for RunErrors").
// - OpenSSH private key format "openssh-key-v1" (openssh-portable PROTOCOL.key), checked against
//   the real ssh-keygen.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import {
  findPlaceholders,
  opensshPublicBlob,
  PLACEHOLDER_SSH_PUBLIC_BLOB,
  PUBLIC_ENCRYPTION_SALT,
  PUBLIC_PASSPHRASE,
} from "../lib/preflight/placeholders";
import {
  detectRunMode,
  isMockRuntime,
  PlaceholderError,
  refusePlaceholders,
  STANDIN_MARKER,
  rawFromConfigMap,
} from "../stacks/config";
import { SECRET_PLACEHOLDERS } from "../scripts/synth/stackFile";

const REPO = path.resolve(__dirname, "..");
const STACKS = ["dev", "edge", "lab"];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-placeholders-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Decrypt a committed stack file's config with Pulumi's passphrase scheme (see the header). */
function decryptStack(stack: string, passphrase: string): { salt: string; config: Record<string, string> } {
  const doc = parse(fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8")) as {
    encryptionsalt: string;
    config: Record<string, unknown>;
  };
  const [, saltB64] = doc.encryptionsalt.split(":");
  const key = crypto.pbkdf2Sync(passphrase, Buffer.from(saltB64, "base64"), 1_000_000, 32, "sha256");
  const dec = (v: string) => {
    const [, n, c] = v.split(":");
    const ct = Buffer.from(c, "base64");
    const d = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(n, "base64"));
    d.setAuthTag(ct.subarray(ct.length - 16));
    return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString("utf8");
  };
  // the salt's check value proves the passphrase, as Pulumi checks it
  expect(dec(doc.encryptionsalt.slice(doc.encryptionsalt.indexOf(":", 3) + 1))).toBe("pulumi");
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config)) {
    if (v && typeof v === "object" && "secure" in (v as object)) config[k] = dec((v as { secure: string }).secure);
    else config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { salt: doc.encryptionsalt, config };
}

const decrypted = Object.fromEntries(STACKS.map((s) => [s, decryptStack(s, PUBLIC_PASSPHRASE)]));

/** A directory of fake plugins: `standin` ones carry the wrapper's marker line, others do not. */
function pluginDir(name: string, plugins: Record<string, "standin" | "real" | "noexec">): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [p, kind] of Object.entries(plugins)) {
    const body =
      kind === "standin"
        ? `#!/usr/bin/env bash\n# ${STANDIN_MARKER} "${p}" for kantai's engine tests.\n`
        : "#!/bin/sh\nexec true\n";
    fs.writeFileSync(path.join(dir, `pulumi-resource-${p}`), body, { mode: kind === "noexec" ? 0o644 : 0o755 });
  }
  return dir;
}

const DEV_MESSAGE =
  `stack "dev" still uses the public placeholders of the committed stack file; refusing to run against real endpoints (docs/how-to/first-deploy.md):\n` +
  `  - Pulumi.dev.yaml encryptionsalt: the stack's secrets are encrypted with the public passphrase "kantai-dev"\n` +
  `      set: pulumi stack change-secrets-provider passphrase --stack dev   (enter a passphrase of your own; then set PULUMI_CONFIG_PASSPHRASE to it)\n` +
  `  - kantai:proxmoxApiToken: is a placeholder, not a Proxmox API token\n` +
  `      set: pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=<secret uuid>' --stack dev\n` +
  `  - kantai:sshPrivateKey: is the committed throwaway key (its private half is public)\n` +
  `      set: pulumi config set --secret sshPrivateKey --stack dev < ~/.ssh/id_ed25519\n` +
  `  - kantai:githubRunnerToken: is a placeholder, not a GitHub token\n` +
  `      set: pulumi config set --secret githubRunnerToken <fine-grained token: Administration read and write on the repository> --stack dev\n` +
  `  - kantai:sshPublicKeys[0]: is the committed throwaway key's public half: anyone can log in to the VMs with it\n` +
  `      set: pulumi config set --path 'sshPublicKeys[0]' "$(cat ~/.ssh/id_ed25519.pub)" --stack dev`;

describe("the committed stack files' placeholders", () => {
  it("every committed stack file uses the public salt, and its secrets are the known placeholders", () => {
    for (const s of STACKS) {
      expect(decrypted[s].salt).toBe(PUBLIC_ENCRYPTION_SALT);
      const raw = rawFromConfigMap(decrypted[s].config);
      const keys = findPlaceholders({ raw, stack: s, encryptionSalt: decrypted[s].salt }).map((f) => f.key);
      const expected = [`Pulumi.${s}.yaml encryptionsalt`, "kantai:proxmoxApiToken", "kantai:sshPrivateKey"];
      if (s === "edge") expected.push("kantai:cloudflareApiToken");
      if (s === "dev") expected.push("kantai:githubRunnerToken");
      expected.push("kantai:sshPublicKeys[0]");
      expect(keys).toEqual(expected);
    }
  });

  it("the committed private key's public half is the committed public key", () => {
    const priv = decrypted.dev.config["kantai:sshPrivateKey"];
    expect(opensshPublicBlob(priv)).toBe(PLACEHOLDER_SSH_PUBLIC_BLOB);
    const pub = (JSON.parse(decrypted.dev.config["kantai:sshPublicKeys"]) as string[])[0];
    expect(pub.split(" ")[1]).toBe(PLACEHOLDER_SSH_PUBLIC_BLOB);
  });

  it("synth's substitutes are placeholders too", () => {
    const raw = rawFromConfigMap({ ...SECRET_PLACEHOLDERS });
    expect(findPlaceholders({ raw, stack: "x" }).map((f) => f.key)).toEqual([
      "kantai:proxmoxApiToken",
      "kantai:sshPrivateKey",
      "kantai:cloudflareApiToken",
    ]);
  });

  it("a real key made by ssh-keygen, a real-looking token and an own passphrase pass", () => {
    const keyFile = path.join(tmp, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "me@host", "-f", keyFile]);
    const priv = fs.readFileSync(keyFile, "utf8");
    const pub = fs.readFileSync(`${keyFile}.pub`, "utf8").trim();
    // the parser reads the same public blob ssh-keygen wrote
    expect(opensshPublicBlob(priv)).toBe(pub.split(" ")[1]);
    const raw = {
      proxmoxApiToken: `kantai@pve!deploy=${crypto.randomUUID()}`,
      sshPrivateKey: priv,
      sshPublicKeys: [pub],
      cloudflareApiToken: "Zx8d1pVq3mC0rT6yW2nA9sK4eF7hJ5uL0oB3iG8c",
    };
    expect(
      findPlaceholders({ raw, stack: "dev", encryptionSalt: "v1:AAAAAAAAAAA=:v1:x:y", passphrase: "correct horse" }),
    ).toEqual([]);
  });

  it("the passphrase alone is caught from PULUMI_CONFIG_PASSPHRASE when the file is elsewhere", () => {
    expect(findPlaceholders({ raw: {}, stack: "dev", passphrase: "kantai-dev" }).map((f) => f.key)).toEqual([
      "Pulumi.dev.yaml encryptionsalt",
    ]);
  });
});

describe("run mode", () => {
  const all = { proxmoxve: "standin", command: "standin", cloudflare: "standin" } as const;

  it("stand-ins for every secret-consuming provider on $PATH: the offline engine suite", () => {
    const dir = pluginDir("standins", all);
    const mode = detectRunMode({ PATH: `${dir}:/usr/bin` }, false);
    expect(mode.kind).toBe("standins");
  });

  it("one provider that is not a stand-in, or missing, or not executable: a real run", () => {
    const mixed = pluginDir("mixed", { ...all, cloudflare: "real" });
    expect(detectRunMode({ PATH: mixed }, false)).toEqual({
      kind: "real",
      why: `${mixed}/pulumi-resource-cloudflare is not a kantai stand-in`,
    });
    const missing = pluginDir("missing", { proxmoxve: "standin", command: "standin" });
    expect(detectRunMode({ PATH: missing }, false)).toEqual({
      kind: "real",
      why: "pulumi-resource-cloudflare is not on $PATH: the engine loads the installed provider",
    });
    const noexec = pluginDir("noexec", { ...all, proxmoxve: "noexec" });
    expect(detectRunMode({ PATH: noexec }, false).kind).toBe("real");
    // the first match on $PATH is the one the engine runs
    expect(detectRunMode({ PATH: `${mixed}:${pluginDir("standins", all)}` }, false).kind).toBe("real");
  });

  it("PULUMI_IGNORE_AMBIENT_PLUGINS=true|1 makes stand-ins on $PATH irrelevant", () => {
    const dir = pluginDir("standins", all);
    for (const v of ["true", "TRUE", "1"]) {
      expect(detectRunMode({ PATH: dir, PULUMI_IGNORE_AMBIENT_PLUGINS: v }, false).kind).toBe("real");
    }
    expect(detectRunMode({ PATH: dir, PULUMI_IGNORE_AMBIENT_PLUGINS: "false" }, false).kind).toBe("standins");
  });
});

describe("refusePlaceholders", () => {
  const raw = rawFromConfigMap(decrypted.dev.config);

  it("a real run of the committed dev stack is refused with every key and its command", () => {
    let err: unknown;
    try {
      refusePlaceholders(raw, { stack: "dev", env: {}, mode: { kind: "real", why: "test" }, rootDir: REPO });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlaceholderError);
    // a RunError: the Node.js runtime prints its message without a stack trace
    expect(pulumi.RunError.isInstance(err)).toBe(true);
    expect((err as Error).message).toBe(DEV_MESSAGE);
  });

  it("the edge stack also names the Cloudflare token", () => {
    const edge = rawFromConfigMap(decrypted.edge.config);
    expect(() =>
      refusePlaceholders(edge, { stack: "edge", env: {}, mode: { kind: "real", why: "test" }, rootDir: REPO }),
    ).toThrow(
      "  - kantai:cloudflareApiToken: is a placeholder, not a Cloudflare API token\n" +
        "      set: pulumi config set --secret cloudflareApiToken <token with Account.Cloudflare Tunnel:Edit and Zone.DNS:Edit> --stack edge\n",
    );
  });

  it("synth (mock runtime) and the engine suite (stand-ins) are not refused", () => {
    expect(() =>
      refusePlaceholders(raw, { stack: "dev", env: {}, mode: { kind: "mock" }, rootDir: REPO }),
    ).not.toThrow();
    expect(() =>
      refusePlaceholders(raw, { stack: "dev", env: {}, mode: { kind: "standins", plugins: {} }, rootDir: REPO }),
    ).not.toThrow();
    const dir = pluginDir("standins", { proxmoxve: "standin", command: "standin", cloudflare: "standin" });
    expect(() => refusePlaceholders(raw, { stack: "dev", env: { PATH: dir }, rootDir: REPO })).not.toThrow();
  });

  it("a stack with its own secrets and passphrase runs", () => {
    const own: Record<string, unknown> = {
      ...raw,
      proxmoxApiToken: `root@pam!kantai=${crypto.randomUUID()}`,
      sshPrivateKey: fs.readFileSync(path.join(tmp, "id_ed25519"), "utf8"),
      sshPublicKeys: [fs.readFileSync(path.join(tmp, "id_ed25519.pub"), "utf8").trim()],
      githubRunnerToken: "github_pat_11AAAAAAA0testOnlyNotARealToken",
    };
    const dir = path.join(tmp, "own");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "Pulumi.dev.yaml"),
      "encryptionsalt: v1:c2FsdHNhbHQ=:v1:bm9uY2U=:Y2hlY2s=\nconfig: {}\n",
    );
    expect(() =>
      refusePlaceholders(own, {
        stack: "dev",
        env: { PULUMI_CONFIG_PASSPHRASE: "mine" },
        mode: { kind: "real", why: "test" },
        rootDir: dir,
      }),
    ).not.toThrow();
  });
});

// Last: setMocks installs process-global state.
describe("mock runtime", () => {
  it("outside Pulumi's mock runtime isMockRuntime is false; under setMocks it is true", async () => {
    expect(isMockRuntime()).toBe(false);
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: a.name, state: a.inputs }), call: () => ({}) },
      "kantai",
      "dev",
    );
    expect(isMockRuntime()).toBe(true);
    expect(detectRunMode({ PATH: "" }).kind).toBe("mock");
  });
});
