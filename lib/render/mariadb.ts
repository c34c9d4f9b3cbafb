/**
 * Seed 003's MariaDB as plain Kubernetes objects: a one-replica StatefulSet pinned to the storage
 * node with its data on a local PersistentVolume on the HDD (docs/decisions/0018), a headless and a
 * ClusterIP Service (stable name `<name>.<namespace>.svc.cluster.local`), the provisioning Job that
 * creates one database + user per app, the backup CronJob, and per app a Secret holding its
 * DATABASE_URL. Secret values are parameters: the component passes Pulumi secrets, the artifact a
 * placeholder. Pure (no @pulumi).
 *
 * Upstream rules:
 * - Official image (github.com/MariaDB/mariadb-docker, docker-library/official-images
 *   library/mariadb): tags are exact versions (`10.11.18`); architectures amd64, arm64v8, ppc64le,
 *   s390x (no 32-bit ARM: the storage node must run a 64-bit OS). The entrypoint reads
 *   MARIADB_ROOT_PASSWORD on first start only, runs `mariadb-upgrade` when MARIADB_AUTO_UPGRADE is
 *   set, and ships `healthcheck.sh --connect --innodb_initialized` for probes (its healthcheck user
 *   is created at initialisation). docker-entrypoint.sh: container args that start with "-" get
 *   `mariadbd` prepended (so `args` are server options); with MARIADB_ROOT_HOST unset it creates
 *   root@'%' with the root password (what test/mariadb.backup.test.ts sets up).
 * - Local volumes (kubernetes.io/docs/concepts/storage/volumes/#local): a PV with `local.path` and
 *   a required `nodeAffinity`; a StorageClass with `kubernetes.io/no-provisioner` and
 *   `volumeBindingMode: WaitForFirstConsumer`.
 * - StatefulSet pods get `<pod>.<serviceName>` DNS from a headless Service (clusterIP: None).
 * - `env[].valueFrom.secretKeyRef` reads a key of a Secret in the pod's own namespace.
 */
import { createHash } from "node:crypto";
import { kantaiLabels, type K8sObject } from "./k8s";
import { renderBackupScript, renderRestoreScript } from "./mariadbBackup";

/** The image kantai pins: MariaDB 10.11 LTS (the series Debian 12 ships, which the backup tests run). */
export const MARIADB_IMAGE = "docker.io/library/mariadb:10.11.18";

/** A database for one app. */
export interface AppDatabase {
  /** The app (WebApp serviceName); names its Secret `<app>-database`. */
  readonly app: string;
  /** The app's namespace: its Secret lives there (secretKeyRef is namespace-local). */
  readonly namespace: string;
  /** Database name. */
  readonly database: string;
  /** MariaDB user. */
  readonly user: string;
}

export interface MariadbSpec {
  /** Defaults to "mariadb". */
  readonly name?: string;
  /** Defaults to "mariadb". */
  readonly namespace?: string;
  /** Defaults to MARIADB_IMAGE. */
  readonly image?: string;
  /** The storage node's Kubernetes node name (kubernetes.io/hostname). */
  readonly node: string;
  /** Taints of the storage node the pods tolerate, e.g. ["kantai.dev/storage=hdd:NoSchedule"]. Defaults to []. */
  readonly tolerateTaints?: readonly string[];
  /** Directory on the storage node's disk holding the data (must exist: the storage node script creates it). */
  readonly dataPath: string;
  /** Capacity of the data volume. Defaults to "20Gi". */
  readonly storageSize?: string;
  /** Defaults to requests 100m/256Mi, limits 1/1Gi (a Raspberry Pi 4). */
  readonly resources?: {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
  };
  /** Defaults to "128M" (innodb_buffer_pool_size; keep it well under the memory limit). */
  readonly bufferPool?: string;
  readonly databases: readonly AppDatabase[];
  /** The backup CronJob; omitted: no backups. */
  readonly backup?: {
    /** Cron schedule. */
    readonly schedule: string;
    /** Backups kept. */
    readonly keep: number;
    /** The PVC (in the MariaDB namespace) the backups go to. */
    readonly claimName: string;
    /** Defaults to "Etc/UTC". */
    readonly timeZone?: string;
    /** Where the backup pod may run (it mounts the NFS export), e.g. the storage node's site zone. Defaults to anywhere. */
    readonly nodeSelector?: Readonly<Record<string, string>>;
  };
}

export const MARIADB_DEFAULTS = {
  name: "mariadb",
  namespace: "mariadb",
  image: MARIADB_IMAGE,
  storageSize: "20Gi",
  resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  bufferPool: "128M",
  port: 3306,
  backupUser: "kantai_backup",
} as const;

/** Keys of the MariaDB namespace's credentials Secret. */
export const ROOT_PASSWORD_KEY = "root-password";
export const BACKUP_PASSWORD_KEY = "backup-password";
export const appPasswordKey = (app: string) => `${app}-password`;

/** Database and user names kantai accepts: safe in SQL identifiers and in URLs without quoting. */
export const SQL_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** The default database/user name for an app: its name with '-' → '_'. */
export function defaultDatabaseName(app: string): string {
  return app.replace(/-/g, "_").slice(0, 32);
}

/** `<name>.<namespace>.svc.cluster.local`. */
export function mariadbHost(spec: Pick<MariadbSpec, "name" | "namespace">, clusterDomain = "cluster.local"): string {
  return `${spec.name ?? MARIADB_DEFAULTS.name}.${spec.namespace ?? MARIADB_DEFAULTS.namespace}.svc.${clusterDomain}`;
}

/** The Secret an app's DATABASE_URL lives in. */
export function appSecretName(app: string): string {
  return `${app}-database`;
}

/** `mysql://user:password@host:3306/database` (passwords are alphanumeric: no URL escaping needed). */
export function databaseUrl(host: string, db: Pick<AppDatabase, "database" | "user">, password: string): string {
  return `mysql://${db.user}:${password}@${host}:${MARIADB_DEFAULTS.port}/${db.database}`;
}

/** The env entry a WebApp gets: DATABASE_URL from its Secret, never a literal value. */
export function databaseUrlEnv(app: string): {
  name: string;
  valueFrom: { secretKeyRef: { name: string; key: string } };
} {
  return { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: appSecretName(app), key: "DATABASE_URL" } } };
}

function check(spec: MariadbSpec): void {
  const seen = new Set<string>();
  for (const d of spec.databases) {
    if (!SQL_NAME.test(d.database))
      throw new Error(`mariadb renderer: database name "${d.database}" must match ${SQL_NAME}`);
    if (!SQL_NAME.test(d.user)) throw new Error(`mariadb renderer: user name "${d.user}" must match ${SQL_NAME}`);
    if (d.user === MARIADB_DEFAULTS.backupUser || d.user === "root")
      throw new Error(`mariadb renderer: user name "${d.user}" is reserved`);
    if (seen.has(d.database)) throw new Error(`mariadb renderer: database "${d.database}" listed twice`);
    seen.add(d.database);
  }
}

/**
 * The provisioning script (run by the Job, and by the tests against a real server): waits for the
 * server, then for every app `CREATE DATABASE IF NOT EXISTS`, `CREATE USER IF NOT EXISTS`,
 * `ALTER USER … IDENTIFIED BY` (so a rotated password applies) and `GRANT ALL ON <db>.*`; and the
 * backup user with the privileges mariadb-dump needs (SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES).
 * Idempotent. Never drops anything. Passwords come from the environment and must be alphanumeric.
 */
export function renderProvisionScript(databases: readonly AppDatabase[]): string {
  check({ node: "x", dataPath: "/x", databases });
  const lines = databases.map(
    (d) => `provision '${d.database}' '${d.user}' "\${${provisionPasswordEnv(d.app)}:?is required}"`,
  );
  return `#!/bin/sh
# kantai: create the apps' databases and users on MariaDB. Rendered by kantai; idempotent, never drops.
set -eu
umask 077
say() { echo "kantai-provision: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
: "\${MARIADB_HOST:?is required}" "\${MARIADB_ROOT_PASSWORD:?is required}" "\${BACKUP_PASSWORD:?is required}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf '[client]\\nhost=%s\\nport=%s\\nuser=root\\npassword="%s"\\n' "$MARIADB_HOST" "\${MARIADB_PORT:-3306}" "$MARIADB_ROOT_PASSWORD" > "$TMP/client.cnf"
sql() { mariadb --defaults-extra-file="$TMP/client.cnf" -e "$1"; }
safe() { case "$1" in '' | *[!A-Za-z0-9]*) fail "the password for $2 must be alphanumeric" ;; esac; }
n=0
until mariadb-admin --defaults-extra-file="$TMP/client.cnf" ping > /dev/null 2>&1; do
  n=$((n + 1))
  [ "$n" -lt 90 ] || fail "MariaDB at $MARIADB_HOST did not answer for 3 minutes"
  sleep 2
done
provision() {
  safe "$3" "$2"
  sql "CREATE DATABASE IF NOT EXISTS \\\`$1\\\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$2'@'%' IDENTIFIED BY '$3';
ALTER USER '$2'@'%' IDENTIFIED BY '$3';
GRANT ALL PRIVILEGES ON \\\`$1\\\`.* TO '$2'@'%';"
  say "database $1, user $2: ok"
}
safe "$BACKUP_PASSWORD" ${MARIADB_DEFAULTS.backupUser}
sql "CREATE USER IF NOT EXISTS '${MARIADB_DEFAULTS.backupUser}'@'%' IDENTIFIED BY '$BACKUP_PASSWORD';
ALTER USER '${MARIADB_DEFAULTS.backupUser}'@'%' IDENTIFIED BY '$BACKUP_PASSWORD';
GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON *.* TO '${MARIADB_DEFAULTS.backupUser}'@'%';"
say "backup user ${MARIADB_DEFAULTS.backupUser}: ok"
${lines.join("\n")}
`;
}

/** The environment variable the provisioning script reads an app's password from. */
export function provisionPasswordEnv(app: string): string {
  return `APP_PW_${app.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}`;
}

const taintToleration = (t: string) => {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
  if (!m) throw new Error(`mariadb renderer: bad taint "${t}"`);
  return m[2] !== undefined
    ? { key: m[1], operator: "Equal", value: m[2], effect: m[3] }
    : { key: m[1], operator: "Exists", effect: m[3] };
};

export interface MariadbSecrets {
  readonly rootPassword: string;
  readonly backupPassword: string;
  /** By app name. */
  readonly appPasswords: Readonly<Record<string, string>>;
}

export interface MariadbObjects {
  readonly namespace: K8sObject;
  readonly storageClass: K8sObject;
  readonly volume: K8sObject;
  readonly credentials: K8sObject;
  readonly appSecrets: K8sObject[];
  readonly scripts: K8sObject;
  readonly headless: K8sObject;
  readonly service: K8sObject;
  readonly statefulSet: K8sObject;
  readonly provisionJob: K8sObject;
  readonly backupCronJob?: K8sObject;
}

/** Every object, in apply order. */
export function mariadbObjectList(o: MariadbObjects): K8sObject[] {
  return [
    o.namespace,
    o.storageClass,
    o.volume,
    o.credentials,
    ...o.appSecrets,
    o.scripts,
    o.headless,
    o.service,
    o.statefulSet,
    o.provisionJob,
    ...(o.backupCronJob ? [o.backupCronJob] : []),
  ];
}

export function renderMariadb(spec: MariadbSpec, secrets: MariadbSecrets): MariadbObjects {
  check(spec);
  const name = spec.name ?? MARIADB_DEFAULTS.name;
  const ns = spec.namespace ?? MARIADB_DEFAULTS.namespace;
  const image = spec.image ?? MARIADB_DEFAULTS.image;
  const host = mariadbHost(spec);
  const selector = { app: name };
  const labels = kantaiLabels("mariadb", selector);
  const meta = (n: string, extra: Record<string, unknown> = {}) => ({ name: n, namespace: ns, labels, ...extra });
  const credentialsName = `${name}-credentials`;
  const tolerations = (spec.tolerateTaints ?? []).map(taintToleration);
  const storageClassName = `${name}-local`;
  const size = spec.storageSize ?? MARIADB_DEFAULTS.storageSize;
  const claim = `data-${name}-0`;
  const secretEnv = (envName: string, key: string) => ({
    name: envName,
    valueFrom: { secretKeyRef: { name: credentialsName, key } },
  });

  const namespace: K8sObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: ns, labels: kantaiLabels("mariadb") },
  };
  const storageClass: K8sObject = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: storageClassName, labels: kantaiLabels("mariadb") },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "WaitForFirstConsumer",
    reclaimPolicy: "Retain",
  };
  const volume: K8sObject = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `${ns}-${claim}`, labels: kantaiLabels("mariadb") },
    spec: {
      capacity: { storage: size },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName,
      claimRef: { namespace: ns, name: claim },
      local: { path: spec.dataPath },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [spec.node] }] },
          ],
        },
      },
    },
  };
  const credentials: K8sObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(credentialsName),
    type: "Opaque",
    stringData: {
      [ROOT_PASSWORD_KEY]: secrets.rootPassword,
      [BACKUP_PASSWORD_KEY]: secrets.backupPassword,
      ...Object.fromEntries(spec.databases.map((d) => [appPasswordKey(d.app), secrets.appPasswords[d.app] ?? ""])),
    },
  };
  const appSecrets: K8sObject[] = spec.databases.map((d) => {
    const pw = secrets.appPasswords[d.app] ?? "";
    return {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: appSecretName(d.app), namespace: d.namespace, labels: kantaiLabels("mariadb", { app: d.app }) },
      type: "Opaque",
      stringData: {
        DATABASE_URL: databaseUrl(host, d, pw),
        host,
        port: String(MARIADB_DEFAULTS.port),
        database: d.database,
        username: d.user,
        password: pw,
      },
    };
  });
  const provision = renderProvisionScript(spec.databases);
  const scripts: K8sObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(`${name}-scripts`),
    data: { "provision.sh": provision, "backup.sh": renderBackupScript(), "restore.sh": renderRestoreScript() },
  };
  const port = { name: "mysql", port: MARIADB_DEFAULTS.port, targetPort: "mysql", protocol: "TCP" };
  const headless: K8sObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(`${name}-headless`),
    spec: { clusterIP: "None", selector, ports: [port] },
  };
  const service: K8sObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name),
    spec: { type: "ClusterIP", selector, ports: [port] },
  };
  const probe = (initialDelaySeconds: number, periodSeconds: number) => ({
    exec: { command: ["healthcheck.sh", "--connect", "--innodb_initialized"] },
    initialDelaySeconds,
    periodSeconds,
    timeoutSeconds: 5,
    failureThreshold: 6,
  });
  const placement = {
    nodeSelector: { "kubernetes.io/hostname": spec.node },
    ...(tolerations.length > 0 ? { tolerations } : {}),
  };
  const statefulSet: K8sObject = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: meta(name),
    spec: {
      serviceName: `${name}-headless`,
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          ...placement,
          // InnoDB needs time for a clean shutdown (the default 30 s can cut a Pi's flush short).
          terminationGracePeriodSeconds: 120,
          containers: [
            {
              name: "mariadb",
              image,
              args: [
                `--innodb-buffer-pool-size=${spec.bufferPool ?? MARIADB_DEFAULTS.bufferPool}`,
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
              ],
              env: [
                secretEnv("MARIADB_ROOT_PASSWORD", ROOT_PASSWORD_KEY),
                { name: "MARIADB_AUTO_UPGRADE", value: "1" },
              ],
              ports: [{ name: "mysql", containerPort: MARIADB_DEFAULTS.port }],
              resources: spec.resources ?? MARIADB_DEFAULTS.resources,
              readinessProbe: probe(10, 10),
              livenessProbe: probe(120, 20),
              volumeMounts: [{ name: "data", mountPath: "/var/lib/mysql" }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data", labels },
          spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: size } } },
        },
      ],
    },
  };
  const clientEnv = [
    { name: "MARIADB_HOST", value: host },
    { name: "MARIADB_PORT", value: String(MARIADB_DEFAULTS.port) },
  ];
  const scriptVolume = { name: "scripts", configMap: { name: `${name}-scripts`, defaultMode: 0o555 } };
  const hash = createHash("sha256").update(provision).digest("hex").slice(0, 8);
  const provisionJob: K8sObject = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta(`${name}-provision-${hash}`),
    spec: {
      backoffLimit: 6,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "OnFailure",
          containers: [
            {
              name: "provision",
              image,
              command: ["sh", "/scripts/provision.sh"],
              env: [
                ...clientEnv,
                secretEnv("MARIADB_ROOT_PASSWORD", ROOT_PASSWORD_KEY),
                secretEnv("BACKUP_PASSWORD", BACKUP_PASSWORD_KEY),
                ...spec.databases.map((d) => secretEnv(provisionPasswordEnv(d.app), appPasswordKey(d.app))),
              ],
              resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
              volumeMounts: [{ name: "scripts", mountPath: "/scripts" }],
            },
          ],
          volumes: [scriptVolume],
        },
      },
    },
  };
  let backupCronJob: K8sObject | undefined;
  if (spec.backup) {
    const b = spec.backup;
    backupCronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta(`${name}-backup`),
      spec: {
        schedule: b.schedule,
        timeZone: b.timeZone ?? "Etc/UTC",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        // Failed Jobs stay listed (with their BackoffLimitExceeded Event) until a person looks.
        failedJobsHistoryLimit: 10,
        jobTemplate: {
          metadata: { labels },
          spec: {
            // One attempt: a failure is reported, not retried away.
            backoffLimit: 0,
            activeDeadlineSeconds: 3 * 3600,
            template: {
              metadata: { labels },
              spec: {
                restartPolicy: "Never",
                ...(spec.backup.nodeSelector ? { nodeSelector: { ...spec.backup.nodeSelector } } : {}),
                containers: [
                  {
                    name: "backup",
                    image,
                    command: ["sh", "/scripts/backup.sh"],
                    env: [
                      ...clientEnv,
                      { name: "MARIADB_USER", value: MARIADB_DEFAULTS.backupUser },
                      secretEnv("MARIADB_PASSWORD", BACKUP_PASSWORD_KEY),
                      { name: "BACKUP_DIR", value: "/backups" },
                      { name: "BACKUP_DATABASES", value: spec.databases.map((d) => d.database).join(" ") },
                      { name: "BACKUP_KEEP", value: String(b.keep) },
                    ],
                    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                    volumeMounts: [
                      { name: "scripts", mountPath: "/scripts" },
                      { name: "backups", mountPath: "/backups" },
                    ],
                  },
                ],
                volumes: [scriptVolume, { name: "backups", persistentVolumeClaim: { claimName: b.claimName } }],
              },
            },
          },
        },
      },
    };
  }
  return {
    namespace,
    storageClass,
    volume,
    credentials,
    appSecrets,
    scripts,
    headless,
    service,
    statefulSet,
    provisionJob,
    backupCronJob,
  };
}

/**
 * A one-off Job that runs restore.sh (from the scripts ConfigMap) as root against the server, with
 * the backups volume mounted: `args` are restore.sh's (default ["latest"]). Not applied by kantai:
 * docs/how-to/restore.md applies it (synth writes it as mariadb/restore-job.yaml).
 */
export function renderRestoreJob(
  spec: Pick<MariadbSpec, "name" | "namespace" | "image">,
  opts: {
    claimName: string;
    args?: readonly string[];
    drop?: boolean;
    nodeSelector?: Readonly<Record<string, string>>;
  },
): K8sObject {
  const name = spec.name ?? MARIADB_DEFAULTS.name;
  const ns = spec.namespace ?? MARIADB_DEFAULTS.namespace;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${name}-restore`, namespace: ns, labels: kantaiLabels("mariadb", { app: name }) },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: "Never",
          ...(opts.nodeSelector ? { nodeSelector: { ...opts.nodeSelector } } : {}),
          containers: [
            {
              name: "restore",
              image: spec.image ?? MARIADB_DEFAULTS.image,
              command: ["sh", "/scripts/restore.sh", ...(opts.args ?? ["latest"])],
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              env: [
                { name: "MARIADB_HOST", value: mariadbHost(spec) },
                { name: "MARIADB_PORT", value: String(MARIADB_DEFAULTS.port) },
                { name: "MARIADB_USER", value: "root" },
                {
                  name: "MARIADB_PASSWORD",
                  valueFrom: { secretKeyRef: { name: `${name}-credentials`, key: ROOT_PASSWORD_KEY } },
                },
                { name: "BACKUP_DIR", value: "/backups" },
                { name: "RESTORE_DROP", value: opts.drop ? "1" : "0" },
              ],
              volumeMounts: [
                { name: "scripts", mountPath: "/scripts" },
                { name: "backups", mountPath: "/backups", readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "scripts", configMap: { name: `${name}-scripts`, defaultMode: 0o555 } },
            { name: "backups", persistentVolumeClaim: { claimName: opts.claimName, readOnly: true } },
          ],
        },
      },
    },
  };
}
