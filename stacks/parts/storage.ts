/** Seed 003's stateful services (issue 16) on the edge composition's platform cluster. */
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../../components/artifact";
import type { K3sCluster } from "../../components/k8s/k3sCluster";
import { Mariadb } from "../../components/storage/mariadb";
import { StorageNode } from "../../components/storage/storageNode";
import type { EdgeConfig } from "../config";
import type { EdgeOutputs, Exported } from "../outputs";

export interface Stateful {
  readonly storage?: StorageNode;
  readonly mariadb?: Mariadb;
  readonly artifacts: readonly Artifact[];
  /** No secrets: addresses and names only. */
  readonly outputs: Pick<Exported<EdgeOutputs>, "storage" | "mariadb">;
}

/**
 * kantai:storageNode and kantai:mariadb on the platform cluster: the storage node's disk and NFS
 * export over SSH (then csi-driver-nfs and the StorageClass), after the cluster; MariaDB pinned to
 * that node, after the export. WebApps with `database` depend on the MariaDB (platformOnCluster).
 */
export function statefulOnCluster(cfg: EdgeConfig, cluster: K3sCluster): Stateful {
  if (!cfg.storageNode) return { artifacts: [], outputs: {} };
  const s = cfg.storageNode;
  const node = cfg.storageHost;
  const host = node.host;
  const m = cfg.mariadb;
  const backupDir = `${s.export.dir}/backups/mariadb`;
  const storage = new StorageNode(
    "storage",
    {
      name: "hdd",
      disk: s.disk,
      mountPoint: s.mountPoint,
      fsType: s.fsType,
      mountOptions: s.mountOptions,
      exportDir: s.export.dir,
      clients: s.export.clients,
      exportOptions: s.export.options,
      dataDirs: m ? [m.dataDir, ...(m.backup ? [backupDir] : [])] : [],
      connection: pulumi.secret({
        host: host.address,
        user: host.user,
        port: host.port,
        privateKey: cfg.proxmox.sshPrivateKey,
        dialErrorLimit: 10,
        perDialTimeout: 15,
      }),
      server: s.server,
      ...(s.storageClass ? { storageClass: s.storageClass } : {}),
      csiDriver: s.storageClass !== undefined || m?.backup !== undefined,
      csiNfsVersion: s.csiNfsVersion,
      ...(s.releases ? { releaseSource: s.releases } : {}),
    },
    { providers: { kubernetes: cluster.provider }, dependsOn: [cluster] },
  );
  let mariadb: Mariadb | undefined;
  if (m) {
    mariadb = new Mariadb(
      "mariadb",
      {
        image: m.image,
        namespace: m.namespace,
        node: s.node,
        tolerateTaints: node.taints,
        dataPath: `${s.mountPoint}/${m.dataDir}`,
        storageSize: m.storageSize,
        bufferPool: m.bufferPool,
        resources: m.resources,
        databases: m.databases,
        ...(m.backup
          ? {
              backup: {
                schedule: m.backup.schedule,
                keep: m.backup.keep,
                size: m.backup.size,
                server: s.server,
                share: storage.exportPath,
                subDir: "backups/mariadb",
                nodeSelector: { "topology.kubernetes.io/zone": s.site },
              },
            }
          : {}),
      },
      { providers: { kubernetes: cluster.provider }, dependsOn: storage.ready },
    );
  }
  return {
    storage,
    mariadb,
    artifacts: [...storage.artifacts, ...(mariadb?.artifacts ?? [])],
    outputs: {
      storage: {
        node: s.node,
        server: storage.server,
        exportPath: storage.exportPath,
        ...(storage.storageClassName ? { storageClass: storage.storageClassName } : {}),
      },
      ...(mariadb && m
        ? { mariadb: { host: mariadb.host, port: mariadb.port, databases: m.databases.map((d) => d.database) } }
        : {}),
    },
  };
}
