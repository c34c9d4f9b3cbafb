// The day-2 scripts of the edge cluster (lib/render/k3sDay2.ts, rendered with the edge stack's
// nodes) run for real against a REAL Kubernetes v1.34.1 control plane (etcd, kube-apiserver,
// controller-manager, scheduler: test/engine/support/k8s.ts) whose nodes are SIMULATED by kwok
// (Node objects kept Ready, pods bound to them marked Running; nothing in a pod runs).
//
// Real here: kubectl v1.34.1 and every call the scripts make with it (annotate, cordon, drain
// through the Eviction API, uncordon, get, delete node, /readyz, /readyz/etcd); the
// PodDisruptionBudget (the disruption controller computes it, the API server refuses the eviction);
// the Deployment/ReplicaSet/DaemonSet controllers and the scheduler that move or hold the pods;
// the server-side validation of the kube-vip static pod.
//
// STAND-INS (test/fixtures/day2/host-standins, first on the scripts' PATH), for what needs a real
// K3s host: `k3s` (forwards `k3s kubectl` to the real kubectl; records `k3s --version` and
// `k3s etcd-snapshot`), `systemctl`, `curl` (writes the install stand-in instead of K3s'
// install.sh) and install.sh itself (records the call and makes the simulated node report the new
// version by patching its status.nodeInfo.kubeletVersion with the real kubectl). Not run at all:
// the uninstall scripts (they delete files on the machine they run on) and K3s' removal of a
// deleted server's etcd member (K3s' own controller, https://github.com/k3s-io/k3s/issues/3973;
// only its finalizer on the Node is imitated, by a process that removes it).
// The order of the steps is the one components/k8s/k3sCluster.ts gives Pulumi (servers first, then
// agents, one at a time, each drain → upgrade → gate); `roll` below runs them in that order and
// stops at the first failure as Pulumi does. That order itself is tested under mocks
// (test/clusters.day2.test.ts).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { k3sInstallScriptUrl } from "../../lib/render/k3s";
import {
  KUBE_VIP_IMAGE,
  renderK3sDrain,
  renderK3sForget,
  renderK3sGate,
  renderK3sPreUpgradeSnapshot,
  renderK3sRemoveDrain,
  renderK3sUpgrade,
  renderKubeVipManifest,
  UPGRADING_ANNOTATION,
} from "../../lib/render/k3sDay2";
import { nodeManifests, stackNodes } from "../../scripts/k8s-local";
import { REPO } from "./support/engine";
import { type ControlPlane, inControlPlaneNetns, kubectlJson, startControlPlane } from "./support/k8s";

const STANDINS = path.join(REPO, "test/fixtures/day2/host-standins");
const EDGE = path.join(REPO, "Pulumi.edge.yaml");
/** The K3s release the stacks pin (stacks' K3S_VERSION) and the next patch release. */
const OLD = "v1.34.1+k3s1";
const NEW = "v1.34.2+k3s1";

interface EdgeNode {
  readonly name: string;
  readonly role: "server" | "agent";
  readonly ip: string;
}
/** The edge cluster's nodes in config order (Pulumi.edge.yaml, kantai:k3s.edge.nodes). */
const EDGE_NODES: EdgeNode[] = parse(fs.readFileSync(EDGE, "utf8")).config["kantai:k3s"].edge.nodes.map(
  (n: EdgeNode) => ({ name: n.name, role: n.role, ip: n.ip }),
);
const FIRST = EDGE_NODES[0];
/** How components/k8s/k3sCluster.ts names a host in messages (hostLabel). */
const hostLabel = (n: EdgeNode) => `${n.name} (${n.ip})`;
const FIRST_HOST = hostLabel(FIRST);
/** servers first, then agents (maxUnavailable 1), in config order: k3sCluster.ts' batches */
const ROLL_ORDER = [...EDGE_NODES.filter((n) => n.role === "server"), ...EDGE_NODES.filter((n) => n.role === "agent")];
const node = (name: string) => EDGE_NODES.find((n) => n.name === name)!;

let cp: ControlPlane;
let standins = "";
let nsCounter = 0;
let ns = "";

interface Run {
  readonly status: number;
  readonly stderr: string;
  readonly seconds: number;
}

/** Run a rendered script as the host `on` runs it (its stand-ins), in the plane's network namespace. */
function run(script: string, on: string, name: string): Run {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${STANDINS}:${process.env.PATH}`,
    KANTAI_REAL_KUBECTL: path.join(cp.bin, "kubectl"),
    KUBECONFIG: cp.kubeconfig,
    KANTAI_STANDIN_DIR: standins,
    KANTAI_STANDIN_NODE: on,
  };
  delete env.KANTAI_KUBECTL; // the scripts' default: `k3s kubectl`, as on a server
  const argv = inControlPlaneNetns(cp, ["sh", "-c", script, name]);
  const t0 = Date.now();
  const r = spawnSync(argv[0], argv.slice(1), { env, encoding: "utf8", timeout: 5 * 60_000 });
  return { status: r.status ?? -1, stderr: r.stderr ?? "", seconds: (Date.now() - t0) / 1000 };
}

const calls = () => fs.readFileSync(path.join(standins, "calls"), "utf8").trim().split("\n").filter(Boolean);

interface Step {
  readonly node: string;
  readonly step: "snapshot" | "drain" | "upgrade" | "gate";
  readonly run: Run;
}

/** The rolling upgrade as Pulumi runs the edge cluster's steps; stops at the first failing step. */
function roll(
  version: string,
  o: { drainTimeout: number; gateTimeout: number; after?: (node: string, step: Step["step"]) => void },
): Step[] {
  const steps: Step[] = [];
  const snap = run(renderK3sPreUpgradeSnapshot({ host: FIRST_HOST, version }), FIRST.name, "kantai-etcd-snapshot");
  steps.push({ node: FIRST.name, step: "snapshot", run: snap });
  if (snap.status !== 0) return steps;
  for (const n of ROLL_ORDER) {
    const spec = { host: FIRST_HOST, node: n.name, version };
    const plan: [Step["step"], string, string][] = [
      ["drain", renderK3sDrain({ ...spec, timeoutSeconds: o.drainTimeout }), FIRST.name],
      [
        "upgrade",
        renderK3sUpgrade({ host: hostLabel(n), node: n.name, role: n.role, version, timeout: o.gateTimeout }),
        n.name,
      ],
      ["gate", renderK3sGate({ ...spec, timeoutSeconds: o.gateTimeout }), FIRST.name],
    ];
    for (const [step, script, on] of plan) {
      const r = run(script, on, `kantai-${step}-${n.name}`);
      steps.push({ node: n.name, step, run: r });
      console.log(`  ${step} ${n.name}: exit ${r.status} in ${r.seconds.toFixed(1)} s`);
      if (r.status !== 0) return steps;
      o.after?.(n.name, step);
    }
  }
  return steps;
}

function kc(args: string[], input?: string): string {
  const r = cp.kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

interface NodeState {
  readonly unschedulable: boolean;
  readonly version: string;
  readonly upgrading?: string;
  readonly ready: boolean;
}
function nodeState(name: string): NodeState {
  const n = kubectlJson(cp, ["get", "node", name]);
  return {
    unschedulable: n.spec.unschedulable === true,
    version: n.status.nodeInfo.kubeletVersion,
    upgrading: n.metadata.annotations?.[UPGRADING_ANNOTATION],
    ready: n.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ?? false,
  };
}
const nodeExists = (name: string) => cp.kubectl(["get", "node", name]).status === 0;

interface PodState {
  readonly name: string;
  readonly node?: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly deleting: boolean;
}
function pods(app: string): PodState[] {
  return kubectlJson(cp, ["-n", ns, "get", "pods", "-l", `app=${app}`]).items.map((p: any) => ({
    name: p.metadata.name,
    node: p.spec.nodeName,
    phase: p.status.phase,
    ready: p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ?? false,
    deleting: Boolean(p.metadata.deletionTimestamp),
  }));
}
const live = (app: string) => pods(app).filter((p) => !p.deleting);

/** Poll `ok` every 0.5 s for up to `seconds`; the last value of `describe` names what was seen. */
function waitFor(what: string, seconds: number, ok: () => boolean, describe: () => unknown = () => ""): void {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (ok()) return;
    spawnSync("sleep", ["0.5"]);
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}: ${JSON.stringify(describe())}`);
}
const allRunning = (app: string, replicas: number) => () => {
  const p = live(app);
  return p.length === replicas && p.every((x) => x.phase === "Running" && x.ready);
};

/** A Deployment of `replicas` pods (pause image: kwok runs nothing) with optional placement. */
function deployment(
  name: string,
  replicas: number,
  o: { nodeSelector?: Record<string, string>; tolerations?: object[]; emptyDir?: boolean } = {},
): void {
  const manifest = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
          ...(o.tolerations ? { tolerations: o.tolerations } : {}),
          containers: [
            {
              name: "app",
              image: "registry.k8s.io/pause:3.10",
              resources: { requests: { cpu: "10m", memory: "16Mi" } },
              ...(o.emptyDir ? { volumeMounts: [{ name: "scratch", mountPath: "/scratch" }] } : {}),
            },
          ],
          ...(o.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
          terminationGracePeriodSeconds: 1,
        },
      },
    },
  };
  kc(["apply", "-f", "-"], JSON.stringify(manifest));
}

/** A PodDisruptionBudget that allows no eviction of `app` (minAvailable = its replicas). */
function strictPdb(app: string, replicas: number): void {
  kc(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: app, namespace: ns },
      spec: { minAvailable: replicas, selector: { matchLabels: { app } } },
    }),
  );
  // the disruption controller (real) has computed it: no disruption allowed, every pod healthy
  waitFor(
    `PodDisruptionBudget ${app} to be computed`,
    60,
    () => {
      const s = kubectlJson(cp, ["-n", ns, "get", "pdb", app]).status ?? {};
      return s.currentHealthy === replicas && s.disruptionsAllowed === 0;
    },
    () => kubectlJson(cp, ["-n", ns, "get", "pdb", app]).status,
  );
}

/** Every edge node registered, Ready, schedulable, at OLD, not marked; a fresh namespace and stand-in state. */
function reset(): void {
  kc(["apply", "-f", "-"], JSON.stringify(nodeManifests(stackNodes(EDGE))));
  const names = EDGE_NODES.map((n) => n.name);
  kc(["uncordon", ...names]);
  kc(["annotate", "node", ...names, `${UPGRADING_ANNOTATION}-`]);
  kc(["wait", "--for=condition=Ready", "node", "--all", "--timeout=120s"]);
  // every node reports OLD (a re-registered node may get kwok's own version first: set it again)
  waitFor(
    `every node at ${OLD}`,
    30,
    () => {
      const off = EDGE_NODES.filter((n) => nodeState(n.name).version !== OLD);
      for (const n of off)
        kc([
          "patch",
          "node",
          n.name,
          "--subresource=status",
          "--type=merge",
          "-p",
          JSON.stringify({ status: { nodeInfo: { kubeletVersion: OLD } } }),
        ]);
      return off.length === 0;
    },
    () => EDGE_NODES.map((n) => `${n.name} ${nodeState(n.name).version}`),
  );
  if (standins) fs.rmSync(standins, { recursive: true, force: true });
  standins = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-day2-standins-"));
  fs.writeFileSync(path.join(standins, "calls"), "");
  for (const n of EDGE_NODES) fs.writeFileSync(path.join(standins, `${n.name}.version`), OLD);
  // the previous test's workloads (and their budgets) go first
  if (ns) kc(["delete", "namespace", ns, "--wait=true", "--timeout=120s"]);
  ns = `day2-${++nsCounter}`;
  kc(["create", "namespace", ns]);
}

beforeAll(() => {
  cp = startControlPlane("edge");
  console.log(
    "day-2 scripts: REAL kubectl and API server, SIMULATED nodes (kwok); STAND-INS for k3s' install.sh, " +
      "k3s --version / etcd-snapshot and systemctl (test/fixtures/day2/host-standins)",
  );
});
afterAll(() => {
  cp?.down();
  if (standins) fs.rmSync(standins, { recursive: true, force: true });
});
beforeEach(() => reset());

describe("rolling upgrade of the edge cluster (real kubectl, SIMULATED nodes, STAND-IN install.sh)", () => {
  it("snapshot, then per node servers first: cordon, drain (pods leave, DaemonSet pods stay), upgrade, Ready at the new version, uncordon; a second roll changes nothing", () => {
    // a DaemonSet on every node (kubectl drain --ignore-daemonsets leaves its pods)
    kc(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: "node-agent", namespace: ns },
        spec: {
          selector: { matchLabels: { app: "node-agent" } },
          template: {
            metadata: { labels: { app: "node-agent" } },
            spec: {
              tolerations: [{ operator: "Exists" }],
              containers: [{ name: "agent", image: "registry.k8s.io/pause:3.10" }],
            },
          },
        },
      }),
    );
    // pods that can only run on pi-2, with local data (kubectl drain --delete-emptydir-data)
    deployment("pinned", 2, { nodeSelector: { "kubernetes.io/hostname": "pi-2" }, emptyDir: true });
    // pods that start on pi-2 (every other node cordoned while they are placed) and may move
    for (const n of EDGE_NODES) if (n.name !== "pi-2") kc(["cordon", n.name]);
    deployment("movable", 2);
    waitFor("movable on pi-2", 60, allRunning("movable", 2), () => pods("movable"));
    for (const n of EDGE_NODES) if (n.name !== "pi-2") kc(["uncordon", n.name]);
    waitFor("pinned Running", 60, allRunning("pinned", 2), () => pods("pinned"));
    waitFor("node-agent on every node", 60, allRunning("node-agent", EDGE_NODES.length), () => pods("node-agent"));
    expect(live("movable").map((p) => p.node)).toEqual(["pi-2", "pi-2"]);

    let checkedDrain = false;
    let checkedGate = false;
    const t0 = Date.now();
    const steps = roll(NEW, {
      drainTimeout: 120,
      gateTimeout: 60,
      after: (n, step) => {
        if (n !== "pi-2") return;
        if (step === "drain") {
          // the real Node is cordoned and marked; its pods were evicted
          expect(nodeState("pi-2")).toMatchObject({ unschedulable: true, upgrading: NEW, version: OLD });
          waitFor("movable moved off pi-2", 60, allRunning("movable", 2), () => pods("movable"));
          expect(live("movable").every((p) => p.node !== "pi-2")).toBe(true);
          // pinned pods cannot go anywhere else: their replacements wait, unscheduled
          waitFor(
            "pinned replacements created",
            30,
            () => live("pinned").length === 2,
            () => pods("pinned"),
          );
          expect(pods("pinned").filter((p) => p.node === "pi-2")).toEqual([]);
          expect(live("pinned").every((p) => p.phase === "Pending" && p.node === undefined)).toBe(true);
          expect(live("node-agent").filter((p) => p.node === "pi-2")).toHaveLength(1);
          // the nodes after it are untouched so far
          for (const later of ["edge-vm-1", "pi-3", "edge-vm-2"])
            expect(nodeState(later)).toMatchObject({ unschedulable: false, version: OLD });
          expect(nodeState("pi-1")).toMatchObject({ unschedulable: false, version: NEW });
          checkedDrain = true;
        }
        if (step === "gate") {
          expect(nodeState("pi-2")).toMatchObject({ unschedulable: false, upgrading: undefined, version: NEW });
          waitFor("pinned back on pi-2", 60, allRunning("pinned", 2), () => pods("pinned"));
          expect(live("pinned").map((p) => p.node)).toEqual(["pi-2", "pi-2"]);
          checkedGate = true;
        }
      },
    });
    console.log(`roll of ${ROLL_ORDER.length} nodes: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const s of steps) expect(s.run.status, `${s.step} ${s.node}\n${s.run.stderr}`).toBe(0);
    expect(steps.map((s) => `${s.step} ${s.node}`)).toEqual([
      "snapshot pi-1",
      ...ROLL_ORDER.flatMap((n) => [`drain ${n.name}`, `upgrade ${n.name}`, `gate ${n.name}`]),
    ]);
    expect(checkedDrain && checkedGate).toBe(true);
    for (const n of EDGE_NODES)
      expect(nodeState(n.name), n.name).toEqual({
        unschedulable: false,
        version: NEW,
        upgrading: undefined,
        ready: true,
      });
    const c = calls();
    // the snapshot is taken on the first server before the first node is cordoned
    const snapshotAt = c.indexOf("pi-1: k3s etcd-snapshot save --name kantai-pre-v1-34-2-k3s1");
    expect(snapshotAt).toBeGreaterThanOrEqual(0);
    expect(snapshotAt).toBeLessThan(c.findIndex((l) => l.includes(" k3s kubectl cordon ")));
    expect(c.filter((l) => l.includes(": install.sh "))).toEqual(
      ROLL_ORDER.map((n) => `${n.name}: install.sh INSTALL_K3S_VERSION=${NEW} INSTALL_K3S_EXEC=${n.role}`),
    );
    expect(new Set(c.filter((l) => l.includes(": curl ")).map((l) => l.split(": curl ")[1]))).toEqual(
      new Set([k3sInstallScriptUrl(NEW)]),
    );
    // kubectl runs on the first server (drain, gate), and on a server being upgraded (its upgrade
    // waits for its own Node to be Ready); never on an agent
    const kubectlOn = new Set(c.filter((l) => l.includes(": k3s kubectl ")).map((l) => l.split(":")[0]));
    expect(kubectlOn).toEqual(new Set(["pi-1", "pi-2", "edge-vm-1"]));

    // a second roll at the same version: nothing is cordoned, drained or installed
    fs.writeFileSync(path.join(standins, "calls"), "");
    const again = roll(NEW, { drainTimeout: 120, gateTimeout: 60 });
    for (const s of again) expect(s.run.status, `${s.step} ${s.node}\n${s.run.stderr}`).toBe(0);
    const c2 = calls();
    expect(c2.filter((l) => / k3s kubectl (cordon|drain|uncordon|annotate) /.test(l))).toEqual([]);
    expect(c2.filter((l) => l.includes("install.sh") || l.includes(": curl "))).toEqual([]);
    for (const n of ROLL_ORDER)
      expect(again.find((s) => s.step === "drain" && s.node === n.name)!.run.stderr).toContain(
        `kantai: ${FIRST_HOST}: node ${n.name} already runs ${NEW}: no drain`,
      );
  });

  it("a drain blocked by a PodDisruptionBudget stops the roll at that node, named, exit non-zero; it is uncordoned and the nodes after it keep the old version", () => {
    deployment("guarded", 2, { nodeSelector: { "kubernetes.io/hostname": "edge-vm-1" } });
    waitFor("guarded Running", 60, allRunning("guarded", 2), () => pods("guarded"));
    strictPdb("guarded", 2);

    const steps = roll(NEW, { drainTimeout: 15, gateTimeout: 60 });
    const last = steps[steps.length - 1];
    expect(`${last.step} ${last.node}`).toBe("drain edge-vm-1");
    expect(last.run.status).toBe(1);
    // kubectl's own words (the Eviction API's 429 for the budget), then kantai's
    expect(last.run.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(last.run.stderr).toContain('error: unable to drain node "edge-vm-1"');
    expect(last.run.stderr).toContain(
      `kantai: ${FIRST_HOST}: rolling upgrade stopped at node edge-vm-1: kubectl drain failed (its error is above: a PodDisruptionBudget that allowed no eviction for 15s, pods that did not terminate in time, or pods it does not delete, such as pods without a controller; kubectl get pdb -A). edge-vm-1 is uncordoned and still runs ${OLD}; the nodes after it were not touched.`,
    );
    expect(last.run.seconds).toBeGreaterThanOrEqual(15);
    expect(steps.slice(0, -1).every((s) => s.run.status === 0)).toBe(true);

    expect(nodeState("edge-vm-1")).toMatchObject({ unschedulable: false, upgrading: undefined, version: OLD });
    for (const n of ["pi-3", "edge-vm-2"])
      expect(nodeState(n), n).toMatchObject({ unschedulable: false, upgrading: undefined, version: OLD });
    for (const n of ["pi-1", "pi-2"]) expect(nodeState(n), n).toMatchObject({ unschedulable: false, version: NEW });
    expect(live("guarded").map((p) => `${p.node} ${p.phase}`)).toEqual(["edge-vm-1 Running", "edge-vm-1 Running"]);
    expect(
      calls()
        .filter((l) => l.includes(": install.sh "))
        .map((l) => l.split(":")[0]),
    ).toEqual(["pi-1", "pi-2"]);
  });
  it("a pod without a controller stops the roll at once (kubectl drain does not delete it without --force: it would be lost)", () => {
    kc(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "bare", namespace: ns, labels: { app: "bare" } },
        spec: { nodeName: "pi-2", containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
      }),
    );
    waitFor("bare Running", 60, allRunning("bare", 1), () => pods("bare"));
    const steps = roll(NEW, { drainTimeout: 120, gateTimeout: 60 });
    const last = steps[steps.length - 1];
    expect(`${last.step} ${last.node} ${last.run.status}`).toBe("drain pi-2 1");
    expect(last.run.seconds).toBeLessThan(60); // refused, not timed out
    // k8s.io/kubectl v0.34.1 pkg/drain/filters.go unmanagedFatal
    expect(last.run.stderr).toContain(
      `cannot delete Pods that declare no controller (use --force to override): ${ns}/bare`,
    );
    expect(last.run.stderr).toContain(
      `kantai: ${FIRST_HOST}: rolling upgrade stopped at node pi-2: kubectl drain failed`,
    );
    expect(nodeState("pi-2")).toMatchObject({ unschedulable: false, upgrading: undefined, version: OLD });
    expect(live("bare").map((p) => `${p.node} ${p.phase}`)).toEqual(["pi-2 Running"]);
    for (const n of ["edge-vm-1", "pi-3", "edge-vm-2"]) expect(nodeState(n), n).toMatchObject({ version: OLD });
  });
});

describe("health gate (real kubectl, SIMULATED nodes)", () => {
  it("a node that does not come back at the new version stops the roll at its gate, named, after the timeout; it stays cordoned; the next run finishes it", () => {
    const pi3 = node("pi-3");
    fs.writeFileSync(path.join(standins, "pi-3.broken"), "");
    const drain = run(
      renderK3sDrain({ host: FIRST_HOST, node: "pi-3", version: NEW, timeoutSeconds: 60 }),
      FIRST.name,
      "drain",
    );
    expect(drain.status, drain.stderr).toBe(0);
    const up = run(renderK3sUpgrade({ host: hostLabel(pi3), node: "pi-3", role: "agent", version: NEW }), "pi-3", "up");
    expect(up.status, up.stderr).toBe(0);
    const gate = run(
      renderK3sGate({ host: FIRST_HOST, node: "pi-3", version: NEW, timeoutSeconds: 10 }),
      FIRST.name,
      "gate",
    );
    expect(gate.status).toBe(1);
    expect(gate.stderr).toContain(
      `kantai: ${FIRST_HOST}: timed out after 10s waiting for node pi-3 to be Ready at ${NEW}`,
    );
    expect(gate.stderr).toContain(
      `kantai: ${FIRST_HOST}: rolling upgrade stopped at node pi-3: not Ready at ${NEW} (it reports "${OLD}"); it stays cordoned, the nodes after it were not touched`,
    );
    expect(gate.seconds).toBeGreaterThanOrEqual(10);
    expect(nodeState("pi-3")).toMatchObject({ unschedulable: true, upgrading: NEW, version: OLD, ready: true });

    // the cause fixed, the next `pulumi up` runs the three steps again and finishes the node
    fs.rmSync(path.join(standins, "pi-3.broken"));
    const again = [
      run(renderK3sDrain({ host: FIRST_HOST, node: "pi-3", version: NEW, timeoutSeconds: 60 }), FIRST.name, "drain"),
      run(renderK3sUpgrade({ host: hostLabel(pi3), node: "pi-3", role: "agent", version: NEW }), "pi-3", "up"),
      run(renderK3sGate({ host: FIRST_HOST, node: "pi-3", version: NEW, timeoutSeconds: 30 }), FIRST.name, "gate"),
    ];
    for (const r of again) expect(r.status, r.stderr).toBe(0);
    expect(nodeState("pi-3")).toEqual({ unschedulable: false, upgrading: undefined, version: NEW, ready: true });
  });

  it("a node at the new version but not Ready is not uncordoned until it is Ready", () => {
    const drain = run(
      renderK3sDrain({ host: FIRST_HOST, node: "edge-vm-2", version: NEW, timeoutSeconds: 60 }),
      FIRST.name,
      "drain",
    );
    expect(drain.status, drain.stderr).toBe(0);
    // the node's "kubelet" stops: kwok no longer manages it, and it reports NotReady at NEW
    kc(["annotate", "node", "edge-vm-2", "--overwrite", "kwok.x-k8s.io/node=stopped-by-test"]);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    kc([
      "patch",
      "node",
      "edge-vm-2",
      "--subresource=status",
      "--type=strategic",
      "-p",
      JSON.stringify({
        status: {
          nodeInfo: { kubeletVersion: NEW },
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: "KubeletNotReady",
              message: "stopped by day2.test.ts",
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      }),
    ]);
    spawnSync("sleep", ["3"]); // kwok would have set it Ready again by now if it still managed it
    expect(nodeState("edge-vm-2")).toMatchObject({ ready: false, version: NEW });
    const gate = renderK3sGate({ host: FIRST_HOST, node: "edge-vm-2", version: NEW, timeoutSeconds: 10 });
    const blocked = run(gate, FIRST.name, "gate");
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toContain(
      `kantai: ${FIRST_HOST}: rolling upgrade stopped at node edge-vm-2: not Ready at ${NEW} (it reports "${NEW}"); it stays cordoned`,
    );
    expect(nodeState("edge-vm-2")).toMatchObject({ unschedulable: true, upgrading: NEW });
    // the kubelet is back (kwok manages it again and reports it Ready): the gate passes and uncordons
    kc(["annotate", "node", "edge-vm-2", "--overwrite", "kwok.x-k8s.io/node=fake"]);
    const passed = run(gate, FIRST.name, "gate");
    expect(passed.status, passed.stderr).toBe(0);
    expect(nodeState("edge-vm-2")).toEqual({ unschedulable: false, upgrading: undefined, version: NEW, ready: true });
  });
});

describe("removing a node (real kubectl, SIMULATED nodes; the uninstall is not run)", () => {
  it("an agent: drain (its pods leave), [uninstall: needs the host], then its Node object is deleted; forgetting twice is fine", () => {
    const hdd = [{ key: "kantai.dev/storage", operator: "Equal", value: "hdd", effect: "NoSchedule" }];
    deployment("storage", 1, { nodeSelector: { "kantai.dev/storage": "hdd" }, tolerations: hdd });
    waitFor("storage on pi-3", 60, allRunning("storage", 1), () => pods("storage"));
    const drain = run(
      renderK3sRemoveDrain({ host: FIRST_HOST, node: "pi-3", timeoutSeconds: 60 }),
      FIRST.name,
      "remove-drain",
    );
    expect(drain.status, drain.stderr).toBe(0);
    expect(nodeState("pi-3").unschedulable).toBe(true);
    waitFor(
      "storage replacement",
      30,
      () => live("storage").length === 1,
      () => pods("storage"),
    );
    expect(pods("storage").filter((p) => p.node === "pi-3")).toEqual([]);
    // here Pulumi runs k3s-agent-uninstall.sh on pi-3 (not run: it needs the host)
    const forget = renderK3sForget({ host: FIRST_HOST, node: "pi-3", etcdMember: false });
    const r = run(forget, FIRST.name, "forget");
    expect(r.status, r.stderr).toBe(0);
    expect(nodeExists("pi-3")).toBe(false);
    expect(run(forget, FIRST.name, "forget").status).toBe(0);
    expect(calls().filter((l) => l.includes("delete node"))).toEqual([
      "pi-1: k3s kubectl delete node pi-3 --ignore-not-found --wait=true",
      "pi-1: k3s kubectl delete node pi-3 --ignore-not-found --wait=true",
    ]);
    for (const n of EDGE_NODES.filter((x) => x.name !== "pi-3")) expect(nodeExists(n.name), n.name).toBe(true);
  });

  it("a server: drain, its Node object deleted once K3s' etcd finalizer is gone (a STAND-IN removes it), then /readyz/etcd checked", () => {
    const drain = run(
      renderK3sRemoveDrain({ host: FIRST_HOST, node: "edge-vm-1", timeoutSeconds: 60 }),
      FIRST.name,
      "remove-drain",
    );
    expect(drain.status, drain.stderr).toBe(0);
    // K3s removes a deleted server's etcd member in a wrangler OnRemove handler
    // ("managed-etcd-controller", k3s pkg/etcd/member_controller.go), i.e. behind a finalizer on
    // the Node: `kubectl delete node --wait=true` returns once the member is gone. STAND-IN for
    // that controller: the finalizer on the real Node, removed by a process 6 s after the delete.
    const finalizer = "wrangler.cattle.io/managed-etcd-controller";
    kc(["patch", "node", "edge-vm-1", "--type=merge", "-p", JSON.stringify({ metadata: { finalizers: [finalizer] } })]);
    const kubectl = `${JSON.stringify(path.join(cp.bin, "kubectl"))} --kubeconfig ${JSON.stringify(cp.kubeconfig)}`;
    const etcdStandin = inControlPlaneNetns(cp, [
      "sh",
      "-c",
      `until [ -n "$(${kubectl} get node edge-vm-1 -o 'jsonpath={.metadata.deletionTimestamp}')" ]; do sleep 0.5; done; ` +
        `sleep 6; ${kubectl} patch node edge-vm-1 --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'`,
    ]);
    const controller = spawn(etcdStandin[0], etcdStandin.slice(1), { stdio: "ignore" });
    const r = run(renderK3sForget({ host: FIRST_HOST, node: "edge-vm-1", etcdMember: true }), FIRST.name, "forget");
    controller.kill();
    expect(r.status, r.stderr).toBe(0);
    expect(r.seconds).toBeGreaterThanOrEqual(6); // it waited for the finalizer
    expect(r.stderr).toContain(`kantai: ${FIRST_HOST}: etcd healthy without edge-vm-1`);
    expect(nodeExists("edge-vm-1")).toBe(false);
    expect(calls().filter((l) => l.includes("--raw"))).toEqual(["pi-1: k3s kubectl get --raw=/readyz/etcd"]);
  });

  it("a removal drain blocked by a PodDisruptionBudget fails naming the node; the Node stays (cordoned)", () => {
    deployment("guarded", 1, { nodeSelector: { "kubernetes.io/hostname": "pi-2" } });
    waitFor("guarded Running", 60, allRunning("guarded", 1), () => pods("guarded"));
    strictPdb("guarded", 1);
    const r = run(
      renderK3sRemoveDrain({ host: FIRST_HOST, node: "pi-2", timeoutSeconds: 10 }),
      FIRST.name,
      "remove-drain",
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(r.stderr).toContain(
      `kantai: ${FIRST_HOST}: removal of node pi-2 stopped: kubectl drain failed (its error is above: a PodDisruptionBudget that allowed no eviction for 10s, pods that did not terminate in time, or pods it does not delete, such as pods without a controller; kubectl get pdb -A). It stays cordoned and installed; its VM, if any, is kept.`,
    );
    expect(nodeExists("pi-2")).toBe(true);
    expect(nodeState("pi-2").unschedulable).toBe(true);
    expect(live("guarded").map((p) => p.node)).toEqual(["pi-2"]);
  });
});

describe("kube-vip static pod (the real API server validates it)", () => {
  const manifest = () => renderKubeVipManifest({ address: "192.168.1.20", interface: "eth0" });

  it("sets what `kube-vip manifest pod --arp --controlplane --leaderElection` generates in v1.2.2", () => {
    // kube-vip v1.2.2 pkg/kubevip/config_generator.go generatePodSpec: this order, vip_nodename from
    // the pod's spec.nodeName, NET_ADMIN/NET_RAW with ALL dropped; not here: svc_* (no --services)
    // and prometheus_server (its default, :2112, is kept)
    const c = parse(manifest()).spec.containers[0];
    expect(c.args).toEqual(["manager"]);
    expect(c.env.map((e: { name: string }) => e.name)).toEqual([
      "vip_arp",
      "port",
      "vip_nodename",
      "vip_interface",
      "vip_subnet",
      "cp_enable",
      "cp_namespace",
      "vip_leaderelection",
      "vip_leasename",
      "vip_leaseduration",
      "vip_renewdeadline",
      "vip_retryperiod",
      "address",
    ]);
    expect(c.env.find((e: { name: string }) => e.name === "vip_nodename").valueFrom).toEqual({
      fieldRef: { fieldPath: "spec.nodeName" },
    });
    expect(c.securityContext.capabilities).toEqual({ add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] });
  });

  it("server-side dry-run create of the rendered Pod passes", () => {
    const r = cp.kubectl(["apply", "--dry-run=server", "-f", "-"], manifest());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("pod/kube-vip created (server dry run)");
  });

  it("as the mirror pod K3s' kubelet creates on pi-1, it is accepted and does not block pi-1's drain (kubectl drain skips mirror pods)", () => {
    const pod = parse(manifest());
    // what the kubelet posts for a static pod: the node's name in spec.nodeName and the
    // kubernetes.io/config.mirror annotation (k8s.io/api core/v1 MirrorPodAnnotationKey)
    pod.metadata.name = "kube-vip-pi-1";
    pod.metadata.namespace = ns;
    pod.metadata.annotations = { "kubernetes.io/config.mirror": "kantai-test", "kubernetes.io/config.source": "file" };
    pod.spec.nodeName = "pi-1";
    kc(["create", "-f", "-"], JSON.stringify(pod));
    const drain = run(
      renderK3sDrain({ host: FIRST_HOST, node: "pi-1", version: NEW, timeoutSeconds: 30 }),
      FIRST.name,
      "drain",
    );
    expect(drain.status, drain.stderr).toBe(0);
    const left = kubectlJson(cp, ["-n", ns, "get", "pod", "kube-vip-pi-1"]);
    expect(left.metadata.deletionTimestamp).toBeUndefined();
    expect(left.spec.containers[0].image).toBe(KUBE_VIP_IMAGE);
  });
});
