/**
 * kantai:routing (stacks/config/routing.ts): the edge stack's sample parsed into the RoutingPlan's
 * input (RTTs from the committed monlat file, or inline), and every rule's exact message.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseMonlat } from "../lib/routing";
import { readStackFile } from "../scripts/synth/stackFile";
import { ConfigError, decodeConfigValue, parseConfig, REPO_ROOT } from "../stacks/config";
import { ROOT } from "./support/devConfig";

function stack(name: "edge" | "lab" = "edge"): { raw: Record<string, any>; secretKeys: string[] } {
  const { config, secretKeys } = readStackFile(path.join(ROOT, `Pulumi.${name}.yaml`));
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(config)) raw[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return { raw: structuredClone(raw), secretKeys };
}

/** The sample's RTT matrix over its four routing nodes, as config would spell it. */
const RTT = {
  "edge-vm-1": { "edge-vm-1": 0, "edge-vm-2": 0.3, "pi-1": 18.4, "pi-2": 19.6 },
  "edge-vm-2": { "edge-vm-1": 0.3, "edge-vm-2": 0, "pi-1": 18.9, "pi-2": 20.8 },
  "pi-1": { "edge-vm-1": 18.4, "edge-vm-2": 18.9, "pi-1": 0, "pi-2": 0.6 },
  "pi-2": { "edge-vm-1": 19.6, "edge-vm-2": 20.8, "pi-1": 0.6, "pi-2": 0 },
};

const parsed = (edit: (r: Record<string, any>) => void = () => {}, name: "edge" | "lab" = "edge") => {
  const s = stack(name);
  edit(s.raw);
  return parseConfig(s.raw, { stack: name, secretKeys: s.secretKeys });
};

function problems(edit: (r: Record<string, any>) => void, name: "edge" | "lab" = "edge"): string[] {
  try {
    parsed(edit, name);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.key}: ${i.message}`);
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

/** Edit the sample service (kantai:routing.services[0]). */
const svc = (edit: (s: Record<string, any>) => void) => (r: Record<string, any>) => edit(r.routing.services[0]);
/** The sample service with its RTTs inline instead of from the file. */
const inline = (edit: (s: Record<string, any>) => void = () => {}) =>
  svc((s) => {
    delete s.latencyFile;
    s.rttMs = structuredClone(RTT);
    edit(s);
  });

function tmpFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-monlat-"));
  const file = path.join(dir, "latency.prom");
  fs.writeFileSync(file, text);
  return file;
}

const K = "kantai:routing.services[0]";
const CLUSTER = '(cluster "edge" has "pi-1", "pi-2", "edge-vm-1", "pi-3", "edge-vm-2")';

describe("the edge stack's kantai:routing", () => {
  it("resolves the sample service: nodes sorted by name, the RTT matrix from stacks/data/edge-latency.prom over exactly those nodes", () => {
    const c = parsed();
    expect(c.routing).toEqual({
      services: [
        {
          name: "whoami",
          namespace: "default",
          image: "traefik/whoami:v1.11.0",
          port: 8080,
          args: ["--port", "8080"],
          env: {},
          resources: { requests: { cpu: "100m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } },
          readinessPath: "/health",
          serviceType: "ClusterIP",
          algorithm: "optimal",
          input: {
            nodes: [
              { name: "edge-vm-1", maxPods: 3, serviceRate: 100 },
              { name: "edge-vm-2", maxPods: 4, serviceRate: 100 },
              { name: "pi-1", maxPods: 2, serviceRate: 60 },
              { name: "pi-2", maxPods: 2, serviceRate: 60 },
            ],
            rttMs: RTT,
            demand: { "pi-1": 60, "pi-2": 40, "edge-vm-1": 150 },
            replicas: 6,
          },
          latencySource: "stacks/data/edge-latency.prom",
          hysteresis: { improvementPct: 5, rttMoveMs: 10 },
          reweight: { enabled: true, intervalMs: 15000, minIntervalMs: 60000, maxStep: 0.25 },
        },
      ],
    });
  });

  it("the committed sample file is monlat's format and covers every node of the cluster (pi-3 included)", () => {
    const m = parseMonlat(fs.readFileSync(path.join(REPO_ROOT, "stacks/data/edge-latency.prom"), "utf8"));
    expect(Object.keys(m)).toEqual(["edge-vm-1", "edge-vm-2", "pi-1", "pi-2", "pi-3"]);
    expect(m["pi-3"]["edge-vm-2"]).toBe(19.7);
  });

  it("takes the matrix inline (rttMs) as well, keeping only the routing nodes' entries, and resolves defaults", () => {
    const c = parsed(
      inline((s) => {
        s.rttMs["pi-3"] = { "pi-1": 0.7 };
        s.rttMs["pi-1"]["pi-3"] = 0.7;
        delete s.algorithm;
        delete s.args;
        delete s.readinessPath;
      }),
    );
    const s = c.routing!.services[0];
    expect(s.input.rttMs).toEqual(RTT);
    expect(s.latencySource).toBe("config");
    expect(s.algorithm).toBe("optimal");
    expect(s.args).toBeUndefined();
    expect(s.readinessPath).toBeUndefined();
  });

  it("reads an absolute latencyFile path; the last sample of a pair wins and one direction serves both (parseMonlat defaults)", () => {
    const file = tmpFile(
      fs.readFileSync(path.join(REPO_ROOT, "stacks/data/edge-latency.prom"), "utf8") +
        'latency_between_nodes{from="pi-1",to="pi-2"} 1.5\n',
    );
    const s = parsed(svc((x) => (x.latencyFile = file))).routing!.services[0];
    expect(s.input.rttMs["pi-1"]["pi-2"]).toBe(1.5);
    expect(s.input.rttMs["pi-2"]["pi-1"]).toBe(1.5);
    expect(s.latencySource).toBe(file);
  });

  it("is absent when unset", () => {
    expect(parsed((r) => delete r.routing).routing).toBeUndefined();
  });
});

describe("bad kantai:routing fails before any resource, naming the key", () => {
  it.each<[string, (r: Record<string, any>) => void, string[]]>([
    [
      "a node that is not in the edge K3s cluster",
      svc((s) => (s.nodes["pi-9"] = { maxPods: 1, serviceRate: 10 })),
      [`${K}.nodes.pi-9: unknown node "pi-9" ${CLUSTER}`],
    ],
    [
      "a demand node that is not in the cluster",
      svc((s) => (s.demand.mars = 5)),
      [`${K}.demand.mars: unknown node "mars" ${CLUSTER}`],
    ],
    [
      "a demand node without capacity (not in nodes)",
      svc((s) => (s.demand["pi-3"] = 5)),
      [
        `${K}.demand.pi-3: node "pi-3" has demand but no entry in kantai:routing.services[0].nodes (its proxy routes the requests entering there: give it maxPods, 0 or more, and serviceRate)`,
      ],
    ],
    [
      "a node tainted NoSchedule (the objects carry no tolerations)",
      svc((s) => (s.nodes["pi-3"] = { maxPods: 1, serviceRate: 60 })),
      [
        `${K}.nodes.pi-3: node "pi-3" is tainted kantai.dev/storage=hdd:NoSchedule: the routing workload and proxy have no tolerations`,
      ],
    ],
    [
      "a missing RTT entry (inline)",
      inline((s) => delete s.rttMs["pi-1"]["edge-vm-2"]),
      [`${K}.rttMs.pi-1.edge-vm-2: missing latency from "pi-1" to "edge-vm-2"`],
    ],
    [
      "a missing RTT row (inline)",
      inline((s) => delete s.rttMs["pi-2"]),
      [`${K}.rttMs.pi-2: missing row for node "pi-2"`],
    ],
    [
      "an RTT toward a node outside the cluster (inline)",
      inline((s) => (s.rttMs["pi-1"].moon = 400)),
      [`${K}.rttMs.pi-1.moon: unknown node "moon" ${CLUSTER}`],
    ],
    [
      "a negative RTT (inline)",
      inline((s) => (s.rttMs["pi-1"]["pi-2"] = -1)),
      [`${K}.rttMs.pi-1.pi-2: must be a non-negative number of milliseconds`],
    ],
    [
      "both rttMs and latencyFile",
      svc((s) => (s.rttMs = structuredClone(RTT))),
      [`${K}: set exactly one of rttMs, latencyFile and latencyPrometheus`],
    ],
    [
      "neither rttMs nor latencyFile",
      svc((s) => delete s.latencyFile),
      [
        `${K}: needs the RTT matrix: set rttMs ({from: {to: ms}}), latencyFile (monlat measurements) or latencyPrometheus (a Prometheus URL)`,
      ],
    ],
    [
      "an unreadable latency file",
      svc((s) => (s.latencyFile = "stacks/data/nope.prom")),
      [`${K}.latencyFile: cannot read "stacks/data/nope.prom" (ENOENT; relative paths start at the repository root)`],
    ],
    [
      "a budget above the total maxPods",
      svc((s) => (s.replicas = 12)),
      [`${K}.replicas: 12 exceeds the total maxPods of all nodes (11)`],
    ],
    [
      "demand no placement of the budget can serve stably",
      svc((s) => (s.demand["edge-vm-1"] = 500)),
      [
        `${K}.demand: total 600 req/s cannot be served stably by 6 replicas (at most 600 req/s, load must stay below capacity)`,
      ],
    ],
    [
      "a baseline that cannot serve the demand stably",
      svc((s) => (s.algorithm = "nearest")),
      [`${K}.demand: the nearest algorithm cannot serve this demand stably (some node would be overloaded)`],
    ],
    [
      "an unknown algorithm",
      svc((s) => (s.algorithm = "fastest")),
      [`${K}.algorithm: must be one of "optimal", "even", "nearest", "ikukantai"`],
    ],
    ["a zero budget", svc((s) => (s.replicas = 0)), [`${K}.replicas: at least 1 replica`]],
    [
      "a non-positive service rate",
      svc((s) => (s.nodes["pi-1"].serviceRate = 0)),
      [`${K}.nodes.pi-1.serviceRate: must be a positive number of requests per second per replica`],
    ],
    [
      "missing resources (the policy pack demands requests and limits)",
      svc((s) => delete s.resources),
      [`${K}.resources: is required: {requests: {cpu, memory}, limits: {cpu, memory}}`],
    ],
    [
      "resources without limits",
      svc((s) => delete s.resources.limits),
      [`${K}.resources.limits: is required: {cpu, memory} limits (the policy pack demands them on every container)`],
    ],
    ["a limit without cpu", svc((s) => delete s.resources.limits.cpu), [`${K}.resources.limits.cpu: is required`]],
    [
      "a second service with the same name",
      (r) => r.routing.services.push({ ...structuredClone(r.routing.services[0]), namespace: "apps" }),
      [
        'kantai:routing.services[1].name: "whoami" is already used by kantai:routing.services[0] (names are unique across namespaces: they name the Pulumi components)',
      ],
    ],
    [
      "a name another key already uses for its Service",
      svc((s) => (s.name = "fibonacci")),
      [`${K}.name: Service "default/fibonacci" is already created by kantai:knative.services[0]`],
    ],
    [
      "a name a WebApp already uses",
      svc((s) => (s.name = "blog")),
      [`${K}.name: Service "default/blog" is already created by kantai:webapps[0]`],
    ],
    ["no services", (r) => (r.routing.services = []), ["kantai:routing.services: needs at least one service"]],
    ["an unknown field", svc((s) => (s.weights = {})), [`${K}: unknown key "weights"`]],
  ])("%s", (_, edit, expected) => {
    expect(problems(edit)).toEqual(expected);
  });

  it("a malformed latency file: the line number, and every bad line", () => {
    const file = tmpFile(
      [
        "# monlat",
        'latency_between_nodes{from="pi-1",to="pi-2"} 0.6',
        'latency_between_nodes{from="pi-1",to="edge-vm-1"}',
        'latency_between_nodes{from="pi-2",to="edge-vm-1"} -3',
        'latency_between_nodes{to="edge-vm-2"} 3',
      ].join("\n"),
    );
    expect(problems(svc((s) => (s.latencyFile = file)))).toEqual([
      `${K}.latencyFile: ${file} line 3: malformed sample, expected latency_between_nodes{from="a",to="b"} <ms>`,
      `${K}.latencyFile: ${file} line 4: latency must be a non-negative number, got -3`,
      `${K}.latencyFile: ${file} line 5: sample needs both from and to labels`,
    ]);
  });

  it("a latency file without a pair the nodes need: the pair", () => {
    const text = fs
      .readFileSync(path.join(REPO_ROOT, "stacks/data/edge-latency.prom"), "utf8")
      .replace(/^latency_between_nodes\{from="pi-2",to="edge-vm-2"\}.*$/m, "");
    const file = tmpFile(text);
    expect(problems(svc((s) => (s.latencyFile = file)))).toEqual([
      `${K}.latencyFile: ${file}: no monlat sample from "edge-vm-2" to "pi-2"`,
      `${K}.latencyFile: ${file}: no monlat sample from "pi-2" to "edge-vm-2"`,
    ]);
  });

  it("routing outside the edge composition", () => {
    const edge = stack("edge");
    expect(problems((r) => (r.routing = edge.raw.routing), "lab")).toEqual([
      'kantai:routing: is not part of the "lab" composition (latency-aware routing runs on the "edge" composition\'s cluster)',
    ]);
  });
});
