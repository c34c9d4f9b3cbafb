/**
 * Backup → restore with REAL MariaDB servers from Debian's packages (mariadb-server 10.11, the
 * series of the pinned image), on loopback ports in temporary data directories this test creates
 * and stops. The scripts run are the exact texts the cluster runs: renderProvisionScript() (the
 * provisioning Job), renderBackupScript() (the CronJob) and renderRestoreScript() (the how-to).
 * Stand-ins, named: in two failure cases a `mariadb-dump` wrapper on PATH simulates an empty and a
 * cut-off dump (a real server cannot be made to produce those on demand).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionPasswordEnv, renderProvisionScript, type AppDatabase } from "../lib/render/mariadb";
import { renderBackupScript, renderRestoreScript } from "../lib/render/mariadbBackup";

const ROOT_PW = "rootPw0123456789";
const BACKUP_PW = "backupPw0123456789";
const APP_PW = "appPw0123456789abc";
const apps: AppDatabase[] = [
  { app: "lil-linko", namespace: "default", database: "lil_linko", user: "lil_linko" },
  { app: "blog", namespace: "web", database: "blog", user: "blog" },
];
const ORDER_BASE = 1_000_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

class Server {
  proc?: ChildProcess;
  port = 0;
  constructor(readonly dir: string) {}
  get sock() {
    return path.join(this.dir, "sock");
  }
  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const inst = spawnSync(
      "mariadb-install-db",
      [
        "--no-defaults",
        `--datadir=${this.dir}/data`,
        "--user=root",
        "--auth-root-authentication-method=socket",
        "--skip-test-db",
      ],
      { encoding: "utf8" },
    );
    if (inst.error)
      throw new Error(`mariadb-install-db: ${inst.error.message} (scripts/setup.sh installs mariadb-server)`);
    if (inst.status !== 0) throw new Error(`mariadb-install-db failed: ${inst.stderr}`);
    this.port = await freePort();
    this.proc = spawn(
      "mariadbd",
      [
        "--no-defaults",
        `--datadir=${this.dir}/data`,
        `--socket=${this.sock}`,
        `--port=${this.port}`,
        "--bind-address=127.0.0.1",
        "--user=root",
        `--pid-file=${this.dir}/pid`,
        `--log-error=${this.dir}/error.log`,
        "--innodb-buffer-pool-size=32M",
        "--skip-log-bin",
      ],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 100; i++) {
      if (
        spawnSync("mariadb-admin", ["--no-defaults", "-S", this.sock, "-u", "root", "ping"], { encoding: "utf8" })
          .status === 0
      ) {
        // What the image's entrypoint does with MARIADB_ROOT_PASSWORD (MariaDB/mariadb-docker
        // docker-entrypoint.sh, MARIADB_ROOT_HOST defaults to '%'): root@'%' with that password.
        // (root@localhost, which 127.0.0.1 connections match, keeps socket access for the test's checks.)
        this.sql(
          `CREATE USER 'root'@'%' IDENTIFIED BY '${ROOT_PW}'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;` +
            `ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('${ROOT_PW}');`,
        );
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`mariadbd did not start: ${fs.readFileSync(`${this.dir}/error.log`, "utf8").slice(-2000)}`);
  }
  /** SQL as root over the socket (the test's own checks). */
  sql(q: string, db?: string): string {
    const r = spawnSync(
      "mariadb",
      [
        "--no-defaults",
        "--default-character-set=utf8mb4",
        "-S",
        this.sock,
        "-u",
        "root",
        "-N",
        "-B",
        ...(db ? [db] : []),
        "-e",
        q,
      ],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`SQL failed (${q.slice(0, 80)}): ${r.stderr}`);
    return r.stdout.trim();
  }
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((r) => this.proc!.once("exit", r));
    spawnSync("mariadb-admin", ["--no-defaults", "-S", this.sock, "-u", "root", "shutdown"]);
    await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-mariadb-"));
const scripts = path.join(work, "scripts");
const backups = path.join(work, "backups");
const A = new Server(path.join(work, "a"));
const B = new Server(path.join(work, "b"));

function runScript(
  name: "provision" | "backup" | "restore",
  env: Record<string, string>,
  args: string[] = [],
  extraPath?: string,
) {
  return spawnSync("sh", [path.join(scripts, `${name}.sh`), ...args], {
    encoding: "utf8",
    env: { PATH: `${extraPath ? extraPath + ":" : ""}${process.env.PATH}`, TMPDIR: os.tmpdir(), ...env },
    timeout: 120_000,
  });
}
const conn = (s: Server) => ({ MARIADB_HOST: "127.0.0.1", MARIADB_PORT: String(s.port) });
const backupEnv = (s: Server, extra: Record<string, string> = {}) => ({
  ...conn(s),
  MARIADB_USER: "kantai_backup",
  MARIADB_PASSWORD: BACKUP_PW,
  BACKUP_DIR: backups,
  BACKUP_DATABASES: apps.map((a) => a.database).join(" "),
  BACKUP_KEEP: "3",
  ...extra,
});
const provisionEnv = (s: Server) => ({
  ...conn(s),
  MARIADB_ROOT_PASSWORD: ROOT_PW,
  BACKUP_PASSWORD: BACKUP_PW,
  ...Object.fromEntries(apps.map((a) => [provisionPasswordEnv(a.app), APP_PW])),
});
const completed = () =>
  fs
    .readdirSync(backups)
    .filter((d) => /^\d{8}T\d{6}Z$/.test(d))
    .sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  fs.mkdirSync(scripts);
  fs.mkdirSync(backups);
  fs.writeFileSync(path.join(scripts, "provision.sh"), renderProvisionScript(apps));
  fs.writeFileSync(path.join(scripts, "backup.sh"), renderBackupScript());
  fs.writeFileSync(path.join(scripts, "restore.sh"), renderRestoreScript());
  await A.start();
}, 120_000);

afterAll(async () => {
  await A.stop();
  await B.stop();
  fs.rmSync(work, { recursive: true, force: true });
}, 60_000);

describe("MariaDB provisioning, backup and restore against real servers", () => {
  it("the provisioning script creates each app's database and user, and a second run changes nothing", () => {
    const r1 = runScript("provision", provisionEnv(A));
    expect(r1.status, r1.stderr).toBe(0);
    const users1 = A.sql("SELECT user, host FROM mysql.user ORDER BY user, host");
    const grants1 = apps.map((a) => A.sql(`SHOW GRANTS FOR '${a.user}'@'%'`)).join("\n");
    const r2 = runScript("provision", provisionEnv(A));
    expect(r2.status, r2.stderr).toBe(0);
    expect(A.sql("SELECT user, host FROM mysql.user ORDER BY user, host")).toBe(users1);
    expect(apps.map((a) => A.sql(`SHOW GRANTS FOR '${a.user}'@'%'`)).join("\n")).toBe(grants1);
    expect(A.sql("SHOW DATABASES")).toMatch(/blog[\s\S]*lil_linko/);
    // The app's user works over TCP with its password, in its own database only.
    const asApp = (db: string, q: string) =>
      spawnSync(
        "mariadb",
        [
          "--no-defaults",
          "-h",
          "127.0.0.1",
          "-P",
          String(A.port),
          "-u",
          "lil_linko",
          `-p${APP_PW}`,
          "-N",
          "-B",
          db,
          "-e",
          q,
        ],
        { encoding: "utf8" },
      );
    expect(asApp("lil_linko", "SELECT DATABASE()").stdout.trim()).toBe("lil_linko");
    expect(asApp("blog", "SELECT 1").status).not.toBe(0);
    // A non-alphanumeric password is refused before any SQL runs.
    const bad = runScript("provision", {
      ...provisionEnv(A),
      [provisionPasswordEnv("blog")]: "x'; DROP DATABASE lil_linko; --",
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("FAILED: the password for blog must be alphanumeric");
  }, 60_000);

  it("a backup taken while a client keeps inserting restores every row committed before it began; CHECKSUM TABLE matches", async () => {
    // Data: a static table with awkward values, and two tables the writer fills in one transaction each.
    A.sql(
      [
        "CREATE TABLE static_t (id INT PRIMARY KEY, s VARCHAR(100) CHARACTER SET utf8mb4, b BLOB, d DECIMAL(12,3), t DATETIME(6), n INT NULL, j JSON)",
        "INSERT INTO static_t SELECT seq, CONCAT('zaž€😀 ', seq, ' \\'q\\' \\\\ \"'), UNHEX(SHA2(seq, 256)), seq / 7, '2026-01-01' + INTERVAL seq SECOND, IF(seq % 3 = 0, NULL, seq), JSON_OBJECT('k', seq) FROM seq_1_to_20000",
        "CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(200), amount DECIMAL(10,2)) ENGINE=InnoDB",
        "CREATE TABLE order_lines (order_id INT PRIMARY KEY, qty INT NOT NULL) ENGINE=InnoDB",
        `INSERT INTO orders SELECT seq, REPEAT('x', 150), seq * 1.25 FROM seq_1_to_30000`,
        `INSERT INTO order_lines SELECT seq, seq % 10 FROM seq_1_to_30000`,
      ].join(";"),
      "lil_linko",
    );
    A.sql(
      "CREATE TABLE posts (id INT PRIMARY KEY, title TEXT); INSERT INTO posts SELECT seq, CONCAT('post ', seq) FROM seq_1_to_500",
      "blog",
    );

    // The writer: one transaction per order; its number is logged only after COMMIT returned.
    const log = path.join(work, "committed.log");
    const stop = path.join(work, "stop");
    fs.writeFileSync(log, "");
    const writer = spawn(
      "sh",
      [
        "-c",
        `i=0; while [ ! -f '${stop}' ]; do i=$((i + 1)); id=$((${ORDER_BASE} + i));
          mariadb --no-defaults -h 127.0.0.1 -P ${A.port} -u lil_linko -p${APP_PW} lil_linko -e "BEGIN; INSERT INTO orders VALUES ($id, 'live', 1.00); INSERT INTO order_lines VALUES ($id, 1); COMMIT;" || exit 1
          echo "$i" >> '${log}'; done`,
      ],
      { stdio: "ignore" },
    );
    const committed = () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length;
    while (committed() < 20) await sleep(50);

    const beforeDump = committed();
    const t0 = Date.now();
    const backup = runScript("backup", backupEnv(A));
    const dumpMs = Date.now() - t0;
    const afterDump = committed();
    while (committed() < afterDump + 20) await sleep(50);
    fs.writeFileSync(stop, "");
    await new Promise((r) => writer.once("exit", r));
    expect(backup.status, backup.stderr).toBe(0);
    expect(writer.exitCode).toBe(0);
    // The writer really ran during the dump window and after it.
    expect(afterDump).toBeGreaterThan(beforeDump);

    const newest = completed().at(-1)!;
    expect(fs.readdirSync(path.join(backups, newest)).sort()).toEqual([
      "SHA256SUMS",
      "blog.sql.gz",
      "lil_linko.sql.gz",
    ]);
    expect(fs.readdirSync(backups).filter((d) => d.startsWith(".partial"))).toEqual([]);

    await B.start();
    const restore = runScript(
      "restore",
      { ...conn(B), MARIADB_USER: "root", MARIADB_PASSWORD: ROOT_PW, BACKUP_DIR: backups },
      ["latest"],
    );
    expect(restore.status, restore.stderr).toBe(0);

    const [count, max] = B.sql(
      `SELECT COUNT(*), COALESCE(MAX(id), ${ORDER_BASE}) FROM orders WHERE id > ${ORDER_BASE}`,
      "lil_linko",
    )
      .split("\t")
      .map(Number);
    const dumped = max - ORDER_BASE;
    console.log(
      `[mariadb backup under load] ${beforeDump} orders committed before the dump began, ${dumped} in the dump, ${afterDump} when it ended; backup script ${dumpMs} ms`,
    );
    // Every order committed before the dump began is there …
    expect(dumped).toBeGreaterThanOrEqual(beforeDump);
    // … as one snapshot: no gaps, and each order's line came with it (same transaction).
    expect(count).toBe(dumped);
    expect(B.sql(`SELECT COUNT(*) FROM order_lines WHERE order_id > ${ORDER_BASE}`, "lil_linko")).toBe(String(dumped));
    // The source at the dumped state (the later orders removed) checksums the same as the restore.
    A.sql(`DELETE FROM orders WHERE id > ${max}; DELETE FROM order_lines WHERE order_id > ${max}`, "lil_linko");
    const sums = (s: Server) => [
      s.sql("CHECKSUM TABLE lil_linko.static_t, lil_linko.orders, lil_linko.order_lines, blog.posts"),
    ];
    const a = sums(A);
    expect(a[0]).toMatch(/static_t\t\d+/);
    expect(sums(B)).toEqual(a);
  }, 180_000);

  it("keeps the newest BACKUP_KEEP backups", async () => {
    for (let i = 0; i < 3; i++) {
      await sleep(1100);
      const r = runScript("backup", backupEnv(A, { BACKUP_KEEP: "2" }));
      expect(r.status, r.stderr).toBe(0);
    }
    const left = completed();
    expect(left).toHaveLength(2);
    const r = runScript("backup", backupEnv(A, { BACKUP_KEEP: "0" }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("FAILED: BACKUP_KEEP must be at least 1");
    expect(completed()).toEqual(left);
  }, 60_000);

  it("exits non-zero, naming the problem, and leaves no backup when a dump fails or is empty", async () => {
    const before = completed();
    const expectFail = (r: ReturnType<typeof runScript>, message: string | RegExp) => {
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(completed()).toEqual(before);
      expect(fs.readdirSync(backups).filter((d) => d.startsWith(".partial"))).toEqual([]);
    };
    await sleep(1100);
    expectFail(
      runScript("backup", backupEnv(A, { BACKUP_DATABASES: "lil_linko nope" })),
      /FAILED: mariadb-dump of nope exited 2: .*Unknown database/,
    );
    expectFail(
      runScript("backup", backupEnv(A, { MARIADB_PASSWORD: "wrong" })),
      /FAILED: mariadb-dump of lil_linko exited 2: .*Access denied/,
    );
    expectFail(
      runScript("backup", backupEnv(A, { BACKUP_DATABASES: "" })),
      "FAILED: BACKUP_DATABASES is empty: nothing to back up",
    );

    // STAND-INS for mariadb-dump: one prints nothing and exits 0, one stops before its trailer.
    const bin = path.join(work, "fake-bin");
    fs.mkdirSync(path.join(bin, "empty"), { recursive: true });
    fs.mkdirSync(path.join(bin, "cut"), { recursive: true });
    fs.writeFileSync(
      path.join(bin, "empty", "mariadb-dump"),
      "#!/bin/sh\n# TEST STAND-IN: an empty dump that claims success\nexit 0\n",
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(bin, "cut", "mariadb-dump"),
      "#!/bin/sh\n# TEST STAND-IN: the real dump, cut off before its last line\n/usr/bin/mariadb-dump \"$@\" | sed '$d'\n",
      { mode: 0o755 },
    );
    expectFail(
      runScript("backup", backupEnv(A), [], path.join(bin, "empty")),
      "FAILED: the dump of lil_linko is empty or incomplete",
    );
    expectFail(
      runScript("backup", backupEnv(A), [], path.join(bin, "cut")),
      "FAILED: the dump of lil_linko is empty or incomplete",
    );

    // The server gone.
    await B.stop();
    expectFail(runScript("backup", backupEnv(B)), /FAILED: mariadb-dump of lil_linko exited 2: .*Can't connect/);
  }, 90_000);

  it("restore refuses a damaged backup", () => {
    const newest = path.join(backups, completed().at(-1)!);
    const f = path.join(newest, "blog.sql.gz");
    fs.appendFileSync(f, "garbage");
    const r = runScript("restore", { ...conn(A), MARIADB_USER: "root", MARIADB_PASSWORD: ROOT_PW }, [newest]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("do not match: the backup is damaged");
  });
});
