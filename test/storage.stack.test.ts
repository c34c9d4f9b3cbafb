/**
 * Seed 003's stateful services in the edge stack (stacks/parts/storage.ts statefulOnCluster), under the
 * synth's Pulumi mocks (SIMULATED: nothing is deployed, no SSH command runs, no manifest URL is
 * fetched): the storage node's setup over SSH, csi-driver-nfs and the StorageClass after it,
 * MariaDB after the export, the lil-linko WebApp reading DATABASE_URL by secretKeyRef and waiting
 * for MariaDB — and no generated password in outputs, artifacts or any plain input.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseManifests, type K8sObject } from "../lib/render/k8s";
import { synthMocks } from "../scripts/synth/mocks";
import { recordProgram, resolveDeep, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";
import { validateAll } from "./support/k8sSchemas";

let resources: RecordedResource[] = [];
let outputs: Record<string, any> = {};
let outputsJson = "";
const artifacts: { path: string; kind: string; content: string }[] = [];
const passwords: Record<string, string> = {};

beforeAll(async () => {
  const { config, secretKeys } = devStackConfig("Pulumi.edge.yaml");
  const newResource = synthMocks.newResource.bind(synthMocks);
  synthMocks.newResource = async (args) => {
    const r = await newResource(args);
    if (args.type === "random:index/randomPassword:RandomPassword" && args.name.startsWith("mariadb-"))
      passwords[args.name] = (r.state as { result: string }).result;
    return r;
  };
  const { run } = await import("../stacks");
  const rec = await recordProgram(() => run(), { config, secretKeys, stack: "edge" });
  resources = rec.resources;
  outputs = (await resolveDeep(rec.result.outputs)) as Record<string, any>;
  outputsJson = JSON.stringify(outputs);
  for (const a of rec.result.artifacts)
    artifacts.push({ path: a.path, kind: a.kind, content: (await resolveDeep(a.content)) as string });
}, 120_000);

const one = (type: string, name: string) => {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r as RecordedResource & { inputs: any };
};
const group = (name: string): K8sObject[] => one("kubernetes:yaml/v2:ConfigGroup", name).inputs.objs;

describe("edge stack: storage node and MariaDB (simulated under Pulumi mocks)", () => {
  it("sets up pi-3's disk over SSH after the platform cluster, then csi-driver-nfs and the StorageClass in order", () => {
    expect(one("kantai:storage:StorageNode", "storage").dependsOn).toEqual(["edge"]);
    const setup = one("command:remote:Command", "storage-setup");
    expect(setup.parent).toBe("storage");
    expect(setup.inputs.connection).toBe("[secret]"); // the SSH private key travels only as a secret
    expect(setup.inputs.create).toContain("LABEL=kantai-hdd");
    expect(setup.inputs.create).toContain(
      "/srv/kantai/nfs 192.168.1.0/24(rw,sync,no_subtree_check,no_root_squash,mountpoint=/srv/kantai)",
    );
    // The MariaDB data dir and the backup dir are created on the disk.
    expect(setup.inputs.create).toMatch(
      /for d in \S+\/srv\/kantai\/nfs\S+ \S+\/srv\/kantai\/mariadb\S+ \S+\/srv\/kantai\/nfs\/backups\/mariadb\S+;/,
    );
    const chain = [
      "storage-rbac-csi-nfs",
      "storage-csi-nfs-driverinfo",
      "storage-csi-nfs-controller",
      "storage-csi-nfs-node",
    ];
    chain.forEach((n, i) => {
      const f = one("kubernetes:yaml/v2:ConfigFile", n);
      expect(f.inputs.file).toBe(
        `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v4.13.4/deploy/v4.13.4/${n.replace("storage-", "")}.yaml`,
      );
      expect(f.dependsOn).toEqual([i === 0 ? "storage-setup" : chain[i - 1]]);
    });
    const sc = one("kubernetes:storage.k8s.io/v1:StorageClass", "storage-storage-class");
    expect(sc.dependsOn).toEqual(["storage-csi-nfs-node"]);
    expect(sc.inputs).toMatchObject({
      metadata: { name: "nfs-hdd" },
      provisioner: "nfs.csi.k8s.io",
      parameters: { server: "192.168.1.23", share: "/srv/kantai/nfs" },
      mountOptions: ["nfsvers=4.1"],
    });
    expect(sc.inputs.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"]).not.toBe("true");
  });

  it("runs MariaDB after the export: credentials as secret Secrets, the StatefulSet pinned to pi-3, the backup CronJob", () => {
    expect(one("kantai:storage:Mariadb", "mariadb").dependsOn).toEqual([
      "storage-csi-nfs-node",
      "storage-storage-class",
    ]);
    for (const s of ["mariadb-secret-mariadb-mariadb-credentials", "mariadb-secret-default-lil-linko-database"]) {
      expect(one("kubernetes:core/v1:Secret", s).inputs.stringData).toBe("[secret]");
    }
    expect(one("kubernetes:core/v1:Secret", "mariadb-secret-default-lil-linko-database").inputs.metadata).toMatchObject(
      { name: "lil-linko-database", namespace: "default" },
    );
    const sts = group("mariadb-server").find((o) => o.kind === "StatefulSet") as any;
    expect(sts.metadata).toMatchObject({ name: "mariadb", namespace: "mariadb" });
    expect(sts.spec.template.spec.containers[0].image).toBe("docker.io/library/mariadb:10.11.18");
    expect(sts.spec.template.spec.tolerations).toContainEqual({
      key: "kantai.dev/storage",
      operator: "Equal",
      value: "hdd",
      effect: "NoSchedule",
    });
    const pv = group("mariadb-base").find(
      (o) => o.kind === "PersistentVolume" && o.metadata.name.startsWith("mariadb-data"),
    ) as any;
    expect(pv?.spec.local.path).toBe("/srv/kantai/mariadb");
    const cron = group("mariadb-jobs").find((o) => o.kind === "CronJob") as any;
    expect(cron.spec.schedule).toBe("17 3 * * *");
    // It mounts the export, so it runs on the storage node's site (the nodes kantai:storageNode.export.clients must contain).
    expect(cron.spec.jobTemplate.spec.template.spec.nodeSelector).toEqual({ "topology.kubernetes.io/zone": "home" });
  });

  it("gives lil-linko DATABASE_URL by secretKeyRef, never a plain value, and makes it wait for MariaDB", () => {
    const app = one("kantai:webapp:WebApp", "app-lil-linko");
    expect(app.dependsOn).toEqual(["tunnel", "mariadb"]);
    const env = one("kubernetes:apps/v1:Deployment", "app-lil-linko-deployment").inputs.spec.template.spec.containers[0]
      .env;
    expect(env).toEqual([
      { name: "HOST_URL", value: "https://lil-linko.example.com" },
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "lil-linko-database", key: "DATABASE_URL" } } },
    ]);
    // Apps without `database` get none and do not wait for MariaDB.
    expect(one("kantai:webapp:WebApp", "app-blog").dependsOn).toEqual(["tunnel"]);
    const blogEnv =
      one("kubernetes:apps/v1:Deployment", "app-blog-deployment").inputs.spec.template.spec.containers[0].env ?? [];
    expect(blogEnv.map((e: { name: string }) => e.name)).not.toContain("DATABASE_URL");
    // Nowhere a plain DATABASE_URL value: not in any Deployment, not in an artifact.
    for (const d of resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment")) {
      for (const c of (d as any).inputs.spec?.template?.spec?.containers ?? []) {
        for (const e of c.env ?? []) if (e.name === "DATABASE_URL") expect(e.value, d.name).toBeUndefined();
      }
    }
    for (const a of artifacts) expect(a.content, a.path).not.toMatch(/mysql:\/\/[^<\s]*:[^<\s]+@/);
  });

  it("outputs the export and the database address, and no password anywhere but the Secrets", () => {
    expect(outputs.storage).toEqual({
      node: "pi-3",
      server: "192.168.1.23",
      exportPath: "/srv/kantai/nfs",
      storageClass: "nfs-hdd",
    });
    expect(outputs.mariadb).toEqual({
      host: "mariadb.mariadb.svc.cluster.local",
      port: 3306,
      databases: ["lil_linko"],
    });
    expect(Object.keys(passwords).sort()).toEqual([
      "mariadb-backup-password",
      "mariadb-lil-linko-password",
      "mariadb-root-password",
    ]);
    const plain = JSON.stringify(resources);
    for (const [n, pw] of Object.entries(passwords)) {
      expect(pw, n).toMatch(/^synth-mariadb-/);
      expect(outputsJson, n).not.toContain(pw);
      expect(plain, n).not.toContain(pw);
      for (const a of artifacts) expect(a.content, `${a.path} has ${n}`).not.toContain(pw);
    }
  });

  it("the storage and MariaDB artifacts pass their Kubernetes schemas", async () => {
    const paths = artifacts.filter((a) => /^(storage|mariadb)\//.test(a.path)).map((a) => `${a.kind} ${a.path}`);
    expect(paths.sort()).toEqual([
      "exports storage/kantai.exports",
      "fstab storage/fstab",
      "kubernetes mariadb/mariadb.yaml",
      "kubernetes mariadb/restore-job.yaml",
      "kubernetes storage/storage-class.yaml",
      "shell storage/delete.sh",
      "shell storage/setup.sh",
    ]);
    const objs = artifacts
      .filter((a) => /^(storage|mariadb)\//.test(a.path) && a.kind === "kubernetes")
      .flatMap((a) => parseManifests(a.content));
    expect(objs.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["StorageClass", "StatefulSet", "Secret", "CronJob", "Job"]),
    );
    expect(await validateAll(objs)).toEqual([]);
    // The schema can fail: a CronJob without its jobTemplate.
    const bad = structuredClone(objs.find((o) => o.kind === "CronJob")!) as any;
    delete bad.spec.jobTemplate;
    expect((await validateAll([bad]))[0]).toMatch(/^batch\/v1 CronJob mariadb\/mariadb-backup: .*jobTemplate/);
  });
});
