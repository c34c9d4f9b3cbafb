/**
 * The conventional fleet's data plane for real, on loopback: synth renders the dev stack, the
 * loopback mapping (lib/e2e/mapping.ts, docs/reference/e2e-mapping.md) rewrites addresses and
 * ports, and named, the load balancer's Caddy, the root Caddy and five web/server.js instances run
 * as real processes bound to 127.0.0.1. Requests go client → (DNS via named) → root proxy → LB →
 * backend, exactly the seed's request flow. Loads are bounded in count and time.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalFleet, type Response } from "../../lib/e2e/localFleet";
import { runTool } from "../support/tools";

const FIVE = ["kenobi-1", "kenobi-2", "kenobi-3", "kenobi-4", "kenobi-5"];
const WORDS = ["one", "two", "three", "four", "five"];
let fleet: LocalFleet;

beforeAll(async () => {
  fleet = await LocalFleet.start({ instances: 5 });
});

afterAll(async () => {
  await fleet?.stop();
});

const dig = (name: string, type = "A") =>
  runTool("dig", [`@127.0.0.1`, "-p", String(fleet.mapping.dnsPort), "+time=2", "+tries=2", name, type]);

/**
 * Let the LB's active health checks (every 1 s, 1 s timeout) see every backend idle again, so a
 * check that timed out while a backend computed a slow request does not bias the next selection.
 */
const settle = () => new Promise((r) => setTimeout(r, 2200));

/**
 * At least `count` GETs with at most `concurrency` in flight, more while `more()` holds; bounded
 * by `max` requests and 60 s (bounds, not assertions).
 */
async function load(
  host: string,
  urlPath: string,
  count: number,
  concurrency: number,
  opts: { onIssue?: (i: number) => void; more?: () => boolean; max?: number } = {},
) {
  const results: ({ i: number; start: number } & ({ res: Response } | { err: string }))[] = [];
  const deadline = Date.now() + 60_000;
  const max = opts.max ?? count;
  let next = 0;
  const worker = async () => {
    while ((next < count || (opts.more?.() ?? false)) && next < max && Date.now() < deadline) {
      const i = next++;
      opts.onIssue?.(i);
      const start = Date.now();
      try {
        results.push({ i, start, res: await fleet.get(host, urlPath) });
      } catch (e) {
        results.push({ i, start, err: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

describe("conventional fleet data plane on loopback (named + root Caddy + LB Caddy + 5 web instances)", () => {
  it("the mapped files still pass their validators, and every listener and dial target is 127.0.0.1", () => {
    const conf = path.join(fleet.dir, "conf");
    const nc = runTool("named-checkconf", [path.join(conf, "named.conf")]);
    expect(nc.status, nc.stdout + nc.stderr).toBe(0);
    for (const f of ["lb.Caddyfile", "root.Caddyfile"]) {
      const r = runTool("caddy", ["adapt", "--adapter", "caddyfile", "--config", path.join(conf, f)]);
      expect(r.status, r.stderr).toBe(0);
      const cfg = JSON.parse(r.stdout);
      for (const s of Object.values(cfg.apps.http.servers as Record<string, { listen: string[] }>)) {
        for (const l of s.listen) expect(l).toMatch(/^127\.0\.0\.1:\d+$/);
      }
      const dials = [...r.stdout.matchAll(/"dial":"([^"]+)"/g)].map((x) => x[1]);
      expect(dials.length).toBeGreaterThan(0);
      for (const d of dials) expect(d).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    expect(fs.readFileSync(path.join(conf, "named.conf"), "utf8")).toMatch(
      new RegExp(`listen-on port ${fleet.mapping.dnsPort} \\{ 127\\.0\\.0\\.1; \\};`),
    );
  });

  it("dig against the test named answers the wildcard and one…five.standalone with the gateway address", () => {
    const gw = fleet.mapping.gateway;
    expect(gw).toBe("10.15.40.20");
    for (const name of [
      "anything.hosts.pve",
      "ns.hosts.pve",
      "x.grogu.hosts.pve",
      ...WORDS.map((w) => `${w}.standalone.hosts.pve`),
    ]) {
      const r = dig(name);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, name).toContain("status: NOERROR");
      expect(r.stdout, name).toMatch(
        new RegExp(`^${name.replace(/\./g, "\\.")}\\.\\s+172800\\s+IN\\s+A\\s+${gw.replace(/\./g, "\\.")}$`, "m"),
      );
      expect(r.stdout, name).toContain("flags: qr aa");
    }
    const soa = dig("hosts.pve", "SOA");
    expect(soa.stdout).toMatch(/SOA\s+ns\.hosts\.pve\. info\.hosts\.pve\. \d+ 43200 900 1814400 7200/);
  });

  it("names outside the zone are refused, not forwarded (the mapped named has no egress)", () => {
    const r = dig("example.com");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("status: REFUSED");
  });

  it("the root proxy answers test.hosts.pve itself and sends *.grogu to a closed loopback port (502), never to 10.0.0.10", async () => {
    expect(await fleet.get("test.hosts.pve")).toEqual({ status: 200, instance: "", body: "Hello, world!" });
    expect(await fleet.get("test.standalone.hosts.pve")).toEqual({ status: 200, instance: "", body: "Hello, world!" });
    expect((await fleet.get("fib.grogu.hosts.pve")).status).toBe(502);
  });

  it("site k, through root proxy → LB, reaches exactly the first k backends", async () => {
    for (let k = 1; k <= 5; k++) {
      // Rounds of 4k requests at concurrency k until all k instances answered (at most 6 rounds:
      // a backend starved of CPU can miss a health check and sit out a round on a busy machine).
      const seen = new Set<string>();
      for (let round = 0; round < 6 && seen.size < k; round++) {
        for (const r of await load(`${WORDS[k - 1]}.standalone.hosts.pve`, "/", 4 * k, k)) {
          expect("res" in r && r.res.status, JSON.stringify(r)).toBe(200);
          if ("res" in r) {
            expect(r.res.body).toBe('{"result":832040}');
            expect(FIVE.slice(0, k), `site ${WORDS[k - 1]}`).toContain(r.res.instance);
            seen.add(r.res.instance);
          }
        }
      }
      expect([...seen].sort(), `site ${WORDS[k - 1]}`).toEqual(FIVE.slice(0, k));
    }
  });

  it("least-conn: slow requests launched one after another land on distinct instances, and quick ones go to the idle instance", async () => {
    // fib(37) keeps a backend busy for a quarter of a second or more; launching 30 ms apart lets the
    // LB see each earlier request still in flight, so least_conn must choose an idle instance.
    await settle();
    const host = "five.standalone.hosts.pve";
    const slow: Promise<Response>[] = [];
    for (let i = 0; i < 5; i++) {
      slow.push(fleet.get(host, "/37"));
      await new Promise((r) => setTimeout(r, 30));
    }
    const answered = await Promise.all(slow);
    for (const r of answered) expect(r).toMatchObject({ status: 200, body: '{"result":24157817}' });
    expect(answered.map((r) => r.instance).sort()).toEqual(FIVE);

    // One instance of site two holds a long request (fib(37)); sequential quick requests meanwhile
    // all go to the other, idle one.
    await settle();
    const two = "two.standalone.hosts.pve";
    const long = fleet.get(two, "/37");
    await new Promise((r) => setTimeout(r, 30));
    const quick: Response[] = [];
    for (let i = 0; i < 4; i++) quick.push(await fleet.get(two, "/1"));
    const busy = await long;
    expect(busy.status).toBe(200);
    expect(["kenobi-1", "kenobi-2"]).toContain(busy.instance);
    const idle = busy.instance === "kenobi-1" ? "kenobi-2" : "kenobi-1";
    expect(quick.map((r) => [r.status, r.instance])).toEqual(Array(4).fill([200, idle]));
  });

  it("killing a backend under load fails no request; the survivors serve", async () => {
    await settle();
    const host = "three.standalone.hosts.pve";
    let killedAt = 0;
    let killing: Promise<void> | undefined;
    let issuedAfterInterval = 0;
    // 60 requests, kill kenobi-2, and go on until 60 more have started after the health-check
    // interval (1 s) has passed since the kill.
    const results = await load(host, "/", 120, 8, {
      onIssue: (i) => {
        if (i === 60) {
          killedAt = Date.now();
          killing = fleet.kill("kenobi-2");
        } else if (killedAt && Date.now() >= killedAt + 1000) issuedAfterInterval++;
      },
      more: () => issuedAfterInterval < 60,
      max: 3000,
    });
    await killing;
    expect(fleet.proc("kenobi-2").exit?.signal).toBe("SIGKILL");
    expect(issuedAfterInterval).toBeGreaterThanOrEqual(60);
    const failed = results.filter((r) => !("res" in r) || r.res.status !== 200);
    expect(failed).toEqual([]);
    const ok = results.flatMap((r) => ("res" in r ? [{ start: r.start, instance: r.res.instance }] : []));
    const before = new Set(ok.filter((r) => r.start < killedAt).map((r) => r.instance));
    const after = ok.filter((r) => r.start >= killedAt + 1000);
    expect([...before].sort()).toEqual(["kenobi-1", "kenobi-2", "kenobi-3"]);
    expect(after.length).toBeGreaterThan(0);
    expect([...new Set(after.map((r) => r.instance))].sort()).toEqual(["kenobi-1", "kenobi-3"]);
    // and afterwards the site still answers from the survivors only
    const later = await load(host, "/10", 12, 3);
    for (const r of later)
      expect("res" in r && [r.res.status, ["kenobi-1", "kenobi-3"].includes(r.res.instance)]).toEqual([200, true]);
  });

  it("stop() ends every process group, frees every port and removes the work dir", async () => {
    const ports = [
      fleet.mapping.dnsPort,
      fleet.gatewayPort,
      fleet.mapping.endpoints["10.0.0.35:80"],
      ...fleet.mapping.instances.map((i) => i.port),
    ];
    const pids = fleet.procs.map((p) => p.child.pid!);
    await fleet.stop();
    for (const p of fleet.procs) expect(p.exit, p.name).toBeDefined();
    for (const pid of pids) expect(() => process.kill(-pid, 0)).toThrow();
    for (const port of ports) {
      const refused = await new Promise<boolean>((res) => {
        const s = net.connect(port, "127.0.0.1");
        s.once("connect", () => {
          s.destroy();
          res(false);
        });
        s.once("error", () => res(true));
      });
      expect(refused, `port ${port}`).toBe(true);
    }
    expect(fs.existsSync(fleet.dir)).toBe(false);
  });
});
