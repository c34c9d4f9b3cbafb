/**
 * The scripts and files the cluster components render, checked by the real tools (shellcheck,
 * cloud-init, caddy) on a synth of the clusters fixture, and run locally where that shows
 * something: the cmdline.txt edit and the write-if-changed helper are idempotent (run twice, one
 * change), a wait gives up at its timeout, a failure names the host and the step.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderGroguCaddyfile } from "../lib/render/grogu";
import { renderCmdlineEditScript } from "../lib/render/k3s";
import { rewriteKubeconfig } from "../lib/render/kubeconfig";
import { preamble, putFile } from "../lib/render/remoteShell";
import { ROOT } from "./support/devConfig";
import { runSynth, runTool } from "./support/tools";

interface Entry {
  path: string;
  kind: string;
  resource: string;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "kantai-clusters-"));
const out = tmp();
let artifacts: Entry[] = [];

beforeAll(() => {
  const r = runSynth([
    "--stack",
    "clusters",
    "--out",
    out,
    "--stack-file",
    path.join(ROOT, "test/fixtures/Pulumi.clusters.yaml"),
  ]);
  expect(r.status, r.stderr).toBe(0);
  artifacts = JSON.parse(fs.readFileSync(path.join(out, "artifacts.json"), "utf8"));
});

const sh = (script: string, args: string[] = [], input?: string) =>
  spawnSync("sh", ["-c", script, "kantai-test", ...args], { encoding: "utf8", input });

describe("synth of a stack with a K3s cluster and grogu", () => {
  it("renders every cluster script, config and user-data", () => {
    const edge = artifacts
      .filter((a) => a.path.startsWith("files/edge/"))
      .map((a) => `${a.kind} ${a.path.slice("files/edge/".length)}`);
    expect(edge.sort()).toEqual(
      [
        ...["vm-1", "vm-2"].map((v) => `cloud-init ${v}.user-data.yaml`),
        ...["pi-1", "pi-2", "vm-1", "pi-3", "vm-2"].flatMap((n) => [
          `shell ${n}.prepare.sh`,
          `other ${n}.config.yaml`,
          `shell ${n}.install.sh`,
          `shell ${n}.uninstall.sh`,
        ]),
        ...["pi-1", "pi-2", "pi-3"].map((n) => `shell ${n}.boot-check.sh`),
        // Day 2 (test/clusters.day2.test.ts): the roll per node, removal steps for all but the first server, etcd snapshot and restore.
        ...["pi-1", "pi-2", "vm-1", "pi-3", "vm-2"].flatMap((n) => [
          `shell ${n}.drain.sh`,
          `shell ${n}.upgrade.sh`,
          `shell ${n}.gate.sh`,
        ]),
        ...["pi-2", "vm-1", "pi-3", "vm-2"].flatMap((n) => [`shell ${n}.remove-drain.sh`, `shell ${n}.forget.sh`]),
        "shell etcd-snapshot.sh",
        "shell etcd-restore.sh",
        "shell nodes.sh",
        "shell kubeconfig.sh",
      ].sort(),
    );
  });

  it("every shell script passes shellcheck (POSIX sh, style level)", () => {
    const shells = artifacts.filter((a) => a.kind === "shell");
    expect(shells.length).toBeGreaterThan(25);
    for (const a of shells) {
      const r = runTool("shellcheck", ["--shell=sh", "--severity=style", path.join(out, a.path)]);
      expect(r.status, `${a.path}\n${r.stdout}`).toBe(0);
    }
  });

  it("every user-data passes cloud-init's schema, every K3s config is YAML with the node's name", () => {
    for (const a of artifacts.filter((x) => x.kind === "cloud-init" && /files\/(edge|grogu)\//.test(x.path))) {
      const r = runTool("cloud-init", ["schema", "--config-file", path.join(out, a.path)]);
      expect(r.status, a.path + r.stdout + r.stderr).toBe(0);
    }
    for (const a of artifacts.filter((x) => x.path.endsWith(".config.yaml"))) {
      const doc = parse(fs.readFileSync(path.join(out, a.path), "utf8"));
      expect(doc["node-name"], a.path).toBe(path.basename(a.path, ".config.yaml"));
    }
  });

  it("no script carries a secret: the token, the key and kubeconfigs stay out of the files", () => {
    for (const a of artifacts) {
      const text = fs.readFileSync(path.join(out, a.path), "utf8");
      expect(text, a.path).not.toMatch(/synth-edge-token|PRIVATE KEY|client-key-data/);
    }
  });

  it("grogu's Caddy, as Caddy reads it: <svc>.grogu.hosts.pve → Kourier with Host <svc>.default.local.knative", () => {
    const r = runTool("caddy", [
      "adapt",
      "--adapter",
      "caddyfile",
      "--config",
      path.join(out, "files/grogu/Caddyfile"),
    ]);
    expect(r.status, r.stderr).toBe(0);
    const cfg = JSON.parse(r.stdout);
    const routes = Object.values(cfg.apps.http.servers as Record<string, { routes: any[] }>).flatMap((s) => s.routes);
    const route = routes.find((rt) => rt.match?.[0]?.host?.includes("*.grogu.hosts.pve"));
    expect(route).toBeDefined();
    const proxy = JSON.parse(JSON.stringify(route)).handle[0].routes[0].handle[0];
    expect(proxy.handler).toBe("reverse_proxy");
    expect(proxy.upstreams).toEqual([{ dial: "192.168.49.2:31080" }]);
    expect(proxy.headers.request.set.Host).toEqual(["{http.request.host.labels.3}.default.local.knative"]);
  });

  it("the label index follows the domain's depth", () => {
    const c = renderGroguCaddyfile({
      domain: "lab.example.org",
      label: "grogu",
      knativeDomain: "kn.local",
      minikubeIp: "192.168.49.2",
      kourierNodePort: 31080,
    });
    expect(c).toContain("header_up Host {labels.4}.default.kn.local");
  });

  it("seed 001's shape synthesizes: 1 server + 3 VM workers, one site, vxlan, no etcd, no boot checks", () => {
    const doc = parse(fs.readFileSync(path.join(ROOT, "test/fixtures/Pulumi.clusters.yaml"), "utf8"));
    doc.config["kantai:k3s"] = {
      lab: {
        sites: { lab: { cidr: "10.0.0.0/24" } },
        nodes: [
          { name: "lab-cp", role: "server", site: "lab", ip: "10.0.0.50", vm: { vmId: 750, template: "knative" } },
          ...[1, 2, 3].map((i) => ({
            name: `lab-worker-${i}`,
            role: "agent",
            site: "lab",
            ip: `10.0.0.${50 + i}`,
            vm: { vmId: 750 + i, template: "standalone" },
          })),
        ],
      },
    };
    const file = path.join(tmp(), "Pulumi.lab001.yaml");
    fs.writeFileSync(file, stringify(doc));
    const dir = tmp();
    const r = runSynth(["--stack", "lab001", "--out", dir, "--stack-file", file]);
    expect(r.status, r.stderr).toBe(0);
    const resources: { type: string; name: string; dependsOn: string[] }[] = JSON.parse(
      fs.readFileSync(path.join(dir, "resources.json"), "utf8"),
    );
    const names = resources.filter((x) => x.name.startsWith("lab-")).map((x) => x.name);
    expect(names.filter((n) => n.endsWith("-boot"))).toEqual([]);
    expect(names.filter((n) => n.endsWith("-vm")).sort()).toEqual(
      ["lab-lab-cp-vm", ...[1, 2, 3].map((i) => `lab-lab-worker-${i}-vm`)].sort(),
    );
    for (const i of [1, 2, 3]) {
      expect(resources.find((x) => x.name === `lab-lab-worker-${i}-install`)!.dependsOn).toEqual([
        `lab-lab-worker-${i}-prepare`,
        "lab-lab-cp-install",
      ]);
    }
    const cp = parse(fs.readFileSync(path.join(dir, "files/lab/lab-cp.config.yaml"), "utf8"));
    expect(cp["flannel-backend"]).toBe("vxlan");
    expect(cp["cluster-init"]).toBeUndefined();
    expect(cp["node-external-ip"]).toBeUndefined();
    const w = parse(fs.readFileSync(path.join(dir, "files/lab/lab-worker-1.config.yaml"), "utf8"));
    expect(w.server).toBe("https://10.0.0.50:6443");
    const outputs = JSON.parse(fs.readFileSync(path.join(dir, "outputs.json"), "utf8"));
    // The first server is a VM on the bridge: its API is reached through the Proxmox host's
    // port-forward (issue 10 item 6, docs/how-to/cluster-api-access.md); workers still join at 10.0.0.50.
    expect(outputs.k3s[0]).toMatchObject({
      name: "lab",
      apiServer: "https://10.15.40.20:6443",
      flannelBackend: "vxlan",
      kubeconfig: "[secret]",
    });
    expect(names).toContain("lab-api-forward");
  });
});

describe("idempotency, run locally", () => {
  it("the cmdline.txt edit: first run adds both cgroup flags once, second run changes nothing", () => {
    const dir = tmp();
    const file = path.join(dir, "cmdline.txt");
    const original =
      "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait\n";
    fs.writeFileSync(file, original);
    const script = renderCmdlineEditScript();
    const first = sh(script, [file]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe("changed\n");
    const after = fs.readFileSync(file, "utf8");
    expect(after).toBe(original.trimEnd() + " cgroup_memory=1 cgroup_enable=memory\n");
    expect(fs.readFileSync(`${file}.kantai-orig`, "utf8")).toBe(original);
    const second = sh(script, [file]);
    expect(second.stdout).toBe("unchanged\n");
    expect(fs.readFileSync(file, "utf8")).toBe(after);
    expect(fs.readdirSync(dir).sort()).toEqual(["cmdline.txt", "cmdline.txt.kantai-orig"]);
  });

  it("the cmdline.txt edit keeps a flag that is already there and adds only the missing one", () => {
    const file = path.join(tmp(), "cmdline.txt");
    fs.writeFileSync(file, "cgroup_enable=memory root=/dev/mmcblk0p2 rootwait\n");
    expect(sh(renderCmdlineEditScript(), [file]).stdout).toBe("changed\n");
    expect(fs.readFileSync(file, "utf8")).toBe("cgroup_enable=memory root=/dev/mmcblk0p2 rootwait cgroup_memory=1\n");
  });

  it("write-if-changed: the first run writes and reports, the second leaves the file alone", () => {
    const target = path.join(tmp(), "etc", "config.yaml");
    const script = [
      preamble("test", "local (127.0.0.1)", { put: true }),
      putFile(target, "node-name: pi-1\n", "0600", ["echo changed"]),
      "",
    ].join("\n");
    const first = sh(script);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe("changed\n");
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    const mtime = fs.statSync(target).mtimeMs;
    const second = sh(script);
    expect(second.stdout).toBe("");
    expect(fs.statSync(target).mtimeMs).toBe(mtime);
    expect(fs.readdirSync(path.dirname(target))).toEqual(["config.yaml"]);
  });

  it("a wait gives up at its timeout, and the failure names the host and the step", () => {
    const script = [
      preamble("K3s agent install", "pi-3 (192.168.1.23)", { wait: true }),
      'step "wait for k3s-agent to be active"',
      'kantai_wait 0 "k3s-agent to be active" false',
      "",
    ].join("\n");
    const r = sh(script);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      [
        "kantai: pi-3 (192.168.1.23): wait for k3s-agent to be active",
        "kantai: pi-3 (192.168.1.23): timed out after 0s waiting for k3s-agent to be active",
        'kantai: pi-3 (192.168.1.23): K3s agent install failed at step "wait for k3s-agent to be active" (exit 1)',
        "",
      ].join("\n"),
    );
  });

  it("the install script refuses to run without a token on stdin, naming host and step", () => {
    const script = fs.readFileSync(path.join(out, "files/edge/pi-3.install.sh"), "utf8");
    const r = sh(script, [], "");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("kantai: pi-3 (192.168.1.23): no join token on standard input");
    expect(r.stderr).toContain(
      'kantai: pi-3 (192.168.1.23): K3s agent configuration failed at step "join token (standard input)" (exit 1)',
    );
  });
});

describe("kubeconfig rewrite", () => {
  const k3s = [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    "    certificate-authority-data: Q0E=",
    "    server: https://127.0.0.1:6443",
    "  name: default",
    "contexts:",
    "- context:",
    "    cluster: default",
    "    user: default",
    "  name: default",
    "current-context: default",
    "kind: Config",
    "users:",
    "- name: default",
    "  user:",
    "    client-certificate-data: Q0VSVA==",
    "    client-key-data: S0VZ",
    "",
  ].join("\n");

  it("points the server at the cluster's address and names everything after the cluster", () => {
    const doc = parse(rewriteKubeconfig(k3s, "https://203.0.113.21:6443", "edge"));
    expect(doc.clusters).toEqual([
      { cluster: { "certificate-authority-data": "Q0E=", server: "https://203.0.113.21:6443" }, name: "edge" },
    ]);
    expect(doc.contexts).toEqual([{ context: { cluster: "edge", user: "edge" }, name: "edge" }]);
    expect(doc["current-context"]).toBe("edge");
    expect(doc.users[0]).toEqual({
      name: "edge",
      user: { "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" },
    });
  });

  it("leaves an empty kubeconfig empty (preview) and refuses text that is not one", () => {
    expect(rewriteKubeconfig("", "https://x:6443")).toBe("");
    expect(() => rewriteKubeconfig("error: not found\n", "https://x:6443")).toThrow(
      "rewriteKubeconfig: the text is not a kubeconfig (no clusters)",
    );
  });
});
