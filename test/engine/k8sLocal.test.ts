// `npm run k8s:local -- up | env | status | down` (scripts/k8s-local.ts) as a user runs it: a real
// Kubernetes v1.34.1 control plane with SIMULATED nodes (kwok) on loopback, inside a network
// namespace this test creates. Plus the pure parts: which nodes a stack file registers.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { alive, nodeManifests, parseTaint, stackNodes } from "../../scripts/k8s-local";
import { REPO } from "./support/engine";

describe("k8s-local: the simulated nodes of a stack", () => {
  it("edge: the five K3s nodes with hostname, zone from the site, config labels and taints, node roles", () => {
    const nodes = stackNodes(path.join(REPO, "Pulumi.edge.yaml"));
    expect(nodes.map((n) => n.name)).toEqual(["pi-1", "pi-2", "edge-vm-1", "pi-3", "edge-vm-2"]);
    const pi3 = nodes.find((n) => n.name === "pi-3")!;
    expect(pi3.labels).toMatchObject({
      "kubernetes.io/hostname": "pi-3",
      "topology.kubernetes.io/zone": "home",
      "kantai.dev/storage": "hdd",
      "kantai.dev/simulated-node": "kwok",
      "kubernetes.io/arch": "arm64",
    });
    expect(pi3.labels["node-role.kubernetes.io/control-plane"]).toBeUndefined();
    expect(pi3.taints).toEqual([{ key: "kantai.dev/storage", value: "hdd", effect: "NoSchedule" }]);
    expect(nodes.find((n) => n.name === "edge-vm-1")!.labels).toMatchObject({
      "topology.kubernetes.io/zone": "lab",
      "node-role.kubernetes.io/control-plane": "true",
    });
  });

  it("lab: the four lab nodes", () => {
    expect(stackNodes(path.join(REPO, "Pulumi.lab.yaml")).map((n) => n.name)).toEqual([
      "lab-cp",
      "lab-w1",
      "lab-w2",
      "lab-w3",
    ]);
  });

  it("every node is handed to kwok by its annotation (and only those)", () => {
    const list: any = nodeManifests(stackNodes(path.join(REPO, "Pulumi.lab.yaml")));
    for (const n of list.items) expect(n.metadata.annotations["kwok.x-k8s.io/node"]).toBe("fake");
  });

  it("a malformed taint is refused with the taint and the expected form", () => {
    expect(() => parseTaint("kantai.dev/storage=hdd")).toThrow(
      'taint "kantai.dev/storage=hdd" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute',
    );
    expect(parseTaint("a:NoExecute")).toEqual({ key: "a", effect: "NoExecute" });
  });
});

describe("npm run k8s:local -- up | env | status | down", () => {
  it("up starts it (simulated nodes Ready), a second up reuses it, env exports it, down removes it", () => {
    const holder = spawnSync("unshare", ["-n", "sh", "-c", "ip link set lo up && echo ok"], { encoding: "utf8" });
    const ns = holder.status === 0 ? ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] : [];
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kantai-k8s-local-test-")), "plane");
    // one shell in one namespace runs the whole user session, as a user's terminal would
    const tsx = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO, "node_modules", "tsx", "dist", "cli.mjs"))} ${JSON.stringify(path.join(REPO, "scripts", "k8s-local.ts"))}`;
    const script = [
      "set -e",
      `${tsx} up --stack lab --dir ${dir} > ${dir}.up1 2> ${dir}.up1.err`,
      `${tsx} up --stack lab --dir ${dir} > ${dir}.up2 2> ${dir}.up2.err`,
      `eval "$(${tsx} env --dir ${dir})"`,
      'echo "KUBECONFIG=$KUBECONFIG"',
      'echo "KUBECTL=$(command -v kubectl)"',
      "kubectl version -o json > " + dir + ".version",
      "kubectl get nodes -o json > " + dir + ".nodes",
      `${tsx} status --dir ${dir} 2> ${dir}.status`,
      `cp ${dir}/state.json ${dir}.state`,
      `${tsx} down --dir ${dir} 2> ${dir}.down`,
      `if ${tsx} status --dir ${dir} 2> ${dir}.status2; then echo "still running"; exit 1; fi`,
    ].join("\n");
    const r = spawnSync(ns[0] ?? "bash", ns.length ? [...ns.slice(1), "bash", "-c", script] : ["-c", script], {
      encoding: "utf8",
      timeout: 45 * 60_000,
    });
    const read = (s: string) => (fs.existsSync(dir + s) ? fs.readFileSync(dir + s, "utf8") : "");
    expect(r.status, `${r.stdout}\n${r.stderr}\n${read(".up1.err")}\n${read(".up2.err")}`).toBe(0);
    console.log(read(".up1.err").trim());

    // up: prints the kubeconfig's path, says what is simulated
    expect(read(".up1").trim()).toBe(path.join(dir, "kubeconfig"));
    expect(read(".up1.err")).toMatch(
      /4 SIMULATED nodes \(kwok, nothing runs in pods\) from stack lab: lab-cp, lab-w1, lab-w2, lab-w3/,
    );
    expect(read(".up1.err")).toContain(`kubeconfig: ${path.join(dir, "kubeconfig")}`);
    // second up: reused, same kubeconfig
    expect(read(".up2.err")).toMatch(/already running .* reusing it/);
    expect(read(".up2").trim()).toBe(path.join(dir, "kubeconfig"));
    // env: KUBECONFIG and its kubectl first on PATH
    const state = JSON.parse(read(".state"));
    expect(r.stdout).toContain(`KUBECONFIG=${path.join(dir, "kubeconfig")}`);
    expect(r.stdout).toContain(`KUBECTL=${path.join(state.bin, "kubectl")}`);
    expect(JSON.parse(read(".version")).serverVersion.gitVersion).toBe("v1.34.1");
    const nodes = JSON.parse(read(".nodes")).items;
    expect(nodes.map((n: any) => n.metadata.name).sort()).toEqual(["lab-cp", "lab-w1", "lab-w2", "lab-w3"]);
    for (const n of nodes) expect(n.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    // the ports were free loopback ports
    for (const p of Object.values(state.ports) as number[]) expect(p).toBeGreaterThan(1024);
    expect(read(".status")).toMatch(/running: https:\/\/127\.0\.0\.1:\d+/);
    // down: every process gone, the directory removed
    expect(read(".down")).toContain(`stopped and removed ${dir}`);
    expect(fs.existsSync(dir)).toBe(false);
    for (const pid of Object.values(state.pids) as number[]) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(read(".status2")).toContain("not running");
  });
});
