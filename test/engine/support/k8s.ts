// The local Kubernetes control plane for the engine suite (scripts/k8s-local.ts): real etcd,
// kube-apiserver, controller-manager and scheduler v1.34.1; SIMULATED nodes (kwok: no kubelet,
// no container runtime, nothing in a pod runs). It runs in a network namespace this suite
// creates (a holder process), and every `pulumi`/`kubectl` of the test enters that namespace:
// loopback only, and the API server's ports cannot collide with anything else on the machine.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO } from "./engine";

export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfig: string;
  /** kubectl v1.34.1 (tools/k8s) */
  readonly bin: string;
  /** pid of the process holding the network namespace, or undefined (host loopback) */
  readonly netns?: number;
  kubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string };
  down(): void;
}

const inNs = (netns: number | undefined, argv: string[]) =>
  netns ? ["nsenter", "-t", String(netns), "-n", ...argv] : argv;

/** A namespace with only loopback, held by a sleeping process; undefined when unshare is refused. */
function holdNetns(): number | undefined {
  const flags = process.getuid?.() === 0 ? ["-n"] : ["-rn"];
  const probe = spawnSync("unshare", [...flags, "sh", "-c", "ip link set lo up"], { encoding: "utf8" });
  if (probe.status !== 0) {
    console.warn("k8s engine tests: no network namespace available; the control plane listens on the host's 127.0.0.1");
    return undefined;
  }
  const holder = spawn("unshare", [...flags, "sh", "-c", "ip link set lo up && exec sleep 86400"], {
    detached: true,
    stdio: "ignore",
  });
  holder.unref();
  const until = Date.now() + 10_000;
  // the namespace exists once `sleep` runs (sh exec'd into it in the new namespace)
  while (Date.now() < until) {
    const r = spawnSync("nsenter", ["-t", String(holder.pid), "-n", "ip", "-o", "link", "show", "lo"], {
      encoding: "utf8",
    });
    if (r.status === 0 && /UP|LOOPBACK,UP/.test(r.stdout)) return holder.pid;
    spawnSync("sleep", ["0.2"]);
  }
  throw new Error("the network namespace for the control plane did not come up");
}

/** Start the control plane with the stack's cluster nodes registered as simulated nodes. */
export function startControlPlane(stack: string): ControlPlane {
  const netns = holdNetns();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-k8s-local-"));
  const argv = inNs(netns, [
    process.execPath,
    path.join(REPO, "node_modules", "tsx", "dist", "cli.mjs"),
    path.join(REPO, "scripts", "k8s-local.ts"),
    "up",
    "--stack",
    stack,
    "--dir",
    dir,
  ]);
  const t0 = Date.now();
  const r = spawnSync(argv[0], argv.slice(1), {
    encoding: "utf8",
    timeout: 45 * 60_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.status !== 0) {
    if (netns) process.kill(netns, "SIGKILL");
    throw new Error(`scripts/k8s-local.ts up failed (exit ${r.status}):\n${r.stderr}`);
  }
  console.log(
    `${r.stderr.trim()}\n(control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)} s${netns ? `, network namespace of pid ${netns}` : ""})`,
  );
  const state = JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"));
  const cp: ControlPlane = {
    dir,
    kubeconfig: state.kubeconfig,
    bin: state.bin,
    netns,
    kubectl(args, input) {
      const a = inNs(netns, [path.join(state.bin, "kubectl"), "--kubeconfig", state.kubeconfig, ...args]);
      const res = spawnSync(a[0], a.slice(1), {
        encoding: "utf8",
        input,
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { status: res.status ?? -1, stdout: res.stdout ?? "", stderr: res.stderr ?? "" };
    },
    down() {
      const a = inNs(netns, [
        process.execPath,
        path.join(REPO, "node_modules", "tsx", "dist", "cli.mjs"),
        path.join(REPO, "scripts", "k8s-local.ts"),
        "down",
        "--dir",
        dir,
      ]);
      spawnSync(a[0], a.slice(1), { encoding: "utf8", timeout: 60_000 });
      if (netns) {
        try {
          process.kill(netns, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    },
  };
  return cp;
}

/** kubectl that must succeed; parsed JSON for `-o json`. */
export function kubectlJson(cp: ControlPlane, args: string[]): any {
  const r = cp.kubectl([...args, "-o", "json"]);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * A file inside a Go module's zip, from the module cache (`go mod download`, the module proxy):
 * upstream projects ship their CRDs in their Go modules (docs/how-to/engine.md).
 */
export function moduleFile(moduleAtVersion: string, file: string): string {
  const r = spawnSync("go", ["mod", "download", "-json", moduleAtVersion], {
    encoding: "utf8",
    env: { ...process.env, GOFLAGS: "-mod=mod" },
    timeout: 10 * 60_000,
  });
  if (r.status !== 0) throw new Error(`go mod download ${moduleAtVersion} failed:\n${r.stdout}${r.stderr}`);
  const dir: string = JSON.parse(r.stdout).Dir;
  const f = path.join(dir, file);
  if (!fs.existsSync(f)) throw new Error(`${moduleAtVersion} has no ${file}`);
  return f;
}

/**
 * `argv` as a command that runs inside the control plane's network namespace (nsenter), so that
 * a process (a rendered script and the kubectl it calls) reaches the API server on its loopback;
 * `argv` itself when the plane listens on the host's loopback.
 */
export function inControlPlaneNetns(cp: ControlPlane, argv: readonly string[]): string[] {
  return inNs(cp.netns, [...argv]);
}

/**
 * Make the control plane's API server answer at `address:port` too, inside its network namespace:
 * `address` is added to the namespace's loopback device and a node process this suite starts
 * forwards TCP from there to the API server's own 127.0.0.1 port (TLS passes through untouched).
 * For a stack whose kubeconfig kantai points at its cluster's API address (K3sCluster: the VIP,
 * the API forward, or the first server). Needs the network namespace: an address on the host's
 * own loopback would be visible to every process on the machine.
 */
export async function serveApiAt(cp: ControlPlane, address: string, port: number): Promise<{ stop: () => void }> {
  if (!cp.netns)
    throw new Error(`the API server at ${address}:${port} needs a network namespace (unshare -n was refused here)`);
  const target = new URL(
    /server:\s*(\S+)/.exec(fs.readFileSync(cp.kubeconfig, "utf8"))?.[1] ?? "https://127.0.0.1:6443",
  );
  const add = spawnSync("nsenter", ["-t", String(cp.netns), "-n", "ip", "addr", "add", `${address}/32`, "dev", "lo"], {
    encoding: "utf8",
  });
  if (add.status !== 0 && !/File exists/.test(add.stderr)) throw new Error(`ip addr add ${address}: ${add.stderr}`);
  const script = `
const net = require("node:net");
const [host, port, toHost, toPort] = process.argv.slice(1);
const server = net.createServer((c) => {
  const u = net.connect(Number(toPort), toHost);
  c.pipe(u).pipe(c);
  c.on("error", () => u.destroy());
  u.on("error", () => c.destroy());
});
server.listen(Number(port), host, () => console.log("listening"));
`;
  const child = spawn(
    "nsenter",
    ["-t", String(cp.netns), "-n", process.execPath, "-e", script, address, String(port), target.hostname, target.port],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => resolve());
    child.on("exit", (code) => reject(new Error(`the API forward to ${address}:${port} exited (${code})`)));
  });
  return {
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
    },
  };
}
