/**
 * The self-hosted runner VM (lib/render/actionsRunner.ts), checked with real parts:
 * - its user-data passes the real `cloud-init schema`; its scripts pass shellcheck;
 * - the job-started hook runs in bash + jq on webhook payloads shaped like GitHub's
 *   (https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request: `repository`,
 *   `pull_request.head.repo` — null once the fork is deleted);
 * - the loop runs for one iteration against a loopback HTTP server standing in for GitHub's REST API
 *   (a stand-in: it answers generate-jitconfig as
 *   https://docs.github.com/en/rest/actions/self-hosted-runners#create-configuration-for-a-just-in-time-runner-for-a-repository
 *   documents: 201 with `encoded_jit_config`), and a recording `run.sh` in place of the runner.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  ACTIONS_RUNNER_RELEASE,
  renderActionsRunnerUserData,
  renderJobStartedHook,
  renderRunnerInstall,
  renderRunnerLoop,
  RUNNER_PATHS,
} from "../lib/render/actionsRunner";
import { runTool } from "./support/tools";

const spec = {
  identity: {
    hostname: "ci-runner",
    domain: "hosts.pve",
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKantaiTestKeyOnly kantai"],
  },
  repository: "acme/homelab",
  labels: ["kantai"],
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "kantai-runner-"));
const write = (dir: string, name: string, text: string, mode = 0o755) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text, { mode });
  return f;
};

describe("runner VM user-data", () => {
  const userData = renderActionsRunnerUserData(spec);

  it("passes the real cloud-init schema", () => {
    const f = write(tmp(), "user-data.yaml", userData, 0o644);
    const r = runTool("cloud-init", ["schema", "--config-file", f]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Valid cloud-config");
  });

  it("writes the scripts, the unit and the settings; never a token", () => {
    const doc = parse(userData);
    expect(doc.write_files.map((f: { path: string; permissions: string }) => `${f.path} ${f.permissions}`)).toEqual([
      `${RUNNER_PATHS.libexec}/job-started.sh 0755`,
      `${RUNNER_PATHS.libexec}/loop.sh 0700`,
      `${RUNNER_PATHS.libexec}/install.sh 0700`,
      `${RUNNER_PATHS.env} 0644`,
      `/etc/systemd/system/${RUNNER_PATHS.unit} 0644`,
    ]);
    const env = doc.write_files.find((f: { path: string }) => f.path === RUNNER_PATHS.env).content;
    expect(env).toBe(
      [
        "KANTAI_RUNNER_REPOSITORY=acme/homelab",
        "KANTAI_RUNNER_LABELS=kantai",
        "KANTAI_RUNNER_API_URL=https://api.github.com",
        "KANTAI_RUNNER_GROUP_ID=1",
        `ACTIONS_RUNNER_HOOK_JOB_STARTED=${RUNNER_PATHS.libexec}/job-started.sh`,
        "",
      ].join("\n"),
    );
    expect(doc.runcmd).toEqual([
      ["systemctl", "enable", "--now", "qemu-guest-agent"],
      [`${RUNNER_PATHS.libexec}/install.sh`],
    ]);
    expect(doc.packages).toContain("jq");
    expect(userData).not.toMatch(/gh[pousr]_|github_pat_|Bearer [^%]/);
  });

  it("installs the pinned release and verifies its sha256 before unpacking", () => {
    const install = renderRunnerInstall();
    const file = `actions-runner-linux-x64-${ACTIONS_RUNNER_RELEASE.version}.tar.gz`;
    const lines = install.split("\n");
    const check = lines.findIndex(
      (l) => l.includes(`${ACTIONS_RUNNER_RELEASE.sha256}  ${file}`) && l.includes("sha256sum -c -"),
    );
    const untar = lines.findIndex((l) => l.includes(`tar -xzf ${file}`));
    expect(check).toBeGreaterThan(0);
    expect(untar).toBeGreaterThan(check);
    expect(ACTIONS_RUNNER_RELEASE.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a tarball that does not match the pin stops the install (the real sha256sum -c line)", () => {
    const dir = tmp();
    const file = `actions-runner-linux-x64-${ACTIONS_RUNNER_RELEASE.version}.tar.gz`;
    fs.writeFileSync(path.join(dir, file), "not the release");
    const line = renderRunnerInstall()
      .split("\n")
      .find((l) => l.includes("sha256sum -c -"))!;
    const r = spawnSync("bash", ["-euo", "pipefail", "-c", line], { cwd: dir, encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("FAILED");
  });

  it("every script passes shellcheck", () => {
    const dir = tmp();
    for (const [name, text] of [
      ["job-started.sh", renderJobStartedHook()],
      ["loop.sh", renderRunnerLoop()],
      ["install.sh", renderRunnerInstall()],
    ]) {
      const r = runTool("shellcheck", ["--severity=style", write(dir, name, text)]);
      expect(r.status, `${name}\n${r.stdout}`).toBe(0);
    }
  });
});

describe("job-started hook (real bash + jq)", () => {
  const hook = write(tmp(), "job-started.sh", renderJobStartedHook());
  const run = (event: unknown) => {
    const f = write(tmp(), "event.json", JSON.stringify(event), 0o644);
    return spawnSync("bash", [hook], { encoding: "utf8", env: { PATH: process.env.PATH, GITHUB_EVENT_PATH: f } });
  };
  const repo = { full_name: "acme/homelab" };

  it("lets pushes and manual runs through", () => {
    expect(run({ ref: "refs/heads/main", repository: repo }).status).toBe(0);
    expect(run({ inputs: {}, repository: repo }).status).toBe(0);
  });

  it("lets a pull request from a branch of the same repository through", () => {
    expect(run({ action: "opened", repository: repo, pull_request: { head: { repo } } }).status).toBe(0);
  });

  it("refuses a pull request from a fork, naming it", () => {
    const r = run({
      action: "synchronize",
      repository: repo,
      pull_request: { head: { repo: { full_name: "mallory/homelab" } } },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      "::error::kantai runner: refusing a job for a pull request from 'mallory/homelab' (not acme/homelab)",
    );
  });

  it("refuses a pull request whose fork was deleted (head.repo is null)", () => {
    const r = run({ action: "synchronize", repository: repo, pull_request: { head: { repo: null } } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("from 'a deleted fork'");
  });

  it("fails closed without an event payload", () => {
    const r = spawnSync("bash", [hook], { encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(r.status).not.toBe(0);
  });
});

describe("runner loop (one iteration, loopback stand-in for GitHub's API)", () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  interface Seen {
    method?: string;
    url?: string;
    auth?: string;
    version?: string;
    body?: unknown;
  }
  async function api(status: number, answer: unknown) {
    const seen: Seen = {};
    server = http.createServer((req, res) => {
      let data = "";
      req.on("data", (c) => (data += c));
      req.on("end", () => {
        Object.assign(seen, {
          method: req.method,
          url: req.url,
          auth: req.headers.authorization,
          version: req.headers["x-github-api-version"],
          body: JSON.parse(data),
        });
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
  }

  async function loop(apiUrl: string, token: string | undefined) {
    const dir = tmp();
    const runner = path.join(dir, "runner");
    fs.mkdirSync(path.join(runner, "_work"), { recursive: true });
    fs.writeFileSync(path.join(runner, "_work", "left-by-last-job"), "x");
    // Recording stand-in for the runner's run.sh: its arguments, whether the token reached it, and
    // a file in the work folder that the loop must wipe after the job.
    write(
      runner,
      "run.sh",
      `#!/usr/bin/env bash\nprintf '%s\\n' "$@" >"${dir}/args"\nls -A "$PWD/_work" "$HOME" >"${dir}/seen-before" 2>&1 || true\nenv >"${dir}/env"\ntouch _work/job-output\n`,
    );
    const tokenFile = path.join(dir, "token");
    if (token !== undefined) fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const script = write(dir, "loop.sh", renderRunnerLoop());
    const child = spawn("bash", [script], {
      cwd: runner,
      env: {
        PATH: process.env.PATH,
        KANTAI_RUNNER_REPOSITORY: "acme/homelab",
        KANTAI_RUNNER_LABELS: "kantai,lab",
        KANTAI_RUNNER_API_URL: apiUrl,
        KANTAI_RUNNER_DIR: runner,
        KANTAI_RUNNER_TOKEN_FILE: tokenFile,
        KANTAI_RUNNER_HOME: path.join(dir, "home"),
        KANTAI_RUNNER_AS: "",
        KANTAI_RUNNER_ONCE: "1",
      },
    });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    return { code, stderr, dir, runner };
  }

  it("mints a JIT config with the token, runs one job with it, and wipes the work folder", async () => {
    const { url, seen } = await api(201, { runner: { id: 23 }, encoded_jit_config: "SklULWNvbmZpZw==" });
    const r = await loop(url, "github_pat_TESTONLY");
    expect(r.code, r.stderr).toBe(0);
    expect(seen).toMatchObject({
      method: "POST",
      url: "/repos/acme/homelab/actions/runners/generate-jitconfig",
      auth: "Bearer github_pat_TESTONLY",
      version: "2022-11-28",
    });
    expect(seen.body).toEqual({
      name: expect.stringMatching(/^[\w.-]+-\d+$/),
      runner_group_id: 1,
      labels: ["kantai", "lab"],
      work_folder: "_work",
    });
    expect(fs.readFileSync(path.join(r.dir, "args"), "utf8")).toBe("--jitconfig\nSklULWNvbmZpZw==\n");
    // The job never sees the token, nor the last job's files.
    expect(fs.readFileSync(path.join(r.dir, "env"), "utf8")).not.toContain("github_pat_TESTONLY");
    expect(fs.readFileSync(path.join(r.dir, "seen-before"), "utf8")).not.toContain("left-by-last-job");
    expect(fs.readdirSync(path.join(r.runner, "_work"))).toEqual([]);
  });

  it("a refused token stops with the HTTP status and what to check, and runs nothing", async () => {
    const { url } = await api(403, { message: "Resource not accessible by personal access token" });
    const r = await loop(url, "github_pat_TESTONLY");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "generate-jitconfig for acme/homelab failed (curl exit 0, HTTP 403); check the token's 'Administration: read and write' permission",
    );
    expect(fs.existsSync(path.join(r.dir, "args"))).toBe(false);
  });

  it("waits for the token before registering anything", async () => {
    const { url, seen } = await api(201, { encoded_jit_config: "x" });
    const r = await loop(url, undefined);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("waiting for the GitHub token");
    expect(seen.url).toBeUndefined();
  });
});
