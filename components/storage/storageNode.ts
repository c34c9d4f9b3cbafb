import * as command from "@pulumi/command";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toYaml } from "../../lib/render/k8s";
import { asRoot } from "../../lib/render/remoteShell";
import {
  csiNfsReleases,
  CSI_NFS_VERSION,
  renderExports,
  renderFstabEntry,
  renderNfsStorageClass,
  renderStorageCreate,
  renderStorageDelete,
  storageExportPath,
  type NfsStorageClassSpec,
  type StorageNodeSpec,
} from "../../lib/render/storage";
import type { Artifact } from "../artifact";
import { releaseFiles, type ReleaseSource } from "../knative/releases";
import { childOptions } from "../childOptions";
import { aggregatedRulesTransform } from "../upstreamTransforms";
import type { SshConnection } from "../connection";

export interface StorageNodeArgs extends StorageNodeSpec {
  /** SSH connection to the storage node: a user with passwordless sudo (the scripts run as root through `sudo -n`). */
  readonly connection: pulumi.Input<SshConnection>;
  /** Address the cluster mounts the export from (the node's IP). */
  readonly server: string;
  /** The StorageClass on the export; omitted: no csi-driver-nfs, no StorageClass. */
  readonly storageClass?: Omit<NfsStorageClassSpec, "server" | "share">;
  /** Install csi-driver-nfs (MariaDB's backups mount the export through it). Defaults to true when `storageClass` is set. */
  readonly csiDriver?: boolean;
  /** csi-driver-nfs release. Defaults to CSI_NFS_VERSION. */
  readonly csiNfsVersion?: string;
  /**
   * Mirror and sha256 pins of csi-driver-nfs' manifests (kantai:releases); pinned ones are verified
   * before any of them is applied. Defaults to the upstream release URLs, unpinned.
   */
  readonly releaseSource?: ReleaseSource;
}

/**
 * Seed 003's HDD node: over SSH, one idempotent script mounts the disk by UUID/label (fstab,
 * nofail), installs the NFS server and applies kantai's exports; `pulumi destroy` runs the delete
 * script, which removes kantai's entries and leaves the data. In the cluster (when `storageClass`
 * is set): csi-driver-nfs from its release manifests (upstream or kantai:releases' mirror, verified
 * where pinned), then the StorageClass on the export.
 */
export class StorageNode extends pulumi.ComponentResource {
  public readonly setup: command.remote.Command;
  /** `<mountPoint>/<exportDir>`. */
  public readonly exportPath: string;
  public readonly server: string;
  public readonly storageClassName?: string;
  /** Depend on this for "the export is there" (and the driver, when installed). */
  public readonly ready: pulumi.Resource[];
  public readonly artifacts: Artifact[];

  constructor(name: string, args: StorageNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:storage:StorageNode", name, {}, opts);
    const { connection, server, storageClass, csiDriver, csiNfsVersion, releaseSource, ...spec } = args;
    const create = renderStorageCreate(spec);
    const remove = renderStorageDelete(spec);
    const run = asRoot(create, `kantai-storage-${spec.name}`);
    this.setup = new command.remote.Command(
      `${name}-setup`,
      { connection, create: run, update: run, delete: asRoot(remove, `kantai-storage-${spec.name}-delete`) },
      { parent: this, customTimeouts: { create: "15m", update: "15m" } },
    );
    this.exportPath = storageExportPath(spec);
    this.server = server;
    this.ready = [this.setup];
    this.artifacts = [
      { path: `${name}/setup.sh`, kind: "shell", resource: `${name}-setup`, content: create },
      { path: `${name}/delete.sh`, kind: "shell", resource: `${name}-setup`, content: remove },
      { path: `${name}/fstab`, kind: "fstab", resource: `${name}-setup`, content: renderFstabEntry(spec) + "\n" },
      { path: `${name}/kantai.exports`, kind: "exports", resource: `${name}-setup`, content: renderExports(spec) },
    ];
    let prev: pulumi.Resource[] = [this.setup];
    if (csiDriver ?? storageClass !== undefined) {
      const releases = csiNfsReleases(csiNfsVersion ?? CSI_NFS_VERSION);
      const files = releaseFiles(releases, releaseSource);
      for (const r of releases) {
        prev = [
          new kubernetes.yaml.v2.ConfigFile(
            `${name}-${r.key}`,
            { file: files[r.key] },
            { ...childOptions(this, prev), transforms: [aggregatedRulesTransform] },
          ),
        ];
      }
      this.ready = prev;
    }
    if (storageClass) {
      const sc = renderNfsStorageClass({ ...storageClass, server, share: this.exportPath });
      const scRes = new kubernetes.storage.v1.StorageClass(
        `${name}-storage-class`,
        {
          metadata: sc.metadata,
          provisioner: sc.provisioner as string,
          parameters: sc.parameters as Record<string, string>,
          reclaimPolicy: sc.reclaimPolicy as string,
          volumeBindingMode: sc.volumeBindingMode as string,
          allowVolumeExpansion: sc.allowVolumeExpansion as boolean,
          mountOptions: sc.mountOptions as string[],
        },
        childOptions(this, prev),
      );
      this.storageClassName = sc.metadata.name;
      this.ready = [...prev, scRes];
      this.artifacts.push({
        path: `${name}/storage-class.yaml`,
        kind: "kubernetes",
        resource: `${name}-storage-class`,
        content: toYaml([sc]),
      });
    }
    this.registerOutputs({ exportPath: this.exportPath, server: this.server, storageClassName: this.storageClassName });
  }
}
