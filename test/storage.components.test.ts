/**
 * StorageNode and Mariadb recorded under Pulumi mocks (SIMULATED, see scripts/synth/mocks.ts): what
 * they register, in which order, that generated passwords stay secret, and that the artifacts hold
 * no secret value.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseManifests } from "../lib/render/k8s";
import type { RecordedResource } from "../scripts/synth/recorder";
import { validateAll } from "./support/k8sSchemas";

let resources: RecordedResource[] = [];
let artifacts: { path: string; content: unknown }[] = [];
let revealedPasswords: string[] = [];
let envFor: unknown;

beforeAll(async () => {
  const { recordProgram, resolveDeep } = await import("../scripts/synth/recorder");
  const kubernetes = await import("@pulumi/kubernetes");
  const { StorageNode } = await import("../components/storage/storageNode");
  const { Mariadb } = await import("../components/storage/mariadb");
  const rec = await recordProgram(() => {
    const provider = new kubernetes.Provider("cluster-k8s", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
    const storage = new StorageNode(
      "hdd",
      {
        name: "hdd",
        disk: { uuid: "3b0f6a58-6c0e-4d5e-9a4e-7f1c2d3e4f50" },
        clients: ["192.168.1.0/24"],
        dataDirs: ["mariadb", "nfs/backups/mariadb"],
        connection: { host: "192.168.1.23", user: "root" },
        server: "192.168.1.23",
        storageClass: { isDefault: false },
      },
      { providers: { kubernetes: provider } },
    );
    const db = new Mariadb(
      "mariadb",
      {
        node: "pi-3",
        tolerateTaints: ["kantai.dev/storage=hdd:NoSchedule"],
        dataPath: "/srv/kantai/mariadb",
        databases: [{ app: "lil-linko", namespace: "default", database: "lil_linko", user: "lil_linko" }],
        backup: { schedule: "17 3 * * *", keep: 7, size: "50Gi", server: storage.server, share: storage.exportPath },
      },
      { providers: { kubernetes: provider }, dependsOn: storage.ready },
    );
    return { storage, db };
  });
  resources = rec.resources;
  const all = [...rec.result.storage.artifacts, ...rec.result.db.artifacts];
  artifacts = await Promise.all(all.map(async (a) => ({ path: a.path, content: await resolveDeep(a.content, true) })));
  revealedPasswords = (await Promise.all(
    [rec.result.db.rootPassword, rec.result.db.appPasswords["lil-linko"]].map((o) => resolveDeep(o, true)),
  )) as string[];
  envFor = rec.result.db.envFor("lil-linko");
});

const byName = (n: string) => {
  const r = resources.find((x) => x.name === n);
  if (!r) throw new Error(`no resource ${n}; have ${resources.map((x) => x.name).join(", ")}`);
  return r as RecordedResource & { inputs: any };
};

describe("StorageNode", () => {
  it("one SSH command with the create and delete scripts; csi-driver-nfs after it, then the StorageClass", async () => {
    const setup = byName("hdd-setup");
    expect(setup.type).toBe("command:remote:Command");
    // As root through passwordless sudo (the Pi's login user), the rendered scripts verbatim.
    const { renderStorageCreate, renderStorageDelete } = await import("../lib/render/storage");
    const { asRoot } = await import("../lib/render/remoteShell");
    const spec = {
      name: "hdd",
      disk: { uuid: "3b0f6a58-6c0e-4d5e-9a4e-7f1c2d3e4f50" },
      clients: ["192.168.1.0/24"],
      dataDirs: ["mariadb", "nfs/backups/mariadb"],
    };
    expect(setup.inputs.create).toBe(asRoot(renderStorageCreate(spec), "kantai-storage-hdd"));
    expect(setup.inputs.create).toMatch(/^sudo -n sh -c /);
    expect(setup.inputs.update).toBe(setup.inputs.create);
    expect(setup.inputs.delete).toBe(asRoot(renderStorageDelete(spec), "kantai-storage-hdd-delete"));
    expect(byName("hdd-rbac-csi-nfs").dependsOn).toEqual(["hdd-setup"]);
    expect(byName("hdd-csi-nfs-driverinfo").dependsOn).toEqual(["hdd-rbac-csi-nfs"]);
    expect(byName("hdd-csi-nfs-node").dependsOn).toEqual(["hdd-csi-nfs-controller"]);
    expect(byName("hdd-storage-class")).toMatchObject({
      type: "kubernetes:storage.k8s.io/v1:StorageClass",
      dependsOn: ["hdd-csi-nfs-node"],
      inputs: { provisioner: "nfs.csi.k8s.io", parameters: { server: "192.168.1.23", share: "/srv/kantai/nfs" } },
    });
  });
});

describe("Mariadb", () => {
  it("generates its passwords with @pulumi/random and keeps the Secrets' data secret", () => {
    for (const n of ["mariadb-root-password", "mariadb-backup-password", "mariadb-lil-linko-password"]) {
      expect(byName(n)).toMatchObject({
        type: "random:index/randomPassword:RandomPassword",
        inputs: { length: 32, special: false },
      });
    }
    const creds = byName("mariadb-secret-mariadb-mariadb-credentials");
    expect(creds.type).toBe("kubernetes:core/v1:Secret");
    expect(creds.inputs.stringData).toBe("[secret]");
    expect(byName("mariadb-secret-default-lil-linko-database").inputs.stringData).toBe("[secret]");
  });

  it("applies base → Secrets → server → jobs, after the storage node", () => {
    expect(byName("mariadb").dependsOn).toEqual(["hdd-csi-nfs-node", "hdd-storage-class"]);
    expect(byName("mariadb-secret-mariadb-mariadb-credentials").dependsOn).toEqual(["mariadb-base"]);
    expect(byName("mariadb-server").dependsOn).toEqual([
      "mariadb-secret-mariadb-mariadb-credentials",
      "mariadb-secret-default-lil-linko-database",
    ]);
    expect(byName("mariadb-jobs").dependsOn).toEqual(["mariadb-server"]);
    expect(byName("mariadb-jobs").inputs.objs.map((o: any) => o.kind)).toEqual(["Job", "CronJob"]);
  });

  it("the artifacts are schema-valid and hold no generated password", async () => {
    expect(revealedPasswords.every((p) => typeof p === "string" && p.length > 0)).toBe(true);
    const text = artifacts.map((a) => String(a.content)).join("\n");
    for (const p of revealedPasswords) expect(text).not.toContain(p);
    const yaml = artifacts.find((a) => a.path === "mariadb/mariadb.yaml")!;
    const objs = parseManifests(String(yaml.content));
    expect(objs.map((o) => o.kind)).toContain("PersistentVolumeClaim");
    expect(await validateAll(objs)).toEqual([]);
  });

  it("envFor gives the WebApp a secretKeyRef, never a value", () => {
    expect(envFor).toEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "lil-linko-database", key: "DATABASE_URL" } },
    });
  });
});
