/**
 * The conventional fleet's data plane as real processes on 127.0.0.1: synth's rendered files,
 * rewritten by the loopback mapping (./mapping.ts), run by the real programs — `named -g`, the
 * load balancer's Caddy, the root Caddy, and N instances of web/server.js. Used by the e2e test
 * and `npm run` users through scripts/fleet-local.ts.
 *
 * Every process is started in its own process group and stopped by group (SIGTERM, then SIGKILL);
 * `stop()` is idempotent, and a process 'exit' hook kills whatever is left if the caller dies.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as dgram from "node:dgram";
import { Resolver } from "node:dns/promises";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  caddyUpstreams,
  LOOPBACK,
  mapLoadBalancerCaddyfile,
  mapNamedConf,
  mapRootCaddyfile,
  planMapping,
  resolveEndpoint,
  zoneFiles,
  type LoopbackMapping,
  type MappingOutputs,
} from "./mapping";

export const ROOT = path.resolve(__dirname, "..", "..");

/** Allocate `n` distinct free loopback ports (free for TCP and UDP when they were probed). */
export async function freePorts(n: number): Promise<number[]> {
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < n) {
      const srv = net.createServer();
      await new Promise<void>((res, rej) => {
        srv.once("error", rej);
        srv.listen(0, LOOPBACK, () => res());
      });
      held.push(srv);
      const port = (srv.address() as net.AddressInfo).port;
      const udp = dgram.createSocket("udp4");
      const udpFree = await new Promise<boolean>((res) => {
        udp.once("error", () => res(false));
        udp.bind(port, LOOPBACK, () => res(true));
      });
      udp.close();
      if (udpFree) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Resolve when something accepts TCP connections on 127.0.0.1:port; reject after `ms`. */
export async function waitForPort(
  port: number,
  ms: number,
  what: string,
  alive: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, LOOPBACK);
      s.once("connect", () => {
        s.destroy();
        res(true);
      });
      s.once("error", () => res(false));
    });
    if (ok) return;
    const dead = alive();
    if (dead) throw new Error(`${what} exited before listening on ${LOOPBACK}:${port}: ${dead}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${LOOPBACK}:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Find a program on PATH or in the sbin directories (not on a non-root user's PATH on Debian). */
export function findProgram(name: string, extra: readonly string[] = ["/usr/sbin", "/sbin"]): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...extra];
  for (const d of dirs) {
    const f = path.join(d, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * A copy of the `named` binary in the work dir. Debian's and Ubuntu's bind9 ship an AppArmor
 * profile attached to /usr/sbin/named that confines it to /etc/bind, /var/lib/bind and
 * /var/cache/bind; the test instance reads and writes only its own work dir, so it runs from a
 * path the profile does not attach to. Returns "named" (spawn then reports it missing) if absent.
 */
export function privateNamed(dir: string): string {
  const src = findProgram("named");
  if (!src) return "named";
  const dest = path.join(dir, "bin", "named");
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(src, dest);
  fs.chmodSync(dest, 0o755);
  return dest;
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

const live = new Set<Proc>();
let exitHook = false;

/** Names of the processes started by any LocalFleet of this process and not yet exited. */
export function liveProcesses(): string[] {
  return [...live].map((p) => p.name);
}
function killGroup(p: Proc, signal: NodeJS.Signals): void {
  if (p.exit || p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal);
  } catch {
    /* already gone */
  }
}

export interface Response {
  readonly status: number;
  /** The X-Kantai-Instance header ("" when absent, e.g. an error page from Caddy). */
  readonly instance: string;
  readonly body: string;
}

export interface LocalFleetOptions {
  /** Number of web instances to start (the first k of the fleet). Defaults to all. */
  readonly instances?: number;
  /** Work directory (created). Defaults to a fresh temp dir, removed by stop(). */
  readonly dir?: string;
  /** An existing synth output directory. Defaults to running synth for `stack` into <dir>/synth. */
  readonly synthDir?: string;
  /** Stack to synthesize. Defaults to "dev". */
  readonly stack?: string;
  /** Node binary for web/server.js and synth. Defaults to this process's. */
  readonly node?: string;
}

/** Run `npm run synth` into `out` (tsx, as users run it). */
export function synthInto(stack: string, out: string, node = process.execPath): void {
  const r = spawnSync(
    node,
    [
      path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
      path.join(ROOT, "scripts", "synth.ts"),
      "--stack",
      stack,
      "--out",
      out,
    ],
    {
      encoding: "utf8",
      cwd: ROOT,
      timeout: 120_000,
    },
  );
  if (r.status !== 0) throw new Error(`synth --stack ${stack} failed (${r.status}): ${r.stderr}${r.error ?? ""}`);
}

export class LocalFleet {
  readonly procs: Proc[] = [];
  private stopped = false;
  private exitListener?: (p: Proc) => void;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
    readonly synthDir: string,
    readonly mapping: LoopbackMapping,
    readonly outputs: MappingOutputs,
    private readonly node: string,
  ) {}

  /** Synthesize (unless given), map, and start named, N web instances, the LB Caddy and the root Caddy. */
  static async start(opts: LocalFleetOptions = {}): Promise<LocalFleet> {
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "kantai-fleet-"));
    fs.mkdirSync(dir, { recursive: true });
    const node = opts.node ?? process.execPath;
    let fleet: LocalFleet | undefined;
    try {
      const synthDir = opts.synthDir ?? path.join(dir, "synth");
      if (!opts.synthDir) synthInto(opts.stack ?? "dev", synthDir, node);
      const outputs = JSON.parse(fs.readFileSync(path.join(synthDir, "outputs.json"), "utf8")) as MappingOutputs;
      const files = path.join(synthDir, "files");
      const read = (p: string) => fs.readFileSync(path.join(files, p), "utf8");
      const lbName = outputs.fleet?.loadBalancer.name ?? "kenobi-6";
      const lbText = read(`kenobi/${lbName}.Caddyfile`);
      const rootText = read("hosts/Caddyfile");
      const namedText = read("hosts/named.conf");
      const webPort = Number(/^\s*reverse_proxy \S+:(\d+)/m.exec(lbText)?.[1]);
      const total = outputs.fleet?.instances.length ?? 0;
      const ports = await freePorts(4 + total);
      const bindDir = path.join(dir, "bind");
      fs.mkdirSync(bindDir, { recursive: true });
      const mapping = planMapping(
        outputs,
        webPort,
        { dns: ports[0], gateway: ports[1], loadBalancer: ports[2], unreachable: ports[3], instances: ports.slice(4) },
        bindDir,
      );
      fleet = new LocalFleet(dir, ownsDir, synthDir, mapping, outputs, node);
      await fleet.boot(opts.instances ?? total, { lbText, rootText, namedText, files });
      return fleet;
    } catch (e) {
      if (fleet) await fleet.stop();
      else if (ownsDir) fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  private async boot(
    n: number,
    t: { lbText: string; rootText: string; namedText: string; files: string },
  ): Promise<void> {
    const m = this.mapping;
    if (n < 1 || n > m.instances.length) throw new Error(`instances must be 1-${m.instances.length}, got ${n}`);
    const conf = path.join(this.dir, "conf");
    fs.mkdirSync(conf, { recursive: true });
    const named = mapNamedConf(t.namedText, m);
    fs.writeFileSync(path.join(conf, "named.conf"), named);
    for (const z of zoneFiles(t.namedText)) fs.copyFileSync(path.join(t.files, "hosts", z), path.join(m.workDir, z));
    const lb = mapLoadBalancerCaddyfile(t.lbText, m);
    const root = mapRootCaddyfile(t.rootText, m);
    for (const u of [...caddyUpstreams(lb), ...caddyUpstreams(root)]) {
      if (!u.startsWith(`${LOOPBACK}:`)) throw new Error(`mapped Caddyfile still dials ${u}`);
    }
    fs.writeFileSync(path.join(conf, "lb.Caddyfile"), lb);
    fs.writeFileSync(path.join(conf, "root.Caddyfile"), root);

    // Order matters: the web instances listen before the LB's first active health check runs,
    // and the LB listens before the root proxy gets traffic.
    const wait = (p: Proc, port: number) => waitForPort(port, 20_000, p.name, () => this.deathNote(p));
    const namedProc = this.spawn("named", privateNamed(this.dir), ["-g", "-c", path.join(conf, "named.conf")]);
    const web = m.instances.slice(0, n).map((inst) => ({
      inst,
      p: this.spawn(inst.name, this.node, [path.join(ROOT, "web", "server.js")], {
        PORT: String(inst.port),
        HOST: LOOPBACK,
        INSTANCE: inst.name,
      }),
    }));
    await Promise.all([wait(namedProc, m.dnsPort), ...web.map((w) => wait(w.p, w.inst.port))]);
    const caddyEnv = (name: string) => ({
      HOME: path.join(this.dir, name),
      XDG_DATA_HOME: path.join(this.dir, name, "data"),
      XDG_CONFIG_HOME: path.join(this.dir, name, "config"),
    });
    const lbProc = this.spawn(
      "caddy-lb",
      "caddy",
      ["run", "--adapter", "caddyfile", "--config", path.join(conf, "lb.Caddyfile")],
      caddyEnv("caddy-lb"),
    );
    await wait(lbProc, m.endpoints[`${m.loadBalancer}:80`]);
    const rootProc = this.spawn(
      "caddy-root",
      "caddy",
      ["run", "--adapter", "caddyfile", "--config", path.join(conf, "root.Caddyfile")],
      caddyEnv("caddy-root"),
    );
    await wait(rootProc, m.endpoints[`${m.gateway}:80`]);
  }

  private deathNote(p: Proc): string | undefined {
    if (!p.exit) return undefined;
    const tail = fs.existsSync(p.log) ? fs.readFileSync(p.log, "utf8").split("\n").slice(-15).join("\n") : "";
    return `code ${p.exit.code} signal ${p.exit.signal}; log ${p.log}:\n${tail}`;
  }

  private spawn(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Proc {
    const logs = path.join(this.dir, "logs");
    fs.mkdirSync(logs, { recursive: true });
    const log = path.join(logs, `${name}.log`);
    const fd = fs.openSync(log, "a");
    for (const v of Object.values(env)) if (v.startsWith(this.dir)) fs.mkdirSync(v, { recursive: true });
    const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
    fs.closeSync(fd);
    const p: Proc = { name, child, log };
    child.on("error", (e) => {
      p.exit = { code: null, signal: null };
      fs.appendFileSync(
        log,
        `spawn failed: ${e.message}${(e as NodeJS.ErrnoException).code === "ENOENT" ? ` (${cmd} is not installed: scripts/setup.sh installs caddy and bind9)` : ""}\n`,
      );
    });
    child.on("exit", (code, signal) => {
      p.exit = { code, signal };
      live.delete(p);
      if (!this.stopped) this.exitListener?.(p);
    });
    this.procs.push(p);
    live.add(p);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const q of live) killGroup(q, "SIGKILL");
      });
    }
    return p;
  }

  /** Call `listener` when a started process exits before stop() (a crash, or a signal sent to it). */
  onExit(listener: (p: Proc) => void): void {
    this.exitListener = listener;
  }

  /** A started process by name ("named", "caddy-lb", "caddy-root", "kenobi-1", …). */
  proc(name: string): Proc {
    const p = this.procs.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name}`);
    return p;
  }

  /** Names of the web instances started, in order. */
  get instanceNames(): string[] {
    return this.procs.filter((p) => this.mapping.instances.some((i) => i.name === p.name)).map((p) => p.name);
  }

  /** The root proxy's loopback port (the gateway's :80). */
  get gatewayPort(): number {
    return this.mapping.endpoints[`${this.mapping.gateway}:80`];
  }

  /** Resolve a name's A records with the local named (Node's resolver). */
  async lookup(name: string): Promise<string[]> {
    const r = new Resolver({ timeout: 2000, tries: 2 });
    r.setServers([`${LOOPBACK}:${this.mapping.dnsPort}`]);
    return r.resolve4(name);
  }

  /**
   * GET http://<host><path> the way a client on the LAN would: resolve `host` with the local
   * named, map (answer, 80) to its loopback endpoint, send the request with the original Host.
   */
  async get(host: string, urlPath = "/", timeoutMs = 15_000): Promise<Response> {
    const [addr] = await this.lookup(host);
    const ep = resolveEndpoint(this.mapping, addr, 80);
    return new Promise<Response>((resolve, reject) => {
      const req = http.request(
        { host: ep.host, port: ep.port, path: urlPath, headers: { host }, agent: this.agent, timeout: timeoutMs },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c) => (body += c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, instance: String(res.headers["x-kantai-instance"] ?? ""), body }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
  }

  /** SIGKILL one process group (a crash) and wait for it to exit. */
  async kill(name: string): Promise<void> {
    const p = this.proc(name);
    killGroup(p, "SIGKILL");
    await this.waitExit(p, 5000);
  }

  private async waitExit(p: Proc, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!p.exit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return Boolean(p.exit);
  }

  /** Stop every process group (SIGTERM, SIGKILL after 3 s) and remove the work dir if we made it. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.agent.destroy();
    for (const p of this.procs) killGroup(p, "SIGTERM");
    await Promise.all(
      this.procs.map(async (p) => {
        if (!(await this.waitExit(p, 3000))) {
          killGroup(p, "SIGKILL");
          await this.waitExit(p, 3000);
        }
      }),
    );
    if (this.ownsDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
