/**
 * The example consumer (examples/consumer) reads kantai's outputs through a StackReference with
 * the contract's types: it typechecks, the compiler refuses keys outside the contract, and under
 * Pulumi mocks (SIMULATED) it resolves a stack's outputs and keeps the kubeconfig secret.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { EdgeOutputs } from "../stacks/outputs";
import { ROOT } from "./support/devConfig";

const tsc = (project: string) =>
  spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", project], {
    encoding: "utf8",
    cwd: ROOT,
    timeout: 120_000,
  });

/** What an edge stack exports (the shape synth writes to outputs.json), with a real-looking kubeconfig. */
const EDGE: EdgeOutputs = {
  composition: "edge",
  cluster: "edge",
  apiServer: "https://203.0.113.21:6443",
  kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n",
  nodes: [
    { name: "pi-1", role: "server", site: "home", ip: "192.168.1.21", externalIp: "203.0.113.21", kind: "host" },
    { name: "edge-vm-1", role: "server", site: "lab", ip: "10.0.0.41", kind: "vm" },
  ],
  knative: {
    domain: "kn.example.com",
    ingress: "kourier",
    ingressService: "kourier.kourier-system.svc.cluster.local:80",
    releases: [],
  },
  tunnel: { id: "t-1", cname: "t-1.cfargotunnel.com", hostnames: ["blog.example.com", "fib.example.com"] },
  serviceUrls: { blog: "https://blog.example.com", fibonacci: "https://fib.example.com" },
};

describe("examples/consumer", () => {
  it("typechecks against stacks/outputs.ts, and the compiler refuses an output the contract does not have", () => {
    // One compiler run over the example and a consumer that misspells an output key.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-consumer-"));
    fs.writeFileSync(
      path.join(dir, "bad.ts"),
      `import * as pulumi from "${path.join(ROOT, "node_modules", "@pulumi", "pulumi")}";\n` +
        `import { kantaiStack } from "${path.join(ROOT, "examples", "consumer", "kantai")}";\n` +
        `export const x = kantaiStack(new pulumi.StackReference("o/kantai/edge"), "edge").kubeConfig;\n`,
    );
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: path.join(ROOT, "examples", "consumer", "tsconfig.json"),
        compilerOptions: { typeRoots: [path.join(ROOT, "node_modules", "@types")] },
        include: [],
        files: [path.join(ROOT, "examples", "consumer", "index.ts"), "bad.ts"],
      }),
    );
    const r = tsc(path.join(dir, "tsconfig.json"));
    expect(r.status).not.toBe(0);
    const errors = r.stdout.split("\n").filter((l) => /error TS/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /bad\.ts\(3,\d+\): error TS2551: Property 'kubeConfig' does not exist on type 'StackOutputsOf<EdgeOutputs>'\. Did you mean 'kubeconfig'\?$/,
    );
  });
});

describe("examples/consumer under mocks", () => {
  let exported: Record<string, unknown>;
  let kubeconfigSecret: boolean;
  let kubeconfigValue: unknown;
  let check: typeof import("../examples/consumer/kantai").checkComposition;

  beforeAll(async () => {
    const pulumi = await import("@pulumi/pulumi");
    pulumi.runtime.setAllConfig({ "kantai-consumer:kantaiStack": "acme/kantai/edge" });
    pulumi.runtime.setMocks(
      {
        newResource(a) {
          if (a.type === "pulumi:pulumi:StackReference") {
            const outputs = a.inputs.name === "acme/kantai/edge" ? EDGE : { ...EDGE, composition: "lab" };
            return { id: a.inputs.name, state: { name: a.inputs.name, outputs, secretOutputNames: ["kubeconfig"] } };
          }
          return { id: `${a.name}-id`, state: a.inputs };
        },
        call: (a) => a.inputs,
      },
      "kantai-consumer",
      "dev",
      false,
    );
    const program = await import("../examples/consumer/index");
    const { kantaiStack, checkComposition } = await import("../examples/consumer/kantai");
    check = checkComposition;
    const value = (o: any) => new Promise((resolve) => o.apply(resolve));
    exported = {};
    for (const [k, v] of Object.entries(program)) exported[k] = await value(v);
    const edge = kantaiStack(new pulumi.StackReference("acme/kantai/edge"), "edge");
    kubeconfigSecret = await (edge.kubeconfig as any).isSecret;
    kubeconfigValue = await value(edge.kubeconfig);
  });

  it("exports what it read from the edge stack", () => {
    expect(exported).toEqual({
      namespace: "team-a",
      apiServer: "https://203.0.113.21:6443",
      knativeDomain: "kn.example.com",
      publicHostnames: ["blog.example.com", "fib.example.com"],
      blogUrl: "https://blog.example.com",
      siteNodes: ["pi-1@home"],
    });
  });

  it("the kubeconfig arrives as a secret", () => {
    expect(kubeconfigSecret).toBe(true);
    expect(kubeconfigValue).toBe(EDGE.kubeconfig);
  });

  it("a reference to a stack of another composition fails with its name (the check kantaiStack applies to `composition`)", () => {
    expect(check("acme/kantai/edge", "edge", "edge")).toBe("edge");
    expect(() => check("acme/kantai/lab", "lab", "edge")).toThrow('acme/kantai/lab is a "lab" stack, not "edge"');
  });
});
