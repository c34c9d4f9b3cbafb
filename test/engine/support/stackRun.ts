// A whole stack (stacks/<stack>.ts with its Pulumi.<stack>.yaml) on the real engine, its Kubernetes
// layer through the REAL pulumi-kubernetes provider (tools/kubernetes-provider) against the REAL
// control plane of scripts/k8s-local.ts, whose nodes are SIMULATED by kwok. Proxmox, SSH (command)
// and Cloudflare stay the STAND-IN providers (tools/standins). Shared by k8sEdge.test.ts and
// k8sLab.test.ts.
//
// How the stack reaches the local API server:
// - K3sCluster reads the first server's kubeconfig with a remote command `<cluster>-kubeconfig`;
//   the command stand-in returns the local control plane's kubeconfig for it
//   (KANTAI_STANDIN_KUBECONFIGS, a SIMULATED output), with `tls-server-name: localhost` added (a
//   name in the API server's certificate);
// - kantai rewrites the server to the cluster's API address (edge: the kube-vip VIP; lab: the
//   Proxmox host's port-forward); inside the suite's network namespace that address is put on the
//   loopback device and forwarded to the API server (support/k8s.ts serveApiAt).
// Release manifests come from `kantai:releases.mirror` set to an HTTP URL: a node HTTP server on
// 127.0.0.1 in the same namespace serves the directory support/mirror.ts assembles.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { expect } from "vitest";
import { cleanup, pulumi, REPO, standinCalls, workspace, type Workspace } from "./engine";
import { kubectlJson, serveApiAt, startControlPlane, type ControlPlane } from "./k8s";
import { serveMirror } from "./mirror";

export const nameOf = (urn: string) => urn.split("::").pop()!;
export const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;

export interface Step {
  op: string;
  urn: string;
}

/** The stack file as committed (plain YAML; secure values stay encrypted). */
export const stackFileOf = (stack: string): Record<string, any> =>
  parse(fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8")).config;

/** `kubectl get` argument for an object's kind: `Kind.group`, or `Kind` for the core group. */
export const kindArg = (apiVersion: string, kind: string) =>
  apiVersion.includes("/") ? `${kind}.${apiVersion.split("/")[0]}` : kind;

/** The Kubernetes objects in a stack's state (custom resources of the kubernetes provider). */
export const k8sObjects = (st: any): any[] =>
  (st.resources ?? []).filter((r: any) => r.custom && r.type.startsWith("kubernetes:") && r.outputs?.kind);

/**
 * Steps that change something, as `op type name`; provider resources left out: up's event log
 * reports the default pulumi-nodejs (dynamic) provider as "update" on every run (its preview
 * shows it "same").
 */
export const changedOf = (steps: Step[]) =>
  steps
    .filter((s) => s.op !== "same" && !typeOf(s.urn).startsWith("pulumi:providers:"))
    .map((s) => `${s.op} ${typeOf(s.urn)} ${nameOf(s.urn)}`);

/** Wait until `f` returns true (polling), at most `ms`. */
export function waitFor(f: () => boolean, ms = 120_000): boolean {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (f()) return true;
    spawnSync("sleep", ["1"]);
  }
  return f();
}

export interface StackRunOptions {
  readonly stack: string;
  /** The K3s cluster whose kubeconfig the command stand-in simulates. */
  readonly cluster: string;
  /** The address:port kantai writes into that kubeconfig (the cluster's API address). */
  readonly api: { readonly address: string; readonly port: number };
  /** Writes the release mirror under the directory; returns the CRD files K3s would have installed (applied first). */
  readonly mirror: (dir: string) => { clusterCrds: string[] };
  /** Top-level config keys left out (each for a reason the test states). */
  readonly remove?: readonly string[];
  /** Config paths left out (`pulumi config rm --path`). */
  readonly removePaths?: readonly string[];
}

/** A stack deployed by the real engine onto the local control plane. */
export class StackRun {
  readonly stackFile: Record<string, any>;
  readonly cp: ControlPlane;
  ws!: Workspace;
  mirror!: Awaited<ReturnType<typeof serveMirror>>;
  private api?: { stop: () => void };
  private readonly t0 = Date.now();
  private readonly timings: string[] = [];

  private constructor(readonly o: StackRunOptions) {
    this.stackFile = stackFileOf(o.stack);
    this.cp = startControlPlane(o.stack);
  }

  /** Start the control plane, the mirror and the API address, and init the stack in a fresh workspace. */
  static async start(o: StackRunOptions): Promise<StackRun> {
    const run = new StackRun(o);
    try {
      await run.init();
    } catch (e) {
      run.stop();
      throw e;
    }
    return run;
  }

  private async init(): Promise<void> {
    const { cp, o } = this;
    const mirrorDir = path.join(cp.dir, "mirror");
    const { clusterCrds } = o.mirror(mirrorDir);
    // what K3s installs itself (Traefik's CRDs), server-side: too large for client-side apply's
    // last-applied annotation
    for (const f of clusterCrds) {
      const r = cp.kubectl(["apply", "--server-side", "-f", path.join(mirrorDir, f)]);
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
    expect(cp.kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"]).status).toBe(0);
    this.mirror = await serveMirror(cp.netns, mirrorDir);
    this.api = await serveApiAt(cp, o.api.address, o.api.port);

    const ws = workspace(REPO, {
      passphrase: "kantai-dev",
      // the program only: no tests, no other stacks' files
      filter: (rel) => rel !== "test" && !/^Pulumi\..+\.yaml$/.test(rel),
    });
    this.ws = ws;
    fs.copyFileSync(path.join(REPO, `Pulumi.${o.stack}.yaml`), path.join(ws.program, `Pulumi.${o.stack}.yaml`));
    // the SIMULATED output of the `<cluster>-kubeconfig` remote command (tools/standins/command.ts)
    const kc = parse(fs.readFileSync(cp.kubeconfig, "utf8"));
    for (const c of kc.clusters) c.cluster["tls-server-name"] = "localhost";
    const kcFile = path.join(ws.dir, `${o.cluster}.kubeconfig`);
    fs.writeFileSync(kcFile, stringify(kc));
    fs.writeFileSync(path.join(ws.dir, "kubeconfigs.json"), JSON.stringify({ [o.cluster]: kcFile }));
    ws.env.KANTAI_STANDIN_KUBECONFIGS = path.join(ws.dir, "kubeconfigs.json");
    // the REAL provider first on PATH: the engine takes the first pulumi-resource-kubernetes it finds
    const r = spawnSync("bash", [path.join(REPO, "scripts", "engine.sh"), "tool", "kubernetes-provider"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: 60 * 60_000,
    });
    expect(r.status).toBe(0);
    ws.env.PATH = `${r.stdout.trim().split("\n").pop()}:${ws.env.PATH}`;
    ws.netns = cp.netns;
    // `up --event-log` exists only with PULUMI_DEBUG_COMMANDS (pkg/cmd/pulumi/operations/up.go v3.274.1)
    ws.env.PULUMI_DEBUG_COMMANDS = "true";
    pulumi(ws, ["stack", "init", o.stack, "--non-interactive"]);
    for (const key of o.remove ?? []) pulumi(ws, ["config", "rm", key]);
    for (const p of o.removePaths ?? []) pulumi(ws, ["config", "rm", "--path", p]);
    pulumi(ws, ["config", "set", "--path", "kantai:releases.mirror", this.mirror.url]);
  }

  /** Run `f`, recording its wall time for the summary printed by stop(). */
  timed<T>(what: string, f: () => T): T {
    const t = Date.now();
    const r = f();
    this.timings.push(`${what}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return r;
  }

  pulumi(args: string[]) {
    return pulumi(this.ws, args);
  }

  state(): any {
    return JSON.parse(pulumi(this.ws, ["stack", "export"]).stdout).deployment;
  }

  previewSteps(): Step[] {
    const run = pulumi(this.ws, ["preview", "--json", "--non-interactive"]);
    return (JSON.parse(run.stdout).steps ?? []) as Step[];
  }

  /**
   * `up` with an engine event log: the op of every resource step as the engine applied it, in
   * order. (A preview cannot always show this exactly: the RoutingPlan dynamic provider has no
   * preview support, so a changed plan is unknown to every object rendered from it there.)
   */
  upOps(): Step[] {
    const log = path.join(this.ws.dir, `events-${Date.now()}.jsonl`);
    pulumi(this.ws, ["up", "--yes", "--skip-preview", "--non-interactive", "--event-log", log]);
    return fs
      .readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => e.resOutputsEvent && !e.resOutputsEvent.metadata.urn.includes("::pulumi:pulumi:Stack::"))
      .map((e) => ({ op: e.resOutputsEvent.metadata.op as string, urn: e.resOutputsEvent.metadata.urn as string }));
  }

  /** Edit the workspace's stack file (secure values stay as they are). */
  editConfig(f: (c: Record<string, any>) => void): void {
    const file = path.join(this.ws.program, `Pulumi.${this.o.stack}.yaml`);
    const doc = parse(fs.readFileSync(file, "utf8"));
    f(doc.config);
    fs.writeFileSync(file, stringify(doc));
  }

  /** The control plane's nodes by name, each checked to be a kwok SIMULATED node and Ready. */
  simulatedNodes(): Record<string, any> {
    const nodes = kubectlJson(this.cp, ["get", "nodes"]).items;
    for (const n of nodes) {
      expect(n.metadata.labels["kantai.dev/simulated-node"]).toBe("kwok");
      expect(n.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    }
    return Object.fromEntries(nodes.map((n: any) => [n.metadata.name, n]));
  }

  /**
   * The first `up`: every Kubernetes object of the stack created through the real provider (no
   * stand-in call for `kubernetes`) and found in the API server. Returns the objects (state).
   */
  createAll(): any[] {
    const out = this.timed("up (create)", () =>
      pulumi(this.ws, ["up", "--yes", "--skip-preview", "--non-interactive"]),
    );
    expect(out.stdout).toMatch(/\d+ created/);
    expect(standinCalls(this.ws).filter((c) => c.provider === "kubernetes")).toEqual([]);
    const objs = k8sObjects(this.state());
    console.log(`${this.o.stack}: ${objs.length} Kubernetes objects created through the real provider`);
    expect(this.present(objs)).toHaveLength(objs.length);
    return objs;
  }

  /**
   * Which of `objs` (state resources or their outputs) the API server has, as `Kind ns/name`: one
   * `kubectl get` per kind (a kind whose CRD is gone has no objects).
   */
  present(objs: any[]): string[] {
    const byKind = new Map<string, { kind: string; ns: string; name: string }[]>();
    for (const o of objs) {
      const { apiVersion, kind, metadata } = o.outputs ?? o;
      const k = kindArg(apiVersion, kind);
      byKind.set(k, [...(byKind.get(k) ?? []), { kind, ns: metadata.namespace ?? "", name: metadata.name }]);
    }
    const found: string[] = [];
    for (const [k, list] of byKind) {
      const r = this.cp.kubectl([
        "get",
        k,
        "-A",
        "--no-headers",
        "-o",
        "custom-columns=NS:.metadata.namespace,NAME:.metadata.name",
      ]);
      if (r.status !== 0) {
        if (/doesn't have a resource type/.test(r.stderr)) continue;
        throw new Error(`kubectl get ${k}: ${r.stderr}`);
      }
      const live = new Set(
        r.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => l.trim().split(/\s+/))
          .map(([ns, name]) => `${ns === "<none>" ? "" : ns}/${name}`),
      );
      for (const o of list) if (live.has(`${o.ns}/${o.name}`)) found.push(`${o.kind} ${o.ns}/${o.name}`);
    }
    return found;
  }

  /** kantai-labelled objects of these kinds left in the API server (`kubectl get -l app.kubernetes.io/managed-by=kantai`). */
  managedLeft(kinds: string): string {
    const r = this.cp.kubectl(["get", kinds, "-A", "-l", "app.kubernetes.io/managed-by=kantai", "-o", "name"]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  }

  stop(): void {
    console.log(
      `${this.o.stack} on the engine: ${((Date.now() - this.t0) / 1000).toFixed(0)} s in all (control plane, mirror, engine runs)\n${this.timings.join("\n")}`,
    );
    this.mirror?.stop();
    this.api?.stop();
    this.cp.down();
    if (this.ws) cleanup(this.ws);
  }
}
