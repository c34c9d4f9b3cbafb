/**
 * Every file synth renders for the dev stack is checked by the real tool that will read it:
 * cloud-init schema, caddy validate/adapt, named-checkconf, named-checkzone, shellcheck.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseManifests } from "../lib/render/k8s";
import { validateAll } from "./support/k8sSchemas";
import { runSynth, runTool } from "./support/tools";

interface Entry {
  path: string;
  kind: string;
  resource: string;
}

const out = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-synth-"));
let artifacts: Entry[] = [];

beforeAll(() => {
  const r = runSynth(["--stack", "dev", "--out", out]);
  expect(r.status, r.stderr).toBe(0);
  artifacts = JSON.parse(fs.readFileSync(path.join(out, "artifacts.json"), "utf8"));
});

const validators: Record<string, (file: string) => void | Promise<void>> = {
  "cloud-init": (f) => {
    const r = runTool("cloud-init", ["schema", "--config-file", f]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("Valid cloud-config");
  },
  caddyfile: (f) => {
    const r = runTool("caddy", ["validate", "--adapter", "caddyfile", "--config", f]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain("Valid configuration");
  },
  "named-conf": (f) => {
    const r = runTool("named-checkconf", [f]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  },
  "bind-zone": (f) => {
    const origin = /^\$ORIGIN (\S+)\.$/m.exec(fs.readFileSync(f, "utf8"))![1];
    const r = runTool("named-checkzone", [origin, f]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK/);
  },
  shell: (f) => {
    const r = runTool("shellcheck", ["--shell=sh", "--severity=style", f]);
    expect(r.status, r.stdout).toBe(0);
  },
  kubernetes: async (f) => {
    expect(await validateAll(parseManifests(fs.readFileSync(f, "utf8"))), f).toEqual([]);
  },
};

describe("synth dev artifacts", () => {
  it("lists exactly the files the dev stack renders", () => {
    expect(artifacts.map((a) => `${a.kind} ${a.path}`).sort()).toEqual(
      [
        "shell files/lan/nat-create.sh",
        "shell files/lan/nat-delete.sh",
        ...[1, 2, 3, 4, 5].map((i) => `cloud-init files/kenobi/kenobi-${i}.user-data.yaml`),
        "cloud-init files/kenobi/kenobi-6.user-data.yaml",
        "caddyfile files/kenobi/kenobi-6.Caddyfile",
        "shell files/kenobi/kenobi-6.config.sh",
        "named-conf files/hosts/named.conf",
        "bind-zone files/hosts/db.hosts.pve",
        "caddyfile files/hosts/Caddyfile",
        "shell files/hosts/install.sh",
        "shell files/hosts/remove.sh",
        "cloud-init files/grogu/grogu.user-data.yaml",
        "cloud-init files/ci-runner/ci-runner.user-data.yaml",
        ...["tools", "minikube-start", "knative", "caddy", "kubeconfig"].map((s) => `shell files/grogu/${s}.sh`),
        "caddyfile files/grogu/Caddyfile",
        "kubernetes files/fibonacci-behavior/knative-service.yaml",
      ].sort(),
    );
    for (const a of artifacts) expect(fs.existsSync(path.join(out, a.path)), a.path).toBe(true);
  });

  it("passes its real validator, file by file", async () => {
    expect(artifacts.length).toBeGreaterThan(0);
    for (const a of artifacts) {
      const v = validators[a.kind];
      expect(v, `no validator for kind ${a.kind}`).toBeDefined();
      await v(path.join(out, a.path));
    }
  });

  it("cloud-init rejects what the validator should reject (the check can fail)", () => {
    const bad = path.join(out, "bad.yaml");
    fs.writeFileSync(bad, "#cloud-config\nssh_pwauth: maybe\npackages: 3\n");
    const r = runTool("cloud-init", ["schema", "--config-file", bad]);
    expect(r.status).not.toBe(0);
  });

  it("the load balancer's sites, as Caddy itself reads them: site k → first k backends, least_conn, health checks", () => {
    const r = runTool("caddy", [
      "adapt",
      "--adapter",
      "caddyfile",
      "--config",
      path.join(out, "files/kenobi/kenobi-6.Caddyfile"),
    ]);
    expect(r.status, r.stderr).toBe(0);
    const cfg = JSON.parse(r.stdout);
    const routes = Object.values(cfg.apps.http.servers as Record<string, { routes: any[] }>).flatMap((s) => s.routes);
    const backendsOf = (host: string) => {
      const route = routes.find((rt) => rt.match?.[0]?.host?.includes(host));
      expect(route, host).toBeDefined();
      const rp = JSON.stringify(route);
      const proxy = JSON.parse(rp).handle[0].routes[0].handle[0];
      expect(proxy.handler).toBe("reverse_proxy");
      expect(proxy.load_balancing.selection_policy.policy).toBe("least_conn");
      expect(proxy.health_checks.active.uri).toBe("/healthz");
      return proxy.upstreams.map((u: { dial: string }) => u.dial);
    };
    const all = ["10.0.0.30:3000", "10.0.0.31:3000", "10.0.0.32:3000", "10.0.0.33:3000", "10.0.0.34:3000"];
    ["one", "two", "three", "four", "five"].forEach((w, i) => {
      expect(backendsOf(`${w}.standalone.hosts.pve`)).toEqual(all.slice(0, i + 1));
    });
  });

  it("the root proxy routes the fleet's wildcard to the load balancer and grogu's to grogu", () => {
    const r = runTool("caddy", [
      "adapt",
      "--adapter",
      "caddyfile",
      "--config",
      path.join(out, "files/hosts/Caddyfile"),
    ]);
    expect(r.status, r.stderr).toBe(0);
    const text = r.stdout;
    const cfg = JSON.parse(text);
    const routes = Object.values(cfg.apps.http.servers as Record<string, { routes: any[] }>).flatMap((s) => s.routes);
    const upstreamOf = (host: string) => {
      const route = routes.find((rt) => rt.match?.[0]?.host?.includes(host));
      return JSON.stringify(route).match(/"dial":"([^"]+)"/)?.[1];
    };
    expect(upstreamOf("*.standalone.hosts.pve")).toBe("10.0.0.35:80");
    expect(upstreamOf("*.grogu.hosts.pve")).toBe("10.0.0.10:80");
  });

  it("the zone answers the wildcard and ns with the gateway address (named-checkzone's canonical dump)", () => {
    const r = runTool("named-checkzone", ["-D", "hosts.pve", path.join(out, "files/hosts/db.hosts.pve")]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\*\.hosts\.pve\.\s+172800\s+IN\s+A\s+10\.15\.40\.20$/m);
    expect(r.stdout).toMatch(/^ns\.hosts\.pve\.\s+172800\s+IN\s+A\s+10\.15\.40\.20$/m);
    expect(r.stdout).toMatch(/SOA\s+ns\.hosts\.pve\. info\.hosts\.pve\. \d+ 43200 900 1814400 7200/);
  });
});
