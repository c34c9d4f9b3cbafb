/**
 * kantai's policy rules as pure functions: a resource (type, name, input properties, protect) in,
 * violation messages out. No @pulumi imports: policy/index.ts wires them into a CrossGuard pack,
 * policy/synth.ts runs them over synth output, test/policy.test.ts tests them directly.
 * Types are matched by token pattern, so resources added by new components or stacks are covered.
 */
import { parse } from "yaml";

/** What a rule sees of one resource. */
export interface ResourceView {
  /** Type token, e.g. `proxmoxve:index/vmLegacy:VmLegacy`. */
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  /** Input properties (plain JSON; secrets either plaintext or the marker `"[secret]"`); read nested ones with `at`. */
  readonly props: Readonly<Record<string, unknown>>;
  /** The `protect` resource option. */
  readonly protect?: boolean;
}

/** A resource rule: the violations of one resource (empty when it complies or does not apply). */
export type ResourceRule = (r: ResourceView) => string[];

/** The value synth and policy/secrets.ts put where a secret was. */
export const SECRET_MARKER = "[secret]";

/** Proxmox VM tag that opts a VM out of the guest agent (Proxmox tags allow no ":"). */
export const AGENT_OPTOUT_TAG = "kantai-agent-optout";

/** Proxmox VM resources (bpg provider 8.x `VmLegacy`/`Vm`, older `vm/virtualMachine`). */
export const isProxmoxVm = (type: string): boolean =>
  /^proxmoxve:(index\/vm(Legacy)?:Vm(Legacy)?|vm\/virtualMachine:VirtualMachine)$/.test(type);

/** Resources that carry a file's text: Proxmox snippets (`FileLegacy`, `storage/file:File`) with `sourceRaw.data`. */
const isProxmoxFile = (type: string): boolean =>
  /^proxmoxve:(index\/fileLegacy:FileLegacy|storage\/file:File)$/.test(type);

/** The value at `path` inside plain JSON; undefined where a step is missing or not an object. */
export function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const truthy = (v: unknown): boolean =>
  v === true || (typeof v === "string" && /^(true|yes|on|1)$/i.test(v)) || v === 1;

// ---------------------------------------------------------------------------------------------
// 1. no-password-ssh

/** Why a cloud-init user-data text enables password login over SSH (empty: it does not). */
export function userDataPasswordFindings(text: string): string[] {
  const head = text.trimStart();
  if (head.startsWith("#!")) {
    const found: string[] = [];
    if (/^\s*[^#\n]*PasswordAuthentication\s+yes/im.test(text)) found.push("sets PasswordAuthentication yes");
    if (/^\s*[^#\n]*\bchpasswd\b/m.test(text)) found.push("runs chpasswd");
    return found;
  }
  if (!head.startsWith("#cloud-config")) return [];
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (e) {
    return [`is not valid YAML (${(e as Error).message.split("\n")[0]})`];
  }
  if (parsed === null || typeof parsed !== "object") return [];
  const doc = parsed as Record<string, unknown>;
  const found: string[] = [];
  if (truthy(doc.ssh_pwauth)) found.push("sets ssh_pwauth: true");
  if (doc.chpasswd !== undefined && doc.chpasswd !== null) found.push("sets chpasswd");
  if (doc.password !== undefined && doc.password !== null) found.push("sets password");
  const users: unknown[] = Array.isArray(doc.users) ? doc.users : [];
  for (const u of users) {
    if (u === null || typeof u !== "object") continue;
    const user = u as Record<string, unknown>;
    for (const key of ["passwd", "plain_text_passwd", "hashed_passwd"]) {
      if (user[key] !== undefined && user[key] !== null)
        found.push(`gives user ${String(user.name ?? "?")} a password (${key})`);
    }
  }
  return found;
}

/** no-password-ssh: no cloud-init snippet and no Proxmox VM may enable password login. */
export const noPasswordSsh: ResourceRule = (r) => {
  if (isProxmoxFile(r.type)) {
    const data = at(r.props, "sourceRaw", "data");
    if (typeof data !== "string" || data === SECRET_MARKER) return [];
    return userDataPasswordFindings(data).map((f) => `cloud-init user-data ${f}: VMs must allow SSH keys only`);
  }
  if (isProxmoxVm(r.type)) {
    const accounts: unknown[] = [at(r.props, "initialization", "userAccount")].flat().filter(Boolean);
    const password = (a: unknown) => at(a, "password");
    if (accounts.some((a) => password(a) !== undefined && password(a) !== null && password(a) !== "")) {
      return ["initialization.userAccount.password is set: VMs must allow SSH keys only (use userAccount.keys)"];
    }
  }
  return [];
};

// ---------------------------------------------------------------------------------------------
// 2. no-plaintext-secret-outputs (stack)

const SECRET_NAME = /pass(word|wd|phrase)?$|secret|token|private.?key|api.?key|credential|kubeconfig/i;
const SECRET_VALUES: [string, RegExp][] = [
  ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["a Proxmox API token", /^[\w.-]+@[\w.-]+![\w.-]+=[0-9a-f-]{36}$/],
  ["a kubeconfig with credentials", /\b(client-key-data|token):\s*\S/],
  ["a JSON web token", /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/],
  ["a bcrypt hash", /^\$2[aby]\$\d\d\$/],
];

/**
 * Stack outputs that look secret (by name or by value) and are not secret. `isSecret(path, value)`
 * says whether the value at a dotted path is a Pulumi secret; by default a value is secret when it
 * is the marker `"[secret]"` (synth's rendering of secrets).
 */
export function plaintextSecretOutputs(
  outputs: Record<string, unknown>,
  isSecret: (path: string, value: unknown) => boolean = (_p, v) => v === SECRET_MARKER,
): string[] {
  const found: string[] = [];
  const walk = (value: unknown, p: string, key: string) => {
    if (isSecret(p, value)) return;
    if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value))
        walk(v, p === "" ? k : Array.isArray(value) ? `${p}[${k}]` : `${p}.${k}`, Array.isArray(value) ? key : k);
      return;
    }
    if (value === undefined || value === null || value === "") return;
    if (SECRET_NAME.test(key)) {
      found.push(`stack output ${p} is named like a secret but is not secret: export it with pulumi.secret()`);
      return;
    }
    if (typeof value !== "string") return;
    const hit = SECRET_VALUES.find(([, re]) => re.test(value));
    if (hit) found.push(`stack output ${p} holds ${hit[0]} in plaintext: export it with pulumi.secret()`);
  };
  for (const [k, v] of Object.entries(outputs)) walk(v, k, k);
  return found;
}

// ---------------------------------------------------------------------------------------------
// 3. vm-guest-agent

/** vm-guest-agent: every Proxmox VM runs the guest agent, or opts out with a tag and `agent.enabled: false`. */
export const vmGuestAgent: ResourceRule = (r) => {
  if (!isProxmoxVm(r.type)) return [];
  const enabled = at(r.props, "agent", "enabled");
  const tags: unknown[] = Array.isArray(r.props.tags) ? r.props.tags : [];
  const optedOut = tags.includes(AGENT_OPTOUT_TAG);
  if (truthy(enabled)) return [];
  if (optedOut) {
    return enabled === false || enabled === "false"
      ? []
      : [
          `tagged ${AGENT_OPTOUT_TAG} but agent.enabled is not false: set agent: {enabled: false} so the provider does not wait for an agent`,
        ];
  }
  return [
    `guest agent is off: set agent: {enabled: true} (and install qemu-guest-agent), or opt out with tag ${AGENT_OPTOUT_TAG} and agent: {enabled: false}`,
  ];
};

// ---------------------------------------------------------------------------------------------
// 4. k8s-resources

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
  "serving.knative.dev/Service": ["spec", "template", "spec"],
};

/** The workload kind of a Kubernetes type token, or undefined for anything else. */
export function workloadKind(type: string): string | undefined {
  const m = /^kubernetes:(core|apps|batch|serving\.knative\.dev)\/v\w+:(\w+)$/.exec(type);
  if (!m) return undefined;
  const kind = m[1] === "serving.knative.dev" ? `serving.knative.dev/${m[2]}` : m[2];
  if (m[1] === "core" && kind !== "Pod") return undefined;
  return POD_SPEC_PATHS[kind] ? kind : undefined;
}

/** Violations of one Kubernetes object (a manifest: `{apiVersion, kind, metadata, spec}`) or of a workload's props. */
export function workloadResourceFindings(kind: string, obj: Readonly<Record<string, unknown>>): string[] {
  const spec = at(obj, ...POD_SPEC_PATHS[kind]);
  const list = (key: string) => (at(spec, key) ?? []) as unknown[];
  const containers = [
    ...list("initContainers").map((c) => ["init container", c] as const),
    ...list("containers").map((c) => ["container", c] as const),
  ];
  if (containers.length === 0) return [`${kind} has no containers in ${POD_SPEC_PATHS[kind].join(".")}.containers`];
  const found: string[] = [];
  for (const [what, c] of containers) {
    const missing: string[] = [];
    for (const side of ["requests", "limits"]) {
      for (const res of ["cpu", "memory"]) {
        const v = at(c, "resources", side, res);
        if (v === undefined || v === null || v === "") missing.push(`${side}.${res}`);
      }
    }
    if (missing.length > 0)
      found.push(
        `${what} ${at(c, "name") ?? "?"} has no resources.${missing.join(", resources.")}: every container needs CPU and memory requests and limits`,
      );
  }
  return found;
}

/** The workload kind of a manifest object (`apiVersion` + `kind`), or undefined. */
export function manifestKind(obj: Readonly<Record<string, unknown>>): string | undefined {
  const group =
    typeof obj?.apiVersion === "string" && obj.apiVersion.includes("/") ? obj.apiVersion.split("/")[0] : "core";
  return workloadKind(`kubernetes:${group}/v1:${obj?.kind}`);
}

/** k8s-resources: every container of every Kubernetes workload has CPU/memory requests and limits. */
export const k8sResources: ResourceRule = (r) => {
  const kind = workloadKind(r.type);
  return kind ? workloadResourceFindings(kind, r.props) : [];
};

// ---------------------------------------------------------------------------------------------
// 5. tunnel-dns-proxied

/** Cloudflare DNS records (6.x `DnsRecord`, 5.x `Record`). */
const isCloudflareDns = (type: string): boolean => /^cloudflare:index\/(dnsRecord:DnsRecord|record:Record)$/.test(type);

/** tunnel-dns-proxied: a DNS record pointing at a Cloudflare tunnel is proxied. */
export const tunnelDnsProxied: ResourceRule = (r) => {
  if (!isCloudflareDns(r.type)) return [];
  const content = r.props.content ?? r.props.value;
  if (typeof content !== "string" || !/\.cfargotunnel\.com\.?$/i.test(content)) return [];
  return truthy(r.props.proxied)
    ? []
    : [`DNS record ${r.props.name ?? r.name} points at tunnel ${content} but is not proxied: set proxied: true`];
};

// ---------------------------------------------------------------------------------------------
// 6. templates-protected

/** templates-protected: a Proxmox VM template is created with `protect: true`. */
export const templatesProtected: ResourceRule = (r) => {
  if (!isProxmoxVm(r.type) || !truthy(r.props.template)) return [];
  return r.protect === true
    ? []
    : ["VM template is not protected: create it with {protect: true} (clones depend on it)"];
};

/** Every resource rule, by policy name. */
export const RESOURCE_RULES: Readonly<Record<string, { description: string; rule: ResourceRule }>> = {
  "no-password-ssh": {
    description:
      "VMs allow SSH keys only: no ssh_pwauth, chpasswd or password in cloud-init, no initialization.userAccount.password.",
    rule: noPasswordSsh,
  },
  "vm-guest-agent": {
    description: `Every Proxmox VM runs the QEMU guest agent, or opts out with tag ${AGENT_OPTOUT_TAG} and agent.enabled false.`,
    rule: vmGuestAgent,
  },
  "k8s-resources": {
    description:
      "Every container of every Kubernetes workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Knative Service) has CPU and memory requests and limits.",
    rule: k8sResources,
  },
  "tunnel-dns-proxied": {
    description: "Cloudflare DNS records that point at a tunnel (*.cfargotunnel.com) are proxied.",
    rule: tunnelDnsProxied,
  },
  "templates-protected": {
    description: "Proxmox VM templates (template: true) are created with protect: true.",
    rule: templatesProtected,
  },
};

export const STACK_OUTPUTS_POLICY = {
  name: "no-plaintext-secret-outputs",
  description:
    "Stack outputs whose names or values look secret (passwords, tokens, private keys, kubeconfigs) are Pulumi secrets.",
} as const;
