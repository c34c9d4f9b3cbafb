/**
 * The day-2 scripts run for real in a shell, against a kubectl STAND-IN
 * (test/fixtures/day2/kubectl-standin.sh: it records each call and answers from files; no API
 * server, not Kubernetes). Fast, in `npm test`. What is checked here is the scripts' own logic:
 * the exact kubectl calls in their order, when they skip, the messages (a drain that kubectl
 * reports as failed stops the roll naming the node), and the etcd restore's command sequence
 * (stand-in k3s and systemctl). Every script also passes shellcheck.
 *
 * What these calls DO is tested against a real API server in test/engine/day2.test.ts (engine
 * suite): the same rendered scripts with the real kubectl v1.34.1 against a real Kubernetes
 * v1.34.1 control plane with SIMULATED (kwok) nodes — cordon/uncordon on the real Node, real
 * evictions (pods moving, DaemonSet pods staying, emptyDir pods), a real PodDisruptionBudget
 * refusing the eviction (https://kubernetes.io/docs/tasks/administer-cluster/safely-drain-node/),
 * a pod without a controller, the gate on the Node's kubeletVersion and Ready condition, the Node
 * deleted on removal, and the kube-vip pod validated by the API server. Only the restore script
 * is tested here alone (it needs a K3s server).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  renderK3sDrain,
  renderK3sEtcdRestore,
  renderK3sForget,
  renderK3sGate,
  renderK3sPreUpgradeSnapshot,
  renderK3sRemoveDrain,
  renderK3sUpgrade,
} from "../lib/render/k3sDay2";
import { ROOT } from "./support/devConfig";
import { runTool } from "./support/tools";

const STANDIN = path.join(ROOT, "test/fixtures/day2/kubectl-standin.sh");
const HOST = "pi-1 (192.168.1.21)";
const OLD = "v1.34.1+k3s1";
const NEW = "v1.34.2+k3s1";

function cluster(nodes: Record<string, { version: string; ready?: string; pdb?: boolean }>) {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "kantai-day2-kube-"));
  for (const [n, s] of Object.entries(nodes)) {
    fs.mkdirSync(path.join(dir, "nodes", n), { recursive: true });
    fs.writeFileSync(path.join(dir, "nodes", n, "version"), s.version);
    fs.writeFileSync(path.join(dir, "nodes", n, "ready"), s.ready ?? "True");
    if (s.pdb) fs.writeFileSync(path.join(dir, "nodes", n, "pdb"), "");
  }
  fs.writeFileSync(path.join(dir, "readyz"), "ok");
  fs.writeFileSync(path.join(dir, "calls"), "");
  const run = (script: string) =>
    spawnSync("sh", ["-c", script, "kantai-test"], {
      encoding: "utf8",
      env: { ...process.env, KANTAI_KUBECTL: `sh ${STANDIN}`, KSTATE: dir },
      timeout: 60_000,
    });
  return {
    dir,
    run,
    calls: () => fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n").filter(Boolean),
    has: (n: string, f: string) => fs.existsSync(path.join(dir, "nodes", n, f)),
    set: (n: string, f: string, v: string) => fs.writeFileSync(path.join(dir, "nodes", n, f), v),
  };
}

const drain = (node: string) => renderK3sDrain({ host: HOST, node, version: NEW, timeoutSeconds: 600 });
const gate = (node: string, timeoutSeconds = 600) => renderK3sGate({ host: HOST, node, version: NEW, timeoutSeconds });

describe("rolling upgrade steps against the kubectl stand-in", () => {
  it("drain → (upgrade) → gate of a node on the old version: annotate, cordon, drain; then Ready at the new version, /readyz, uncordon", () => {
    const k = cluster({ "pi-2": { version: OLD } });
    const d = k.run(drain("pi-2"));
    expect(d.status, d.stderr).toBe(0);
    expect(k.calls()).toEqual([
      "get node pi-2 -o jsonpath={.status.nodeInfo.kubeletVersion}",
      `annotate node pi-2 --overwrite kantai.dev/upgrading=${NEW}`,
      "cordon pi-2",
      "drain pi-2 --ignore-daemonsets --delete-emptydir-data --timeout=600s",
    ]);
    expect(k.has("pi-2", "cordoned")).toBe(true);
    k.set("pi-2", "version", NEW); // what the upgrade step on the node does (it runs K3s' install.sh there)
    const g = k.run(gate("pi-2"));
    expect(g.status, g.stderr).toBe(0);
    expect(k.calls().slice(4)).toEqual([
      "get node pi-2 -o jsonpath={.status.nodeInfo.kubeletVersion}",
      'get node pi-2 -o jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      "get --raw=/readyz",
      "get node pi-2 -o jsonpath={.metadata.annotations.kantai\\.dev/upgrading}",
      "uncordon pi-2",
      "annotate node pi-2 kantai.dev/upgrading-",
    ]);
    expect(k.has("pi-2", "cordoned")).toBe(false);
    expect(k.has("pi-2", "upgrading")).toBe(false);
  });

  it("a node already at the version is not drained, and a node kantai did not cordon is not uncordoned", () => {
    const k = cluster({ "pi-2": { version: NEW } });
    k.set("pi-2", "cordoned", ""); // cordoned by a person, not by kantai
    expect(k.run(drain("pi-2")).stderr).toContain(`kantai: ${HOST}: node pi-2 already runs ${NEW}: no drain`);
    expect(k.run(gate("pi-2")).status).toBe(0);
    expect(k.calls().filter((c) => /^(cordon|uncordon|drain)/.test(c))).toEqual([]);
    expect(k.has("pi-2", "cordoned")).toBe(true);
  });

  it("a node not registered yet (a new node) has nothing to drain", () => {
    const k = cluster({});
    const r = k.run(drain("pi-4"));
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      `kantai: ${HOST}: node pi-4 is not registered: nothing to drain (its upgrade step installs ${NEW})`,
    );
  });

  it("a drain blocked by a PodDisruptionBudget stops the roll at that node, named; the node is uncordoned and keeps its version", () => {
    const k = cluster({ "pi-2": { version: OLD, pdb: true } });
    const r = k.run(drain("pi-2"));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(r.stderr).toContain(
      `kantai: ${HOST}: rolling upgrade stopped at node pi-2: kubectl drain failed (its error is above: a PodDisruptionBudget that allowed no eviction for 600s, pods that did not terminate in time, or pods it does not delete, such as pods without a controller; kubectl get pdb -A). pi-2 is uncordoned and still runs ${OLD}; the nodes after it were not touched.`,
    );
    expect(r.stderr).toContain(
      `kantai: ${HOST}: K3s drain of pi-2 before its upgrade failed at step "drain node $NODE (PodDisruptionBudgets respected, 600s)" (exit 1)`.replace(
        "$NODE",
        "pi-2",
      ),
    );
    expect(k.has("pi-2", "cordoned")).toBe(false);
    expect(k.has("pi-2", "upgrading")).toBe(false);
    expect(fs.readFileSync(path.join(k.dir, "nodes/pi-2/version"), "utf8")).toBe(OLD);
  });

  it("the gate stops the roll when the node does not come back at the version; the node stays cordoned", () => {
    const k = cluster({ "pi-2": { version: OLD } });
    expect(k.run(drain("pi-2")).status).toBe(0);
    const r = k.run(gate("pi-2", 5));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `kantai: ${HOST}: rolling upgrade stopped at node pi-2: not Ready at ${NEW} (it reports "${OLD}"); it stays cordoned, the nodes after it were not touched`,
    );
    expect(k.has("pi-2", "cordoned")).toBe(true);
  });

  it("the gate waits for the API server: /readyz not ok stops the roll after the node", () => {
    const k = cluster({ "pi-2": { version: NEW } });
    fs.writeFileSync(path.join(k.dir, "readyz"), "[-]etcd failed");
    const r = k.run(gate("pi-2", 5));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`kantai: ${HOST}: rolling upgrade stopped after node pi-2: the API server is not ready`);
  });
});

describe("removing a node against the kubectl stand-in", () => {
  it("drain (PDB-respecting) first; after the uninstall, the Node object goes and etcd is checked healthy", () => {
    const k = cluster({ "pi-2": { version: OLD } });
    expect(k.run(renderK3sRemoveDrain({ host: HOST, node: "pi-2", timeoutSeconds: 300 })).status).toBe(0);
    expect(k.run(renderK3sForget({ host: HOST, node: "pi-2", etcdMember: true })).status).toBe(0);
    expect(k.calls()).toEqual([
      "get node pi-2",
      "cordon pi-2",
      "drain pi-2 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
      "delete node pi-2 --ignore-not-found --wait=true",
      "get --raw=/readyz/etcd",
    ]);
    expect(fs.existsSync(path.join(k.dir, "nodes/pi-2"))).toBe(false);
  });
  it("with K3s gone from the first server (a whole-cluster destroy), forget has nothing to do", () => {
    const r = spawnSync("sh", ["-c", renderK3sForget({ host: HOST, node: "pi-2", etcdMember: true }), "forget"], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `kantai: ${HOST}: K3s is not installed here any more (the whole cluster is being removed): nothing to forget`,
    );
  });
  it("a blocked removal drain fails naming the node; nothing is deleted", () => {
    const k = cluster({ "pi-3": { version: OLD, pdb: true } });
    const r = k.run(renderK3sRemoveDrain({ host: HOST, node: "pi-3", timeoutSeconds: 300 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `kantai: ${HOST}: removal of node pi-3 stopped: kubectl drain failed (its error is above: a PodDisruptionBudget that allowed no eviction for 300s, pods that did not terminate in time, or pods it does not delete, such as pods without a controller; kubectl get pdb -A). It stays cordoned and installed; its VM, if any, is kept.`,
    );
    expect(fs.existsSync(path.join(k.dir, "nodes/pi-3"))).toBe(true);
  });
});

describe("etcd restore script (stand-in k3s and systemctl)", () => {
  function bin() {
    const dir = fs.mkdtempSync(path.join(tmpdir(), "kantai-day2-bin-"));
    const log = path.join(dir, "log");
    for (const tool of ["k3s", "systemctl"]) {
      fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> ${log}\n`, { mode: 0o755 });
    }
    const data = path.join(dir, "data");
    fs.mkdirSync(path.join(data, "server/db/snapshots"), { recursive: true });
    fs.writeFileSync(path.join(data, "server/db/snapshots/kantai-pre-v1-34-2-k3s1"), "snapshot bytes");
    const run = (...args: string[]) =>
      spawnSync("sh", ["-c", renderK3sEtcdRestore(), "etcd-restore.sh", ...args], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, K3S_DATA_DIR: data },
      });
    return { run, log: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []), data };
  }
  it("restore <name>: stop, cluster-reset from the snapshot file, start (https://docs.k3s.io/cli/etcd-snapshot)", () => {
    const b = bin();
    const r = b.run("restore", "kantai-pre-v1-34-2-k3s1");
    expect(r.status, r.stderr).toBe(0);
    expect(b.log()).toEqual([
      "systemctl stop k3s",
      `k3s server --cluster-reset --cluster-reset-restore-path=${b.data}/server/db/snapshots/kantai-pre-v1-34-2-k3s1`,
      "systemctl start k3s",
    ]);
  });
  it("rejoin: stop, delete the database directory, start", () => {
    const b = bin();
    expect(b.run("rejoin").status).toBe(0);
    expect(b.log()).toEqual(["systemctl stop k3s", "systemctl start k3s"]);
    expect(fs.existsSync(path.join(b.data, "server/db"))).toBe(false);
  });
  it("a missing snapshot stops before touching K3s", () => {
    const b = bin();
    const r = b.run("restore", "nope");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `kantai-restore: snapshot ${b.data}/server/db/snapshots/nope does not exist or is empty`,
    );
    expect(b.log()).toEqual([]);
    expect(b.run().status).toBe(2);
  });
});

describe("shellcheck", () => {
  it("every day-2 script passes shellcheck (POSIX sh, style level)", () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), "kantai-day2-sc-"));
    const scripts: Record<string, string> = {
      "drain.sh": drain("pi-2"),
      "gate.sh": gate("pi-2"),
      "upgrade-server.sh": renderK3sUpgrade({ host: HOST, node: "pi-1", role: "server", version: NEW }),
      "upgrade-agent.sh": renderK3sUpgrade({ host: HOST, node: "pi-3", role: "agent", version: NEW }),
      "remove-drain.sh": renderK3sRemoveDrain({ host: HOST, node: "pi-2", timeoutSeconds: 300 }),
      "forget.sh": renderK3sForget({ host: HOST, node: "pi-2", etcdMember: true }),
      "snapshot.sh": renderK3sPreUpgradeSnapshot({ host: HOST, version: NEW }),
      "etcd-restore.sh": renderK3sEtcdRestore(),
      "kubectl-standin.sh": fs.readFileSync(STANDIN, "utf8"),
      // the host stand-ins of test/engine/day2.test.ts
      ...Object.fromEntries(
        ["k3s", "systemctl", "curl", "install-standin.sh"].map((f) => [
          `host-standin-${f}`,
          fs.readFileSync(path.join(ROOT, "test/fixtures/day2/host-standins", f), "utf8"),
        ]),
      ),
    };
    for (const [name, text] of Object.entries(scripts)) {
      fs.writeFileSync(path.join(dir, name), text);
      const r = runTool("shellcheck", ["--shell=sh", "--severity=style", path.join(dir, name)]);
      expect(r.status, `${name}\n${r.stdout}`).toBe(0);
    }
  });
});
