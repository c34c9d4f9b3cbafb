/**
 * kantai:storageNode, kantai:mariadb and kantai:webapps[i].database (stacks/config/storage.ts): the
 * edge sample parsed with its defaults, and every rule's exact message — before any resource exists.
 */
import { describe, expect, it } from "vitest";
import { parsedStack, stackProblems } from "./support/configProblems";

const parsed = parsedStack;
const problems = stackProblems;

const linko = (r: Record<string, any>) => r.webapps.find((w: any) => w.serviceName === "lil-linko");

describe("kantai:storageNode and kantai:mariadb: the edge sample", () => {
  it("resolves the storage node on pi-3 with its defaults: the export to its site's network", () => {
    const c = parsed();
    expect(c.storageNode).toEqual({
      node: "pi-3",
      server: "192.168.1.23",
      site: "home",
      disk: { label: "kantai-hdd" },
      mountPoint: "/srv/kantai",
      fsType: "ext4",
      mountOptions: [],
      export: {
        dir: "nfs",
        clients: ["192.168.1.0/24"],
        options: ["rw", "sync", "no_subtree_check", "no_root_squash"],
      },
      storageClass: { name: "nfs-hdd", default: false, mountOptions: ["nfsvers=4.1"] },
      csiNfsVersion: "4.13.4",
    });
    // The Proxmox datastores keep their key.
    expect(c.storage).toEqual({ images: "local", disks: "local-lvm", snippets: "local" });
  });

  it("resolves MariaDB with its defaults and one database for lil-linko", () => {
    expect(parsed().mariadb).toEqual({
      image: "docker.io/library/mariadb:10.11.18",
      namespace: "mariadb",
      dataDir: "mariadb",
      storageSize: "20Gi",
      bufferPool: "128M",
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
      backup: { schedule: "17 3 * * *", keep: 7, size: "50Gi" },
      databases: [{ app: "lil-linko", namespace: "default", database: "lil_linko", user: "lil_linko" }],
    });
  });

  it("takes an explicit database name and user", () => {
    const c = parsed((r) => (linko(r).database = { name: "links", user: "linker" }));
    expect(c.mariadb!.databases).toEqual([
      { app: "lil-linko", namespace: "default", database: "links", user: "linker" },
    ]);
  });

  it("both are optional: without them, no storage node and no MariaDB", () => {
    const c = parsed((r) => {
      delete r.storageNode;
      delete r.mariadb;
      delete linko(r).database;
    });
    expect(c.storageNode).toBeUndefined();
    expect(c.mariadb).toBeUndefined();
  });
});

describe("bad storage/MariaDB config fails before any resource, naming the key", () => {
  const cases: [string, (r: Record<string, any>) => void, string[], ("edge" | "lab")?][] = [
    [
      "an unknown node",
      (r) => (r.storageNode.node = "pi-9"),
      [
        'kantai:storageNode.node: unknown node "pi-9" (cluster "edge" has "pi-1", "pi-2", "edge-vm-1", "pi-3", "edge-vm-2")',
      ],
    ],
    [
      "a VM node (no SSH host)",
      (r) => (r.storageNode.node = "edge-vm-2"),
      [
        'kantai:storageNode.node: "edge-vm-2" has no host: (kantai reaches the storage node over SSH to mount its disk and run the NFS server; a Proxmox VM node has no HDD of its own)',
      ],
    ],
    [
      "a /dev name as the disk",
      (r) => (r.storageNode.disk = { device: "/dev/sda1" }),
      [
        'kantai:storageNode.disk: unknown key "device"',
        'kantai:storageNode.disk: must be {uuid: "<filesystem UUID>"} or {label: "<filesystem label>"} (see blkid; never /dev/sdX)',
      ],
    ],
    [
      "both uuid and label",
      (r) => (r.storageNode.disk = { uuid: "0a1b2c3d-1111-2222-3333-444455556666", label: "kantai-hdd" }),
      [
        'kantai:storageNode.disk: must be {uuid: "<filesystem UUID>"} or {label: "<filesystem label>"} (see blkid; never /dev/sdX)',
      ],
    ],
    [
      "neither uuid nor label",
      (r) => (r.storageNode.disk = {}),
      [
        'kantai:storageNode.disk: must be {uuid: "<filesystem UUID>"} or {label: "<filesystem label>"} (see blkid; never /dev/sdX)',
      ],
    ],
    [
      "a label too long for ext4",
      (r) => (r.storageNode.disk = { label: "a-label-of-20-chars" }),
      [
        "kantai:storageNode.disk.label: must be a filesystem label (1-16 letters, digits, '.', '_', '-'; blkid -s LABEL)",
      ],
    ],
    [
      "a relative mount point",
      (r) => (r.storageNode.mountPoint = "srv/kantai"),
      ['kantai:storageNode.mountPoint: must be an absolute path like "/srv/kantai" (letters, digits, ".", "_", "-")'],
    ],
    [
      "an export dir that climbs out",
      (r) => (r.storageNode.export = { dir: "../etc" }),
      ['kantai:storageNode.export.dir: must be a relative path like "nfs" (letters, digits, ".", "_", "-"; no "..")'],
    ],
    [
      "kantai's own mountpoint= option",
      (r) => (r.storageNode.export = { options: ["rw", "mountpoint=/x"] }),
      ["kantai:storageNode.export.options[1]: is set by kantai (mountpoint=<mountPoint>): remove it"],
    ],
    [
      "an export network without the storage node's site",
      (r) => (r.storageNode.export = { clients: ["10.0.0.0/24"] }),
      [
        'kantai:storageNode.export.clients: 10.0.0.0/24 does not contain pi-1 (192.168.1.21), pi-2 (192.168.1.22), pi-3 (192.168.1.23): every node of site "home" (the storage node\'s) may mount the export (the backup CronJob and pods on the StorageClass run there)',
      ],
    ],
    [
      "an export network that leaves out part of the site",
      (r) => (r.storageNode.export = { clients: ["192.168.1.23/32"] }),
      [
        'kantai:storageNode.export.clients: 192.168.1.23/32 does not contain pi-1 (192.168.1.21), pi-2 (192.168.1.22): every node of site "home" (the storage node\'s) may mount the export (the backup CronJob and pods on the StorageClass run there)',
      ],
    ],
    [
      "an unpinned csi-driver-nfs version",
      (r) => (r.storageNode.csiNfsVersion = "latest"),
      ['kantai:storageNode.csiNfsVersion: must be a release version like "4.13.4"'],
    ],
    [
      "a storage node outside the edge composition",
      (r) => (r.storageNode = { node: "lab-1", disk: { label: "hdd" } }),
      ['kantai:storageNode: is wired in the edge composition only (this stack\'s composition is "lab")'],
      "lab",
    ],
    [
      "MariaDB without the storage node",
      (r) => delete r.storageNode,
      ["kantai:mariadb: needs kantai:storageNode (MariaDB runs on the storage node's disk)"],
    ],
    [
      "MariaDB's data inside the export",
      (r) => (r.mariadb.dataDir = "nfs/db"),
      [
        'kantai:mariadb.dataDir: "nfs/db" is inside the NFS export (kantai:storageNode.export.dir "nfs"): the database files would be exported',
      ],
    ],
    [
      "a backup kept zero times",
      (r) => (r.mariadb.backup = { keep: 0 }),
      ["kantai:mariadb.backup.keep: keep at least 1 backup"],
    ],
    [
      "a schedule that is not cron",
      (r) => (r.mariadb.backup = { schedule: "daily" }),
      ['kantai:mariadb.backup.schedule: must be a cron schedule of 5 fields like "17 3 * * *"'],
    ],
    [
      "a WebApp database without MariaDB",
      (r) => delete r.mariadb,
      ["kantai:webapps[2].database: needs kantai:mariadb (the database server)"],
    ],
    [
      "a database that is neither true nor an object",
      (r) => (linko(r).database = "yes"),
      ['kantai:webapps[2].database: must be true or {name: "<database>", user: "<user>"}'],
    ],
    [
      "a database name SQL does not take",
      (r) => (linko(r).database = { name: "Links-DB" }),
      ["kantai:webapps[2].database.name: must be a SQL name matching ^[a-z][a-z0-9_]{0,31}$"],
    ],
    [
      "a reserved user",
      (r) => (linko(r).database = { user: "root" }),
      ['kantai:webapps[2].database.user: "root" is reserved ("root", "kantai_backup" are kantai\'s)'],
    ],
    [
      "kantai's backup user",
      (r) => (linko(r).database = { user: "kantai_backup" }),
      ['kantai:webapps[2].database.user: "kantai_backup" is reserved ("root", "kantai_backup" are kantai\'s)'],
    ],
    [
      "a default name that is not a SQL name",
      (r) => r.webapps.push({ ...linko(r), serviceName: "9links", hostName: "nine" }),
      [
        'kantai:webapps[3].database.name: the default "9links" (from serviceName) must match ^[a-z][a-z0-9_]{0,31}$: set database.name',
        'kantai:webapps[3].database.user: the default "9links" must match ^[a-z][a-z0-9_]{0,31}$: set database.user',
      ],
    ],
    [
      "two apps on one database",
      (r) => (r.webapps[0].database = { name: "lil_linko", user: "blog" }),
      ['kantai:webapps[2].database.name: "lil_linko" is already used by kantai:webapps[0]'],
    ],
    [
      "two apps with one user",
      (r) => (r.webapps[0].database = { user: "lil_linko" }),
      ['kantai:webapps[2].database.user: "lil_linko" is already used by kantai:webapps[0]'],
    ],
    [
      "one serviceName with a database in two namespaces",
      (r) =>
        r.webapps.push({
          ...linko(r),
          namespace: "other",
          hostName: "links2",
          database: { name: "links2", user: "links2" },
        }),
      ['kantai:webapps[3].database: serviceName "lil-linko" already has a database (kantai:webapps[2])'],
    ],
  ];
  it.each(cases)("%s", (_what, edit, expected, name = "edge") => {
    expect(problems(edit, name)).toEqual(expected);
  });
});
