// Stand-in behaviour for the "command" provider (@pulumi/command): local.Command and
// local.run run their commands on this machine as the real provider documents
// (interpreter default /bin/sh -c, environment, dir, stdin, PULUMI_COMMAND_STDOUT for
// update/delete, trailing newline trimmed, `triggers` change replaces, other changes
// update). remote.* never connect anywhere: generic check-and-record only, except one SIMULATED
// output: with $KANTAI_STANDIN_KUBECONFIGS (a JSON file {"<cluster>": "<kubeconfig file>"}), a
// remote.Command named `<cluster>-kubeconfig` (components/k8s/k3sCluster.ts reads the K3s server's
// /etc/rancher/k3s/k3s.yaml with it) returns that file as its stdout instead of reading anything:
// the engine suite points the cluster's Kubernetes provider at its local control plane this way.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import type { Behaviour } from "./standin";
import { plain } from "./wire";

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(a: any, script: string, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const interpreter: string[] = a.interpreter?.length ? a.interpreter : ["/bin/sh", "-c"];
  const [cmd, ...args] = [...interpreter, script];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: a.dir || process.cwd(),
      env: { ...process.env, ...(a.environment ?? {}), ...extraEnv },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const res = { stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") };
      if (code === 0) resolve(res);
      else reject(new Error(`command failed (exit ${code}): ${script}\n${res.stderr}`));
    });
    child.stdin.end(a.stdin ?? "");
  });
}

const isLocalCommand = (token: string) => token === "command:local:Command";

/** The simulated kubeconfig of a `<cluster>-kubeconfig` remote command, when the test configured one. */
export function simulatedKubeconfig(token: string, name: string, env = process.env): string | undefined {
  const file = env.KANTAI_STANDIN_KUBECONFIGS;
  const m = /^(.+)-kubeconfig$/.exec(name);
  if (!file || !m || token !== "command:remote:Command") return undefined;
  const map = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
  return map[m[1]] === undefined ? undefined : fs.readFileSync(map[m[1]], "utf8");
}

export const commandBehaviour: Behaviour = {
  async create(token, name, inputs) {
    const kubeconfig = simulatedKubeconfig(token, name);
    if (kubeconfig !== undefined) return { outs: { ...inputs, stdout: kubeconfig, stderr: "" } };
    if (!isLocalCommand(token)) return undefined as any;
    const a = plain(inputs);
    const res = a.create ? await run(a, a.create) : { stdout: "", stderr: "" };
    return { outs: { ...inputs, ...res } };
  },
  async update(token, _id, olds, news, name) {
    const kubeconfig = name === undefined ? undefined : simulatedKubeconfig(token, name);
    if (kubeconfig !== undefined) return { outs: { ...news, stdout: kubeconfig, stderr: "" } };
    if (!isLocalCommand(token)) return undefined as any;
    const a = plain(news);
    const o = plain(olds);
    const script = a.update ?? a.create;
    const env: Record<string, string> =
      a.addPreviousOutputInEnv === false
        ? {}
        : { PULUMI_COMMAND_STDOUT: o.stdout ?? "", PULUMI_COMMAND_STDERR: o.stderr ?? "" };
    const res = script ? await run(a, script, env) : { stdout: o.stdout ?? "", stderr: o.stderr ?? "" };
    return { outs: { ...news, ...res } };
  },
  async delete(token, _id, props) {
    if (!isLocalCommand(token)) return;
    const a = plain(props);
    if (a.delete) {
      const env: Record<string, string> =
        a.addPreviousOutputInEnv === false
          ? {}
          : { PULUMI_COMMAND_STDOUT: a.stdout ?? "", PULUMI_COMMAND_STDERR: a.stderr ?? "" };
      await run(a, a.delete, env);
    }
  },
  replaces(token, changed) {
    return changed.filter((k) => k === "triggers" || (token !== "command:local:Command" && k === "connection"));
  },
  async invoke(token, args) {
    if (token !== "command:local:run") return undefined;
    const a = plain(args);
    const res = await run(a, a.command);
    return { ...args, ...res };
  },
};
