/**
 * Input validation: every problem is reported with the path of the field it concerns, e.g.
 * `rttMs.edge.cloud1: must be a non-negative number`. Pure.
 */
import { type InputIssue, type Problem, type RoutingInput, RoutingInputError } from "./types";

/** Largest replica budget accepted (keeps the Erlang recursions and the search bounded). */
export const MAX_REPLICAS = 100_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNonNegNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/**
 * Largest request rate R replicas can serve: the R fastest pods over all nodes (each node ≤
 * maxPods) — a greedy over pods by speed, exact because every pod of a node has the same rate. Some
 * placement is stable iff the total demand is below it; the optimiser then starts from one.
 */
export function maxStableCapacity(
  nodes: readonly { maxPods: number; serviceRate: number }[],
  replicas: number,
): number {
  const sorted = [...nodes].sort((a, b) => b.serviceRate - a.serviceRate);
  let left = replicas;
  let cap = 0;
  for (const node of sorted) {
    if (left <= 0) break;
    const take = Math.min(left, node.maxPods);
    cap += take * node.serviceRate;
    left -= take;
  }
  return cap;
}

/** All problems of `raw` (an unparsed JSON value); empty when it is a valid RoutingInput. */
export function routingInputIssues(raw: unknown): InputIssue[] {
  const issues: InputIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  if (!isObject(raw)) {
    add("input", "must be a JSON object with nodes, rttMs, demand and replicas");
    return issues;
  }
  for (const key of Object.keys(raw)) {
    if (!["nodes", "rttMs", "demand", "replicas"].includes(key)) add(key, "unknown field");
  }

  // nodes
  const names = new Set<string>();
  const nodes: { name: string; maxPods: number; serviceRate: number }[] = [];
  let nodesOk = true;
  if (!Array.isArray(raw.nodes) || raw.nodes.length === 0) {
    add("nodes", "must be a non-empty array of {name, maxPods, serviceRate}");
    nodesOk = false;
  } else {
    raw.nodes.forEach((node: unknown, i: number) => {
      const at = `nodes[${i}]`;
      if (!isObject(node)) {
        add(at, "must be an object {name, maxPods, serviceRate}");
        nodesOk = false;
        return;
      }
      for (const key of Object.keys(node)) {
        if (!["name", "maxPods", "serviceRate"].includes(key)) add(`${at}.${key}`, "unknown field");
      }
      let ok = true;
      if (typeof node.name !== "string" || node.name.length === 0) {
        add(`${at}.name`, "must be a non-empty string");
        ok = false;
      } else if (names.has(node.name)) {
        add(`${at}.name`, `duplicate node "${node.name}"`);
        ok = false;
      }
      if (typeof node.maxPods !== "number" || !Number.isInteger(node.maxPods) || node.maxPods < 0) {
        add(`${at}.maxPods`, "must be a non-negative integer");
        ok = false;
      }
      if (typeof node.serviceRate !== "number" || !Number.isFinite(node.serviceRate) || node.serviceRate <= 0) {
        add(`${at}.serviceRate`, "must be a positive number (requests per second per replica)");
        ok = false;
      }
      if (typeof node.name === "string" && node.name.length > 0) names.add(node.name);
      if (ok)
        nodes.push({
          name: node.name as string,
          maxPods: node.maxPods as number,
          serviceRate: node.serviceRate as number,
        });
      else nodesOk = false;
    });
  }

  // rttMs
  if (!isObject(raw.rttMs)) {
    add("rttMs", "must be an object keyed by node name: rttMs[from][to] in ms");
  } else if (names.size > 0) {
    const rtt = raw.rttMs;
    for (const from of Object.keys(rtt)) {
      if (!names.has(from)) add(`rttMs.${from}`, `unknown node "${from}"`);
    }
    for (const from of names) {
      const row = rtt[from];
      if (row === undefined) {
        add(`rttMs.${from}`, `missing row for node "${from}"`);
        continue;
      }
      if (!isObject(row)) {
        add(`rttMs.${from}`, "must be an object keyed by node name");
        continue;
      }
      for (const to of Object.keys(row)) {
        if (!names.has(to)) add(`rttMs.${from}.${to}`, `unknown node "${to}"`);
      }
      for (const to of names) {
        const v = row[to];
        if (v === undefined) {
          if (to !== from) add(`rttMs.${from}.${to}`, `missing latency from "${from}" to "${to}"`);
        } else if (!isNonNegNumber(v)) {
          add(`rttMs.${from}.${to}`, "must be a non-negative number");
        }
      }
    }
  }

  // demand
  let total = 0;
  if (!isObject(raw.demand)) {
    add("demand", "must be an object keyed by node name: requests per second entering at that node");
  } else {
    for (const [name, v] of Object.entries(raw.demand)) {
      if (names.size > 0 && !names.has(name)) add(`demand.${name}`, `unknown node "${name}"`);
      else if (!isNonNegNumber(v)) add(`demand.${name}`, "must be a non-negative number");
      else total += v;
    }
  }

  // replicas
  const r = raw.replicas;
  if (typeof r !== "number" || !Number.isInteger(r) || r < 1) {
    add("replicas", "must be a positive integer");
  } else if (r > MAX_REPLICAS) {
    add("replicas", `must be at most ${MAX_REPLICAS}`);
  } else if (nodesOk) {
    const podSum = nodes.reduce((s, n) => s + n.maxPods, 0);
    if (r > podSum) {
      add("replicas", `${r} exceeds the total maxPods of all nodes (${podSum})`);
    } else if (issues.length === 0) {
      const cap = maxStableCapacity(nodes, r);
      if (!(total < cap)) {
        add(
          "demand",
          `total ${fmt(total)} req/s cannot be served stably by ${r} replicas (at most ${fmt(cap)} req/s, load must stay below capacity)`,
        );
      }
    }
  }
  return issues;
}

const fmt = (v: number) => String(Math.round(v * 1000) / 1000);

/** Validate and return the typed input; throws RoutingInputError listing every problem. */
export function parseRoutingInput(raw: unknown): RoutingInput {
  const issues = routingInputIssues(raw);
  if (issues.length > 0) throw new RoutingInputError(issues);
  return raw as RoutingInput;
}

/** Build the indexed problem (nodes sorted by name) from a validated input. */
export function buildProblem(input: RoutingInput): Problem {
  const order = [...input.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const n = order.length;
  const names = order.map((x) => x.name);
  const maxPods = new Int32Array(n);
  const mu = new Float64Array(n);
  const rtt = new Float64Array(n * n);
  const demand = new Float64Array(n);
  let totalDemand = 0;
  for (let i = 0; i < n; i++) {
    maxPods[i] = order[i].maxPods;
    mu[i] = order[i].serviceRate;
    const row = input.rttMs[names[i]];
    for (let j = 0; j < n; j++) rtt[i * n + j] = row[names[j]] ?? 0;
    const d = input.demand[names[i]] ?? 0;
    demand[i] = d;
    totalDemand += d;
  }
  return { names, n, maxPods, mu, rtt, demand, totalDemand, replicas: input.replicas };
}

/** Validate `raw` and build the problem in one step. */
export function problemFrom(raw: unknown): Problem {
  return buildProblem(parseRoutingInput(raw));
}
