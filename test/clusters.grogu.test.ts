/**
 * GroguNode in the dev stack, recorded under Pulumi's mock runtime (SIMULATED): the VM, the SSH
 * steps in order (VM → Minikube → Knative → Caddy and kubeconfig → provider → the demo function),
 * exact inputs, and the gateway's route to grogu coming from grogu.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { KOURIER_INGRESS_CLASS } from "../lib/render/grogu";
import { asRoot, asUser } from "../lib/render/remoteShell";
import { recordProgram, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";

let resources: RecordedResource[] = [];
let artifacts: { path: string; kind: string; resource: string; content: string }[] = [];

beforeAll(async () => {
  const { config, secretKeys } = devStackConfig();
  const { run } = await import("../stacks");
  const { resolveDeep } = await import("../scripts/synth/recorder");
  const rec = await recordProgram(() => run(), { config, secretKeys, stack: "dev" });
  resources = rec.resources;
  artifacts = (await resolveDeep(rec.result.artifacts, true)) as typeof artifacts;
});

const byName = (n: string) => {
  const r = resources.find((x) => x.name === n);
  if (!r) throw new Error(`no resource named ${n}`);
  return r as RecordedResource & { inputs: any };
};
const file = (p: string) => {
  const a = artifacts.find((x) => x.path === p);
  if (!a) throw new Error(`no artifact ${p}`);
  return a.content;
};

describe("grogu in the dev stack", () => {
  it("its children, in order: VM → Minikube → Knative → Caddy and kubeconfig", () => {
    expect(
      resources.filter((r) => r.name.startsWith("grogu")).map((r) => `${r.type} ${r.name} <- ${r.dependsOn.join(",")}`),
    ).toEqual([
      "kantai:k8s:GroguNode grogu <- lan,hosts",
      "kantai:proxmox:ClonedVm grogu-vm <- ",
      "proxmoxve:index/fileLegacy:FileLegacy grogu-vm-user-data <- ",
      "proxmoxve:index/vmLegacy:VmLegacy grogu-vm-vm <- ",
      "command:remote:Command grogu-minikube <- grogu-vm",
      "command:remote:Command grogu-knative <- grogu-minikube",
      "command:remote:Command grogu-caddy <- grogu-knative",
      "command:remote:Command grogu-kubeconfig <- grogu-knative",
      "pulumi:providers:kubernetes grogu-k8s <- ",
    ]);
  });

  // Issue 10 item 8: a replaced VM keeps its ID and address, so without replaceWith the steps' inputs
  // would not change and nothing would run on the new machine
  // (https://www.pulumi.com/docs/iac/concepts/resources/options/replacewith/).
  it("every step on grogu's VM is replaced with the VM (replaceWith)", () => {
    for (const step of ["minikube", "knative", "caddy", "kubeconfig"]) {
      expect(resources.find((r) => r.name === `grogu-${step}`)?.replaceWith, step).toEqual(["grogu-vm-vm"]);
    }
  });

  it("the VM: 600 cloned from the knative template (9000), 6 cores / 8 GB at 10.0.0.10", () => {
    expect(byName("grogu-vm-vm").inputs).toMatchObject({
      nodeName: "pve",
      vmId: 600,
      name: "grogu",
      clone: { vmId: 9000, nodeName: "pve", datastoreId: "local-lvm", full: true },
      cpu: { cores: 6, sockets: 1 },
      memory: { dedicated: 8192 },
      tags: ["kantai", "grogu", "knative"],
      initialization: {
        ipConfigs: [{ ipv4: { address: "10.0.0.10/24", gateway: "10.0.0.1" } }],
        // Content-addressed (components/proxmox/clonedVm.ts): a changed user-data never reuses the old file's path.
        userDataFileId: expect.stringMatching(/^local:snippets\/kantai-grogu-[0-9a-f]{12}\.user-data\.yaml$/),
      },
    });
    const ud = parse(file("grogu/grogu.user-data.yaml").replace(/^#cloud-config\n/, ""));
    expect(ud.packages).toEqual(["qemu-guest-agent", "git", "make", "curl", "docker.io", "conntrack"]);
    expect(ud.write_files[0]).toMatchObject({
      path: "/usr/local/sbin/kantai-grogu-tools",
      permissions: "0755",
      content: file("grogu/tools.sh"),
    });
    expect(ud.runcmd.at(-1)).toEqual(["/usr/local/sbin/kantai-grogu-tools"]);
    expect(file("grogu/tools.sh")).toContain("https://dl.k8s.io/release/v1.34.1/bin/linux/amd64/kubectl");
    expect(file("grogu/tools.sh")).toContain(
      "https://storage.googleapis.com/minikube/releases/v1.37.0/minikube-linux-amd64",
    );
    expect(file("grogu/tools.sh")).toContain("sha256sum -c -");
  });

  it("Minikube: all CPUs and memory, the seed's addons, pinned Kubernetes, API published on grogu's address", () => {
    const s = file("grogu/minikube-start.sh");
    expect(s).toContain(
      "ExecStart=/usr/local/bin/minikube start --profile=minikube --driver=docker --cpus=max --memory=max --kubernetes-version=v1.34.0 --static-ip=192.168.49.2 --listen-address=0.0.0.0 --apiserver-ips=10.0.0.10 --ports=8443:8443 --addons=dashboard,metrics-server",
    );
    expect(s).toContain("minikube addons enable 'dashboard' --profile=minikube");
    expect(byName("grogu-minikube").inputs.create).toBe(asUser(s, "kantai-minikube"));
    expect(byName("grogu-minikube").inputs.connection).toBe("[secret]");
  });

  it("Knative: Serving CRDs + core and net-kourier at the pinned versions, Kourier's ingress class, the domain, fixed NodePorts", () => {
    const s = file("grogu/knative.sh");
    expect(s).toContain("https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-crds.yaml");
    expect(s).toContain("https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-core.yaml");
    expect(s).toContain(
      "https://github.com/knative-extensions/net-kourier/releases/download/knative-v1.23.0/kourier.yaml",
    );
    expect(s).toContain(`'{"data":{"ingress-class":"${KOURIER_INGRESS_CLASS}"}}'`);
    expect(s).toContain(`patch configmap/config-domain --type merge -p '{"data":{"local.knative":""}}'`);
    expect(s).toContain(
      `patch service/kourier -p '{"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":31080}]}}'`,
    );
    expect(s).toContain(
      `patch service/kubernetes-dashboard -p '{"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30000}]}}'`,
    );
    expect(s).toMatch(/wait deployment --all --for=condition=Available --timeout=600s/);
    expect(byName("grogu-knative").inputs.create).toBe(asUser(s, "kantai-knative"));
  });

  it("grogu's Caddy runs as root from its own step; the root gateway routes *.grogu to it", () => {
    expect(byName("grogu-caddy").inputs.create).toBe(asRoot(file("grogu/caddy.sh"), "kantai-caddy"));
    expect(file("grogu/caddy.sh")).toContain(file("grogu/Caddyfile"));
    expect(file("hosts/Caddyfile")).toContain("http://*.grogu.hosts.pve {\n\treverse_proxy 10.0.0.10:80\n}");
  });

  it("the kubeconfig: not logged, a secret, server rewritten; the provider and the demo use it", () => {
    const kc = byName("grogu-kubeconfig").inputs;
    expect(kc.logging).toBe("none");
    expect(kc.triggers).toEqual(["v1.34.0", 8443]);
    expect(kc.create).toBe(asUser(file("grogu/kubeconfig.sh"), "kantai-kubeconfig"));
    expect(byName("grogu-k8s").inputs).toEqual({
      kubeconfig: "[secret]",
      enableServerSideApply: "true",
      enableConfigMapMutable: "true",
    });
    expect(byName("fibonacci-behavior").dependsOn).toEqual(["grogu"]);
  });

  it("the demo: seed 000's fibonacci-behavior (target 200, 0–5 pods, 30s window, burst -1, 200m/512M, 1 CPU)", () => {
    const svc = byName("fibonacci-behavior-service").inputs;
    expect(svc.metadata).toMatchObject({ name: "fibonacci-behavior", namespace: "default" });
    const source = byName("fibonacci-behavior-source").inputs;
    const sha = createHash("sha256")
      .update("server.js")
      .update("\0")
      .update(source.data["server.js"])
      .update("\0")
      .digest("hex");
    expect(svc.spec.template.metadata.annotations).toEqual({
      "autoscaling.knative.dev/target": "200",
      "autoscaling.knative.dev/min-scale": "0",
      "autoscaling.knative.dev/max-scale": "5",
      "autoscaling.knative.dev/window": "30s",
      "autoscaling.knative.dev/target-burst-capacity": "-1",
      "kantai.dev/source-sha256": sha,
    });
    expect(svc.spec.template.spec.containers[0]).toMatchObject({
      image: "node:22-alpine",
      command: ["node", "/app/server.js"],
      volumeMounts: [{ name: "source", mountPath: "/app", readOnly: true }],
      resources: { requests: { cpu: "200m", memory: "512M" }, limits: { cpu: "1", memory: "512M" } },
    });
    expect(svc.spec.template.spec.volumes).toEqual([
      { name: "source", configMap: { name: "fibonacci-behavior-source" } },
    ]);
  });

  it("the demo runs the repo's web/server.js from a ConfigMap (nothing to build)", () => {
    const source = byName("fibonacci-behavior-source");
    expect(source.inputs.metadata).toMatchObject({ name: "fibonacci-behavior-source", namespace: "default" });
    expect(source.inputs.data).toEqual({
      "server.js": fs.readFileSync(path.join(__dirname, "..", "web", "server.js"), "utf8"),
    });
    expect(byName("fibonacci-behavior-service").dependsOn).toEqual(["fibonacci-behavior-source"]);
  });
});
