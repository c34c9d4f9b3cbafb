/**
 * `npm run k8s:local -- up | env | down | status` — a local Kubernetes control plane with
 * SIMULATED nodes, for trying a stack's Kubernetes layer without hardware
 * (docs/how-to/k8s-local.md).
 *
 * Real parts: etcd, kube-apiserver, kube-controller-manager and kube-scheduler of Kubernetes
 * v1.34.1 (the Kubernetes of the pinned K3s), and kubectl, built from Go modules by
 * `scripts/engine.sh tool k8s` (tools/k8s). SIMULATED: the nodes. kwok (`engine.sh tool kwok`)
 * keeps Node objects Ready and marks the pods bound to them Running/Ready; no kubelet, no
 * container runtime, no image pull: nothing a pod describes ever runs. The API server, admission,
 * CRD schema validation, the Deployment/ReplicaSet controllers, the scheduler (nodeSelectors,
 * taints, capacity) and garbage collection are the real ones.
 *
 *   up [--stack NAME] [--dir DIR]  start (idempotent: a running plane is reused), register the
 *                                  stack's cluster nodes as simulated nodes (default: every
 *                                  cluster of Pulumi.<NAME>.yaml, NAME=edge), write DIR/kubeconfig
 *   env [--dir DIR]                print `export KUBECONFIG=…` and a PATH with its kubectl first
 *   down [--dir DIR]               stop every process it started and remove DIR
 *   status [--dir DIR]             say whether it runs (exit 0) or not (exit 1)
 *
 * DIR defaults to $KANTAI_K8S_LOCAL_DIR, else ~/.cache/kantai-k8s-local. Everything listens on
 * 127.0.0.1 on free ports chosen at `up`.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

const REPO = path.resolve(__dirname, "..");
const NODE_ANNOTATION = "kwok.x-k8s.io/node";
/** Names a simulated node as such on the object itself (kubectl get nodes --show-labels shows it). */
export const SIMULATED_LABEL = "kantai.dev/simulated-node";

export interface SimNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
}

interface State {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly bin: string;
  readonly kwokBin: string;
  readonly ports: { etcd: number; etcdPeer: number; apiserver: number };
  readonly pids: Record<string, number>;
  readonly nodes: readonly string[];
  readonly startedAt: string;
}

const log = (msg: string) => process.stderr.write(`k8s-local: ${msg}\n`);

function fail(msg: string): never {
  log(`error: ${msg}`);
  process.exit(1);
}

/** Parse "key=value:Effect" / "key:Effect" (the K3s/kubectl taint syntax the config uses). */
export function parseTaint(t: string): SimNode["taints"][number] {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
  if (!m) throw new Error(`taint "${t}" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
  return m[2] === undefined ? { key: m[1], effect: m[3] } : { key: m[1], value: m[2], effect: m[3] };
}

/** What a `kantai:k3s` cluster entry of a stack file gives the simulated nodes (the file is plain YAML). */
interface StackCluster {
  readonly nodes?: readonly {
    readonly name: string;
    readonly site: string;
    readonly role: string;
    readonly host?: { readonly raspberryPi?: boolean };
  }[];
  /** Labels by node name. */
  readonly labels?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Taints (`key=value:Effect`) by node name. */
  readonly taints?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The K3s cluster nodes of a stack file (Pulumi.<stack>.yaml, key `kantai:k3s`), labelled as K3s
 * labels them plus what kantai adds: `kubernetes.io/hostname`, `kubernetes.io/os`, the site as
 * `topology.kubernetes.io/zone`, the config's labels and taints, servers' node-role labels.
 */
export function stackNodes(stackFile: string): SimNode[] {
  const doc = parse(fs.readFileSync(stackFile, "utf8")) ?? {};
  const clusters: Record<string, StackCluster> = doc.config?.["kantai:k3s"] ?? {};
  const out: SimNode[] = [];
  for (const [cluster, c] of Object.entries(clusters)) {
    for (const n of c.nodes ?? []) {
      const labels: Record<string, string> = {
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": n.host?.raspberryPi ? "arm64" : "amd64",
        "topology.kubernetes.io/zone": n.site,
        "kantai.dev/cluster": cluster,
        [SIMULATED_LABEL]: "kwok",
        ...(n.role === "server"
          ? { "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true" }
          : {}),
        ...(c.labels?.[n.name] ?? {}),
      };
      out.push({ name: n.name, labels, taints: (c.taints?.[n.name] ?? []).map(parseTaint) });
    }
  }
  return out;
}

/** The Node objects kwok is told to manage (annotation), with a capacity so pods fit. */
export function nodeManifests(nodes: readonly SimNode[]): object {
  return {
    apiVersion: "v1",
    kind: "List",
    items: nodes.map((n) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: n.name,
        labels: n.labels,
        annotations: { [NODE_ANNOTATION]: "fake", "kantai.dev/simulated-by": "kwok: no kubelet, no container runtime" },
      },
      spec: { taints: n.taints },
      status: {
        allocatable: { cpu: "8", memory: "16Gi", pods: "110" },
        capacity: { cpu: "8", memory: "16Gi", pods: "110" },
      },
    })),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether `pid` runs (a zombie, exited but not yet reaped by its new parent, does not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; comm may hold spaces and parentheses
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

function readState(dir: string): State | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"));
  } catch {
    return undefined;
  }
}

function engineTool(name: string): string {
  const res = spawnSync("bash", [path.join(REPO, "scripts", "engine.sh"), "tool", name], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (res.status !== 0) throw new Error(`scripts/engine.sh tool ${name} failed (exit ${res.status})`);
  return res.stdout.trim().split("\n").pop()!;
}

function openssl(args: string[], cwd: string): void {
  const res = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${res.stderr}`);
}

/** A CA, the API server's serving cert (127.0.0.1/localhost), an admin client cert, the SA key. */
function makePki(pki: string): void {
  fs.mkdirSync(pki, { recursive: true });
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "3650",
      "-subj",
      "/CN=kantai-k8s-local-ca",
    ],
    pki,
  );
  fs.writeFileSync(
    path.join(pki, "apiserver.ext"),
    "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  openssl(
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "apiserver.key",
      "-out",
      "apiserver.csr",
      "-subj",
      "/CN=kube-apiserver",
    ],
    pki,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "apiserver.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "apiserver.crt",
      "-days",
      "3650",
      "-extfile",
      "apiserver.ext",
    ],
    pki,
  );
  fs.writeFileSync(path.join(pki, "client.ext"), "extendedKeyUsage=clientAuth\n");
  // O=system:masters: cluster-admin by the API server's built-in group (a local, throw-away plane)
  openssl(
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "admin.key",
      "-out",
      "admin.csr",
      "-subj",
      "/O=system:masters/CN=kantai-admin",
    ],
    pki,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "admin.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "admin.crt",
      "-days",
      "3650",
      "-extfile",
      "client.ext",
    ],
    pki,
  );
  openssl(["genrsa", "-out", "sa.key", "2048"], pki);
  openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], pki);
}

function kubeconfig(pki: string, port: number): string {
  const b64 = (f: string) => fs.readFileSync(path.join(pki, f)).toString("base64");
  return [
    "# kantai k8s-local: Kubernetes v1.34.1 control plane on loopback, SIMULATED nodes (kwok)",
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: kantai-local",
    "  cluster:",
    `    server: https://127.0.0.1:${port}`,
    `    certificate-authority-data: ${b64("ca.crt")}`,
    "users:",
    "- name: kantai-admin",
    "  user:",
    `    client-certificate-data: ${b64("admin.crt")}`,
    `    client-key-data: ${b64("admin.key")}`,
    "contexts:",
    "- name: kantai-local",
    "  context: { cluster: kantai-local, user: kantai-admin }",
    "current-context: kantai-local",
    "",
  ].join("\n");
}

function start(dir: string, name: string, bin: string, args: string[]): number {
  const out = fs.openSync(path.join(dir, "logs", `${name}.log`), "a");
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", out, out], cwd: dir });
  fs.closeSync(out);
  if (!child.pid) throw new Error(`could not start ${name} (${bin})`);
  child.unref();
  return child.pid;
}

function tail(dir: string, name: string): string {
  try {
    return fs
      .readFileSync(path.join(dir, "logs", `${name}.log`), "utf8")
      .split("\n")
      .slice(-25)
      .join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitFor(
  what: string,
  dir: string,
  logName: string,
  pid: number,
  ok: () => boolean,
  seconds: number,
): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (!alive(pid))
      throw new Error(`${what} exited; its log (${path.join(dir, "logs", logName + ".log")}):\n${tail(dir, logName)}`);
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `${what} not ready after ${seconds}s; its log (${path.join(dir, "logs", logName + ".log")}):\n${tail(dir, logName)}`,
  );
}

function kubectl(
  st: Pick<State, "bin" | "kubeconfig">,
  args: string[],
  input?: string,
): { status: number; stdout: string; stderr: string } {
  const res = spawnSync(path.join(st.bin, "kubectl"), ["--kubeconfig", st.kubeconfig, ...args], {
    encoding: "utf8",
    input,
    timeout: 60_000,
  });
  return { status: res.status ?? -1, stdout: res.stdout ?? "", stderr: res.stderr ?? "" };
}

function running(st: State | undefined): st is State {
  if (!st) return false;
  if (!Object.values(st.pids).every(alive)) return false;
  return kubectl(st, ["get", "--raw", "/readyz"]).stdout.trim() === "ok";
}

function stopAll(st: State): void {
  // reverse start order: kwok, scheduler, controller-manager, apiserver, etcd
  const pids = Object.entries(st.pids).reverse();
  for (const [, pid] of pids) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      /* gone */
    }
  }
  const until = Date.now() + 15_000;
  while (Date.now() < until && pids.some(([, p]) => alive(p))) execFileSync("sleep", ["0.2"]);
  for (const [, pid] of pids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
}

export async function up(dir: string, nodes: readonly SimNode[]): Promise<State> {
  const existing = readState(dir);
  if (running(existing)) {
    log(`already running (API server https://127.0.0.1:${existing.ports.apiserver}), reusing it`);
    applyNodes(existing, nodes);
    return existing;
  }
  if (existing) {
    log(`a previous control plane in ${dir} is not running any more: cleaning it up`);
    stopAll(existing);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
  const bin = engineTool("k8s");
  const kwokBin = engineTool("kwok");
  const pki = path.join(dir, "pki");
  makePki(pki);
  const ports = { etcd: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() };
  const kc = path.join(dir, "kubeconfig");
  fs.writeFileSync(kc, kubeconfig(pki, ports.apiserver), { mode: 0o600 });
  const pids: Record<string, number> = {};
  const st: State = {
    dir,
    kubeconfig: kc,
    bin,
    kwokBin,
    ports,
    pids,
    nodes: nodes.map((n) => n.name),
    startedAt: new Date().toISOString(),
  };
  const save = () => fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(st, null, 2) + "\n");
  try {
    const etcdUrl = `http://127.0.0.1:${ports.etcd}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    pids.etcd = start(dir, "etcd", path.join(bin, "etcd"), [
      "--name=kantai-local",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=kantai-local=${peerUrl}`,
      // a throw-away plane: no fsync (etcd's own flag for tests), small quota
      "--unsafe-no-fsync",
      "--quota-backend-bytes=1073741824",
    ]);
    save();
    await waitFor(
      "etcd",
      dir,
      "etcd",
      pids.etcd,
      () => spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${ports.etcd}`]).status === 0,
      60,
    );
    pids.apiserver = start(dir, "kube-apiserver", path.join(bin, "kube-apiserver"), [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${path.join(pki, "apiserver.crt")}`,
      `--tls-private-key-file=${path.join(pki, "apiserver.key")}`,
      `--client-ca-file=${path.join(pki, "ca.crt")}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${path.join(pki, "sa.pub")}`,
      `--service-account-signing-key-file=${path.join(pki, "sa.key")}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=true",
      "--profiling=false",
      `--cert-dir=${path.join(dir, "apiserver-certs")}`,
    ]);
    save();
    await waitFor(
      "kube-apiserver",
      dir,
      "kube-apiserver",
      pids.apiserver,
      () => kubectl(st, ["get", "--raw", "/readyz"]).stdout.trim() === "ok",
      180,
    );
    pids.controllerManager = start(dir, "kube-controller-manager", path.join(bin, "kube-controller-manager"), [
      `--kubeconfig=${kc}`,
      "--secure-port=0",
      "--leader-elect=false",
      `--service-account-private-key-file=${path.join(pki, "sa.key")}`,
      `--root-ca-file=${path.join(pki, "ca.crt")}`,
      `--cluster-signing-cert-file=${path.join(pki, "ca.crt")}`,
      `--cluster-signing-key-file=${path.join(pki, "ca.key")}`,
      "--use-service-account-credentials=false",
      "--profiling=false",
      // SIMULATED nodes: their heartbeats come from kwok, which lags on a loaded machine; past the
      // grace periods (defaults 50 s / 1 min) the node lifecycle controller marks every pod of the
      // node NotReady, and kwok (no kubelet) never sets them Ready again: Deployments never become
      // Available. Generous grace periods for a plane with no real kubelet.
      "--node-monitor-grace-period=10m",
      "--node-startup-grace-period=10m",
    ]);
    pids.scheduler = start(dir, "kube-scheduler", path.join(bin, "kube-scheduler"), [
      `--kubeconfig=${kc}`,
      "--secure-port=0",
      "--leader-elect=false",
      "--profiling=false",
    ]);
    // SIMULATED nodes: kwok manages only the nodes annotated kwok.x-k8s.io/node=fake.
    pids.kwok = start(dir, "kwok", path.join(kwokBin, "kwok"), [
      `--kubeconfig=${kc}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${NODE_ANNOTATION}=fake`,
      "--cidr=10.244.0.1/16",
      "--node-ip=127.0.0.1",
    ]);
    save();
    applyNodes(st, nodes);
    // the default ServiceAccount appears once the controller-manager's controllers run
    await waitFor(
      "kube-controller-manager",
      dir,
      "kube-controller-manager",
      pids.controllerManager,
      () => kubectl(st, ["-n", "default", "get", "serviceaccount", "default"]).status === 0,
      120,
    );
    if (nodes.length > 0) {
      await waitFor(
        "kwok (simulated nodes Ready)",
        dir,
        "kwok",
        pids.kwok,
        () => kubectl(st, ["wait", "--for=condition=Ready", "node", "--all", "--timeout=2s"]).status === 0,
        120,
      );
    }
    for (const [name, pid] of Object.entries(pids))
      if (!alive(pid)) throw new Error(`${name} exited; its log:\n${tail(dir, name)}`);
  } catch (e) {
    log(`stopping what this up started (state and logs stay in ${dir} until \`down\`)`);
    stopAll(st);
    throw e;
  }
  return st;
}

function applyNodes(st: State, nodes: readonly SimNode[]): void {
  if (nodes.length === 0) return;
  const res = kubectl(st, ["apply", "-f", "-"], JSON.stringify(nodeManifests(nodes)));
  if (res.status !== 0) throw new Error(`registering the simulated nodes failed:\n${res.stderr}`);
}

export function down(dir: string): boolean {
  const st = readState(dir);
  if (st) stopAll(st);
  const had = fs.existsSync(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return Boolean(st) || had;
}

export function envLines(st: State): string {
  return `export KUBECONFIG="${st.kubeconfig}"\nexport PATH="${st.bin}:$PATH"\n`;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  let dir = process.env.KANTAI_K8S_LOCAL_DIR ?? path.join(os.homedir(), ".cache", "kantai-k8s-local");
  let stack = "edge";
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--dir") dir = path.resolve(rest[++i] ?? fail("--dir needs a directory"));
    else if (rest[i] === "--stack") stack = rest[++i] ?? fail("--stack needs a stack name");
    else fail(`unknown argument "${rest[i]}" (usage: up [--stack NAME] [--dir DIR] | env | down | status)`);
  }
  switch (cmd) {
    case "up": {
      const file = path.join(REPO, `Pulumi.${stack}.yaml`);
      if (!fs.existsSync(file)) fail(`--stack ${stack}: no ${path.relative(REPO, file)}`);
      let nodes: SimNode[];
      try {
        nodes = stackNodes(file);
      } catch (e) {
        fail(`${path.relative(REPO, file)} kantai:k3s: ${(e as Error).message}`);
      }
      const t0 = Date.now();
      const st = await up(dir, nodes);
      log(
        `up in ${((Date.now() - t0) / 1000).toFixed(1)}s: Kubernetes v1.34.1 API server https://127.0.0.1:${st.ports.apiserver}, ` +
          `${nodes.length} SIMULATED nodes (kwok, nothing runs in pods) from stack ${stack}: ${nodes.map((n) => n.name).join(", ") || "none"}`,
      );
      log(`kubeconfig: ${st.kubeconfig}`);
      log(
        `use it:     eval "$(npm run -s k8s:local -- env${dir === process.env.KANTAI_K8S_LOCAL_DIR || !rest.includes("--dir") ? "" : ` --dir ${dir}`})"`,
      );
      process.stdout.write(st.kubeconfig + "\n");
      return;
    }
    case "env": {
      const st = readState(dir);
      if (!running(st)) fail(`no control plane running in ${dir}: npm run k8s:local -- up`);
      process.stdout.write(envLines(st));
      return;
    }
    case "down":
      log(down(dir) ? `stopped and removed ${dir}` : `nothing to stop in ${dir}`);
      return;
    case "status": {
      const st = readState(dir);
      if (running(st)) {
        log(
          `running: https://127.0.0.1:${st.ports.apiserver}, kubeconfig ${st.kubeconfig}, simulated nodes ${st.nodes.join(", ")}`,
        );
        return;
      }
      log(`not running (${dir})`);
      process.exit(1);
    }
    // eslint-disable-next-line no-fallthrough
    default:
      fail(`usage: npm run k8s:local -- up [--stack NAME] [--dir DIR] | env | down | status`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => fail((e as Error).message));
}
