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
/** Kubernetes clusters: `kantai:k8s:K3sCluster`, single-node ones such as `kantai:k8s:GroguNode`. */
const isClusterComponent = (t: string) => /^kantai:(k8s|kubernetes|minikube|k3s)[^:]*:\w*(Cluster|Node)$/i.test(t);
const isSiteComponent = (t: string) => /^kantai:[^:]+:Site$/.test(t);
const isIngressRoute = (t: string) => /^kubernetes:traefik\.(io|containo\.us)\/v1alpha1:IngressRoute$/.test(t);

/** A cluster node as the stack outputs list it (`nodes: [{name, role, site, ip, externalIp, kind}]`). */
export interface OutputClusterNode {
  readonly cluster?: string;
  readonly name: string;
  readonly role?: string;
  readonly site?: string;
  readonly ip?: string;
  readonly externalIp?: string;
}

/** Every `nodes` array of `{name, ip}` objects in the outputs, with the `cluster` named beside it. */
export function outputClusterNodes(outputs: unknown): OutputClusterNode[] {
  const found: OutputClusterNode[] = [];
  const walk = (v: unknown, depth: number) => {
    if (v === null || typeof v !== "object" || depth > 3) return;
    if (Array.isArray(v)) return v.forEach((x) => walk(x, depth + 1));
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.nodes)) {
      const cluster = typeof o.cluster === "string" ? o.cluster : typeof o.name === "string" ? o.name : undefined;
      for (const n of o.nodes as Record<string, unknown>[]) {
        if (n === null || typeof n !== "object" || typeof n.name !== "string" || typeof n.ip !== "string") continue;
        const opt = (k: string) => (typeof n[k] === "string" ? { [k]: n[k] as string } : {});
        found.push({ ...(cluster ? { cluster } : {}), name: n.name, ...opt("role"), ...opt("site"), ip: n.ip, ...opt("externalIp") });
      }
    }
    for (const [k, x] of Object.entries(o)) if (k !== "nodes") walk(x, depth + 1);
  };
  walk(outputs, 0);
  return found;
}

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
  const extendNode = (id: string, detail: readonly string[]) => {
    const n = nodes.get(id);
    if (n) nodes.set(id, { ...n, detail: [...n.detail, ...detail.filter((d) => !n.detail.includes(d))] });
  };
  /** Add an edge; a second edge between the same nodes of the same kind merges its label in. */
  const addEdge = (e: TopologyEdge) => {
    const key = `${e.from}>${e.to}>${e.kind}`;
    if (e.from === e.to) return;
    if (edgeKeys.has(key)) {
      const i = edges.findIndex((x) => `${x.from}>${x.to}>${x.kind}` === key);
      const labels = [...new Set([...(edges[i].label ?? "").split(", "), ...(e.label ?? "").split(", ")].filter(Boolean))];
      edges[i] = { ...edges[i], ...(labels.length ? { label: labels.join(", ") } : {}) };
      return;
    }
    edgeKeys.add(key);
    edges.push(e);
  };

  // Sites: named by kantai:*:Site components or by the cluster nodes' `site`; anything without a
  // known site is in one site named after the stack.
  const composition = typeof input.outputs.composition === "string" ? input.outputs.composition : undefined;
  const site = (name: string) => addGroup({ id: `site:${name}`, kind: "site", label: `site ${name}` });
  const defaultSite = () => addGroup({ id: `site:${input.stack}`, kind: "site", label: composition ? `site ${input.stack} (${composition})` : `site ${input.stack}` });
  const componentSite = (r: SynthResource): string | undefined => {
    const c = ancestors(r).find((a) => isSiteComponent(a.type));
    return c ? site(c.name) : undefined;
  };

  // Kubernetes clusters: cluster components, and the nodes the stack outputs list.
  const clusterComponents = input.resources.filter((r) => isClusterComponent(r.type));
  const listed = outputClusterNodes(input.outputs).map((n) => ({ ...n, cluster: n.cluster ?? (clusterComponents.length === 1 ? clusterComponents[0].name : "cluster") }));
  const clusterNames = [...new Set([...clusterComponents.map((c) => c.name), ...listed.map((n) => n.cluster)])].sort();
  const clusterOf = (r: SynthResource): string | undefined => [r, ...ancestors(r)].find((a) => isClusterComponent(a.type))?.name;
  const onlyCluster = clusterNames.length === 1 ? clusterNames[0] : undefined;

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
  for (const r of input.resources.filter((x) => x.type === "pulumi:providers:proxmoxve")) {
    const ep = str(r.inputs.endpoint);
    if (!ep) continue;
    const [h] = urlHostPort(ep);
    const host = hostNames.includes(h) ? h : hostNames.length === 1 ? hostNames[0] : undefined;
    if (host) {
      hostAddresses.get(host)!.unshift(h);
      remember(h, `host:${host}`);
    }
  }

  // VMs and templates, and which of them are cluster nodes.
  const vms = input.resources.filter((r) => r.custom && isVm(r.type));
  const vmIps = (r: SynthResource): string[] => (r.inputs.initialization?.ipConfigs ?? []).map((c: any) => ipOf(c?.ipv4?.address)).filter(Boolean);
  const memberOf = (r: SynthResource) => listed.find((n) => n.name === str(r.inputs.name) || vmIps(r).includes(n.ip ?? ""));
  const hostSite = (h: string): string => {
    const onHost = input.resources.filter((r) => r.type.startsWith("proxmoxve:") && r.inputs.nodeName === h);
    const fromComponent = onHost.map(componentSite).find(Boolean);
    if (fromComponent) return fromComponent;
    const fromNodes = [...new Set(vms.filter((r) => r.inputs.nodeName === h).map((r) => memberOf(r)?.site).filter((x): x is string => !!x))];
    return fromNodes.length === 1 ? site(fromNodes[0]) : defaultSite();
  };
  for (const h of hostNames) addGroup({ id: `host:${h}`, kind: "host", label: [`Proxmox host ${h}`, ...hostAddresses.get(h)!].join(" · "), parent: hostSite(h) });

  const clusterMembers = new Map<string, string[]>(clusterNames.map((c) => [c, []]));
  const vmIds = new Map<string, string>(); // "<node>/<vmId>" → node id (for clones)
  const snippetOwner = new Map<string, string>(); // "<datastore>:snippets/<file>" → vm node id
  const k8sDetail = (n: { role?: string } | undefined, cluster: string) => `k8s ${n?.role ?? "node"} · cluster ${cluster}`;
  for (const r of vms) {
    const i = r.inputs;
    const template = i.template === true;
    const ips = vmIps(r);
    const listedAs = memberOf(r);
    const cluster = listedAs?.cluster ?? clusterOf(r);
    const id = `vm:${r.name}`;
    const size = [i.cpu?.cores ? `${i.cpu.cores} vCPU` : undefined, i.memory?.dedicated ? `${i.memory.dedicated} MB` : undefined].filter(Boolean).join(", ");
    addNode({
      id,
      kind: template ? "template" : cluster ? "k8s-node" : "vm",
      label: str(i.name) ?? r.name,
      detail: [
        template ? `template ${i.vmId}` : `VM ${i.vmId}${ips.length ? ` · ${ips.join(", ")}` : ""}`,
        ...(size ? [size] : []),
        ...(cluster && !template ? [k8sDetail(listedAs, cluster)] : []),
      ],
      group: hostAddresses.has(i.nodeName) ? `host:${i.nodeName}` : (componentSite(r) ?? defaultSite()),
    });
    if (cluster && !template) clusterMembers.get(cluster)?.push(id);
    vmIds.set(`${i.nodeName}/${i.vmId}`, id);
    for (const ip of ips) remember(ip, id);
    if (listedAs?.externalIp) remember(listedAs.externalIp, id);
    const ud = str(i.initialization?.userDataFileId);
    if (ud) snippetOwner.set(ud, id);
  }
  for (const r of vms) {
    const c = r.inputs.clone;
    if (!c) continue;
    const tpl = vmIds.get(`${c.nodeName ?? r.inputs.nodeName}/${c.vmId}`);
    if (tpl) addEdge({ from: tpl, to: `vm:${r.name}`, kind: "clone", label: "clone" });
  }
  // Cluster nodes that are not Proxmox VMs (SSH hosts such as Raspberry Pis), in their sites.
  for (const n of listed) {
    if (vms.some((r) => memberOf(r) === n)) continue;
    const id = addNode({
      id: `node:${n.cluster}/${n.name}`,
      kind: "k8s-node",
      label: n.name,
      detail: [[n.ip, n.externalIp].filter(Boolean).join(" · "), k8sDetail(n, n.cluster)],
      group: n.site ? site(n.site) : defaultSite(),
    });
    clusterMembers.get(n.cluster)?.push(id);
    remember(n.ip, id);
    remember(n.externalIp, id);
  }
  // The cluster group holds what runs on the cluster; it sits in its nodes' site when they share one.
  const clusterGroup = (c: string): string => {
    const sites = [...new Set((clusterMembers.get(c) ?? []).map((id) => siteOfGroup(nodes.get(id)?.group)))];
    return addGroup({ id: `cluster:${c}`, kind: "cluster", label: `Kubernetes cluster ${c}`, ...(sites.length === 1 && sites[0] ? { parent: sites[0] } : {}) });
  };
  function siteOfGroup(g: string | undefined): string | undefined {
    for (let id = g; id !== undefined; id = groups.get(id)?.parent) if (groups.get(id)?.kind === "site") return id;
    return undefined;
  }
  const workloadGroup = (r: SynthResource): string | undefined => {
    const c = clusterOf(r) ?? onlyCluster;
    return c ? clusterGroup(c) : (componentSite(r) ?? undefined);
  };

  const snippetVm = new Map<string, string>();
  for (const r of input.resources) {
    if (!isSnippet(r.type)) continue;
    const owner = snippetOwner.get(`${r.inputs.datastoreId}:snippets/${r.inputs.sourceRaw?.fileName}`);
    if (owner) snippetVm.set(r.name, owner);
  }

  // Where a rendered file runs: the VM its snippet boots, else the host a command connects to
  // (its connection when not secret, else the only Proxmox host), else the stack's site.
  const machineOf = (resourceName: string): string => {
    const vm = snippetVm.get(resourceName);
    if (vm) return vm;
    const r = byName.get(resourceName);
    const host = r && str(r.inputs.connection?.host);
    if (host && addressOf.has(host)) return addressOf.get(host)!;
    // A command of a component that owns exactly one (non-template) VM runs on that VM.
    for (const a of r ? ancestors(r) : []) {
      const own = vms.filter((v) => v.inputs.template !== true && ancestors(v).includes(a));
      if (own.length === 1) return `vm:${own[0].name}`;
      if (own.length > 1) break;
    }
    if (hostNames.length === 1) return `host:${hostNames[0]}`;
    return (r && componentSite(r)) ?? defaultSite();
  };
  const isGroup = (id: string) => groups.has(id);
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
    if (hit) {
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
    const id = isGroup(machine) ? addNode({ id: `server:${a.resource}`, kind: "server", label: `Caddy ${componentLabel(a.resource)}`, detail: [], group: machine }) : machine;
    servers.push({ id, sites: parseCaddyfile(text), machine });
  }
  const siteList = (names: readonly string[]) => (names.length === 0 ? "" : names.length === 1 ? `${names[0]} ` : `${names.length} sites `);
  const isClusterMember = (id: string) => [...clusterMembers.values()].some((m) => m.includes(id));
  for (const s of servers) {
    const byTarget = new Map<string, { port?: string; names: string[] }>();
    for (const site of s.sites) {
      for (const up of site.upstreams) {
        const [h, p] = splitHostPort(up);
        // On a cluster node, an address the stack does not know is inside the node (its
        // ingress): the node's own edges to the cluster's services stand for it.
        if (!addressOf.has(h) && isClusterMember(s.id)) continue;
        const to = targetOf(h, p);
        const entry = byTarget.get(to) ?? { port: p, names: [] };
        entry.names.push(...site.addresses.filter((a) => a !== ""));
        byTarget.set(to, entry);
      }
    }
    for (const [to, { port, names }] of byTarget) addEdge({ from: s.id, to, kind: "route", label: `${siteList([...new Set(names)])}${port ? `→ :${port}` : ""}`.trim() });
  }

  // Public names: a site address whose DNS answer is this server's machine is an entry point.
  for (const s of servers) {
    for (const site of s.sites) {
      for (const name of site.addresses.filter((a) => a !== "")) {
        const ip = resolveName(zones, name.replace(/^\*\./, "_wildcard."));
        const answer = ip ? addressOf.get(ip) : undefined;
        if (ip && !(answer && (answer === s.id || answer === s.machine))) continue; // reached through another server
        addNode({ id: `name:${name}`, kind: "hostname", label: name, detail: site.responds ? ["answered by Caddy"] : [] });
        addEdge({ from: `name:${name}`, to: s.id, kind: "dns", label: ip ? `A ${ip}` : undefined });
      }
    }
  }

  // Workloads: Knative services; in-cluster Services as routes reach them.
  for (const r of input.resources.filter((x) => x.custom && isKnativeService(x.type))) {
    const md = r.inputs.metadata ?? {};
    const name = str(md.name) ?? r.name;
    const ns = str(md.namespace) ?? "default";
    addNode({ id: `ksvc:${ns}/${name}`, kind: "service", label: `ksvc ${name}`, detail: [`namespace ${ns}`], group: workloadGroup(r) });
  }
  const knativeIngress = (ns: string, name: string) => /kourier|istio-ingressgateway|contour/.test(`${ns}/${name}`);
  const service = (ns: string, name: string, port: string | undefined, group: string | undefined): string => {
    if (nodes.has(`ksvc:${ns}/${name}`)) return `ksvc:${ns}/${name}`;
    const id = `svc:${ns}/${name}`;
    if (nodes.has(id)) {
      if (port) extendNode(id, [`:${port}`]);
      return id;
    }
    return addNode({ id, kind: "service", label: `svc ${name}`, detail: [`namespace ${ns}`, ...(port ? [`:${port}`] : [])], group });
  };
  /** `<svc>.<ns>.svc[.cluster.local]` → a service node in the stack's only cluster. */
  const inCluster = (host: string, port: string | undefined): string | undefined => {
    const m = /^([^.]+)\.([^.]+)\.svc(\.cluster\.local)?$/.exec(host);
    return m ? service(m[2], m[1], port, onlyCluster ? clusterGroup(onlyCluster) : undefined) : undefined;
  };
  // Traefik IngressRoutes: Host(`name`) rules from the cluster's Traefik to their Services.
  for (const r of input.resources.filter((x) => x.custom && isIngressRoute(x.type))) {
    const ns = str(r.inputs.metadata?.namespace) ?? "default";
    const group = workloadGroup(r);
    const traefik = service("kube-system", "traefik", undefined, group);
    for (const route of r.inputs.spec?.routes ?? []) {
      const hosts = [...String(route.match ?? "").matchAll(/Host\(`([^`]+)`\)/g)].map((m) => m[1]);
      for (const svc of route.services ?? []) {
        if (typeof svc?.name !== "string") continue;
        const to = service(str(svc.namespace) ?? ns, svc.name, svc.port !== undefined ? String(svc.port) : undefined, group);
        addEdge({ from: traefik, to, kind: "route", label: hosts.length ? hosts.join(", ") : "IngressRoute" });
      }
    }
  }

  // Cloudflare tunnels: public hostnames → tunnel → origin services; proxied CNAMEs → tunnel.
  const tunnels = input.resources.filter((r) => r.custom && isTunnel(r.type));
  const tunnelByRef = new Map<string, string>();
  for (const r of tunnels) {
    const id = addNode({ id: `tunnel:${r.name}`, kind: "tunnel", label: `Cloudflare tunnel ${str(r.inputs.name) ?? r.name}`, detail: [] });
    tunnelByRef.set(`${r.name}-id`, id); // synth's id for the tunnel
    tunnelByRef.set(r.name, id);
  }
  const tunnelFor = (r: SynthResource, ref: unknown): string | undefined => {
    const direct = typeof ref === "string" ? (tunnelByRef.get(ref) ?? tunnelByRef.get(ref.replace(/\.cfargotunnel\.com\.?$/, ""))) : undefined;
    if (direct) return direct;
    const sameParent = tunnels.find((t) => t.parent !== undefined && t.parent === r.parent);
    if (sameParent) return `tunnel:${sameParent.name}`;
    return tunnels.length === 1 ? `tunnel:${tunnels[0].name}` : undefined;
  };
  const knativeHostTargets = new Set<string>();
  for (const r of input.resources.filter((x) => x.custom && isTunnelConfig(x.type))) {
    const tunnel = tunnelFor(r, r.inputs.tunnelId);
    if (!tunnel) continue;
    for (const ing of r.inputs.config?.ingresses ?? []) {
      const origin = str(ing.service);
      if (!origin || origin.startsWith("http_status:")) continue;
      const hostname = str(ing.hostname);
      if (hostname) {
        addNode({ id: `name:${hostname}`, kind: "hostname", label: hostname, detail: [] });
        addEdge({ from: `name:${hostname}`, to: tunnel, kind: "route", label: "tunnel" });
      }
      const [h, p] = urlHostPort(origin);
      const to = addressOf.has(h) ? targetOf(h, p) : (inCluster(h, p) ?? external(p ? `${h}:${p}` : h));
      addEdge({ from: tunnel, to, kind: "route", label: hostname });
      // Knative's ingress picks the service by Host header: `<name>.<namespace>.<domain>`.
      const header = str(ing.originRequest?.httpHostHeader);
      const m = header && /^([^.]+)\.([^.]+)\./.exec(header);
      if (m && nodes.has(`ksvc:${m[2]}/${m[1]}`)) {
        addEdge({ from: to, to: `ksvc:${m[2]}/${m[1]}`, kind: "route", label: header });
        knativeHostTargets.add(to);
      }
    }
  }
  for (const r of input.resources.filter((x) => x.custom && isDnsRecord(x.type))) {
    const content = str(r.inputs.content) ?? str(r.inputs.value);
    const name = str(r.inputs.name);
    if (!name || !content || !/\.cfargotunnel\.com\.?$/.test(content)) continue;
    const tunnel = tunnelFor(r, content);
    if (!tunnel) continue;
    const detail = [`CNAME ${r.inputs.proxied === true ? "proxied" : "NOT proxied"}`];
    if (nodes.has(`name:${name}`)) extendNode(`name:${name}`, detail);
    else addNode({ id: `name:${name}`, kind: "hostname", label: name, detail });
    if (!edges.some((e) => e.from === `name:${name}` && e.to === tunnel)) addEdge({ from: `name:${name}`, to: tunnel, kind: "dns", label: "CNAME" });
  }

  // Knative ingress Services without a Host-header hint, and cluster nodes that receive routed
  // traffic, lead to every Knative service of their cluster.
  for (const c of clusterNames) {
    if (!groups.has(`cluster:${c}`)) continue;
    const ksvcs = [...nodes.values()].filter((n) => n.id.startsWith("ksvc:") && n.group === `cluster:${c}`);
    const ingresses = [...nodes.values()].filter((n) => n.id.startsWith("svc:") && n.group === `cluster:${c}` && !knativeHostTargets.has(n.id) && knativeIngress(...(n.id.slice(4).split("/") as [string, string])));
    const entries = (clusterMembers.get(c) ?? []).filter((id) => edges.some((e) => e.to === id && e.kind === "route"));
    for (const from of [...ingresses.map((n) => n.id), ...entries]) for (const k of ksvcs) addEdge({ from, to: k.id, kind: "route", label: "Host header" });
  }

  // Servers list the sites they answer that are reached through another server.
  for (const s of servers) {
    const inner = s.sites.flatMap((x) => x.addresses).filter((a) => a !== "" && !nodes.has(`name:${a}`));
    if (inner.length > 0) extendNode(s.id, [`Caddy: ${inner.length <= 2 ? inner.join(", ") : `${inner[0]} … (${inner.length} sites)`}`]);
  }

  // Deterministic order: groups and nodes by id, edges by endpoints.
  const byId = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
  return {
    title: `kantai stack ${input.stack}${composition ? ` (${composition})` : ""}`,
    groups: [...groups.values()].sort((a, b) => byId(a.id, b.id)),
    nodes: [...nodes.values()].sort((a, b) => byId(a.id, b.id)),
    edges: edges.sort((a, b) => byId(`${a.from}>${a.to}>${a.kind}`, `${b.from}>${b.to}>${b.kind}`)),
  };
}
