/**
 * Issue 10 item 6: every K3s cluster has an API address reachable from where `pulumi up` runs.
 * A VM first server sits on the internal bridge (10.0.0.x), which that machine cannot reach (SSH
 * goes through the Proxmox host as a jump host; the Kubernetes provider cannot), so kantai forwards
 * a port of the Proxmox host to it (lib/render/apiForward.ts, run for real in test/apiForward.test.ts)
 * and writes the host's address into the kubeconfig and the API certificate: K3s' `tls-san` "adds
 * additional hostnames or IPv4/IPv6 addresses as Subject Alternative Names on the server TLS cert"
 * (https://docs.k3s.io/cli/server#listeners). Config rules with exact messages, then the lab stack
 * recorded under Pulumi mocks (SIMULATED: nothing runs).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { decodeConfigValue, parseConfig } from "../stacks/config";
import { readStackFile } from "../scripts/synth/stackFile";
import type { RecordedResource } from "../scripts/synth/recorder";
import * as path from "node:path";
import { ROOT } from "./support/devConfig";
import { problems as configProblems } from "./support/configProblems";

function labRaw(): Record<string, any> {
  const { config } = readStackFile(path.join(ROOT, "Pulumi.lab.yaml"));
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(config)) raw[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return structuredClone(raw);
}
function edgeRaw(): Record<string, any> {
  const { config } = readStackFile(path.join(ROOT, "Pulumi.edge.yaml"));
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(config)) raw[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return structuredClone(raw);
}
const problems = (raw: Record<string, unknown>, stack: string) => configProblems(raw, { stack });

describe("kantai:k3s.<cluster>.apiForward", () => {
  it("defaults to a forward on the first server's Proxmox node, port 6443, when that server is a VM", () => {
    const [lab] = parseConfig(labRaw(), { stack: "lab" }).k3s;
    expect(lab.apiForward).toEqual({ port: 6443, node: "pve" });
    expect(lab.apiAddress).toBeUndefined();
  });
  it("is off for a cluster whose first server is a host (edge: pi-1), and with null, and with an explicit apiAddress", () => {
    expect(parseConfig(edgeRaw(), { stack: "edge" }).k3s[0].apiForward).toBeUndefined();
    const off = labRaw();
    off.k3s.lab.apiForward = null;
    expect(parseConfig(off, { stack: "lab" }).k3s[0].apiForward).toBeUndefined();
    const routed = labRaw();
    routed.k3s.lab.apiAddress = "10.0.0.50";
    expect(parseConfig(routed, { stack: "lab" }).k3s[0].apiForward).toBeUndefined();
  });
  it("takes a port", () => {
    const raw = labRaw();
    raw.k3s.lab.apiForward = { port: 16443 };
    expect(parseConfig(raw, { stack: "lab" }).k3s[0].apiForward).toEqual({ port: 16443, node: "pve" });
  });
  it.each([
    [
      "a forward to a first server that is no VM",
      "edge",
      (r: any) => (r.k3s.edge.apiForward = { port: 16443 }),
      'kantai:k3s.edge.apiForward: forwards to the first server, "pi-1", which is not a Proxmox VM (it is reached at its own address): remove apiForward',
    ],
    [
      "the Proxmox UI's port",
      "lab",
      (r: any) => (r.k3s.lab.apiForward = { port: 8006 }),
      "kantai:k3s.lab.apiForward.port: 8006 is the Proxmox web UI and API on the Proxmox host; choose another port",
    ],
    [
      "SSH's port",
      "lab",
      (r: any) => (r.k3s.lab.apiForward = { port: 22 }),
      "kantai:k3s.lab.apiForward.port: 22 is SSH on the Proxmox host; choose another port",
    ],
    [
      "two clusters forwarding one port",
      "lab",
      (r: any) => {
        r.k3s.lab2 = {
          sites: { lab: { cidr: "10.0.0.0/24" } },
          nodes: [
            { name: "lab2-cp", role: "server", site: "lab", ip: "10.0.0.60", vm: { vmId: 760, template: "k3s" } },
          ],
        };
      },
      'kantai:k3s.lab2.apiForward.port: port 6443 on Proxmox node "pve" already forwards to cluster "lab"; give this cluster another port',
    ],
  ])("%s", (_what, stack, edit, message) => {
    const raw = stack === "lab" ? labRaw() : edgeRaw();
    edit(raw);
    expect(problems(raw, stack)).toEqual([message]);
  });
});

describe("the lab stack's cluster API (recorded)", () => {
  let resources: RecordedResource[] = [];
  let outputs: any;
  let artifacts: { path: string; content: string; resource: string }[] = [];
  let kubeconfigDeps: string[] = [];
  beforeAll(async () => {
    const { config, secretKeys } = readStackFile(path.join(ROOT, "Pulumi.lab.yaml"));
    const { run } = await import("../stacks");
    const { recordProgram, resolveDeep } = await import("../scripts/synth/recorder");
    const rec = await recordProgram(() => run(), { config, secretKeys, stack: "lab" });
    resources = rec.resources;
    // The resources the kubeconfig Output depends on (what the Kubernetes provider, and so every
    // object on the cluster, waits for).
    const deps = await (
      (rec.result.outputs as { kubeconfig?: unknown }).kubeconfig as unknown as {
        allResources(): Promise<Set<unknown>>;
      }
    ).allResources();
    kubeconfigDeps = [...deps].map((r) => (r as { __name?: string }).__name ?? "?").sort();
    outputs = await resolveDeep(rec.result.outputs);
    artifacts = (await resolveDeep(rec.result.artifacts, true)) as typeof artifacts;
  });
  const byName = (n: string) => resources.find((r) => r.name === n) as RecordedResource & { inputs: any };

  it("points the kubeconfig at the Proxmox host's address and the forwarded port", () => {
    expect(outputs.apiServer).toBe("https://10.15.40.20:6443");
  });
  it("the kubeconfig (and so every object on the cluster) waits for the forward as well as the read", () => {
    expect(kubeconfigDeps).toEqual(expect.arrayContaining(["lab-api-forward", "lab-kubeconfig"]));
  });
  it("puts that address into the first server's certificate (tls-san)", () => {
    const cfg = parse(artifacts.find((a) => a.path === "lab/lab-cp.config.yaml")!.content);
    expect(cfg["tls-san"]).toEqual(["10.15.40.20", "10.0.0.50"]);
  });
  it("sets up the forward on the Proxmox host (its create and delete scripts), with the same SSH key", () => {
    const fwd = byName("lab-api-forward");
    expect(fwd.type).toBe("command:remote:Command");
    expect(fwd.parent).toBe("lab");
    expect(fwd.inputs.create).toBe(artifacts.find((a) => a.path === "lab/api-forward-create.sh")!.content);
    expect(fwd.inputs.delete).toBe(artifacts.find((a) => a.path === "lab/api-forward-delete.sh")!.content);
    expect(fwd.inputs.create).toContain("--to-destination 10.0.0.50:6443");
    expect(fwd.inputs.create).toContain("--dport 6443");
    expect(fwd.inputs.connection).toBe("[secret]");
  });
});
