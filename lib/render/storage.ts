/**
 * Seed 003's storage node: the HDD mounted by UUID or label, exported over NFS to the cluster, and
 * the cluster's StorageClass on that export through kubernetes-csi/csi-driver-nfs. Pure: returns
 * text and plain objects.
 *
 * Upstream rules these scripts follow (Debian 12's man pages: util-linux 2.38 fstab(5)/mount(8),
 * systemd 252 systemd.mount(5)/systemd.unit(5), nfs-utils 2.6.2 exports(5)/exportfs(8)):
 * - fstab(5)/mount(8) `nofail`: "do not report errors for this device if it does not exist";
 *   systemd.mount(5): with `nofail` the mount is only *wanted* by local-fs.target, so a missing
 *   disk never stops the boot; `x-systemd.device-timeout=` bounds the wait for the device.
 * - systemd.unit(5) `RequiresMountsFor=`: Requires= + After= on the mount units of a path. The
 *   nfs-server drop-in uses it so the server never starts on an unmounted (empty) mount point.
 * - exports(5): `<path> <client>(<opts>)`, no whitespace between client and options; option
 *   `mountpoint=<path>` exports only while <path> is a mount point ("the directory underneath a
 *   mountpoint will never be exported by accident … if the filesystem failed to mount").
 * - exportfs(8): reads /etc/exports and /etc/exports.d/*.exports ("only files that end with
 *   .exports are used"); `exportfs -ra` re-exports and drops entries that were removed. kantai
 *   owns one file there and never edits /etc/exports.
 * - csi-driver-nfs v4.13.4 (github.com/kubernetes-csi/csi-driver-nfs, docs/driver-parameters.md):
 *   StorageClass `provisioner: nfs.csi.k8s.io`, parameters `server` and `share` (required),
 *   `subDir`, `mountPermissions`, `onDelete` (delete|retain|archive); `mountOptions` like
 *   `nfsvers=4.1`; static PV `volumeHandle` format `{server}#{share}#{subDir}`; the install order
 *   of deploy/install-driver.sh: rbac, driverinfo, controller, node.
 */
import { parseSubnet, subnetContains } from "../net/ipv4";
import { kantaiLabels, type K8sObject } from "./k8s";
import type { ReleaseManifest } from "./knative";

/** The disk, found by filesystem UUID or label (never by /dev/sdX, which changes between boots). */
export type DiskRef = { readonly uuid: string } | { readonly label: string };

export interface StorageNodeSpec {
  /** Name of this storage (a K8s-style name); tags every file kantai writes. */
  readonly name: string;
  readonly disk: DiskRef;
  /** Absolute mount point. Defaults to "/srv/kantai". */
  readonly mountPoint?: string;
  /** Filesystem on the disk; the script checks the disk carries it and never formats. Defaults to "ext4". */
  readonly fsType?: string;
  /** Extra mount options after kantai's `defaults,nofail,x-systemd.device-timeout=30s`. Defaults to []. */
  readonly mountOptions?: readonly string[];
  /** Directory under the mount point that is exported. Defaults to "nfs". */
  readonly exportDir?: string;
  /** Client networks (CIDRs) allowed to mount the export. Required (config defaults it to the site's CIDR). */
  readonly clients: readonly string[];
  /** exports(5) options per client. Defaults to EXPORT_DEFAULT_OPTIONS (+ `mountpoint=<mountPoint>`, always). */
  readonly exportOptions?: readonly string[];
  /** Directories under the mount point created for local data (not exported), e.g. ["mariadb"]. Defaults to []. */
  readonly dataDirs?: readonly string[];
}

/**
 * `rw,sync,no_subtree_check,no_root_squash`: sync and no_subtree_check are exports(5)'s
 * recommended defaults spelled out; no_root_squash because csi-driver-nfs' controller creates each
 * volume's sub-directory as root on the share (pkg/nfs/controllerserver.go, os.MkdirAll), which a
 * squashed root (nobody) cannot do in a root-owned export.
 */
export const EXPORT_DEFAULT_OPTIONS = ["rw", "sync", "no_subtree_check", "no_root_squash"] as const;

export const STORAGE_DEFAULTS = {
  mountPoint: "/srv/kantai",
  fsType: "ext4",
  exportDir: "nfs",
  deviceTimeout: "30s",
} as const;

const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;
const SAFE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const UUID = /^[0-9A-Fa-f-]{8,36}$/;
const LABEL = /^[A-Za-z0-9._-]{1,16}$/;
const OPTION = /^[A-Za-z0-9_.=/:-]+$/;

interface Resolved {
  readonly name: string;
  readonly source: string;
  readonly blkidArgs: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly options: string;
  readonly exportPath: string;
  readonly clients: readonly string[];
  readonly exportOptions: string;
  readonly dataDirs: readonly string[];
}

/** Apply defaults and refuse anything that would need quoting in a script (config validates first, with key names). */
function resolve(spec: StorageNodeSpec): Resolved {
  const bad = (what: string, v: string) => new Error(`storage renderer: unsafe ${what} ${JSON.stringify(v)}`);
  if (!SAFE_NAME.test(spec.name)) throw bad("name", spec.name);
  const mountPoint = (spec.mountPoint ?? STORAGE_DEFAULTS.mountPoint).replace(/\/+$/, "") || "/";
  if (!SAFE_PATH.test(mountPoint) || mountPoint === "/" || mountPoint.includes(".."))
    throw bad("mount point", mountPoint);
  const fsType = spec.fsType ?? STORAGE_DEFAULTS.fsType;
  if (!/^[a-z0-9]+$/.test(fsType)) throw bad("filesystem", fsType);
  const exportDir = spec.exportDir ?? STORAGE_DEFAULTS.exportDir;
  const sub = (d: string, what: string) => {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(d) || d.split("/").some((p) => p === ".." || p === "."))
      throw bad(what, d);
    return d;
  };
  sub(exportDir, "export dir");
  const dataDirs = (spec.dataDirs ?? []).map((d) => sub(d, "data dir"));
  let source: string;
  let blkidArgs: string;
  if ("uuid" in spec.disk) {
    if (!UUID.test(spec.disk.uuid)) throw bad("UUID", spec.disk.uuid);
    source = `UUID=${spec.disk.uuid}`;
    blkidArgs = `-U '${spec.disk.uuid}'`;
  } else {
    if (!LABEL.test(spec.disk.label)) throw bad("label", spec.disk.label);
    source = `LABEL=${spec.disk.label}`;
    blkidArgs = `-L '${spec.disk.label}'`;
  }
  const extra = spec.mountOptions ?? [];
  for (const o of extra) if (!OPTION.test(o)) throw bad("mount option", o);
  const options = ["defaults", "nofail", `x-systemd.device-timeout=${STORAGE_DEFAULTS.deviceTimeout}`, ...extra].join(
    ",",
  );
  if (spec.clients.length === 0) throw new Error("storage renderer: at least one client network");
  for (const c of spec.clients) if (!parseSubnet(c)) throw bad("client network", c);
  const exportOpts = [...(spec.exportOptions ?? EXPORT_DEFAULT_OPTIONS)];
  for (const o of exportOpts)
    if (!OPTION.test(o) || o.startsWith("mountpoint") || o.startsWith("mp")) throw bad("export option", o);
  exportOpts.push(`mountpoint=${mountPoint}`);
  return {
    name: spec.name,
    source,
    blkidArgs,
    mountPoint,
    fsType,
    options,
    exportPath: `${mountPoint}/${exportDir}`,
    clients: spec.clients,
    exportOptions: exportOpts.join(","),
    dataDirs: dataDirs.map((d) => `${mountPoint}/${d}`),
  };
}

/** The exported directory: `<mountPoint>/<exportDir>`. */
export function storageExportPath(spec: StorageNodeSpec): string {
  return resolve(spec).exportPath;
}

/** The fstab(5) marker line kantai writes above its entry; the delete step removes exactly these two lines. */
export function fstabMarker(spec: Pick<StorageNodeSpec, "name">): string {
  return `# kantai:storage:${spec.name} (managed by kantai; the next line is rewritten on every up)`;
}

/** The fstab(5) entry: `UUID=… <mountPoint> <fs> defaults,nofail,x-systemd.device-timeout=30s 0 2`. */
export function renderFstabEntry(spec: StorageNodeSpec): string {
  const r = resolve(spec);
  return `${r.source} ${r.mountPoint} ${r.fsType} ${r.options} 0 2`;
}

/** kantai's file under /etc/exports.d: one line, every client network with the same options. */
export function renderExports(spec: StorageNodeSpec): string {
  const r = resolve(spec);
  return `# kantai:storage:${r.name}. Rendered by kantai; do not edit.\n${r.exportPath} ${r.clients.map((c) => `${c}(${r.exportOptions})`).join(" ")}\n`;
}

/** systemd drop-in for nfs-server.service: start only once the disk is mounted. */
export function renderNfsServerDropIn(spec: StorageNodeSpec): string {
  const r = resolve(spec);
  return `# kantai:storage:${r.name}: never serve the empty mount point of a missing disk.\n[Unit]\nRequiresMountsFor=${r.mountPoint}\n`;
}

export function storagePaths(spec: Pick<StorageNodeSpec, "name">): { exportsFile: string; dropIn: string } {
  return {
    exportsFile: `/etc/exports.d/kantai-${spec.name}.exports`,
    dropIn: `/etc/systemd/system/nfs-server.service.d/kantai-${spec.name}.conf`,
  };
}

/**
 * Create/update script, run on the storage node over SSH (root). Idempotent: each step compares
 * before it writes and prints "changed" or "unchanged"; a second run changes nothing (no file
 * rewritten, no daemon-reload, no exportfs). It never formats, never unmounts, never deletes data.
 * `$FSTAB` overrides /etc/fstab (tests only).
 */
export function renderStorageCreate(spec: StorageNodeSpec): string {
  const r = resolve(spec);
  const p = storagePaths(spec);
  const marker = fstabMarker(spec);
  const entry = renderFstabEntry(spec);
  return `#!/bin/sh
# kantai: storage node "${r.name}": ${r.source} on ${r.mountPoint} (${r.fsType}), NFS export ${r.exportPath}.
set -eu
STEP=start
trap 'echo "kantai: storage ${r.name} stopped at step: $STEP (later steps did not run; the disk and its data are untouched)" >&2' EXIT
FSTAB="\${FSTAB:-/etc/fstab}"
say() { echo "kantai: storage ${r.name}: $*" >&2; }
RELOAD=0

# 1. The disk, by ${r.source}: it must exist and carry ${r.fsType}; kantai never formats.
STEP=disk
DEV=$(blkid ${r.blkidArgs} 2>/dev/null || true)
if [ -z "$DEV" ]; then
  say "no block device with ${r.source} (blkid ${r.blkidArgs} found none): attach the disk or fix the UUID/label in config"
  exit 1
fi
FSTYPE=$(blkid -s TYPE -o value "$DEV" 2>/dev/null || true)
if [ "$FSTYPE" != '${r.fsType}' ]; then
  say "$DEV (${r.source}) has filesystem '\${FSTYPE:-none}', config says '${r.fsType}'; kantai never formats a disk"
  exit 1
fi

# 2. fstab: one kantai entry (marker line + entry), nofail; refuse a foreign entry for the mount point.
STEP=fstab
if awk -v m='${marker}' -v mp='${r.mountPoint}' 'prev != m && $0 !~ /^[[:space:]]*#/ && $2 == mp { found = 1 } { prev = $0 } END { exit !found }' "$FSTAB"; then
  say "$FSTAB already has an entry for ${r.mountPoint} that kantai did not write; remove it or choose another mountPoint"
  exit 1
fi
awk -v m='${marker}' 'skip { skip = 0; next } $0 == m { skip = 1; next } { print }' "$FSTAB" > "$FSTAB.kantai-new"
printf '%s\\n%s\\n' '${marker}' '${entry}' >> "$FSTAB.kantai-new"
if cmp -s "$FSTAB" "$FSTAB.kantai-new"; then
  rm -f "$FSTAB.kantai-new"; say "fstab unchanged"
else
  cat "$FSTAB.kantai-new" > "$FSTAB"; rm -f "$FSTAB.kantai-new"; RELOAD=1; say "fstab changed"
fi

# 3. Mounted from that disk (mount reads the fstab entry, as the boot does).
STEP=mount
mkdir -p '${r.mountPoint}'
if mountpoint -q '${r.mountPoint}'; then
  SRC=$(findmnt -n -o SOURCE --mountpoint '${r.mountPoint}')
  if [ "$(readlink -f "$SRC")" != "$(readlink -f "$DEV")" ]; then
    say "${r.mountPoint} is mounted from $SRC, not from $DEV (${r.source}); unmount it first"
    exit 1
  fi
  say "mount unchanged"
else
  mount --target '${r.mountPoint}' --fstab "$FSTAB"
  say "mounted $DEV on ${r.mountPoint}"
fi
mountpoint -q '${r.mountPoint}'

# 4. Directories on the disk (only now that it is mounted: never on the root filesystem).
STEP=directories
for d in '${r.exportPath}'${r.dataDirs.map((d) => ` '${d}'`).join("")}; do
  [ -d "$d" ] || { mkdir -p "$d"; say "created $d"; }
done

# 5. NFS server (Debian's nfs-kernel-server), started only after the mount.
STEP=nfs-server
if ! dpkg-query -W -f='\${Status}' nfs-kernel-server 2>/dev/null | grep -q 'install ok installed'; then
  say "installing nfs-kernel-server"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nfs-kernel-server
fi
DROPIN_NEW=$(mktemp)
cat > "$DROPIN_NEW" <<'KANTAI_EOF'
${renderNfsServerDropIn(spec).trimEnd()}
KANTAI_EOF
if cmp -s "$DROPIN_NEW" '${p.dropIn}'; then
  rm -f "$DROPIN_NEW"; say "nfs-server drop-in unchanged"
else
  mkdir -p "$(dirname '${p.dropIn}')"; chmod 0644 "$DROPIN_NEW"; mv -f "$DROPIN_NEW" '${p.dropIn}'; RELOAD=1; say "nfs-server drop-in changed"
fi
if [ "$RELOAD" = 1 ]; then systemctl daemon-reload; fi

# 6. Exports: kantai's own file in /etc/exports.d, applied with exportfs -ra when it changed.
STEP=exports
EXPORTS_NEW=$(mktemp)
cat > "$EXPORTS_NEW" <<'KANTAI_EOF'
${renderExports(spec).trimEnd()}
KANTAI_EOF
if cmp -s "$EXPORTS_NEW" '${p.exportsFile}' && exportfs -s | grep -q '^${r.exportPath}[[:space:]]'; then
  rm -f "$EXPORTS_NEW"; say "exports unchanged"
else
  mkdir -p /etc/exports.d; chmod 0644 "$EXPORTS_NEW"; mv -f "$EXPORTS_NEW" '${p.exportsFile}'
  exportfs -ra
  say "exports applied"
fi
exportfs -s | grep -q '^${r.exportPath}[[:space:]]' || { say "${r.exportPath} is not exported after exportfs -ra (exportfs -s)"; exit 1; }
if ! systemctl is-enabled --quiet nfs-server.service || ! systemctl is-active --quiet nfs-server.service; then
  systemctl enable --now nfs-server.service
  say "nfs-server enabled and started"
fi
trap - EXIT
`;
}

/**
 * Delete script: removes what kantai created — its fstab entry, its exports file (re-exported),
 * the nfs-server drop-in — and unmounts the disk if nothing holds it. The data, the directories on
 * the disk, the mount point and the nfs-kernel-server package stay. Safe to run twice.
 */
export function renderStorageDelete(spec: StorageNodeSpec): string {
  const r = resolve(spec);
  const p = storagePaths(spec);
  const marker = fstabMarker(spec);
  return `#!/bin/sh
# kantai: remove storage node "${r.name}" (the data on ${r.source} stays).
set -u
FSTAB="\${FSTAB:-/etc/fstab}"
say() { echo "kantai: storage ${r.name}: $*" >&2; }
if [ -f '${p.exportsFile}' ]; then
  rm -f '${p.exportsFile}'
  exportfs -ra || say "exportfs -ra failed; run it by hand"
  say "export removed"
fi
if [ -f '${p.dropIn}' ]; then
  rm -f '${p.dropIn}'
  systemctl daemon-reload || true
  say "nfs-server drop-in removed"
fi
if grep -qxF '${marker}' "$FSTAB" 2>/dev/null; then
  awk -v m='${marker}' 'skip { skip = 0; next } $0 == m { skip = 1; next } { print }' "$FSTAB" > "$FSTAB.kantai-new" && cat "$FSTAB.kantai-new" > "$FSTAB"
  rm -f "$FSTAB.kantai-new"
  say "fstab entry removed"
fi
if mountpoint -q '${r.mountPoint}'; then
  if umount '${r.mountPoint}'; then say "unmounted ${r.mountPoint} (data kept on the disk)"; else say "${r.mountPoint} is busy; left mounted (data kept)"; fi
fi
exit 0
`;
}

/** A node that mounts the export. */
export interface ExportClientNode {
  readonly name: string;
  readonly ip: string;
}

/** Nodes whose address is in none of the client networks: each one a sentence for the config error. */
export function exportClientProblems(clients: readonly string[], nodes: readonly ExportClientNode[]): string[] {
  const nets = clients.map((c) => parseSubnet(c)).filter((s) => s !== undefined);
  return nodes.filter((n) => !nets.some((s) => subnetContains(s, n.ip))).map((n) => `${n.name} (${n.ip})`);
}

// ---------------------------------------------------------------------------------------------
// In the cluster: csi-driver-nfs and the StorageClass.

/** csi-driver-nfs release kantai pins (latest tag v4.13.4, 2026-07-01). */
export const CSI_NFS_VERSION = "4.13.4";

/**
 * The release manifests, in deploy/install-driver.sh's order (without the optional snapshot
 * controller). Keys are the upstream file names (also the child resources' suffixes, so existing
 * stacks keep their resources); under a mirror (`kantai:releases.mirror`) each file is at
 * `csi-driver-nfs/v<version>/<file>`, the layout of the other release manifests.
 */
export function csiNfsReleases(version: string = CSI_NFS_VERSION): ReleaseManifest[] {
  const base = `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v${version}/deploy/v${version}`;
  return CSI_NFS_RELEASE_KEYS.map((f) => ({
    key: f,
    url: `${base}/${f}.yaml`,
    mirrorPath: `csi-driver-nfs/v${version}/${f}.yaml`,
  }));
}

/** csi-driver-nfs' release keys (`kantai:releases.sha256.<key>`), in install order. */
export const CSI_NFS_RELEASE_KEYS = [
  "rbac-csi-nfs",
  "csi-nfs-driverinfo",
  "csi-nfs-controller",
  "csi-nfs-node",
] as const;

export interface NfsStorageClassSpec {
  /** Defaults to "nfs-hdd". */
  readonly name?: string;
  /** NFS server address (the storage node's IP). */
  readonly server: string;
  /** The export path. */
  readonly share: string;
  /** Defaults to ["nfsvers=4.1"] (the driver's example). */
  readonly mountOptions?: readonly string[];
  /** Mark as the cluster's default StorageClass. Defaults to false. */
  readonly isDefault?: boolean;
  /** What happens to a deleted volume's directory: csi-driver-nfs `onDelete`. Defaults to "retain" (data stays). */
  readonly onDelete?: "delete" | "retain" | "archive";
}

export const NFS_STORAGE_CLASS_DEFAULTS = {
  name: "nfs-hdd",
  mountOptions: ["nfsvers=4.1"],
  isDefault: false,
  onDelete: "retain",
} as const;

/**
 * The StorageClass. `reclaimPolicy: Retain` and `onDelete: retain` so deleting a claim never
 * deletes the files; the default-class annotation only when asked
 * (kubernetes.io/docs/concepts/storage/storage-classes/#default-storageclass:
 * `storageclass.kubernetes.io/is-default-class: "true"`).
 */
export function renderNfsStorageClass(spec: NfsStorageClassSpec): K8sObject {
  const d = {
    name: spec.name ?? NFS_STORAGE_CLASS_DEFAULTS.name,
    server: spec.server,
    share: spec.share,
    mountOptions: spec.mountOptions ?? NFS_STORAGE_CLASS_DEFAULTS.mountOptions,
    isDefault: spec.isDefault ?? NFS_STORAGE_CLASS_DEFAULTS.isDefault,
    onDelete: spec.onDelete ?? NFS_STORAGE_CLASS_DEFAULTS.onDelete,
  };
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: d.name,
      labels: kantaiLabels("storage"),
      ...(d.isDefault ? { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } : {}),
    },
    provisioner: "nfs.csi.k8s.io",
    parameters: { server: d.server, share: d.share, onDelete: d.onDelete },
    reclaimPolicy: "Retain",
    volumeBindingMode: "Immediate",
    allowVolumeExpansion: true,
    mountOptions: [...d.mountOptions],
  };
}

/**
 * A static PersistentVolume + claim for a fixed directory of the export (the backups' target), so
 * its files sit at a known path on the disk: `<share>/<subDir>`.
 */
export function renderNfsStaticVolume(spec: {
  readonly name: string;
  readonly namespace: string;
  readonly server: string;
  readonly share: string;
  readonly subDir: string;
  readonly size: string;
  readonly mountOptions?: readonly string[];
}): [K8sObject, K8sObject] {
  const labels = kantaiLabels("storage");
  const pv: K8sObject = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: `${spec.namespace}-${spec.name}`,
      labels,
      annotations: { "pv.kubernetes.io/provisioned-by": "nfs.csi.k8s.io" },
    },
    spec: {
      capacity: { storage: spec.size },
      accessModes: ["ReadWriteMany"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      mountOptions: [...(spec.mountOptions ?? NFS_STORAGE_CLASS_DEFAULTS.mountOptions)],
      claimRef: { namespace: spec.namespace, name: spec.name },
      csi: {
        driver: "nfs.csi.k8s.io",
        volumeHandle: `${spec.server}#${spec.share}#${spec.subDir}#`,
        volumeAttributes: { server: spec.server, share: spec.share, subDir: spec.subDir },
      },
    },
  };
  const pvc: K8sObject = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      accessModes: ["ReadWriteMany"],
      storageClassName: "",
      volumeName: pv.metadata.name,
      resources: { requests: { storage: spec.size } },
    },
  };
  return [pv, pvc];
}
