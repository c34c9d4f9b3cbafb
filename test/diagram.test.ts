/**
 * Topology diagrams (lib/diagram, scripts/diagram.ts): the readers for Caddyfiles and zones, the
 * model built from a small synth fixture (two sites, a Proxmox host with a template and a K3s node
 * VM, a Pi listed in the outputs, a Knative service, a Traefik IngressRoute, a host gateway, a
 * Cloudflare tunnel with its proxied CNAME), exact Mermaid text for a small case,
 * the SVG as XML (parsed by Python's XML parser) with every node, and `npm run diagram` for every
 * stack of the repository, `--check`, and the committed dev diagram's content.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { layoutTopology } from "../lib/diagram/layout";
import { mermaidId, renderMermaid } from "../lib/diagram/mermaid";
import { buildTopology, outputClusterNodes, type Topology } from "../lib/diagram/model";
import { parseCaddyfile, parseZone, resolveName } from "../lib/diagram/parse";
import { renderSvg } from "../lib/diagram/svg";
import { readSynthDir } from "../scripts/diagram";
import { ROOT } from "./support/devConfig";
import { runTool } from "./support/tools";

const FIXTURE = path.join(ROOT, "test", "fixtures", "diagram", "small");

/** Parse an SVG with Python's XML parser; returns the root tag and every node's/group's data-id. */
function parseSvg(svg: string): { root: string; nodeIds: string[]; groupIds: string[]; edges: number } {
  const script = [
    "import sys, json, xml.etree.ElementTree as ET",
    "root = ET.fromstring(sys.stdin.read())",
    "gs = root.iter('{http://www.w3.org/2000/svg}g')",
    "out = {'root': root.tag, 'nodeIds': [], 'groupIds': [], 'edges': 0}",
    "for g in gs:",
    "    c = g.get('class', '').split()",
    "    if 'node' in c: out['nodeIds'].append(g.get('data-id'))",
    "    if 'group' in c: out['groupIds'].append(g.get('data-id'))",
    "    if 'edge' in c: out['edges'] += 1",
    "print(json.dumps(out))",
  ].join("\n");
  const r = runTool("python3", ["-c", script], { input: svg });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("readers", () => {
  it("parseCaddyfile: site addresses without scheme/port, reverse_proxy upstreams, respond; global block skipped", () => {
    const text =
      '{\n\tadmin off\n}\n\nhttp://a.example, b.example:8080 {\n\treverse_proxy 10.0.0.1:80 10.0.0.2:80 {\n\t\tlb_policy least_conn\n\t}\n}\n\n:80 {\n\trespond "hi" # comment\n}\n';
    expect(parseCaddyfile(text)).toEqual([
      { addresses: ["a.example", "b.example"], upstreams: ["10.0.0.1:80", "10.0.0.2:80"], responds: false },
      { addresses: [""], upstreams: [], responds: true },
    ]);
  });

  it("parseZone + resolveName: exact names, the closest wildcard, CNAMEs followed, outside names unknown", () => {
    const zone = parseZone(
      "$TTL 2d\n$ORIGIN lab.test.\n@\tIN\tNS\tns.lab.test.\nns\tIN\tA\t10.0.0.2\n*\tIN\tA\t10.0.0.3\n*.apps\tIN\tA\t10.0.0.4\nwww\tIN\tCNAME\tns\n",
    );
    expect(zone).toEqual({
      origin: "lab.test",
      records: [
        { name: "ns.lab.test", type: "A", value: "10.0.0.2" },
        { name: "*.lab.test", type: "A", value: "10.0.0.3" },
        { name: "*.apps.lab.test", type: "A", value: "10.0.0.4" },
        { name: "www.lab.test", type: "CNAME", value: "ns.lab.test" },
      ],
    });
    expect(resolveName([zone], "ns.lab.test")).toBe("10.0.0.2");
    expect(resolveName([zone], "x.y.lab.test")).toBe("10.0.0.3");
    expect(resolveName([zone], "fn.apps.lab.test")).toBe("10.0.0.4");
    expect(resolveName([zone], "www.lab.test")).toBe("10.0.0.2");
    expect(resolveName([zone], "example.com")).toBeUndefined();
    expect(() => parseZone("@ IN A 1.2.3.4\n")).toThrow("zone file has no $ORIGIN");
  });
});

describe("model from a synth fixture", () => {
  const t = buildTopology(readSynthDir(FIXTURE, "small"));

  it("groups: sites from the cluster nodes, the Proxmox host in the site of its node VMs, the cluster spanning both", () => {
    expect(t.title).toBe("kantai stack small (edge)");
    expect(t.groups).toEqual([
      { id: "cluster:grogu", kind: "cluster", label: "Kubernetes cluster grogu" },
      {
        id: "host:pve1",
        kind: "host",
        label: "Proxmox host pve1 · 192.168.1.10 · vmbr2 10.1.0.1/24",
        parent: "site:lab",
      },
      { id: "site:home", kind: "site", label: "site home" },
      { id: "site:lab", kind: "site", label: "site lab" },
    ]);
  });

  it("nodes: template and node VM on their host, a Pi in its site, workloads in the cluster, gateway, DNS, tunnel, names", () => {
    expect(t.nodes.map((n) => [n.id, n.kind, n.group ?? "-", [n.label, ...n.detail].join(" | ")])).toEqual([
      ["dns:example.lan", "dns", "host:pve1", "BIND example.lan | ns → 192.168.1.10 | * → 192.168.1.10"],
      ["ksvc:default/fib", "service", "cluster:grogu", "ksvc fib | namespace default"],
      ["name:*.grogu.example.lan", "hostname", "-", "*.grogu.example.lan"],
      ["name:blog.example.com", "hostname", "-", "blog.example.com"],
      ["name:fib.example.com", "hostname", "-", "fib.example.com | CNAME proxied"],
      ["name:status.example.lan", "hostname", "-", "status.example.lan | answered by Caddy"],
      ["node:grogu/pi-1", "k8s-node", "site:home", "pi-1 | 192.168.2.21 · 203.0.113.21 | k8s agent · cluster grogu"],
      ["server:gw-install", "server", "host:pve1", "Caddy gw"],
      ["svc:kourier-system/kourier", "service", "cluster:grogu", "svc kourier | namespace kourier-system | :80"],
      ["svc:kube-system/traefik", "service", "cluster:grogu", "svc traefik | namespace kube-system | :80"],
      ["svc:web/blog", "service", "cluster:grogu", "svc blog | namespace web | :8080"],
      ["tunnel:edge-tunnel", "tunnel", "-", "Cloudflare tunnel kantai-edge"],
      [
        "vm:grogu-server-1-vm",
        "k8s-node",
        "host:pve1",
        "server-1 | VM 700 · 10.1.0.10 | 4 vCPU, 4096 MB | k8s server · cluster grogu",
      ],
      ["vm:k3s-vm", "template", "host:pve1", "template-k3s | template 9000 | 2 vCPU, 2048 MB"],
    ]);
  });

  it("edges: who routes to whom (gateway, tunnel, Knative Host header, Traefik IngressRoute), DNS answers and clones", () => {
    expect(
      t.edges.map(
        (e) =>
          `${e.from} ${e.kind === "route" ? "->" : e.kind === "dns" ? "~>" : "=>"} ${e.to}${e.label ? ` [${e.label}]` : ""}`,
      ),
    ).toEqual([
      "name:*.grogu.example.lan ~> server:gw-install [A 192.168.1.10]",
      "name:blog.example.com -> tunnel:edge-tunnel [tunnel]",
      "name:fib.example.com -> tunnel:edge-tunnel [tunnel]",
      "name:status.example.lan ~> server:gw-install [A 192.168.1.10]",
      "server:gw-install -> vm:grogu-server-1-vm [*.grogu.example.lan → :80]",
      "svc:kourier-system/kourier -> ksvc:default/fib [fib.default.kn.example.com]",
      "svc:kube-system/traefik -> svc:web/blog [blog.example.com]",
      "tunnel:edge-tunnel -> svc:kourier-system/kourier [fib.example.com]",
      "tunnel:edge-tunnel -> svc:kube-system/traefik [blog.example.com]",
      "vm:grogu-server-1-vm -> ksvc:default/fib [Host header]",
      "vm:k3s-vm => vm:grogu-server-1-vm [clone]",
    ]);
  });

  it("reads cluster nodes from any `nodes` list in the outputs", () => {
    expect(
      outputClusterNodes({
        k8s: { cluster: "c1", nodes: [{ name: "a", ip: "10.0.0.1", role: "server" }, { name: "no-ip" }] },
        x: [1, 2],
      }),
    ).toEqual([{ cluster: "c1", name: "a", role: "server", ip: "10.0.0.1" }]);
  });

  it("is deterministic", () => {
    expect(buildTopology(readSynthDir(FIXTURE, "small"))).toEqual(t);
  });
});

describe("renderers", () => {
  const small: Topology = {
    title: "tiny",
    groups: [
      { id: "site:s", kind: "site", label: "site s" },
      { id: "host:pve", kind: "host", label: "Proxmox host pve", parent: "site:s" },
    ],
    nodes: [
      { id: "name:*.x.lan", kind: "hostname", label: "*.x.lan", detail: [] },
      { id: "vm:web", kind: "vm", label: "web", detail: ["VM 100 · 10.0.0.5"], group: "host:pve" },
      { id: "vm:tpl", kind: "template", label: "tpl", detail: ["template 9000"], group: "host:pve" },
    ],
    edges: [
      { from: "name:*.x.lan", to: "vm:web", kind: "dns", label: 'A "10.0.0.5"' },
      { from: "vm:tpl", to: "vm:web", kind: "clone" },
    ],
  };

  it("Mermaid text is exact for a small topology", () => {
    expect(renderMermaid(small)).toBe(
      [
        "---",
        "title: tiny",
        "---",
        "flowchart LR",
        '  name_wildcard_x_lan>"*.x.lan"]',
        '  subgraph site_s["site s"]',
        '    subgraph host_pve["Proxmox host pve"]',
        '      vm_web["web<br/>VM 100 · 10.0.0.5"]',
        '      vm_tpl[/"tpl<br/>template 9000"/]',
        "    end",
        "  end",
        '  name_wildcard_x_lan -.->|"A #quot;10.0.0.5#quot;"| vm_web',
        "  vm_tpl -.-> vm_web",
        "  classDef template fill:#eef2f7,stroke:#64748b,stroke-dasharray:4 2",
        "  class vm_tpl template",
        "  classDef vm fill:#e0f2fe,stroke:#0369a1",
        "  class vm_web vm",
        "  classDef hostname fill:#ffffff,stroke:#475569",
        "  class name_wildcard_x_lan hostname",
        "",
      ].join("\n"),
    );
  });

  it("layout: nodes inside their groups, groups inside their parents, nothing outside the canvas", () => {
    const l = layoutTopology(small);
    const inside = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
      a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
    const group = (id: string) => l.groups.find((g) => g.group.id === id)!;
    for (const n of l.nodes) if (n.node.group) expect(inside(n, group(n.node.group)), n.node.id).toBe(true);
    expect(inside(group("host:pve"), group("site:s"))).toBe(true);
    for (const b of [...l.nodes, ...l.groups])
      expect(inside(b, { x: 0, y: 0, width: l.width, height: l.height })).toBe(true);
    expect(l.edges.map((e) => e.points.length >= 2)).toEqual([true, true]);
  });

  it("SVG is well-formed XML with every node and group, escaped text", () => {
    const svg = renderSvg(layoutTopology(small), "tiny <&>");
    const parsed = parseSvg(svg);
    expect(parsed.root).toBe("{http://www.w3.org/2000/svg}svg");
    expect(parsed.nodeIds).toEqual(["name:*.x.lan", "vm:web", "vm:tpl"]);
    expect(parsed.groupIds).toEqual(["site:s", "host:pve"]);
    expect(parsed.edges).toBe(2);
    expect(svg).toContain("<title>tiny &lt;&amp;&gt;</title>");
    expect(svg).toContain("A &quot;10.0.0.5&quot;");
  });
});

describe("npm run diagram", () => {
  const stacks = fs
    .readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
  const run = (args: string[]) =>
    spawnSync(
      process.execPath,
      [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "scripts", "diagram.ts"), ...args],
      { encoding: "utf8", cwd: ROOT, timeout: 120_000 },
    );

  const outputs: Record<string, string> = {}; // stack → base path of its diagram files

  it("draws every stack of the repository offline (synth included): Mermaid and an SVG that parses, with the same nodes", () => {
    expect(stacks).toContain("dev");
    for (const stack of stacks) {
      const base = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kantai-diagram-")), stack);
      outputs[stack] = base;
      const r = run(["--stack", stack, "--out", `${base}.svg`]);
      expect(r.status, r.stderr).toBe(0);
      const m = new RegExp(`^diagram ${stack}: (\\d+) nodes, (\\d+) edges -> ${base}\\.mmd, ${base}\\.svg\\n$`).exec(
        r.stdout,
      );
      expect(m, r.stdout).not.toBeNull();
      const parsed = parseSvg(fs.readFileSync(`${base}.svg`, "utf8"));
      expect(parsed.nodeIds.length, stack).toBe(Number(m![1]));
      expect(parsed.nodeIds.length, stack).toBeGreaterThan(3);
      expect(parsed.edges, stack).toBe(Number(m![2]));
      const mmd = fs.readFileSync(`${base}.mmd`, "utf8");
      expect(mmd.startsWith(`---\ntitle: kantai stack ${stack}`), stack).toBe(true);
      for (const id of parsed.nodeIds)
        expect(mmd, `${stack} ${id}`).toMatch(new RegExp(`^  +${mermaidId(id)}[\\[(>{]`, "m"));
      // The committed diagrams are reproducible: what a fresh run draws, byte for byte
      // (redraw with `npm run diagram -- --stack <stack> --write-docs`).
      const committed = path.join(ROOT, "docs", "diagrams", stack);
      if (fs.existsSync(`${committed}.mmd`)) {
        expect(mmd, `docs/diagrams/${stack}.mmd is stale`).toBe(fs.readFileSync(`${committed}.mmd`, "utf8"));
        expect(fs.readFileSync(`${base}.svg`, "utf8"), `docs/diagrams/${stack}.svg is stale`).toBe(
          fs.readFileSync(`${committed}.svg`, "utf8"),
        );
      }
    }
    expect(fs.readdirSync(path.join(ROOT, "docs", "diagrams")).sort()).toEqual(
      stacks.flatMap((s) => [`${s}.mmd`, `${s}.svg`]),
    );
  });

  it("by default writes under out/diagrams/ (untracked), never over the committed docs/diagrams/", () => {
    const docs = path.join(ROOT, "docs", "diagrams", "small");
    const out = path.join(ROOT, "out", "diagrams", "small");
    fs.rmSync(`${out}.mmd`, { force: true });
    fs.rmSync(`${out}.svg`, { force: true });
    const r = run(["--stack", "small", "--synth-dir", FIXTURE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^diagram small: \\d+ nodes, \\d+ edges -> ${out}\\.mmd, ${out}\\.svg\\n$`));
    expect(fs.readFileSync(`${out}.mmd`, "utf8")).toBe(renderMermaid(buildTopology(readSynthDir(FIXTURE, "small"))));
    expect(fs.existsSync(`${docs}.mmd`) || fs.existsSync(`${docs}.svg`)).toBe(false);
    fs.rmSync(`${out}.mmd`, { force: true });
    fs.rmSync(`${out}.svg`, { force: true });
    const both = run(["--stack", "small", "--synth-dir", FIXTURE, "--write-docs", "--out", "x"]);
    expect(both.status).toBe(2);
    expect(both.stderr.split("\n")[0]).toBe("diagram: give --out or --write-docs, not both");
  });

  it("an unknown stack is one line naming the stacks there are, before anything runs", () => {
    const r = run(["--stack", "nonexistent"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `diagram: stack file ${path.join(ROOT, "Pulumi.nonexistent.yaml")} does not exist: the stacks are ${stacks.join(", ")} (or give --stack-file <path>)\n`,
    );
    expect(r.stdout).toBe("");
  });

  it("--check compares with the files instead of writing them: exit 0 when current, 1 naming the stale file", () => {
    const base = outputs.dev;
    const same = run(["--stack", "dev", "--out", base, "--check"]);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toBe("diagram dev: up to date\n");
    fs.appendFileSync(`${base}.svg`, "<!-- edited -->\n");
    const stale = run(["--stack", "dev", "--out", base, "--check"]);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toBe(`${base}.svg is out of date: npm run diagram -- --stack dev --out ${base}\n`);
    expect(stale.stdout).toBe("diagram dev: 1 file(s) out of date\n");
  });

  it("the committed dev diagram: hosts, VMs, gateway, LB fan-out and public names, in both files", () => {
    const mmd = fs.readFileSync(path.join(ROOT, "docs", "diagrams", "dev.mmd"), "utf8");
    const parsed = parseSvg(fs.readFileSync(path.join(ROOT, "docs", "diagrams", "dev.svg"), "utf8"));
    expect(parsed.groupIds).toContain("host:pve");
    for (const id of [
      "dns:hosts.pve",
      "name:*.standalone.hosts.pve",
      "name:test.hosts.pve",
      "server:hosts-install",
      "vm:kenobi-lb-vm",
      "vm:standalone-vm",
      ...[1, 2, 3, 4, 5].map((i) => `vm:kenobi-${i}-vm`),
    ]) {
      expect(parsed.nodeIds, id).toContain(id);
      expect(mmd, id).toContain(mermaidId(id));
    }
    expect(mmd).toContain('  server_hosts_install -->|"*.standalone.hosts.pve → :80"| vm_kenobi_lb_vm\n');
    expect(mmd).toContain('  vm_kenobi_lb_vm -->|"5 sites → :3000"| vm_kenobi_1_vm\n');
    expect(mmd).toContain('  vm_kenobi_lb_vm -->|"five.standalone.hosts.pve → :3000"| vm_kenobi_5_vm\n');
  });

  it("--synth-dir reads an existing synth output; usage errors exit 2", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kantai-diagram-")), "small");
    const r = run(["--stack", "small", "--synth-dir", FIXTURE, "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(`${out}.mmd`, "utf8")).toBe(renderMermaid(buildTopology(readSynthDir(FIXTURE, "small"))));
    expect(parseSvg(fs.readFileSync(`${out}.svg`, "utf8")).nodeIds).toHaveLength(14);
    const bad = run([]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(
      "diagram: missing --stack <name>\nusage: npm run diagram -- --stack <name> [--out <file> | --write-docs] [--synth-dir <dir>] [--stack-file <path>] [--check]\n",
    );
  });
});
