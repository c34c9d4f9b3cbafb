/**
 * Judges what the Proxmox API answered (the `data` of each response) against a stack's target.
 * Pure: lib/preflight/client.ts does the calls. Response shapes: the PVE API schema
 * (pve-docs api-viewer, the same schema proxmox-api's src/model.ts is generated from).
 */
import type { Finding, PreflightTarget } from "./findings";
import { privilegeExists, requirements, rolePrivileges } from "./requirements";

/** GET /version */
export interface VersionInfo {
  readonly release: string;
  readonly version: string;
  readonly repoid?: string;
}
/** GET /nodes */
export interface NodeInfo {
  readonly node: string;
  readonly status?: string;
}
/** GET /storage (the cluster's storage.cfg) */
export interface StorageConfig {
  readonly storage: string;
  readonly type: string;
  readonly content?: string;
  readonly path?: string;
  readonly nodes?: string;
  readonly disable?: number | boolean;
  readonly shared?: number | boolean;
}
/** GET /nodes/{node}/storage */
export interface NodeStorage {
  readonly storage: string;
  readonly type: string;
  readonly content: string;
  readonly active?: number | boolean;
  readonly enabled?: number | boolean;
  readonly shared?: number | boolean;
}
/** GET /cluster/resources?type=vm */
export interface ClusterResource {
  readonly id: string;
  readonly type: string;
  readonly vmid?: number;
  readonly name?: string;
  readonly node?: string;
  readonly template?: number | boolean;
  readonly status?: string;
}
/** GET /nodes/{node}/storage/{storage}/content */
export interface StorageContent {
  readonly volid: string;
  readonly format?: string;
  readonly size?: number;
  readonly content?: string;
}
/** GET /nodes/{node}/apt/repositories (only the part preflight reads) */
export interface AptRepositories {
  readonly "standard-repos"?: readonly {
    readonly handle: string;
    readonly name?: string;
    readonly status?: number | boolean | null;
  }[];
}
/** GET /nodes/{node}/subscription */
export interface SubscriptionInfo {
  readonly status: string;
}

/** Everything preflight asked; a missing part was not asked or its call failed (see `failures`). */
export interface ApiSnapshot {
  readonly version?: VersionInfo;
  readonly nodes?: readonly NodeInfo[];
  readonly storageConfig?: readonly StorageConfig[];
  readonly nodeStorage: Readonly<Record<string, readonly NodeStorage[]>>;
  /** GET /access/permissions?path=<p>, merged: path → privilege → propagate flag. */
  readonly permissions: Readonly<Record<string, Readonly<Record<string, number | boolean>>>>;
  readonly resources?: readonly ClusterResource[];
  readonly imageContent?: readonly StorageContent[];
  readonly repositories: Readonly<Record<string, AptRepositories>>;
  readonly subscription: Readonly<Record<string, SubscriptionInfo>>;
  /** Calls that failed: where → message. */
  readonly failures: Readonly<Record<string, string>>;
}

/**
 * Oldest Proxmox VE release kantai deploys on: 8.4. Its libpve-storage-perl 8.3.6 is the first whose
 * download-url takes .qcow2/.raw/.vmdk as `import` content (pve-storage commit 76f695f "import:
 * allow upload of guest images files into import storage", $UPLOAD_IMPORT_EXT_RE_1 was
 * qr/\.(ova)/ before); the `import` content type itself came with 8.2.8 (PVE 8.3) for OVAs only.
 * pve-manager 8.4.0 (commit ec58e45e, 2025-04-09) is the first to depend on libpve-storage-perl >= 8.3.6
 * (debian/control), so the /version release "8.4" is the test.
 */
export const MIN_PVE = { major: 8, minor: 4 } as const;

const truthy = (v: unknown) => v === true || v === 1 || v === "1";
const FILE_BASED = new Set(["dir", "nfs", "cifs", "cephfs", "btrfs", "glusterfs"]);

export function parseRelease(release: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

function versionFindings(v: VersionInfo | undefined): Finding[] {
  if (!v) return [];
  const r = parseRelease(v.release);
  if (!r)
    return [
      { level: "warning", check: "version", where: "/version", message: `cannot read the release "${v.release}"` },
    ];
  if (r.major < MIN_PVE.major || (r.major === MIN_PVE.major && r.minor < MIN_PVE.minor)) {
    return [
      {
        level: "error",
        check: "version",
        where: "/version",
        message: `Proxmox VE ${v.release} (pve-manager ${v.version}) cannot download a .qcow2 cloud image as import content; kantai needs ${MIN_PVE.major}.${MIN_PVE.minor} or later`,
        fix: "upgrade the node: apt update && apt full-upgrade (or the major upgrade guide for 7.x)",
      },
    ];
  }
  return [
    { level: "ok", check: "version", where: "/version", message: `Proxmox VE ${v.release} (pve-manager ${v.version})` },
  ];
}

function nodeFindings(t: PreflightTarget, nodes: readonly NodeInfo[] | undefined): Finding[] {
  if (!nodes) return [];
  const out: Finding[] = [];
  const names = nodes.map((n) => n.node);
  t.nodes.forEach((n, i) => {
    const found = nodes.find((x) => x.node === n.name);
    if (!found) {
      out.push({
        level: "error",
        check: "nodes",
        where: `kantai:proxmoxNodes[${i}].name`,
        message: `node "${n.name}" is not in the cluster (it has ${names.map((x) => `"${x}"`).join(", ")})`,
        fix: `pulumi config set --path 'proxmoxNodes[${i}].name' <node name as in the web UI> --stack ${t.stack}`,
      });
    } else if (found.status && found.status !== "online") {
      out.push({
        level: "error",
        check: "nodes",
        where: `/nodes/${n.name}`,
        message: `node is ${found.status}`,
        fix: "bring the node online (pvecm status)",
      });
    } else {
      out.push({ level: "ok", check: "nodes", where: `/nodes/${n.name}`, message: "in the cluster and online" });
    }
  });
  return out;
}

/** Which storage must hold which content on which node, and why. */
function storageUses(
  t: PreflightTarget,
): { storage: string; node: string; content: string; key: string; why: string }[] {
  const uses = [
    {
      storage: t.storage.images,
      node: t.image.node,
      content: "import",
      key: "kantai:storage.images",
      why: "the cloud image",
    },
  ];
  const vmNodes = [...new Set([...t.templates.map((x) => x.node), ...t.vms.map((x) => x.node)])];
  for (const node of vmNodes) {
    uses.push({ storage: t.storage.disks, node, content: "images", key: "kantai:storage.disks", why: "VM disks" });
    uses.push({
      storage: t.storage.snippets,
      node,
      content: "snippets",
      key: "kantai:storage.snippets",
      why: "cloud-init snippets",
    });
  }
  return uses;
}

function storageFindings(t: PreflightTarget, snap: ApiSnapshot): Finding[] {
  const out: Finding[] = [];
  const uses = storageUses(t);
  // every content type a storage must have, so that one `pvesm set` adds them all
  const needed = new Map<string, string[]>();
  for (const u of uses) needed.set(u.storage, [...new Set([...(needed.get(u.storage) ?? []), u.content])]);
  for (const u of uses) {
    const list = snap.nodeStorage[u.node];
    if (!list) continue;
    const where = `${u.storage} on ${u.node}`;
    const st = list.find((s) => s.storage === u.storage);
    const cfg = snap.storageConfig?.find((s) => s.storage === u.storage);
    if (!st) {
      out.push({
        level: "error",
        check: "storage",
        where,
        message: `storage "${u.storage}" (${u.key}, for ${u.why}) does not exist on node ${u.node}${cfg?.nodes ? ` (it is limited to nodes ${cfg.nodes})` : ""}`,
        fix: cfg
          ? `pvesm set ${u.storage} --nodes ${[...(cfg.nodes?.split(",") ?? []), u.node].join(",")}`
          : `pulumi config set --path ${u.key.slice(7)} <a storage of node ${u.node}> --stack ${t.stack}`,
      });
      continue;
    }
    if (st.enabled !== undefined && !truthy(st.enabled)) {
      out.push({
        level: "error",
        check: "storage",
        where,
        message: `storage "${u.storage}" is disabled`,
        fix: `pvesm set ${u.storage} --disable 0`,
      });
      continue;
    }
    if (st.active !== undefined && !truthy(st.active)) {
      out.push({
        level: "error",
        check: "storage",
        where,
        message: `storage "${u.storage}" is not active (not mounted or unreachable)`,
        fix: `pvesm status --storage ${u.storage}`,
      });
      continue;
    }
    const content = (cfg?.content ?? st.content)
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    if (content.includes(u.content)) {
      out.push({ level: "ok", check: "storage", where, message: `has content type "${u.content}" (${u.why})` });
      continue;
    }
    if ((u.content === "import" || u.content === "snippets") && !FILE_BASED.has(st.type)) {
      out.push({
        level: "error",
        check: "storage",
        where,
        message: `storage "${u.storage}" is of type ${st.type}, which cannot hold "${u.content}" content (${u.why}); it needs a file-based storage such as "local" (dir)`,
        fix: `pulumi config set --path ${u.key.slice(7)} local --stack ${t.stack}`,
      });
      continue;
    }
    out.push({
      level: "error",
      check: "storage",
      where,
      message: `storage "${u.storage}" lacks content type "${u.content}" (${u.why}); it has ${content.join(",") || "none"}`,
      fix: `pvesm set ${u.storage} --content ${[...new Set([...content, ...(needed.get(u.storage) ?? [])])].join(",")}`,
    });
  }
  return out;
}

function privilegeFindings(t: PreflightTarget, snap: ApiSnapshot): Finding[] {
  const reqs = requirements(t);
  const major = parseRelease(snap.version?.release ?? "")?.major ?? 9;
  const out: Finding[] = [];
  // The value is the propagate flag; a privilege the token has is a key at all
  // (pve-access-control src/PVE/API2/AccessControl.pm permissions: "Map of path => (Map of privilege => propagate boolean)").
  const has = (path: string, priv: string) => Object.prototype.hasOwnProperty.call(snap.permissions[path] ?? {}, priv);
  const asked = (path: string) => path in snap.permissions;
  const token = t.tokenId ?? "<user@realm!tokenid>";
  let missingAny = false;
  for (const r of reqs) {
    const options = r.options.filter((o) => o.privs.every((p) => privilegeExists(p, major)));
    if (!options.every((o) => asked(o.path))) continue;
    if (options.some((o) => o.privs.every((p) => has(o.path, p)))) {
      out.push({
        level: "ok",
        check: "privileges",
        where: options.map((o) => o.path).join(" or "),
        message: `token may ${r.why}`,
      });
      continue;
    }
    missingAny = true;
    const o = options[0];
    const missing = o.privs.filter((p) => !has(o.path, p));
    const alt = options
      .slice(1)
      .map((x) => ` (or ${x.privs.join(", ")} on ${x.path})`)
      .join("");
    out.push({
      level: "error",
      check: "privileges",
      where: o.path,
      message: `the token lacks ${missing.join(", ")}${alt}, needed to ${r.why}`,
      fix: `pveum acl modify ${o.path} --tokens '${token}' --roles KantaiDeploy`,
    });
  }
  if (missingAny) {
    const user = token.split("!")[0];
    out.push({
      level: "error",
      check: "privileges",
      where: "role KantaiDeploy",
      message: "a role with every privilege kantai needs (a privilege-separated token also needs them on its user)",
      fix:
        `pveum role add KantaiDeploy --privs "${rolePrivileges(reqs, major).join(",")}" && ` +
        `pveum acl modify / --users '${user}' --roles KantaiDeploy && pveum acl modify / --tokens '${token}' --roles KantaiDeploy`,
    });
  }
  return out;
}

function vmIdFindings(t: PreflightTarget, resources: readonly ClusterResource[] | undefined): Finding[] {
  if (!resources) return [];
  const out: Finding[] = [];
  const byId = new Map<number, ClusterResource>();
  for (const r of resources) {
    const id = r.vmid ?? Number(/\/(\d+)$/.exec(r.id)?.[1]);
    if (Number.isFinite(id)) byId.set(id, r);
  }
  const all = [
    ...t.templates.map((x) => ({ ...x, key: `kantai:templates.${x.key}.vmId`, template: true })),
    ...t.vms.map((x) => ({ ...x, template: false })),
  ];
  for (const want of all) {
    const got = byId.get(want.vmId);
    const what = `${want.template ? "template" : "VM"} ${want.name}`;
    if (!got) {
      out.push({
        level: "ok",
        check: want.template ? "template" : "vm-ids",
        where: `VM ${want.vmId}`,
        message: `free for ${what}`,
      });
      continue;
    }
    const desc = `${got.type} "${got.name ?? "?"}" on ${got.node ?? "?"}${truthy(got.template) ? " (a template)" : ""}`;
    if (got.name === want.name && truthy(got.template) === want.template) {
      out.push({
        level: "warning",
        check: want.template ? "template" : "vm-ids",
        where: `VM ${want.vmId}`,
        message: `${desc} exists already: fine if this stack created it; a new stack's first \`pulumi up\` fails on it ("VM ${want.vmId} already exists")`,
        fix: `pulumi import, or remove it (qm destroy ${want.vmId}${want.template ? "; templates are protected in kantai's state, not on the host" : ""})`,
      });
      continue;
    }
    out.push({
      level: "error",
      check: want.template ? "template" : "vm-ids",
      where: `VM ${want.vmId}`,
      message: `VM ID ${want.vmId}, wanted for ${what} (${want.key}), is taken by ${desc}`,
      fix: `pick a free ID: pulumi config set --path ${want.key.slice(7)} ${freeStart(byId, all, want.key)} --stack ${t.stack}`,
    });
  }
  return out;
}

/**
 * The lowest ID from 100 up where as many consecutive IDs as `key` claims (a fleet's web VMs share
 * fleet.firstVmId) are free in the cluster and not claimed by the stack's other keys.
 */
function freeStart(
  taken: ReadonlyMap<number, unknown>,
  all: readonly { vmId: number; key: string }[],
  key: string,
): number {
  const count = all.filter((x) => x.key === key).length;
  const others = new Set(all.filter((x) => x.key !== key).map((x) => x.vmId));
  const free = (id: number) => !taken.has(id) && !others.has(id);
  for (let s = 100; ; s++) {
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = free(s + i);
    if (ok) return s;
  }
}

function imageFindings(t: PreflightTarget, content: readonly StorageContent[] | undefined): Finding[] {
  if (!content) return [];
  const volid = `${t.storage.images}:import/${t.image.fileName}`;
  const got = content.find((c) => c.volid === volid);
  if (!got)
    return [
      {
        level: "ok",
        check: "image",
        where: volid,
        message: "not on the datastore yet: the first `pulumi up` downloads it",
      },
    ];
  return [
    {
      level: "warning",
      check: "image",
      where: volid,
      message: `is on the datastore already (${got.format ?? "?"}, ${got.size ?? "?"} bytes): fine if this stack downloaded it; a new stack's download fails on a file it did not create (overwriteUnmanaged is false)`,
      fix: `pvesm free ${volid}   (or pulumi import the download)`,
    },
  ];
}

function repositoryFindings(t: PreflightTarget, snap: ApiSnapshot): Finding[] {
  const out: Finding[] = [];
  for (const node of t.nodes.map((n) => n.name)) {
    const repos = snap.repositories[node]?.["standard-repos"];
    if (!repos) continue;
    const active = snap.subscription[node]?.status === "active";
    const on = repos.filter((r) => truthy(r.status));
    const enterprise = on.filter((r) => r.handle === "enterprise" || /^ceph-.*-enterprise$/.test(r.handle));
    if (enterprise.length > 0 && !active) {
      out.push({
        level: "error",
        check: "repository",
        where: `/nodes/${node}/apt/repositories`,
        message: `${enterprise.map((r) => r.name ?? r.handle).join(", ")} enabled without an active subscription (${snap.subscription[node]?.status ?? "unknown"}): apt-get update answers 401 Unauthorized and the gateway install stops`,
        fix: `web UI: ${node} > Updates > Repositories: disable the enterprise ones, Add "No-Subscription" (docs/how-to/first-deploy.md#5-package-repository-enterprise-or-no-subscription)`,
      });
    } else if (!on.some((r) => ["enterprise", "no-subscription", "test"].includes(r.handle))) {
      out.push({
        level: "warning",
        check: "repository",
        where: `/nodes/${node}/apt/repositories`,
        message: "no Proxmox VE package repository is enabled",
        fix: `web UI: ${node} > Updates > Repositories > Add "No-Subscription" (or "Enterprise" with a subscription)`,
      });
    } else {
      out.push({
        level: "ok",
        check: "repository",
        where: `/nodes/${node}/apt/repositories`,
        message: `${on.map((r) => r.name ?? r.handle).join(", ")} enabled${active ? " (subscription active)" : ""}`,
      });
    }
  }
  return out;
}

/** Every finding the API snapshot supports, plus one per failed call. */
export function apiChecks(t: PreflightTarget, snap: ApiSnapshot): Finding[] {
  const failures: Finding[] = Object.entries(snap.failures).map(([where, message]) => ({
    level: "error",
    check: "api",
    where,
    message,
    fix: /401|authentication|invalid token|no ticket/i.test(message)
      ? `check kantai:proxmoxApiToken: pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=<secret uuid>' --stack ${t.stack}`
      : /certificate|self.signed|UNABLE_TO_VERIFY|CERT_/i.test(message)
        ? `the API's certificate is not trusted: install a trusted one, or pulumi config set proxmoxInsecure true --stack ${t.stack}`
        : /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|fetch failed|abort/i.test(message)
          ? `cannot reach ${t.endpoint}: check kantai:proxmoxEndpoint and the route from this machine to port 8006`
          : undefined,
  }));
  return [
    ...failures,
    ...versionFindings(snap.version),
    ...nodeFindings(t, snap.nodes),
    ...storageFindings(t, snap),
    ...privilegeFindings(t, snap),
    ...vmIdFindings(t, snap.resources),
    ...imageFindings(t, snap.imageContent),
    ...repositoryFindings(t, snap),
  ];
}
