/**
 * Config of seed 003's storage node and MariaDB (`kantai:storageNode`, `kantai:mariadb`, and the
 * `database` field of `kantai:webapps[i]`), validated here and resolved into StorageConfig. Read by
 * stacks/config/load.ts (the one place config is read); see docs/concepts/storage.md and
 * docs/decisions/0018.
 *
 * The key is `storageNode`, not `storage`: `kantai:storage` already names the Proxmox datastores.
 */
import { existsSync, statSync } from "node:fs";
import { z } from "zod";
import type { K3sNode } from "../../components/k8s/k3sCluster";
import { defaultDatabaseName, MARIADB_DEFAULTS, SQL_NAME, type AppDatabase } from "../../lib/render/mariadb";
import { releaseMirrorOf, type ReleaseMirror } from "../../lib/render/knative";
import {
  CSI_NFS_RELEASE_KEYS,
  CSI_NFS_VERSION,
  csiNfsReleases,
  EXPORT_DEFAULT_OPTIONS,
  exportClientProblems,
  STORAGE_DEFAULTS,
  type DiskRef,
} from "../../lib/render/storage";
import { cidr, quoted, type Fail } from "./primitives";

// The shapes lib/render/storage.ts accepts (its SAFE_PATH, UUID, LABEL, OPTION), checked here so the
// renderer never throws on user input.
const UUID = /^[0-9A-Fa-f-]{8,36}$/;
/** ext4 labels are at most 16 bytes (e2label(8)). */
const LABEL = /^[A-Za-z0-9._-]{1,16}$/;
const OPTION = /^[A-Za-z0-9_.=/:-]+$/;
const absPath = z
  .string()
  .regex(
    /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
    'must be an absolute path like "/srv/kantai" (letters, digits, ".", "_", "-")',
  );
const relPath = z
  .string()
  .regex(
    /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/,
    'must be a relative path like "nfs" (letters, digits, ".", "_", "-"; no "..")',
  );
const option = z
  .string()
  .regex(OPTION, "must be a mount/export option (letters, digits, '_', '.', '=', '/', ':', '-')");
const k8sName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a Kubernetes name (lower-case letters, digits, inner '-')");
/** Kubernetes resource quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/). */
const quantity = z
  .string()
  .regex(/^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, 'must be a Kubernetes quantity like "20Gi" or "500m"');
const sqlName = z.string().regex(SQL_NAME, `must be a SQL name matching ${SQL_NAME.source}`);
/** MariaDB's own users: the root account and kantai's backup user (lib/render/mariadb.ts). */
export const RESERVED_SQL_USERS = ["root", MARIADB_DEFAULTS.backupUser] as const;

/** `kantai:webapps[i].database` (schema used by stacks/config/platform.ts). */
export const webappDatabase = z.union(
  [z.literal(true), z.strictObject({ name: sqlName.optional(), user: sqlName.optional() })],
  {
    message: 'must be true or {name: "<database>", user: "<user>"}',
  },
);

/** Raw keys of this area (spread into stacks/config/load.ts's schema). */
export function storageKeys() {
  const disk = z
    .strictObject({
      uuid: z.string().regex(UUID, "must be a filesystem UUID (blkid -s UUID)").optional(),
      label: z
        .string()
        .regex(LABEL, "must be a filesystem label (1-16 letters, digits, '.', '_', '-'; blkid -s LABEL)")
        .optional(),
    })
    .refine((d) => (d.uuid === undefined) !== (d.label === undefined), {
      message: 'must be {uuid: "<filesystem UUID>"} or {label: "<filesystem label>"} (see blkid; never /dev/sdX)',
    });
  const storageNode = z.strictObject({
    /** The platform cluster's node with the disk; it needs `host:` (SSH). Required. */
    node: z.string().min(1),
    /** The filesystem, by UUID or label (never a /dev name, which can change between boots). Required. */
    disk,
    mountPoint: absPath.default(STORAGE_DEFAULTS.mountPoint),
    fsType: z
      .string()
      .regex(/^[a-z0-9]{2,16}$/, 'must be a filesystem type like "ext4"')
      .default(STORAGE_DEFAULTS.fsType),
    /** Besides kantai's own (nofail, x-systemd.device-timeout). */
    mountOptions: z.array(option).default([]),
    export: z
      .strictObject({
        /** Exported directory under mountPoint. */
        dir: relPath.default(STORAGE_DEFAULTS.exportDir),
        /** Client networks. Defaults to the CIDR of the storage node's site. */
        clients: z.array(cidr).min(1, "needs at least one network").optional(),
        /** exports(5) options (kantai adds mountpoint=<mountPoint>). */
        options: z
          .array(
            option.refine((o) => !/^(mountpoint|mp)\b/.test(o), {
              message: "is set by kantai (mountpoint=<mountPoint>): remove it",
            }),
          )
          .default([...EXPORT_DEFAULT_OPTIONS]),
      })
      .default({ dir: STORAGE_DEFAULTS.exportDir, options: [...EXPORT_DEFAULT_OPTIONS] }),
    /** A StorageClass on the export through csi-driver-nfs; omitted: none. */
    storageClass: z
      .strictObject({
        name: k8sName.default("nfs-hdd"),
        /** Make it the cluster's default class. */
        default: z.boolean().default(false),
        mountOptions: z.array(option).default(["nfsvers=4.1"]),
      })
      .optional(),
    /** csi-driver-nfs release (https://github.com/kubernetes-csi/csi-driver-nfs/releases). */
    csiNfsVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'must be a release version like "4.13.4"')
      .default(CSI_NFS_VERSION),
  });
  const mariadb = z.strictObject({
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\-/:]*(@sha256:[0-9a-f]{64})?$/, "must be an image reference")
      .default(MARIADB_DEFAULTS.image),
    namespace: k8sName.default(MARIADB_DEFAULTS.namespace),
    /** Data directory under storageNode.mountPoint (not exported). */
    dataDir: relPath.default("mariadb"),
    storageSize: quantity.default(MARIADB_DEFAULTS.storageSize),
    /** innodb_buffer_pool_size. */
    bufferPool: z
      .string()
      .regex(/^\d+[KMG]?$/, 'must be a size like "128M"')
      .default(MARIADB_DEFAULTS.bufferPool),
    resources: z
      .strictObject({
        requests: z.strictObject({ cpu: quantity, memory: quantity }),
        limits: z.strictObject({ cpu: quantity, memory: quantity }),
      })
      .default({
        requests: { ...MARIADB_DEFAULTS.resources.requests },
        limits: { ...MARIADB_DEFAULTS.resources.limits },
      }),
    /** Scheduled dumps to `<export>/backups/mariadb`; omitted: none. */
    backup: z
      .strictObject({
        /** Cron schedule (5 fields, the CronJob's). */
        schedule: z
          .string()
          .regex(/^(\S+\s+){4}\S+$/, 'must be a cron schedule of 5 fields like "17 3 * * *"')
          .default("17 3 * * *"),
        /** Dumps kept. */
        keep: z.number().int().min(1, "keep at least 1 backup").max(365).default(7),
        /** Capacity recorded on the backup volume. */
        size: quantity.default("50Gi"),
      })
      .optional(),
  });
  return { storageNode: storageNode.optional(), mariadb: mariadb.optional() };
}

type Keys = ReturnType<typeof storageKeys>;
type RawStorageNode = NonNullable<z.output<Keys["storageNode"]>>;
type RawMariadb = NonNullable<z.output<Keys["mariadb"]>>;

export interface StorageNodeConfig {
  readonly node: string;
  /** The node's address on its site (the NFS server address). */
  readonly server: string;
  readonly site: string;
  readonly disk: DiskRef;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly mountOptions: readonly string[];
  readonly export: { readonly dir: string; readonly clients: readonly string[]; readonly options: readonly string[] };
  readonly storageClass?: {
    readonly name: string;
    readonly default: boolean;
    readonly mountOptions: readonly string[];
  };
  readonly csiNfsVersion: string;
  /** csi-driver-nfs' share of kantai:releases: the mirror and its pins; set only when kantai:releases is. */
  readonly releases?: { readonly mirror?: ReleaseMirror; readonly sha256: Readonly<Record<string, string>> };
}

/** Whether a kantai:releases.sha256 key pins one of csi-driver-nfs' manifests (validated here, not in platform.ts). */
export function isStorageReleaseKey(key: string): boolean {
  return (CSI_NFS_RELEASE_KEYS as readonly string[]).includes(key);
}

export interface MariadbConfig extends Omit<RawMariadb, "backup"> {
  readonly backup?: NonNullable<RawMariadb["backup"]>;
  /** One per WebApp with `database`, in kantai:webapps order. */
  readonly databases: readonly AppDatabase[];
}

/** The platform cluster's node kantai:storageNode names, with its SSH access (a node without `host:` is refused). */
export type StorageHost = K3sNode & { readonly host: NonNullable<K3sNode["host"]> };

export interface StorageConfig {
  readonly storageNode?: StorageNodeConfig;
  /** Set with storageNode. */
  readonly storageHost?: StorageHost;
  readonly mariadb?: MariadbConfig;
}

/** What parseStorage needs from the rest of the config. */
export interface StorageParseContext {
  readonly fail: Fail;
  /** Whether this composition builds kantai:storageNode (stacks/config/compositions.ts edgeOnly). */
  readonly storageNodeAllowed: boolean;
  /** The cluster the platform runs on, when the platform is configured. */
  readonly cluster?: {
    readonly name: string;
    readonly sites: Readonly<Record<string, { readonly cidr: string }>>;
    readonly nodes: readonly K3sNode[];
  };
  readonly webapps: readonly {
    readonly serviceName: string;
    readonly namespace: string;
    readonly database?: z.output<typeof webappDatabase>;
  }[];
}

export function parseStorage(
  r: {
    storageNode?: RawStorageNode;
    mariadb?: RawMariadb;
    releases?: { readonly mirror?: string; readonly sha256: Readonly<Record<string, string>> };
  },
  ctx: StorageParseContext,
): StorageConfig {
  const { fail, cluster } = ctx;
  let storageNode: StorageNodeConfig | undefined;
  let storageHost: StorageHost | undefined;
  // csi-driver-nfs is installed with a StorageClass or MariaDB's backups (stacks/parts/storage.ts).
  const csiWanted = (r.storageNode?.storageClass ?? r.mariadb?.backup) !== undefined;
  if (r.storageNode && ctx.storageNodeAllowed && cluster) {
    const s = r.storageNode;
    const node = cluster.nodes.find((n) => n.name === s.node);
    if (!node) {
      fail(
        "storageNode.node",
        `unknown node "${s.node}" (cluster "${cluster.name}" has ${quoted(cluster.nodes.map((n) => n.name))})`,
      );
    } else if (node.host === undefined) {
      fail(
        "storageNode.node",
        `"${s.node}" has no host: (kantai reaches the storage node over SSH to mount its disk and run the NFS server; a Proxmox VM node has no HDD of its own)`,
      );
    } else {
      storageHost = { ...node, host: node.host };
      const clients = s.export.clients ?? [cluster.sites[node.site].cidr];
      // Who mounts the export: the backup CronJob runs on the storage node, and a pod on the
      // StorageClass mounts from wherever it runs; other sites reach the server's site address only
      // if they route to it (WireGuard carries pod traffic only), so the rule is the storage node's
      // whole site (docs/concepts/storage.md#who-mounts-the-export). csi-driver-nfs reports no topology
      // (pkg/nfs/nodeserver.go NodeGetInfo: NodeId only), so the StorageClass cannot narrow it further.
      const mounting = cluster.nodes.filter((n) => n.site === node.site);
      const missing = exportClientProblems(clients, mounting);
      if (missing.length > 0) {
        fail(
          "storageNode.export.clients",
          `${clients.join(", ")} does not contain ${missing.join(", ")}: every node of site "${node.site}" (the storage node's) may mount the export (the backup CronJob and pods on the StorageClass run there)`,
        );
      }
      const exportDir = s.export.dir;
      storageNode = {
        node: s.node,
        server: node.ip,
        site: node.site,
        disk: s.disk.uuid !== undefined ? { uuid: s.disk.uuid } : { label: s.disk.label! },
        mountPoint: s.mountPoint,
        fsType: s.fsType,
        mountOptions: s.mountOptions,
        export: { dir: exportDir, clients, options: s.export.options },
        ...(s.storageClass ? { storageClass: s.storageClass } : {}),
        csiNfsVersion: s.csiNfsVersion,
        ...(r.releases ? { releases: storageReleases(r.releases, s.csiNfsVersion, csiWanted, fail) } : {}),
      };
    }
  }
  const installsCsi = storageNode !== undefined && csiWanted;
  for (const key of Object.keys(r.releases?.sha256 ?? {}).filter(isStorageReleaseKey)) {
    if (!installsCsi)
      fail(
        `releases.sha256.${key}`,
        "pins a csi-driver-nfs manifest, but this stack installs no csi-driver-nfs (it needs kantai:storageNode with a storageClass or kantai:mariadb.backup)",
      );
  }

  let mariadb: MariadbConfig | undefined;
  if (r.mariadb) {
    const m = r.mariadb;
    if (!r.storageNode) fail("mariadb", "needs kantai:storageNode (MariaDB runs on the storage node's disk)");
    else {
      const dir = r.storageNode.export.dir;
      if (m.dataDir === dir || m.dataDir.startsWith(`${dir}/`)) {
        fail(
          "mariadb.dataDir",
          `"${m.dataDir}" is inside the NFS export (kantai:storageNode.export.dir "${dir}"): the database files would be exported`,
        );
      }
    }
    const databases: AppDatabase[] = [];
    const names = new Map<string, number>();
    const users = new Map<string, number>();
    const apps = new Map<string, number>();
    ctx.webapps.forEach((w, i) => {
      if (w.database === undefined) return;
      const d = w.database === true ? {} : w.database;
      const database = d.name ?? defaultDatabaseName(w.serviceName);
      const user = d.user ?? database;
      const k = `webapps[${i}].database`;
      if (!SQL_NAME.test(database))
        fail(
          `${k}.name`,
          `the default "${database}" (from serviceName) must match ${SQL_NAME.source}: set database.name`,
        );
      if ((RESERVED_SQL_USERS as readonly string[]).includes(user))
        fail(`${k}.user`, `"${user}" is reserved (${quoted(RESERVED_SQL_USERS)} are kantai's)`);
      else if (d.user === undefined && !SQL_NAME.test(user))
        fail(`${k}.user`, `the default "${user}" must match ${SQL_NAME.source}: set database.user`);
      // MariaDB's per-app passwords and Secrets are keyed by serviceName.
      if (apps.has(w.serviceName))
        fail(k, `serviceName "${w.serviceName}" already has a database (kantai:webapps[${apps.get(w.serviceName)}])`);
      else apps.set(w.serviceName, i);
      if (names.has(database))
        fail(`${k}.name`, `"${database}" is already used by kantai:webapps[${names.get(database)}]`);
      else names.set(database, i);
      if (users.has(user)) fail(`${k}.user`, `"${user}" is already used by kantai:webapps[${users.get(user)}]`);
      else users.set(user, i);
      databases.push({ app: w.serviceName, namespace: w.namespace, database, user });
    });
    const { backup, ...rest } = m;
    mariadb = { ...rest, ...(backup ? { backup } : {}), databases };
  } else {
    ctx.webapps.forEach((w, i) => {
      if (w.database !== undefined) fail(`webapps[${i}].database`, "needs kantai:mariadb (the database server)");
    });
  }
  return {
    ...(storageNode ? { storageNode } : {}),
    ...(storageHost ? { storageHost } : {}),
    ...(mariadb ? { mariadb } : {}),
  };
}

/**
 * csi-driver-nfs' manifests under kantai:releases: its pins, and (for a directory mirror, when the
 * driver is installed) the files the mirror must hold, at the layout of docs/reference/config.md#release-manifests-and-mirror.
 * The mirror's own shape is checked with the rest of kantai:releases (stacks/config/platform.ts).
 */
function storageReleases(
  rr: { readonly mirror?: string; readonly sha256: Readonly<Record<string, string>> },
  version: string,
  installsCsi: boolean,
  fail: Fail,
): NonNullable<StorageNodeConfig["releases"]> {
  const sha256 = Object.fromEntries(Object.entries(rr.sha256).filter(([k]) => isStorageReleaseKey(k)));
  if (rr.mirror === undefined) return { sha256 };
  const mirror = releaseMirrorOf(rr.mirror);
  if (installsCsi && mirror.kind === "dir" && existsSync(mirror.path) && statSync(mirror.path).isDirectory()) {
    const dir = mirror.path.replace(/\/+$/, "");
    const missing = csiNfsReleases(version).filter((x) => !existsSync(`${dir}/${x.mirrorPath}`));
    if (missing.length > 0)
      fail(
        "releases.mirror",
        `${mirror.path} lacks ${missing.map((m) => `${m.mirrorPath} (${m.key})`).join(", ")}; the layout is in docs/reference/config.md#release-manifests-and-mirror`,
      );
  }
  return { mirror, sha256 };
}
