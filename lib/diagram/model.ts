/**
 * The topology of a stack, read from synth's output (resources.json, outputs.json, artifacts.json
 * and the rendered files): sites, Proxmox hosts, VMs and templates, Kubernetes clusters with their
 * nodes and Knative services, Caddy/BIND servers, Cloudflare tunnels, public hostnames and DNS
 * names, and who routes to whom. Pure: no @pulumi imports, no I/O. Resource types are matched by
 * pattern, so new components and stacks are drawn without changes here.
 */
import { parseCaddyfile, parseZone, resolveName, type Zone } from "./parse";

/** One entry of synth's resources.json. */
export interface SynthResource {
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly custom: boolean;
  readonly inputs: Record<string, any>;
  readonly protect?: boolean;
}

/** What synth wrote for one stack. `files` maps an artifact's `path` to its text. */
export interface SynthOutput {
  readonly stack: string;
  readonly resources: readonly SynthResource[];
  readonly outputs: Record<string, unknown>;
  readonly artifacts: readonly { readonly path: string; readonly kind: string; readonly resource: string }[];
  readonly files: Readonly<Record<string, string>>;
}

export type NodeKind = "template" | "vm" | "k8s-node" | "server" | "dns" | "service" | "tunnel" | "hostname" | "external";
export type GroupKind = "site" | "host" | "cluster";
export type EdgeKind = "route" | "dns" | "clone";

export interface TopologyNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** First line: the name. */
  readonly label: string;
  /** Further lines: ids, addresses, sizes. */
  readonly detail: readonly string[];
  /** Enclosing group, if any. */
  readonly group?: string;
}

export interface TopologyGroup {
  readonly id: string;
  readonly kind: GroupKind;
  readonly label: string;
  readonly parent?: string;
}

export interface TopologyEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label?: string;
}

export interface Topology {
  readonly title: string;
  readonly groups: readonly TopologyGroup[];
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
}

const isVm = (t: string) => /^proxmoxve:(index\/vm(Legacy)?:Vm(Legacy)?|vm\/virtualMachine:VirtualMachine)$/.test(t);
const isSnippet = (t: string) => /^proxmoxve:(index\/fileLegacy:FileLegacy|storage\/file:File)$/.test(t);
const isTunnel = (t: string) => /^cloudflare:index\/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared$/.test(t);
const isTunnelConfig = (t: string) => /^cloudflare:index\/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig$/.test(t);
const isDnsRecord = (t: string) => /^cloudflare:index\/(dnsRecord:DnsRecord|record:Record)$/.test(t);
const isKnativeService = (t: string) => t === "kubernetes:serving.knative.dev/v1:Service";
const isClusterComponent = (t: string) => /^kantai:(k8s|kubernetes|minikube|k3s)[^:]*:\w*Cluster$/i.test(t);
const isSiteComponent = (t: string) => /^kantai:[^:]+:Site$/.test(t);

const ipOf = (cidr: unknown) => (typeof cidr === "string" ? cidr.split("/")[0] : undefined);
const str = (v: unknown) => (typeof v === "string" && v !== "[secret]" ? v : undefined);
const splitHostPort = (hp: string): [string, string | undefined] => {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(hp);
  return m ? [m[1], m[2]] : [hp, undefined];
};
const urlHostPort = (url: string): [string, string | undefined] => {
  try {
    const u = new URL(url);
    return [u.hostname, u.port || (u.protocol === "https:" ? "443" : u.protocol === "http:" ? "80" : undefined)];
  } catch {
    return splitHostPort(url);
  }
};

/** Build the topology of one stack's synth output. Deterministic: same input, same topology. */
export function buildTopology(input: SynthOutput): Topology {
  const byName = new Map(input.resources.map((r) => [r.name, r]));
  const ancestors = (r: SynthResource): SynthResource[] => {
    const out: SynthResource[] = [];
    for (let p = r.parent && byName.get(r.parent); p; p = p.parent ? byName.get(p.parent) : undefined) out.push(p);
    return out;
  };
  const groups = new Map<string, TopologyGroup>();
  const nodes = new Map<string, TopologyNode>();
  const edges: TopologyEdge[] = [];
  const edgeKeys = new Set<string>();
  const addGroup = (g: TopologyGroup) => {
    if (!groups.has(g.id)) groups.set(g.id, g);
    return g.id;
  };
  const addNode = (n: TopologyNode) => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
    return n.id;
  };
  const addEdge = (e: TopologyEdge) => {
    const key = `${e.from}>${e.to}>${e.kind}`;
    if (e.from === e.to || edgeKeys.has(key)) return;
    edgeKeys.add(key);
    edges.push(e);
  };

  // Sites: a kantai:*:Site component when the stack has them, else one site named after the stack.
  const composition = typeof input.outputs.composition === "string" ? input.outputs.composition : undefined;
  const defaultSite = `site:${input.stack}`;
  const siteOf = (r: SynthResource): string => {
    const site = ancestors(r).find((a) => isSiteComponent(a.type));
    if (site) return addGroup({ id: `site:${site.name}`, kind: "site", label: `site ${site.name}` });
    return addGroup({ id: defaultSite, kind: "site", label: composition ? `site ${input.stack} (${composition})` : `site ${input.stack}` });
  };

  // Addresses: IPv4 → node or group id, to resolve upstreams and DNS answers.
  const addressOf = new Map<string, string>();
  const remember = (ip: string | undefined, id: string) => {
    if (ip && !addressOf.has(ip)) addressOf.set(ip, id);
  };

  // Proxmox hosts: every nodeName a proxmoxve resource names; addresses from bridges and the provider endpoint.
  const hostNames = [...new Set(input.resources.filter((r) => r.type.startsWith("proxmoxve:") && typeof r.inputs.nodeName === "string").map((r) => r.inputs.nodeName as string))].sort();
  const hostAddresses = new Map<string, string[]>(hostNames.map((h) => [h, []]));
  for (const r of input.resources) {
    if (r.type === "proxmoxve:network/linux/bridge:Bridge" && hostAddresses.has(r.inputs.nodeName)) {
      const ip = ipOf(r.inputs.address);
      if (ip) hostAddresses.get(r.inputs.nodeName)!.push(`${r.inputs.name ?? "bridge"} ${r.inputs.address}`);
      remember(ip, `host:${r.inputs.nodeName}`);
    }
  }
  const endpoints = input.resources.filter((r) => r.type === "pulumi:providers:proxmoxve").map((r) => str(r.inputs.endpoint));
  for (const ep of endpoints) {
    if (!ep) continue;
    const [h] = urlHostPort(ep);
    const host = hostNames.includes(h) ? h : hostNames.length === 1 ? hostNames[0] : undefined;
    if (host) {
      hostAddresses.get(host)!.unshift(h);
      remember(h, `host:${host}`);
    }
  }
  const hostSite = new Map<string, string>();
  for (const r of input.resources) if (r.type.startsWith("proxmoxve:") && hostAddresses.has(r.inputs.nodeName) && !hostSite.has(r.inputs.nodeName)) hostSite.set(r.inputs.nodeName, siteOf(r));
  for (const h of hostNames) {
    addGroup({ id: `host:${h}`, kind: "host", label: [`Proxmox host ${h}`, ...hostAddresses.get(h)!].join(" · "), parent: hostSite.get(h) });
  }

  // Kubernetes clusters: a cluster component groups its VMs (nodes) and its Knative services.
  const clusterOf = (r: SynthResource): string | undefined => {
    const c = [r, ...ancestors(r)].find((a) => isClusterComponent(a.type));
    if (!c) return undefined;
    return addGroup({ id: `cluster:${c.name}`, kind: "cluster", label: `Kubernetes cluster ${c.name}`, parent: siteOf(c) });
  };

  for (const r of input.resources) if (isClusterComponent(r.type)) clusterOf(r);
  const onlyCluster = () => {
    const ids = [...groups.values()].filter((g) => g.kind === "cluster").map((g) => g.id);
    return ids.length === 1 ? ids[0] : undefined;
  };

  // VMs and templates.
  const vmIds = new Map<string, string>(); // "<node>/<vmId>" → node id (for clones)
  const snippetOwner = new Map<string, string>(); // "<datastore>:snippets/<file>" → vm node id
  const vms = input.resources.filter((r) => r.custom && isVm(r.type));
  for (const r of vms) {
    const i = r.inputs;
    const template = i.template === true;
    const ips: string[] = (i.initialization?.ipConfigs ?? []).map((c: any) => ipOf(c?.ipv4?.address)).filter(Boolean);
    const cluster = clusterOf(r);
    const id = `vm:${r.name}`;
    const size = [i.cpu?.cores ? `${i.cpu.cores} vCPU` : undefined, i.memory?.dedicated ? `${i.memory.dedicated} MB` : undefined].filter(Boolean).join(", ");
    addNode({
      id,
      kind: template ? "template" : cluster ? "k8s-node" : "vm",
      label: str(i.name) ?? r.name,
      detail: [template ? `template ${i.vmId}` : `VM ${i.vmId}${ips.length ? ` · ${ips.join(", ")}` : ""}`, ...(size ? [size] : []), ...(cluster ? [`on ${i.nodeName}`] : [])],
      group: cluster ?? (hostAddresses.has(i.nodeName) ? `host:${i.nodeName}` : siteOf(r)),
    });
    vmIds.set(`${i.nodeName}/${i.vmId}`, id);
    for (const ip of ips) remember(ip, id);
    const ud = str(i.initialization?.userDataFileId);
    if (ud) snippetOwner.set(ud, id);
  }
  for (const r of vms) {
    const c = r.inputs.clone;
    if (!c) continue;
    const tpl = vmIds.get(`${c.nodeName ?? r.inputs.nodeName}/${c.vmId}`);
    if (tpl) addEdge({ from: tpl, to: `vm:${r.name}`, kind: "clone", label: "clone" });
  }
  const snippetVm = new Map<string, string>();
  for (const r of input.resources) {
    if (!isSnippet(r.type)) continue;
    const owner = snippetOwner.get(`${r.inputs.datastoreId}:snippets/${r.inputs.sourceRaw?.fileName}`);
    if (owner) snippetVm.set(r.name, owner);
  }

  // Where a rendered file runs: the VM its snippet boots, else the host a command connects to
  // (its connection when not secret, else the only Proxmox host), else the resource's site.
  const machineOf = (resourceName: string): string => {
    const vm = snippetVm.get(resourceName);
    if (vm) return vm;
    const r = byName.get(resourceName);
    const host = r && str(r.inputs.connection?.host);
    if (host && addressOf.has(host)) return addressOf.get(host)!;
    if (hostNames.length === 1) return `host:${hostNames[0]}`;
    return r ? siteOf(r) : defaultSite;
  };
  const isGroup = (id: string) => id.startsWith("host:") || id.startsWith("site:") || id.startsWith("cluster:");
  const componentLabel = (resourceName: string) => {
    const r = byName.get(resourceName);
    return (r && ancestors(r).find((a) => !a.custom)?.name) ?? resourceName;
  };

  // DNS zones (BIND) and the servers that hold them.
  const zones: Zone[] = [];
  for (const a of input.artifacts.filter((x) => x.kind === "bind-zone")) {
    const text = input.files[a.path];
    if (text === undefined) continue;
    const zone = parseZone(text);
    zones.push(zone);
    const machine = machineOf(a.resource);
    addNode({
      id: `dns:${zone.origin}`,
      kind: "dns",
      label: `BIND ${zone.origin}`,
      detail: zone.records.filter((r) => r.type === "A").map((r) => `${r.name === zone.origin ? "@" : r.name.slice(0, -(zone.origin.length + 1))} → ${r.value}`),
      group: isGroup(machine) ? machine : nodes.get(machine)?.group,
    });
  }

  // Caddy servers: a VM serving a Caddyfile is the server itself; a host's Caddy gets its own node.
  const external = (hp: string) => addNode({ id: `ext:${hp}`, kind: "external", label: hp, detail: ["not in this stack"] });
  const targetOf = (host: string, port: string | undefined): string => {
    const hit = addressOf.get(host);
    if (hit && !isGroup(hit)) return hit;
    if (hit && isGroup(hit)) {
      const onHost = [...nodes.values()].find((n) => n.kind === "server" && n.group === hit);
      if (onHost) return onHost.id;
    }
    return external(port ? `${host}:${port}` : host);
  };
  const servers: { id: string; sites: ReturnType<typeof parseCaddyfile>; machine: string }[] = [];
  for (const a of input.artifacts.filter((x) => x.kind === "caddyfile")) {
    const text = input.files[a.path];
    if (text === undefined) continue;
    const machine = machineOf(a.resource);
    const sites = parseCaddyfile(text);
    let id = machine;
    if (isGroup(machine)) {
      id = addNode({ id: `server:${a.resource}`, kind: "server", label: `Caddy ${componentLabel(a.resource)}`, detail: [], group: machine });
    }
    servers.push({ id, sites, machine });
  }
  const siteList = (names: readonly string[]) => (names.length === 1 ? names[0] : `${names.length} sites`);
  for (const s of servers) {
    const byTarget = new Map<string, { port?: string; names: string[] }>();
    for (const site of s.sites) {
      for (const up of site.upstreams) {
        const [h, p] = splitHostPort(up);
        const to = targetOf(h, p);
        const entry = byTarget.get(to) ?? { port: p, names: [] };
        entry.names.push(...site.addresses);
        byTarget.set(to, entry);
      }
    }
    for (const [to, { port, names }] of byTarget) addEdge({ from: s.id, to, kind: "route", label: `${siteList(names)}${port ? ` → :${port}` : ""}` });
  }

  // Public names: a site address whose DNS answer is this server's machine is an entry point.
  const machineIds = (s: { id: string; machine: string }) => new Set([s.id, s.machine]);
  for (const s of servers) {
    for (const site of s.sites) {
      for (const name of site.addresses) {
        const ip = resolveName(zones, name.replace(/^\*\./, "_wildcard."));
        const answer = ip ? addressOf.get(ip) : undefined;
        if (ip && !(answer && machineIds(s).has(answer))) continue; // reached through another server
        addNode({ id: `name:${name}`, kind: "hostname", label: name, detail: site.responds ? ["answered by Caddy"] : [] });
        addEdge({ from: `name:${name}`, to: s.id, kind: "dns", label: ip ? `A ${ip}` : undefined });
      }
    }
  }

  // Knative services, in their cluster when they have one.
  for (const r of input.resources.filter((x) => x.custom && isKnativeService(x.type))) {
    const md = r.inputs.metadata ?? {};
    const name = str(md.name) ?? r.name;
    const ns = str(md.namespace) ?? "default";
    addNode({ id: `ksvc:${ns}/${name}`, kind: "service", label: `ksvc ${name}`, detail: [`namespace ${ns}`], group: clusterOf(r) ?? onlyCluster() ?? siteOf(r) });
  }
  // Traffic that reaches a cluster node goes on to the cluster's Knative services.
  for (const g of [...groups.values()].filter((x) => x.kind === "cluster")) {
    const members = [...nodes.values()].filter((n) => n.group === g.id);
    const entries = members.filter((n) => n.kind === "k8s-node" && edges.some((e) => e.to === n.id && e.kind === "route"));
    for (const entry of entries) for (const svc of members.filter((n) => n.kind === "service")) addEdge({ from: entry.id, to: svc.id, kind: "route", label: "ingress" });
  }

  // Cloudflare tunnels: public hostnames → tunnel → origin services; proxied CNAMEs → tunnel.
  const tunnels = input.resources.filter((r) => r.custom && isTunnel(r.type));
  const tunnelByIdRef = new Map<string, string>();
  for (const r of tunnels) {
    const id = addNode({ id: `tunnel:${r.name}`, kind: "tunnel", label: `Cloudflare tunnel ${str(r.inputs.name) ?? r.name}`, detail: [] });
    tunnelByIdRef.set(`${r.name}-id`, id);
    tunnelByIdRef.set(r.name, id);
  }
  const tunnelFor = (r: SynthResource, ref: unknown): string | undefined => {
    const direct = typeof ref === "string" ? (tunnelByIdRef.get(ref) ?? tunnelByIdRef.get(ref.replace(/\.cfargotunnel\.com\.?$/, ""))) : undefined;
    if (direct) return direct;
    const sameParent = tunnels.find((t) => t.parent !== undefined && t.parent === r.parent);
    if (sameParent) return `tunnel:${sameParent.name}`;
    return tunnels.length === 1 ? `tunnel:${tunnels[0].name}` : undefined;
  };
  // An in-cluster origin (`<svc>.<ns>.svc[.cluster.local]`): a Knative service itself, or a
  // Service in the stack's only cluster; an ingress gateway's Service leads to the Knative services.
  const inCluster = (host: string, port: string | undefined): string | undefined => {
    const m = /^([^.]+)\.([^.]+)\.svc(\.cluster\.local)?$/.exec(host);
    if (!m) return undefined;
    const [, name, ns] = m;
    if (nodes.has(`ksvc:${ns}/${name}`)) return `ksvc:${ns}/${name}`;
    const group = onlyCluster();
    const id = addNode({ id: `svc:${ns}/${name}`, kind: "service", label: `svc ${name}`, detail: [`namespace ${ns}${port ? ` · :${port}` : ""}`], group });
    if (/kourier|istio|contour|gateway|ingress|traefik/.test(`${ns}/${name}`)) {
      for (const k of [...nodes.values()].filter((n) => n.id.startsWith("ksvc:") && n.group === group)) addEdge({ from: id, to: k.id, kind: "route", label: "Host header" });
    }
    return id;
  };
  for (const r of input.resources.filter((x) => x.custom && isTunnelConfig(x.type))) {
    const tunnel = tunnelFor(r, r.inputs.tunnelId);
    if (!tunnel) continue;
    for (const ing of r.inputs.config?.ingresses ?? []) {
      const service = str(ing.service);
      if (!service || service.startsWith("http_status:")) continue;
      const hostname = str(ing.hostname);
      if (hostname) {
        addNode({ id: `name:${hostname}`, kind: "hostname", label: hostname, detail: [] });
        addEdge({ from: `name:${hostname}`, to: tunnel, kind: "route", label: "tunnel" });
      }
      const [h, p] = urlHostPort(service);
      const to = addressOf.has(h) ? targetOf(h, p) : (inCluster(h, p) ?? external(p ? `${h}:${p}` : h));
      addEdge({ from: tunnel, to, kind: "route", label: hostname ? `${hostname}` : undefined });
    }
  }
  for (const r of input.resources.filter((x) => x.custom && isDnsRecord(x.type))) {
    const content = str(r.inputs.content) ?? str(r.inputs.value);
    const name = str(r.inputs.name);
    if (!name || !content || !/\.cfargotunnel\.com\.?$/.test(content)) continue;
    const tunnel = tunnelFor(r, content);
    if (!tunnel) continue;
    const existing = nodes.get(`name:${name}`);
    const detail = [`CNAME ${r.inputs.proxied === true ? "proxied" : "NOT proxied"}`];
    if (existing) nodes.set(existing.id, { ...existing, detail: [...existing.detail, ...detail] });
    else addNode({ id: `name:${name}`, kind: "hostname", label: name, detail });
    if (!edges.some((e) => e.from === `name:${name}` && e.to === tunnel)) addEdge({ from: `name:${name}`, to: tunnel, kind: "dns", label: "CNAME" });
  }

  // Servers list the sites they answer that are reached through another server.
  for (const s of servers) {
    const n = nodes.get(s.id);
    if (!n) continue;
    const inner = s.sites.flatMap((x) => x.addresses).filter((a) => !nodes.has(`name:${a}`));
    if (inner.length > 0) nodes.set(n.id, { ...n, detail: [...n.detail, `Caddy: ${inner.length <= 2 ? inner.join(", ") : `${inner[0]} … (${inner.length} sites)`}`] });
  }

  // Deterministic order: groups and nodes by id, edges by endpoints.
  const title = `kantai stack ${input.stack}${composition ? ` (${composition})` : ""}`;
  return {
    title,
    groups: [...groups.values()].sort((a, b) => a.id.localeCompare(b.id)),
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true })),
    edges: edges.sort((a, b) => `${a.from}>${a.to}`.localeCompare(`${b.from}>${b.to}`, "en", { numeric: true })),
  };
}
