/**
 * Issue 10 item 6: the cluster API forward on the Proxmox host, run for real in namespaces this test
 * creates (unshare + `ip netns`): real iptables and real TCP. Topology, all inside the test's own
 * network namespace:
 *
 *   client ns 10.15.40.99 ──veth── "Proxmox host" ns 10.15.40.20, bridge vmbr2 10.0.0.1 ──veth── vm ns 10.0.0.50:6443
 *
 * The "K3s API" on 10.0.0.50:6443 is a stand-in TCP server (node) that answers one line; what is
 * real is the path: a client outside the bridge reaches it only through the DNAT on the host, as
 * kubectl / the Kubernetes provider would. Only `systemctl` is a stand-in (no systemd here), as in
 * test/nat.test.ts: it runs the unit's ExecStart/ExecStop.
 *
 * Upstream rules: iptables DNAT in nat PREROUTING for forwarded traffic and nat OUTPUT for locally
 * generated traffic (iptables-extensions(8), "DNAT": "only valid in the nat table, in the PREROUTING
 * and OUTPUT chains"); K3s serves its API on 6443 and its certificate must name the address clients
 * use (`tls-san`, https://docs.k3s.io/cli/server#listeners).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderApiForwardCreate, renderApiForwardDelete, renderApiForwardHelper } from "../lib/render/apiForward";
import { inNamespace, SYSTEMCTL_UNIT_STANDIN, type NamespaceRun } from "./support/namespace";
import { runTool } from "./support/tools";

const spec = { cluster: "lab", port: 16443, target: "10.0.0.50" };

const NODE = process.execPath;
const SERVER = `require("net").createServer((s) => s.end("k3s-api\\n")).listen(6443, "10.0.0.50")`;
const CLIENT = (host: string, port: number) =>
  `const s = require("net").connect(${port}, "${host}"); s.setTimeout(3000, () => { console.log("timeout"); process.exit(0); }); s.on("data", (d) => { process.stdout.write("got " + d); process.exit(0); }); s.on("error", (e) => { console.log("error " + e.code); process.exit(0); });`;

function inNamespaces(script: string): NamespaceRun {
  return inNamespace(script, {
    name: "kantai-apifwd",
    standins: { systemctl: SYSTEMCTL_UNIT_STANDIN },
    files: {
      "create.sh": renderApiForwardCreate(spec),
      "delete.sh": renderApiForwardDelete(spec),
      "server.js": SERVER,
      "via-host.js": CLIENT("10.15.40.20", spec.port),
      "direct.js": CLIENT("10.0.0.50", 6443),
    },
    tmpfs: ["/etc/systemd/system", "/usr/local/sbin", "/run"],
    setup: () => TOPOLOGY,
    teardown: ["kill $server"],
  });
}

/** The client, the "Proxmox host" with its bridge, and the VM serving the "K3s API" (see the top). */
const TOPOLOGY = [
  "mkdir -p /run/netns",
  "ip link set lo up",
  "echo 1 > /proc/sys/net/ipv4/ip_forward",
  // the uplink side: a client outside the bridge
  "ip netns add client",
  "ip link add uplink0 type veth peer name cli0",
  "ip link set cli0 netns client",
  "ip addr add 10.15.40.20/24 dev uplink0 && ip link set uplink0 up",
  "ip netns exec client sh -c 'ip link set lo up; ip addr add 10.15.40.99/24 dev cli0; ip link set cli0 up'",
  // the internal bridge and one VM behind it, whose gateway is the host
  "ip link add vmbr2 type bridge && ip addr add 10.0.0.1/24 dev vmbr2 && ip link set vmbr2 up",
  "ip netns add vm",
  "ip link add vmport type veth peer name eth0",
  "ip link set eth0 netns vm",
  "ip link set vmport master vmbr2 && ip link set vmport up",
  "ip netns exec vm sh -c 'ip link set lo up; ip addr add 10.0.0.50/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.0.1'",
  `ip netns exec vm "${NODE}" server.js & server=$!`,
  "sleep 0.5",
  "rules() { { iptables -t nat -S; iptables -S FORWARD; } | grep -c 'kantai-apifwd-lab' || true; }",
];

const viaHost = `echo "client: $(ip netns exec client "${NODE}" via-host.js)"`;
const onHost = `echo "host: $("${NODE}" -e "$(cat via-host.js)")"`;

describe("the cluster API forward's scripts", () => {
  it("pass shellcheck (POSIX sh, style level): create, delete and the helper", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-apifwd-sc-"));
    for (const [f, content] of [
      ["create.sh", renderApiForwardCreate(spec)],
      ["delete.sh", renderApiForwardDelete(spec)],
      ["helper.sh", renderApiForwardHelper(spec)],
    ]) {
      fs.writeFileSync(path.join(dir, f), content);
      const r = runTool("shellcheck", ["--shell=sh", "--severity=style", path.join(dir, f)]);
      expect(r.status, `${f}: ${r.stdout}`).toBe(0);
    }
  });
});

describe("the cluster API forward, in namespaces", () => {
  it("without it the API is unreachable from outside the bridge; with it, through the host's address (the check can fail)", () => {
    const r = inNamespaces(
      [
        // No route from the client to the bridge: this is what `pulumi up` off the host sees today.
        `echo "direct: $(ip netns exec client "${NODE}" direct.js)"`,
        `echo "before: $(ip netns exec client "${NODE}" via-host.js)"`,
        "sh create.sh",
        viaHost,
        onHost,
      ].join("\n"),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/direct: error (ENETUNREACH|EHOSTUNREACH)|direct: timeout/);
    expect(r.stdout).toContain("before: error ECONNREFUSED");
    expect(r.stdout).toContain("client: got k3s-api");
    expect(r.stdout).toContain("host: got k3s-api");
    expect(r.stdout).toContain("16443 -> 10.0.0.50:6443");
  });

  it("create twice leaves exactly one copy of each of the three rules; delete removes every copy and the files", () => {
    const r = inNamespaces(
      [
        "sh create.sh >/dev/null",
        'echo "after1=$(rules)"',
        "sh create.sh >/dev/null",
        'echo "after2=$(rules)"',
        "iptables -t nat -S; iptables -S FORWARD",
        "sh delete.sh",
        'echo "deleted=$(rules)"',
        viaHost,
        "sh delete.sh",
        'echo "again=$(rules)"',
        'echo "files=$(ls /etc/systemd/system /usr/local/sbin | grep -c kantai || true)"',
      ].join("\n"),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("after1=3");
    expect(r.stdout).toContain("after2=3");
    expect(r.stdout).toContain(
      "-A PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 16443 -m comment --comment kantai-apifwd-lab -j DNAT --to-destination 10.0.0.50:6443",
    );
    expect(r.stdout).toContain("deleted=0");
    expect(r.stdout).toContain("client: error ECONNREFUSED");
    expect(r.stdout).toContain("again=0");
    expect(r.stdout).toContain("files=0");
  });

  it("a boot (the unit's ExecStart on empty tables) restores the forward", () => {
    const r = inNamespaces(
      [
        "sh create.sh >/dev/null",
        "iptables -t nat -F; iptables -F FORWARD",
        'echo "flushed=$(rules)"',
        "systemctl restart kantai-apifwd-lab.service",
        'echo "booted=$(rules)"',
        viaHost,
      ].join("\n"),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("flushed=0");
    expect(r.stdout).toContain("booted=3");
    expect(r.stdout).toContain("client: got k3s-api");
  });

  it("a FORWARD policy of DROP (Proxmox' firewall) does not stop it", () => {
    const r = inNamespaces(["iptables -P FORWARD DROP", "sh create.sh >/dev/null", viaHost].join("\n"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("client: got k3s-api");
  });
});
