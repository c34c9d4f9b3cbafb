/**
 * The GitHub workflows users get: actionlint (the real linter, built by scripts/setup.sh) passes on
 * every workflow, and the workflows do what docs/how-to/pull-request-previews.md promises: previews
 * of every stack commented on the PR with the policy pack, `up` on main behind per-stack GitHub
 * environments (approvals), npm caching, the README's test command in CI, and no secret in files.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "./support/devConfig";
import { evaluate, evaluateField, jobRuns } from "./support/ghExpression";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const ACTIONLINT = path.join(
  process.env.KANTAI_TOOLS_DIR ?? path.join(os.homedir(), ".cache", "kantai-tools"),
  "bin",
  "actionlint",
);

function actionlint(files: string[]) {
  if (!fs.existsSync(ACTIONLINT)) {
    throw new Error(
      `actionlint is not installed at ${ACTIONLINT}: bash scripts/setup.sh builds it (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)`,
    );
  }
  const r = spawnSync(ACTIONLINT, ["-no-color", ...files], { encoding: "utf8", cwd: ROOT, timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}

const workflowFiles = fs
  .readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const wf = (name: string): any => parse(fs.readFileSync(path.join(WORKFLOWS, name), "utf8"));
const steps = (job: any): any[] => job.steps;
const uses = (job: any, action: string): any[] =>
  steps(job).filter((s) => typeof s.uses === "string" && s.uses.split("@")[0] === action);

/** Run the `stacks` job's list script in `dir` as the runner would and return the matrix it emits. */
function listStacks(workflow: string, dir: string): string[] {
  const script = steps(wf(workflow).jobs.stacks).find((s) => s.id === "list").run as string;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kantai-gh-output-")), "github-output");
  const r = spawnSync("bash", ["-eo", "pipefail", "-c", script], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, GITHUB_OUTPUT: out },
  });
  expect(r.status, r.stderr).toBe(0);
  const line = fs.readFileSync(out, "utf8").trim();
  expect(line).toMatch(/^stacks=/);
  return JSON.parse(line.slice("stacks=".length));
}

describe("actionlint", () => {
  it("finds the three workflows", () => {
    expect(workflowFiles).toEqual(["ci.yml", "preview.yml", "up.yml"]);
  });

  it("passes on every workflow", () => {
    const r = actionlint(workflowFiles.map((f) => path.join(".github", "workflows", f)));
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("is really checking: a misspelt pulumi/actions input and an unquoted variable fail", () => {
    const bad = fs
      .readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8")
      .replace("comment-on-pr: true", "comment-on-prs: true")
      .replace('>> "$GITHUB_OUTPUT"', ">> $GITHUB_OUTPUT");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-actionlint-"));
    const file = path.join(dir, "preview.yml");
    fs.writeFileSync(file, bad);
    const r = actionlint([file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('input "comment-on-prs" is not defined in action "pulumi/actions@v6"');
    expect(r.stdout).toContain("SC2086");
  });
});

describe("preview on pull requests", () => {
  const preview = wf("preview.yml");

  it("runs on pull requests and may write PR comments", () => {
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("previews every stack with the policy pack and comments the diff on the PR", () => {
    const job = preview.jobs.preview;
    expect(job.needs).toBe("stacks");
    expect(job.strategy.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    const [step] = uses(job, "pulumi/actions");
    expect(step.uses).toBe("pulumi/actions@v6");
    expect(step.with).toMatchObject({
      command: "preview",
      "comment-on-pr": true,
      policyPacks: "policy",
      "github-token": "${{ secrets.GITHUB_TOKEN }}",
    });
    expect(step.with["stack-name"]).toContain("matrix.stack");
  });

  it("the matrix is the repository's Pulumi.<stack>.yaml files, new stacks included", () => {
    const expected = fs
      .readdirSync(ROOT)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => !!s)
      .sort();
    expect(expected).toContain("dev");
    expect(listStacks("preview.yml", ROOT)).toEqual(expected);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-stacks-"));
    for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.edge.yaml", "Pulumi.lab.yaml", "PulumiPolicy.yaml"])
      fs.writeFileSync(path.join(dir, f), "");
    expect(listStacks("preview.yml", dir)).toEqual(["dev", "edge", "lab"]);
    expect(listStacks("up.yml", dir)).toEqual(["dev", "edge", "lab"]);
  });
});

/**
 * The lab's self-hosted runner (docs/how-to/ci-runner.md). Jobs that reach the lab take their
 * labels from the repository variable KANTAI_RUNNER_LABELS (a JSON list), defaulting to the runner's
 * own; a pull request from a fork never gets such a job. GitHub's advice this follows: "forks of
 * your public repository can potentially run dangerous code on your self-hosted runner machine"
 * (https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/about-self-hosted-runners#self-hosted-runner-security).
 */
describe("self-hosted runner jobs", () => {
  const base = { full_name: "acme/homelab" };
  const prEvent = (head: unknown) => ({
    event_name: "pull_request",
    repository: "acme/homelab",
    event: { repository: base, pull_request: { head: { repo: head } } },
  });
  const ctx = (github: Record<string, unknown>, vars: Record<string, string> = {}) =>
    ({ github, vars, matrix: { stack: "dev" }, secrets: {} }) as any;
  const labJobs = () =>
    workflowFiles.flatMap((f) =>
      Object.entries<any>(wf(f).jobs)
        .filter(([, j]) => typeof j["runs-on"] === "string" && j["runs-on"].includes("KANTAI_RUNNER_LABELS"))
        .map(([name, j]) => ({ file: f, name, job: j })),
    );

  it("the preview and up jobs run on the lab runner; listing stacks stays on GitHub's machines", () => {
    expect(labJobs().map((j) => `${j.file}:${j.name}`)).toEqual(["preview.yml:preview", "up.yml:up"]);
    expect(wf("preview.yml").jobs.stacks["runs-on"]).toBe("ubuntu-24.04");
    expect(wf("up.yml").jobs.stacks["runs-on"]).toBe("ubuntu-24.04");
  });

  it("labels come from the repository variable, defaulting to the runner's labels", () => {
    for (const { job } of labJobs()) {
      expect(evaluateField(job["runs-on"], ctx({}))).toEqual(["self-hosted", "kantai"]);
      expect(evaluateField(job["runs-on"], ctx({}, { KANTAI_RUNNER_LABELS: '["self-hosted","lab-2"]' }))).toEqual([
        "self-hosted",
        "lab-2",
      ]);
    }
    // The default is what the runner registers with (lib/render/actionsRunner.ts: custom label "kantai"
    // plus GitHub's own "self-hosted"), and what .github/actionlint.yaml declares.
    expect(parse(fs.readFileSync(path.join(ROOT, ".github", "actionlint.yaml"), "utf8"))).toEqual({
      "self-hosted-runner": { labels: ["kantai"] },
    });
  });

  it("a pull request from a branch of this repository gets its preview on the runner", () => {
    expect(jobRuns(wf("preview.yml").jobs.preview.if, ctx(prEvent(base)))).toBe(true);
  });

  it("a pull request from a fork, or from a deleted fork, never does", () => {
    expect(jobRuns(wf("preview.yml").jobs.preview.if, ctx(prEvent({ full_name: "mallory/homelab" })))).toBe(false);
    expect(jobRuns(wf("preview.yml").jobs.preview.if, ctx(prEvent(null)))).toBe(false);
  });

  it("every lab job triggered by pull requests carries the fork guard", () => {
    for (const { file, name, job } of labJobs()) {
      const on = wf(file).on;
      if (!("pull_request" in on) && !("pull_request_target" in on)) continue;
      expect(jobRuns(job.if, ctx(prEvent({ full_name: "mallory/homelab" }))), `${file}:${name}`).toBe(false);
    }
    expect(Object.keys(wf("up.yml").on)).not.toContain("pull_request");
  });

  it("the evaluator follows GitHub's rules where the guard depends on them", () => {
    // == on strings is case-insensitive; a missing property is null; || returns an operand.
    expect(evaluate("'Acme/Homelab' == 'acme/homelab'", {})).toBe(true);
    expect(evaluate("github.event.pull_request.head.repo.full_name", { github: {} })).toBeNull();
    expect(evaluate("vars.X || 'd'", { vars: {} })).toBe("d");
    expect(() => evaluate("toJSON(github)", { github: {} })).toThrow(/not supported/);
  });
});

describe("up on main", () => {
  const up = wf("up.yml");

  it("runs on pushes to main (and by hand), never on pull requests", () => {
    expect(up.on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: null });
  });

  it("deploys each stack behind its GitHub environment (required reviewers approve), one at a time", () => {
    const job = up.jobs.up;
    expect(job.environment).toEqual({ name: "${{ matrix.stack }}" });
    expect(job.concurrency).toEqual({ group: "up-${{ matrix.stack }}", "cancel-in-progress": false });
    expect(job.strategy.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    const [step] = uses(job, "pulumi/actions");
    expect(step.with).toMatchObject({ command: "up", policyPacks: "policy" });
  });
});

describe("every workflow", () => {
  it("caches npm through actions/setup-node in each job that installs packages", () => {
    for (const f of workflowFiles) {
      for (const [name, job] of Object.entries<any>(wf(f).jobs)) {
        const runsNpm = steps(job).some(
          (s) => typeof s.run === "string" && /\bnpm (ci|test)\b|scripts\/setup\.sh/.test(s.run),
        );
        if (!runsNpm) continue;
        const [node] = uses(job, "actions/setup-node");
        expect(node?.with, `${f} ${name}`).toEqual({ "node-version": 22, cache: "npm" });
      }
    }
  });

  it("CI runs exactly the README's test command, the one .ci/run runs", () => {
    const ciRun = fs
      .readFileSync(path.join(ROOT, ".ci", "run"), "utf8")
      .trim()
      .split("\n");
    const command = ciRun[ciRun.length - 1];
    expect(command).toMatch(/^bash scripts\/setup\.sh && npm test\b/);
    expect(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain(`\n${command}\n`);
    const runs = steps(wf("ci.yml").jobs.test)
      .filter((s) => s.run)
      .map((s) => s.run);
    expect(runs).toEqual([command]);
  });

  it("takes every credential from secrets or variables, never from a literal", () => {
    const credential = /TOKEN|PASSPHRASE|SECRET|PASSWORD|PRIVATE_KEY|API_KEY/;
    let seen = 0;
    for (const f of workflowFiles) {
      const doc = wf(f);
      const envs = [
        doc.env,
        ...Object.values<any>(doc.jobs).flatMap((j) => [j.env, ...steps(j).map((s) => s.env)]),
      ].filter(Boolean);
      for (const env of envs) {
        for (const [k, v] of Object.entries(env)) {
          if (!credential.test(k)) continue;
          seen++;
          expect(v, `${f} env ${k}`).toBe(`\${{ secrets.${k} }}`);
        }
      }
    }
    expect(seen).toBe(4);
  });

  it("no file under .github/ or esc/ holds secret material", () => {
    const files = (dir: string): string[] =>
      fs.existsSync(dir)
        ? fs
            .readdirSync(dir, { withFileTypes: true })
            .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
        : [];
    const all = [...files(path.join(ROOT, ".github")), ...files(path.join(ROOT, "esc"))];
    expect(all.length).toBeGreaterThanOrEqual(4);
    const patterns: [string, RegExp][] = [
      ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
      ["Proxmox API token", /@(pam|pve)![\w-]+=[0-9a-f]{8}-[0-9a-f]{4}-/],
      ["Pulumi access token", /\bpul-[0-9a-f]{40}\b/],
      ["GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36}\b/],
      ["Cloudflare API token", /\b[A-Za-z0-9_-]{40}\b(?<![0-9a-f]{40})/],
      ["Pulumi ciphertext", /secure: v1:/],
    ];
    for (const f of all) {
      const text = fs.readFileSync(f, "utf8");
      for (const [what, re] of patterns) expect(re.test(text), `${what} in ${path.relative(ROOT, f)}`).toBe(false);
    }
  });
});

describe("secrets: the example ESC environment (esc/kantai-dev.yaml)", () => {
  const env = parse(fs.readFileSync(path.join(ROOT, "esc", "kantai-dev.yaml"), "utf8"));
  /** ESC's `${a.b}` references resolved against `values`; `fn::secret` unwrapped and reported. */
  const resolve = (v: unknown, secrets: Set<string>, key: string): unknown => {
    if (typeof v === "string" && /^\$\{[\w.]+\}$/.test(v)) {
      let target: any = env.values;
      for (const part of v.slice(2, -1).split(".")) target = target?.[part];
      expect(target, `${key}: ${v} resolves to nothing`).toBeDefined();
      return resolve(target, secrets, key);
    }
    if (v !== null && typeof v === "object" && "fn::secret" in v) {
      secrets.add(key);
      return (v as Record<string, unknown>)["fn::secret"];
    }
    return v;
  };
  const config = (dummies: boolean) => {
    const secrets = new Set<string>();
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries<unknown>(env.values.pulumiConfig)) {
      let value = resolve(v, secrets, k);
      if (dummies && typeof value === "string") {
        value =
          {
            "REPLACE-WITH-PROXMOX-API-TOKEN": "root@pam!kantai=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "REPLACE-WITH-SSH-PRIVATE-KEY":
              "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "REPLACE-WITH-CLOUDFLARE-API-TOKEN": "x".repeat(40),
          }[value] ?? value;
      }
      raw[k] = value;
    }
    return { raw, secrets };
  };

  it("holds the Proxmox token, the SSH key and the Cloudflare token as fn::secret placeholders, mapped onto kantai config", () => {
    const { raw, secrets } = config(false);
    expect([...secrets].sort()).toEqual([
      "kantai:cloudflareApiToken",
      "kantai:proxmoxApiToken",
      "kantai:sshPrivateKey",
    ]);
    for (const k of secrets) expect(raw[k], k).toMatch(/^REPLACE-WITH-[A-Z-]+$/);
  });

  it("its pulumiConfig is valid kantai config over the dev stack's (with real-looking values in place of the placeholders)", async () => {
    const { parseConfig } = await import("../stacks/config");
    const { devRaw } = await import("./support/devConfig");
    const { raw, secrets } = config(true);
    const merged = {
      ...devRaw(),
      ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace(/^kantai:/, ""), v])),
    };
    // The dev stack's own secret keys (the runner token) stay secrets alongside the ESC ones.
    const cfg = parseConfig(merged, { stack: "dev", secretKeys: [...secrets, "kantai:githubRunnerToken"] });
    expect(cfg.proxmox.endpoint).toBe("https://10.15.40.20:8006/");
  });

  it("placeholders left in place fail config validation, naming the key", async () => {
    const { parseConfig } = await import("../stacks/config");
    const { devRaw } = await import("./support/devConfig");
    const { raw, secrets } = config(false);
    const merged = {
      ...devRaw(),
      ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace(/^kantai:/, ""), v])),
    };
    expect(() => parseConfig(merged, { stack: "dev", secretKeys: [...secrets] })).toThrow(
      /kantai:proxmoxApiToken: must look like/,
    );
  });
});
