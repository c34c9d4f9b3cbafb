/**
 * The cluster side of seed 003's storage: csi-driver-nfs' StorageClass and static volume, and
 * MariaDB's objects, validated against the Kubernetes schemas (test/support/k8sSchemas.ts:
 * kubernetes-models, generated from the Kubernetes OpenAPI spec), plus the rules kantai adds.
 */
import { describe, expect, it } from "vitest";
import { toYaml } from "../lib/render/k8s";
import {
  BACKUP_PASSWORD_KEY,
  MARIADB_IMAGE,
  databaseUrlEnv,
  mariadbHost,
  mariadbObjectList,
  renderMariadb,
  renderProvisionScript,
  renderRestoreJob,
  type MariadbSpec,
} from "../lib/render/mariadb";
import { renderBackupScript, renderRestoreScript } from "../lib/render/mariadbBackup";
import { CSI_NFS_VERSION, csiNfsReleases, renderNfsStaticVolume, renderNfsStorageClass } from "../lib/render/storage";
import { validateAll } from "./support/k8sSchemas";
import { runTool } from "./support/tools";

const spec: MariadbSpec = {
  node: "pi-3",
  tolerateTaints: ["kantai.dev/storage=hdd:NoSchedule"],
  dataPath: "/srv/kantai/mariadb",
  databases: [
    { app: "lil-linko", namespace: "default", database: "lil_linko", user: "lil_linko" },
    { app: "blog", namespace: "web", database: "blog", user: "blog" },
  ],
  backup: { schedule: "17 3 * * *", keep: 7, claimName: "mariadb-backups" },
};
const PLACEHOLDER = "<set by Pulumi>";
const secrets = {
  rootPassword: "R00tPasswordForTest",
  backupPassword: "BackupPasswordForTest",
  appPasswords: { "lil-linko": "LilPw123", blog: "BlogPw456" },
};

describe("csi-driver-nfs", () => {
  it("pins the release manifests in install-driver.sh's order", () => {
    // github.com/kubernetes-csi/csi-driver-nfs/blob/v4.13.4/deploy/install-driver.sh
    expect(csiNfsReleases().map((r) => r.url)).toEqual([
      `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v${CSI_NFS_VERSION}/deploy/v${CSI_NFS_VERSION}/rbac-csi-nfs.yaml`,
      `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v${CSI_NFS_VERSION}/deploy/v${CSI_NFS_VERSION}/csi-nfs-driverinfo.yaml`,
      `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v${CSI_NFS_VERSION}/deploy/v${CSI_NFS_VERSION}/csi-nfs-controller.yaml`,
      `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v${CSI_NFS_VERSION}/deploy/v${CSI_NFS_VERSION}/csi-nfs-node.yaml`,
    ]);
  });

  it("StorageClass: driver parameters, retained data, default only when asked; schema-valid", async () => {
    // docs/driver-parameters.md (v4.13.4): server and share are required; onDelete delete|retain|archive.
    const sc = renderNfsStorageClass({ server: "192.168.1.23", share: "/srv/kantai/nfs" });
    expect(sc).toMatchObject({
      provisioner: "nfs.csi.k8s.io",
      parameters: { server: "192.168.1.23", share: "/srv/kantai/nfs", onDelete: "retain" },
      reclaimPolicy: "Retain",
      mountOptions: ["nfsvers=4.1"],
    });
    expect(sc.metadata.annotations).toBeUndefined();
    const def = renderNfsStorageClass({ server: "192.168.1.23", share: "/srv/kantai/nfs", isDefault: true });
    // kubernetes.io/docs/concepts/storage/storage-classes/#default-storageclass
    expect(def.metadata.annotations).toEqual({ "storageclass.kubernetes.io/is-default-class": "true" });
    const [pv, pvc] = renderNfsStaticVolume({
      name: "mariadb-backups",
      namespace: "mariadb",
      server: "192.168.1.23",
      share: "/srv/kantai/nfs",
      subDir: "backups/mariadb",
      size: "50Gi",
    });
    // deploy/example/pv-nfs-csi.yaml: volumeHandle {server}#{share}#{subDir}
    expect((pv.spec as { csi: { volumeHandle: string } }).csi.volumeHandle).toBe(
      "192.168.1.23#/srv/kantai/nfs#backups/mariadb#",
    );
    expect(await validateAll([sc, def, pv, pvc])).toEqual([]);
  });
});

describe("MariaDB objects", () => {
  const objs = renderMariadb(spec, secrets);
  const list = mariadbObjectList(objs);

  it("every object passes the Kubernetes schemas", async () => {
    expect(await validateAll([...list, renderRestoreJob(spec, { claimName: "mariadb-backups", drop: true })])).toEqual(
      [],
    );
    // and a broken one does not (the check can fail)
    const broken = { ...objs.statefulSet, spec: { ...(objs.statefulSet.spec as object), replicas: "one" } };
    expect((await validateAll([broken])).join()).toMatch(/replicas/);
  });

  it("the StatefulSet is pinned to the storage node, image pinned, resources set, data on the local PV", () => {
    const pod = (objs.statefulSet.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
      nodeSelector: Record<string, string>;
      tolerations: unknown[];
      containers: { image: string; resources: { requests: object; limits: object }; env: unknown[] }[];
    };
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/hostname": "pi-3" });
    expect(pod.tolerations).toEqual([
      { key: "kantai.dev/storage", operator: "Equal", value: "hdd", effect: "NoSchedule" },
    ]);
    expect(pod.containers[0].image).toBe(MARIADB_IMAGE);
    expect(MARIADB_IMAGE).toMatch(/:\d+\.\d+\.\d+$/);
    expect(pod.containers[0].resources.requests).toEqual({ cpu: "100m", memory: "256Mi" });
    expect(pod.containers[0].env).toContainEqual({
      name: "MARIADB_ROOT_PASSWORD",
      valueFrom: { secretKeyRef: { name: "mariadb-credentials", key: "root-password" } },
    });
    const pv = objs.volume.spec as {
      local: { path: string };
      persistentVolumeReclaimPolicy: string;
      nodeAffinity: unknown;
      claimRef: { name: string };
    };
    expect(pv.local.path).toBe("/srv/kantai/mariadb");
    expect(pv.persistentVolumeReclaimPolicy).toBe("Retain");
    expect(pv.claimRef.name).toBe("data-mariadb-0");
    expect(JSON.stringify(pv.nodeAffinity)).toContain('"values":["pi-3"]');
    expect((objs.headless.spec as { clusterIP: string }).clusterIP).toBe("None");
    expect(mariadbHost(spec)).toBe("mariadb.mariadb.svc.cluster.local");
  });

  it("each app's DATABASE_URL is in a Secret in the app's namespace, referenced by secretKeyRef", () => {
    const blog = objs.appSecrets.find((s) => s.metadata.name === "blog-database")!;
    expect(blog.metadata.namespace).toBe("web");
    expect((blog.stringData as Record<string, string>).DATABASE_URL).toBe(
      "mysql://blog:BlogPw456@mariadb.mariadb.svc.cluster.local:3306/blog",
    );
    expect(databaseUrlEnv("blog")).toEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "blog-database", key: "DATABASE_URL" } },
    });
  });

  it("the CronJob runs the same backup script text, fails loudly, and takes its password from the Secret", () => {
    const data = objs.scripts.data as Record<string, string>;
    expect(data["backup.sh"]).toBe(renderBackupScript());
    expect(data["restore.sh"]).toBe(renderRestoreScript());
    const job = objs.backupCronJob!.spec as {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: {
        spec: {
          backoffLimit: number;
          template: {
            spec: { containers: { command: string[]; env: { name: string; value?: string; valueFrom?: unknown }[] }[] };
          };
        };
      };
    };
    expect(job.schedule).toBe("17 3 * * *");
    expect(job.concurrencyPolicy).toBe("Forbid");
    expect(job.jobTemplate.spec.backoffLimit).toBe(0);
    const c = job.jobTemplate.spec.template.spec.containers[0];
    expect(c.command).toEqual(["sh", "/scripts/backup.sh"]);
    expect(c.env).toContainEqual({ name: "BACKUP_DATABASES", value: "lil_linko blog" });
    expect(c.env).toContainEqual({
      name: "MARIADB_PASSWORD",
      valueFrom: { secretKeyRef: { name: "mariadb-credentials", key: BACKUP_PASSWORD_KEY } },
    });
    expect(c.env.every((e) => e.value === undefined || !/Pw|Password/.test(e.value))).toBe(true);
  });

  it("with placeholders, the YAML artifact holds no secret", () => {
    const art = toYaml(
      mariadbObjectList(
        renderMariadb(spec, {
          rootPassword: PLACEHOLDER,
          backupPassword: PLACEHOLDER,
          appPasswords: { "lil-linko": PLACEHOLDER, blog: PLACEHOLDER },
        }),
      ),
    );
    for (const v of [secrets.rootPassword, secrets.backupPassword, ...Object.values(secrets.appPasswords)])
      expect(art).not.toContain(v);
    expect(art).toContain("mysql://blog:<set by Pulumi>@mariadb.mariadb.svc.cluster.local:3306/blog");
  });

  it("the provisioning Job's name follows its script, so a new app re-runs it", () => {
    const more = renderMariadb(
      {
        ...spec,
        databases: [...spec.databases, { app: "shop", namespace: "default", database: "shop", user: "shop" }],
      },
      secrets,
    );
    expect(more.provisionJob.metadata.name).not.toBe(objs.provisionJob.metadata.name);
    expect(renderMariadb(spec, secrets).provisionJob.metadata.name).toBe(objs.provisionJob.metadata.name);
  });

  it("scripts pass shellcheck; unsafe names are refused", () => {
    for (const text of [renderProvisionScript(spec.databases), renderBackupScript(), renderRestoreScript()]) {
      const r = runTool("shellcheck", ["-s", "sh", "-"], { input: text });
      expect(r.status, r.stdout).toBe(0);
    }
    expect(() =>
      renderMariadb(
        { ...spec, databases: [{ app: "x", namespace: "default", database: "x`; DROP", user: "x" }] },
        secrets,
      ),
    ).toThrow(/database name "x`; DROP" must match/);
    expect(() =>
      renderMariadb({ ...spec, databases: [{ app: "x", namespace: "default", database: "x", user: "root" }] }, secrets),
    ).toThrow(/user name "root" is reserved/);
  });
});
