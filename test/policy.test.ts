/**
 * The policy pack (policy/): each rule as a pure function with passing and failing cases and exact
 * messages; the secret tracking the stack-outputs rule needs under CrossGuard, against
 * @pulumi/policy's own deserializer; the whole rule set over every stack's synth output (passes)
 * and over a mutated copy (fails with the expected violations); and the pack served over gRPC by
 * @pulumi/pulumi's run-policy-pack, exactly as the engine starts it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  AGENT_OPTOUT_TAG,
  k8sResources,
  noPasswordSsh,
  plaintextSecretOutputs,
  RESOURCE_RULES,
  templatesProtected,
  tunnelDnsProxied,
  userDataPasswordFindings,
  vmGuestAgent,
  type ResourceView,
} from "../policy/rules";
import { secretPaths, secretPathsOf, trackSecrets, unproxied } from "../policy/secrets";
import { checkSynth, checkSynthDir, formatViolation, type SynthResource } from "../policy/synth";
import { ROOT } from "./support/devConfig";
import { runSynth } from "./support/tools";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const FILE = "proxmoxve:index/fileLegacy:FileLegacy";
const vm = (props: Record<string, any>, protect?: boolean): ResourceView => ({
  type: VM,
  name: "web-vm",
  props,
  protect,
});
const snippet = (data: string): ResourceView => ({
  type: FILE,
  name: "web-user-data",
  props: { contentType: "snippets", sourceRaw: { data, fileName: "web.yaml" } },
});
const KEYS_ONLY =
  "#cloud-config\nusers:\n  - name: ubuntu\n    lock_passwd: true\n    ssh_authorized_keys: [ssh-ed25519 AAAA k]\nssh_pwauth: false\n";

describe("no-password-ssh", () => {
  it("passes keys-only cloud-init and VMs without a password", () => {
    expect(noPasswordSsh(snippet(KEYS_ONLY))).toEqual([]);
    expect(
      noPasswordSsh(vm({ initialization: { userAccount: { username: "ubuntu", keys: ["ssh-ed25519 AAAA k"] } } })),
    ).toEqual([]);
    expect(noPasswordSsh(vm({ initialization: { userDataFileId: "local:snippets/x.yaml" } }))).toEqual([]);
    expect(noPasswordSsh(snippet("#!/bin/sh\necho hi\n"))).toEqual([]);
    expect(noPasswordSsh(snippet("[secret]"))).toEqual([]);
  });

  it("fails ssh_pwauth: true, chpasswd, password and user passwords in user-data", () => {
    expect(noPasswordSsh(snippet("#cloud-config\nssh_pwauth: true\n"))).toEqual([
      "cloud-init user-data sets ssh_pwauth: true: VMs must allow SSH keys only",
    ]);
    expect(noPasswordSsh(snippet("#cloud-config\nssh_pwauth: yes\n"))).toEqual([
      "cloud-init user-data sets ssh_pwauth: true: VMs must allow SSH keys only",
    ]);
    expect(noPasswordSsh(snippet("#cloud-config\npassword: ubuntu\nchpasswd:\n  expire: false\n"))).toEqual([
      "cloud-init user-data sets chpasswd: VMs must allow SSH keys only",
      "cloud-init user-data sets password: VMs must allow SSH keys only",
    ]);
    expect(
      userDataPasswordFindings("#cloud-config\nusers:\n  - name: ops\n    plain_text_passwd: hunter2\n  - default\n"),
    ).toEqual(["gives user ops a password (plain_text_passwd)"]);
    expect(
      userDataPasswordFindings(
        "#!/bin/sh\nsed -i 's/.*/PasswordAuthentication yes/' /etc/ssh/sshd_config\necho 'u:p' | chpasswd\n",
      ),
    ).toEqual(["sets PasswordAuthentication yes", "runs chpasswd"]);
    expect(userDataPasswordFindings("#cloud-config\nusers: [\n")).toEqual([
      expect.stringMatching(/^is not valid YAML \(/),
    ]);
  });

  it("fails initialization.userAccount.password on a VM", () => {
    expect(
      noPasswordSsh(vm({ initialization: { userAccount: { username: "ubuntu", password: "[secret]" } } })),
    ).toEqual(["initialization.userAccount.password is set: VMs must allow SSH keys only (use userAccount.keys)"]);
  });
});

describe("vm-guest-agent", () => {
  it("passes an enabled agent and an explicit opt-out", () => {
    expect(vmGuestAgent(vm({ agent: { enabled: true } }))).toEqual([]);
    expect(vmGuestAgent(vm({ agent: { enabled: false }, tags: ["kantai", AGENT_OPTOUT_TAG] }))).toEqual([]);
    expect(vmGuestAgent({ type: "proxmoxve:network/linux/bridge:Bridge", name: "br", props: {} })).toEqual([]);
  });

  it("fails a VM without the agent, and an opt-out that leaves the agent setting on", () => {
    const off = `guest agent is off: set agent: {enabled: true} (and install qemu-guest-agent), or opt out with tag kantai-agent-optout and agent: {enabled: false}`;
    expect(vmGuestAgent(vm({}))).toEqual([off]);
    expect(vmGuestAgent(vm({ agent: { enabled: false } }))).toEqual([off]);
    expect(vmGuestAgent({ type: "proxmoxve:index/vm:Vm", name: "v", props: { tags: ["kantai"] } })).toEqual([off]);
    expect(vmGuestAgent(vm({ tags: [AGENT_OPTOUT_TAG] }))).toEqual([
      "tagged kantai-agent-optout but agent.enabled is not false: set agent: {enabled: false} so the provider does not wait for an agent",
    ]);
  });
});

describe("templates-protected", () => {
  it("passes a protected template and any clone", () => {
    expect(templatesProtected(vm({ template: true }, true))).toEqual([]);
    expect(templatesProtected(vm({ clone: { vmId: 8000 } }))).toEqual([]);
  });

  it("fails an unprotected template", () => {
    expect(templatesProtected(vm({ template: true }))).toEqual([
      "VM template is not protected: create it with {protect: true} (clones depend on it)",
    ]);
    expect(templatesProtected(vm({ template: true }, false))).toEqual([
      "VM template is not protected: create it with {protect: true} (clones depend on it)",
    ]);
  });
});

describe("tunnel-dns-proxied", () => {
  const record = (props: Record<string, any>): ResourceView => ({
    type: "cloudflare:index/dnsRecord:DnsRecord",
    name: "fn-dns",
    props: { zoneId: "z", name: "fn.example.com", type: "CNAME", ttl: 1, ...props },
  });

  it("passes a proxied tunnel record and records that are not tunnel records", () => {
    expect(tunnelDnsProxied(record({ content: "c0ffee.cfargotunnel.com", proxied: true }))).toEqual([]);
    expect(tunnelDnsProxied(record({ type: "A", content: "203.0.113.7", proxied: false }))).toEqual([]);
  });

  it("fails a tunnel record that is not proxied", () => {
    const msg =
      "DNS record fn.example.com points at tunnel c0ffee.cfargotunnel.com but is not proxied: set proxied: true";
    expect(tunnelDnsProxied(record({ content: "c0ffee.cfargotunnel.com" }))).toEqual([msg]);
    expect(tunnelDnsProxied(record({ content: "c0ffee.cfargotunnel.com", proxied: false }))).toEqual([msg]);
    expect(
      tunnelDnsProxied({ ...record({ value: "c0ffee.cfargotunnel.com" }), type: "cloudflare:index/record:Record" }),
    ).toEqual([msg]);
  });
});

describe("k8s-resources", () => {
  const container = (name: string, resources?: object) => ({
    name,
    image: "ghcr.io/x/y:1",
    ...(resources ? { resources } : {}),
  });
  const full = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } };
  const deployment = (containers: object[], initContainers: object[] = []) => ({
    type: "kubernetes:apps/v1:Deployment",
    name: "web",
    props: { apiVersion: "apps/v1", kind: "Deployment", spec: { template: { spec: { containers, initContainers } } } },
  });

  it("passes workloads whose every container has requests and limits, and ignores non-workloads", () => {
    expect(k8sResources(deployment([container("web", full)], [container("migrate", full)]))).toEqual([]);
    expect(
      k8sResources({
        type: "kubernetes:batch/v1:CronJob",
        name: "c",
        props: { spec: { jobTemplate: { spec: { template: { spec: { containers: [container("c", full)] } } } } } },
      }),
    ).toEqual([]);
    expect(
      k8sResources({
        type: "kubernetes:serving.knative.dev/v1:Service",
        name: "fn",
        props: { spec: { template: { spec: { containers: [container("user-container", full)] } } } },
      }),
    ).toEqual([]);
    expect(k8sResources({ type: "kubernetes:core/v1:Service", name: "svc", props: { spec: { ports: [] } } })).toEqual(
      [],
    );
    expect(k8sResources({ type: "kubernetes:core/v1:ConfigMap", name: "cm", props: {} })).toEqual([]);
  });

  it("fails every container missing a request or a limit, naming what is missing", () => {
    expect(
      k8sResources(
        deployment(
          [container("web", { requests: { cpu: "100m", memory: "128Mi" } }), container("sidecar", full)],
          [container("migrate")],
        ),
      ),
    ).toEqual([
      "init container migrate has no resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory: every container needs CPU and memory requests and limits",
      "container web has no resources.limits.cpu, resources.limits.memory: every container needs CPU and memory requests and limits",
    ]);
    for (const type of [
      "kubernetes:apps/v1:StatefulSet",
      "kubernetes:apps/v1:DaemonSet",
      "kubernetes:batch/v1:Job",
      "kubernetes:serving.knative.dev/v1:Service",
    ]) {
      expect(
        k8sResources({
          type,
          name: "w",
          props: { spec: { template: { spec: { containers: [container("c", { limits: full.limits })] } } } },
        }),
        type,
      ).toEqual([
        "container c has no resources.requests.cpu, resources.requests.memory: every container needs CPU and memory requests and limits",
      ]);
    }
    expect(k8sResources({ type: "kubernetes:core/v1:Pod", name: "p", props: { spec: {} } })).toEqual([
      "Pod has no containers in spec.containers",
    ]);
  });
});

describe("no-plaintext-secret-outputs", () => {
  it("passes outputs that look secret only when they are secret", () => {
    expect(
      plaintextSecretOutputs({
        domain: "hosts.pve",
        kubeconfig: "[secret]",
        cluster: { token: "[secret]" },
        fleet: { ips: ["10.0.0.30"] },
      }),
    ).toEqual([]);
    expect(plaintextSecretOutputs({ k8s: { kubeconfig: "apiVersion: v1" } }, (p) => p === "k8s.kubeconfig")).toEqual(
      [],
    );
    expect(plaintextSecretOutputs({ creds: { user: "u", password: "p" } }, (p) => p === "creds")).toEqual([]);
  });

  it("fails plaintext outputs named like secrets or holding secret-looking values", () => {
    expect(
      plaintextSecretOutputs({
        kubeconfig: "apiVersion: v1",
        cluster: { joinToken: "K10abc::server:xyz" },
        nodes: [{ sshPrivateKey: "k" }],
        note: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
        proxmox: "root@pam!kantai=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        config: "users:\n- name: admin\n  user:\n    token: abc\n",
      }),
    ).toEqual([
      "stack output kubeconfig is named like a secret but is not secret: export it with pulumi.secret()",
      "stack output cluster.joinToken is named like a secret but is not secret: export it with pulumi.secret()",
      "stack output nodes[0].sshPrivateKey is named like a secret but is not secret: export it with pulumi.secret()",
      "stack output note holds a private key in plaintext: export it with pulumi.secret()",
      "stack output proxmox holds a Proxmox API token in plaintext: export it with pulumi.secret()",
      "stack output config holds a kubeconfig with credentials in plaintext: export it with pulumi.secret()",
    ]);
  });
});

describe("secret tracking under CrossGuard (policy/secrets.ts)", () => {
  // What the engine sends a stack validation for the root stack: outputs with secret markers.
  const SIG = "4dabf18193072939515e22adb298388d";
  const secret = (value: unknown) => ({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value });
  const raw = {
    domain: "hosts.pve",
    kubeconfig: secret("apiVersion: v1"),
    cluster: { nodes: [{ token: secret("t") }, { token: "plain" }] },
  };

  it("finds the secret paths in serialized properties", () => {
    expect([...secretPaths(raw)]).toEqual(["kubeconfig", "cluster.nodes[0].token"]);
  });

  it("recovers them from @pulumi/policy's own deserializer, values unchanged, so the outputs rule sees them", () => {
    trackSecrets();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { deserializeProperties } = require("@pulumi/policy/deserialize");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { unknownCheckingProxy } = require("@pulumi/policy/proxy");
    const props = unknownCheckingProxy(deserializeProperties(Struct.fromJavaScript(raw as any), false));
    expect(unproxied(props)).toEqual({
      domain: "hosts.pve",
      kubeconfig: "apiVersion: v1",
      cluster: { nodes: [{ token: "t" }, { token: "plain" }] },
    });
    const paths = secretPathsOf(props);
    expect(plaintextSecretOutputs(unproxied(props), (p) => paths.has(p))).toEqual([
      "stack output cluster.nodes[1].token is named like a secret but is not secret: export it with pulumi.secret()",
    ]);
  });

  it("refuses to guess for properties it did not see", () => {
    expect(() => secretPathsOf({ kubeconfig: "x" })).toThrow(
      "kantai policy: cannot tell secret outputs from plaintext ones (trackSecrets() saw no properties: @pulumi/policy changed its deserializer?)",
    );
  });
});

describe("the pack over synth output", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-policy-synth-"));
  beforeAll(() => {
    const r = runSynth(["--stack", "dev", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("the dev stack passes every rule", () => {
    expect(checkSynthDir(out).map(formatViolation)).toEqual([]);
  });

  it("every stack of the repository passes every rule (resources, outputs, rendered manifests)", () => {
    const stacks = fs
      .readdirSync(ROOT)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => !!s && s !== "dev");
    for (const stack of stacks) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kantai-policy-${stack}-`));
      const r = runSynth(["--stack", stack, "--out", dir]);
      expect(r.status, r.stderr).toBe(0);
      expect(checkSynthDir(dir).map(formatViolation), stack).toEqual([]);
    }
  });

  it("a mutated dev stack fails with the expected violations", () => {
    const resources: (SynthResource & { inputs: any })[] = JSON.parse(
      fs.readFileSync(path.join(out, "resources.json"), "utf8"),
    );
    const byName = (n: string) => resources.find((r) => r.name === n)!;
    delete (byName("standalone-vm") as any).protect;
    const ud = byName("kenobi-2-user-data").inputs.sourceRaw;
    ud.data = ud.data.replace("ssh_pwauth: false", "ssh_pwauth: true");
    byName("kenobi-3-vm").inputs.agent = { enabled: false };
    const outputs = {
      ...JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8")),
      adminPassword: "hunter2",
    };
    const manifests = [
      {
        file: "files/fn/knative-service.yaml",
        text: "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: fn}\nspec:\n  template:\n    spec:\n      containers:\n        - image: fn:1\n",
      },
    ];
    expect(checkSynth({ resources, outputs, manifests }).map(formatViolation)).toEqual([
      "[templates-protected] standalone-vm: VM template is not protected: create it with {protect: true} (clones depend on it)",
      "[no-password-ssh] kenobi-2-user-data: cloud-init user-data sets ssh_pwauth: true: VMs must allow SSH keys only",
      "[vm-guest-agent] kenobi-3-vm: guest agent is off: set agent: {enabled: true} (and install qemu-guest-agent), or opt out with tag kantai-agent-optout and agent: {enabled: false}",
      "[no-plaintext-secret-outputs] stack: stack output adminPassword is named like a secret but is not secret: export it with pulumi.secret()",
      "[k8s-resources] files/fn/knative-service.yaml#Service/fn: container ? has no resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory: every container needs CPU and memory requests and limits",
    ]);
  });

  it("npx tsx policy/synth.ts <dir>: exit 0 on the dev stack, 1 with the violations listed on a mutated copy", () => {
    const cli = (dir: string) =>
      spawnSync(
        process.execPath,
        [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "policy", "synth.ts"), dir],
        { encoding: "utf8", cwd: ROOT, timeout: 120_000 },
      );
    const ok = cli(out);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`kantai policy: 0 violation(s) in ${out}\n`);
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-policy-bad-"));
    fs.cpSync(out, bad, { recursive: true });
    const resources = JSON.parse(fs.readFileSync(path.join(bad, "resources.json"), "utf8"));
    delete resources.find((r: SynthResource) => r.name === "knative-vm").protect;
    fs.writeFileSync(path.join(bad, "resources.json"), JSON.stringify(resources));
    const r = cli(bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "[templates-protected] knative-vm: VM template is not protected: create it with {protect: true} (clones depend on it)\n",
    );
    expect(r.stdout).toBe(`kantai policy: 1 violation(s) in ${bad}\n`);
  });

  it("the pack's manifest: PulumiPolicy.yaml and the package.json @pulumi/policy reads its version from", () => {
    expect(Object.keys(RESOURCE_RULES)).toEqual([
      "no-password-ssh",
      "vm-guest-agent",
      "k8s-resources",
      "tunnel-dns-proxied",
      "templates-protected",
    ]);
    expect(parse(fs.readFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), "utf8")).runtime).toBe("nodejs");
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8"))).toMatchObject({
      name: "kantai-policy",
      version: "0.1.0",
      main: "index.ts",
    });
  });
});

describe("the pack as Pulumi runs it: run-policy-pack serving gRPC on 127.0.0.1", () => {
  // The engine starts a Node.js policy pack with @pulumi/pulumi's run-policy-pack (TypeScript via
  // ts-node) in the pack's directory, reads the port it prints, then calls the Analyzer service.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const grpc = require("@grpc/grpc-js");
  const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
  const pb = require("@pulumi/pulumi/proto/analyzer_pb");
  const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
  /* eslint-enable @typescript-eslint/no-require-imports */
  let pack: ChildProcess;
  let client: any;
  const call = (method: string, req: unknown) =>
    new Promise<any>((resolve, reject) =>
      client[method](req, (e: Error | null, r: any) => (e ? reject(e) : resolve(r))),
    );
  const diagnostics = (r: any) =>
    r.getDiagnosticsList().map((d: any) => ({
      policy: d.getPolicyname(),
      level: d.getEnforcementlevel(),
      urn: d.getUrn(),
      message: d.getMessage(),
    }));
  const MANDATORY = pb.EnforcementLevel.MANDATORY;

  beforeAll(async () => {
    pack = spawn(
      process.execPath,
      [path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack"), "127.0.0.1:1", "."],
      {
        cwd: path.join(ROOT, "policy"),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    pack.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      pack.stdout!.on("data", (d) => {
        out += d;
        const m = /^(\d+)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      pack.on("exit", (code) => reject(new Error(`policy pack exited ${code} before serving:\n${stderr}`)));
    });
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    client?.close();
    pack?.kill();
  });

  it("serves pack kantai 0.1.0 with the six policies, all mandatory", async () => {
    const info = await call("getAnalyzerInfo", new Empty());
    expect([info.getName(), info.getVersion()]).toEqual(["kantai", "0.1.0"]);
    expect(info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()])).toEqual(
      [
        "no-password-ssh",
        "vm-guest-agent",
        "k8s-resources",
        "tunnel-dns-proxied",
        "templates-protected",
        "no-plaintext-secret-outputs",
      ].map((n) => [n, MANDATORY]),
    );
  });

  it("Analyze: an unprotected template and a VM with a password fail; the dev stack's template passes", async () => {
    const analyze = async (type: string, name: string, props: Record<string, unknown>, protect: boolean) => {
      const req = new pb.AnalyzeRequest();
      req.setType(type);
      req.setName(name);
      req.setUrn(`urn:pulumi:dev::kantai::${type}::${name}`);
      req.setProperties(Struct.fromJavaScript(props as any));
      const opts = new pb.AnalyzerResourceOptions();
      opts.setProtect(protect);
      req.setOptions(opts);
      return diagnostics(await call("analyze", req));
    };
    expect(await analyze(VM, "tpl", { template: true, agent: { enabled: true } }, false)).toEqual([
      {
        policy: "templates-protected",
        level: MANDATORY,
        urn: "",
        message:
          "Proxmox VM templates (template: true) are created with protect: true.\nVM template is not protected: create it with {protect: true} (clones depend on it)",
      },
    ]);
    expect(
      (
        await analyze(
          VM,
          "web",
          { agent: { enabled: true }, initialization: { userAccount: { username: "u", password: "p" } } },
          false,
        )
      ).map((d: any) => d.message.split("\n")[1]),
    ).toEqual(["initialization.userAccount.password is set: VMs must allow SSH keys only (use userAccount.keys)"]);
    expect(
      await analyze(
        VM,
        "standalone-vm",
        { template: true, agent: { enabled: true }, tags: ["kantai", "template"] },
        true,
      ),
    ).toEqual([]);
  });

  it("AnalyzeStack: a plaintext token output fails, a secret kubeconfig output passes (secret markers as the engine sends them)", async () => {
    const stack = new pb.AnalyzerResource();
    stack.setType("pulumi:pulumi:Stack");
    stack.setName("kantai-dev");
    stack.setUrn("urn:pulumi:dev::kantai::pulumi:pulumi:Stack::kantai-dev");
    const SIG = "4dabf18193072939515e22adb298388d";
    stack.setProperties(
      Struct.fromJavaScript({
        domain: "hosts.pve",
        kubeconfig: { [SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "apiVersion: v1" },
        adminToken: "abc",
      } as any),
    );
    stack.setOptions(new pb.AnalyzerResourceOptions());
    const req = new pb.AnalyzeStackRequest();
    req.setResourcesList([stack]);
    expect(diagnostics(await call("analyzeStack", req))).toEqual([
      {
        policy: "no-plaintext-secret-outputs",
        level: MANDATORY,
        urn: "urn:pulumi:dev::kantai::pulumi:pulumi:Stack::kantai-dev",
        message:
          "Stack outputs whose names or values look secret (passwords, tokens, private keys, kubeconfigs) are Pulumi secrets.\nstack output adminToken is named like a secret but is not secret: export it with pulumi.secret()",
      },
    ]);
  });
});
