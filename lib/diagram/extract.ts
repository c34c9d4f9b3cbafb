/**
 * Per-kind extractors of a stack's topology, run in order by buildTopology (./model.ts): each
 * reads one kind of resource or artifact from synth's output and adds its groups, nodes and edges
 * to the graph. What several kinds need — sites, clusters, addresses, where a file runs — lives in
 * the Scope they share. Order matters: later extractors resolve addresses and machines that
 * earlier ones registered (hosts and VMs before the servers that route to them, zones before the
 * public names they answer, services before the tunnels and ingresses that reach them).
 */
import { TopologyGraph } from "./graph";
import { parseCaddyfile, parseZone, resolveName, type Zone } from "./parse";
import type { OutputClusterNode, SynthOutput, SynthResource } from "./types";

const isVm = (t: string) => /^proxmoxve:(index\/vm(Legacy)?:Vm(Legacy)?|vm\/virtualMachine:VirtualMachine)$/.test(t);
const isSnippet = (t: string) => /^proxmoxve:(index\/fileLegacy:FileLegacy|storage\/file:File)$/.test(t);
const isTunnel = (t: string) => /^cloudflare:index\/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared$/.test(t);
const isTunnelConfig = (t: string) =>
  /^cloudflare:index\/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig$/.test(t);
const isDnsRecord = (t: string) => /^cloudflare:index\/(dnsRecord:DnsRecord|record:Record)$/.test(t);
const isKnativeService = (t: string) => t === "kubernetes:serving.knative.dev/v1:Service";
/** Kubernetes clusters: `kantai:k8s:K3sCluster`, single-node ones such as `kantai:k8s:GroguNode`. */
const isClusterComponent = (t: string) => /^kantai:(k8s|kubernetes|minikube|k3s)[^:]*:\w*(Cluster|Node)$/i.test(t);
const isSiteComponent = (t: string) => /^kantai:[^:]+:Site$/.test(t);
const isIngressRoute = (t: string) => /^kubernetes:traefik\.(io|containo\.us)\/v1alpha1:IngressRoute$/.test(t);
const knativeIngress = (ns: string, name: string) => /kourier|istio-ingressgateway|contour/.test(`${ns}/${name}`);

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
const k8sDetail = (n: { role?: string } | undefined, cluster: string) =>
  `k8s ${n?.role ?? "node"} · cluster ${cluster}`;
const siteList = (names: readonly string[]) =>
  names.length === 0 ? "" : names.length === 1 ? `${names[0]} ` : `${names.length} sites `;

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
        found.push({
          ...(cluster ? { cluster } : {}),
          name: n.name,
          ...opt("role"),
          ...opt("site"),
          ip: n.ip,
          ...opt("externalIp"),
        });
      }
    }
    for (const [k, x] of Object.entries(o)) if (k !== "nodes") walk(x, depth + 1);
  };
  walk(outputs, 0);
  return found;
}

/** A Caddy server found in the artifacts: its node, its sites, the machine it runs on. */
interface CaddyServer {
  readonly id: string;
  readonly sites: ReturnType<typeof parseCaddyfile>;
  readonly machine: string;
}

/** What the extractors share: the input, its lookups, and what earlier extractors found. */
export class Scope {
  readonly graph = new TopologyGraph();
  readonly byName: Map<string, SynthResource>;
  readonly composition: string | undefined;
  readonly clusterComponents: SynthResource[];
  /** Cluster nodes the stack outputs list, each with its cluster named. */
  readonly listed: (OutputClusterNode & { cluster: string })[];
  readonly clusterNames: string[];
  readonly onlyCluster: string | undefined;
  readonly hostNames: string[];
  readonly hostAddresses: Map<string, string[]>;
  readonly vms: SynthResource[];
  /** IPv4 → node or group id, to resolve upstreams and DNS answers. */
  readonly addressOf = new Map<string, string>();
  readonly clusterMembers: Map<string, string[]>;
  /** "<node>/<vmId>" → node id (for clones). */
  readonly vmIds = new Map<string, string>();
  /** "<datastore>:snippets/<file>" → VM node id. */
  readonly snippetOwner = new Map<string, string>();
  /** Snippet resource name → the VM node it boots. */
  readonly snippetVm = new Map<string, string>();
  readonly zones: Zone[] = [];
  readonly servers: CaddyServer[] = [];
  readonly tunnels: SynthResource[];
  readonly tunnelByRef = new Map<string, string>();
  /** Services a tunnel reaches with a Knative Host header (they need no catch-all edges). */
  readonly knativeHostTargets = new Set<string>();

  constructor(readonly input: SynthOutput) {
    this.byName = new Map(input.resources.map((r) => [r.name, r]));
    this.composition = typeof input.outputs.composition === "string" ? input.outputs.composition : undefined;
    this.clusterComponents = input.resources.filter((r) => isClusterComponent(r.type));
    this.listed = outputClusterNodes(input.outputs).map((n) => ({
      ...n,
      cluster: n.cluster ?? (this.clusterComponents.length === 1 ? this.clusterComponents[0].name : "cluster"),
    }));
    this.clusterNames = [
      ...new Set([...this.clusterComponents.map((c) => c.name), ...this.listed.map((n) => n.cluster)]),
    ].sort();
    this.onlyCluster = this.clusterNames.length === 1 ? this.clusterNames[0] : undefined;
    this.hostNames = [
      ...new Set(
        input.resources
          .filter((r) => r.type.startsWith("proxmoxve:") && typeof r.inputs.nodeName === "string")
          .map((r) => r.inputs.nodeName as string),
      ),
    ].sort();
    this.hostAddresses = new Map<string, string[]>(this.hostNames.map((h) => [h, []]));
    this.vms = input.resources.filter((r) => r.custom && isVm(r.type));
    this.clusterMembers = new Map<string, string[]>(this.clusterNames.map((c) => [c, []]));
    this.tunnels = input.resources.filter((r) => r.custom && isTunnel(r.type));
  }

  ancestors(r: SynthResource): SynthResource[] {
    const out: SynthResource[] = [];
    for (let p = r.parent && this.byName.get(r.parent); p; p = p.parent ? this.byName.get(p.parent) : undefined)
      out.push(p);
    return out;
  }

  /** Resources of the custom (provider) kind whose type matches. */
  custom(match: (type: string) => boolean): SynthResource[] {
    return this.input.resources.filter((x) => x.custom && match(x.type));
  }

  remember(ip: string | undefined, id: string): void {
    if (ip && !this.addressOf.has(ip)) this.addressOf.set(ip, id);
  }

  // Sites: named by kantai:*:Site components or by the cluster nodes' `site`; anything without a
  // known site is in one site named after the stack.
  site(name: string): string {
    return this.graph.addGroup({ id: `site:${name}`, kind: "site", label: `site ${name}` });
  }
  defaultSite(): string {
    const { stack } = this.input;
    return this.graph.addGroup({
      id: `site:${stack}`,
      kind: "site",
      label: this.composition ? `site ${stack} (${this.composition})` : `site ${stack}`,
    });
  }
  componentSite(r: SynthResource): string | undefined {
    const c = this.ancestors(r).find((a) => isSiteComponent(a.type));
    return c ? this.site(c.name) : undefined;
  }

  clusterOf(r: SynthResource): string | undefined {
    return [r, ...this.ancestors(r)].find((a) => isClusterComponent(a.type))?.name;
  }
  vmIps(r: SynthResource): string[] {
    return (r.inputs.initialization?.ipConfigs ?? [])
      .map((c) => ipOf(c?.ipv4?.address))
      .filter((ip): ip is string => Boolean(ip));
  }
  memberOf(r: SynthResource): (OutputClusterNode & { cluster: string }) | undefined {
    return this.listed.find((n) => n.name === str(r.inputs.name) || this.vmIps(r).includes(n.ip ?? ""));
  }
  isClusterMember(id: string): boolean {
    return [...this.clusterMembers.values()].some((m) => m.includes(id));
  }

  /** The cluster group holds what runs on the cluster; it sits in its nodes' site when they share one. */
  clusterGroup(c: string): string {
    const g = this.graph;
    const sites = [...new Set((this.clusterMembers.get(c) ?? []).map((id) => g.siteOfGroup(g.nodes.get(id)?.group)))];
    return g.addGroup({
      id: `cluster:${c}`,
      kind: "cluster",
      label: `Kubernetes cluster ${c}`,
      ...(sites.length === 1 && sites[0] ? { parent: sites[0] } : {}),
    });
  }
  workloadGroup(r: SynthResource): string | undefined {
    const c = this.clusterOf(r) ?? this.onlyCluster;
    return c ? this.clusterGroup(c) : (this.componentSite(r) ?? undefined);
  }

  /**
   * Where a rendered file runs: the VM its snippet boots, else the host a command connects to
   * (its connection when not secret, else the only Proxmox host), else the stack's site.
   */
  machineOf(resourceName: string): string {
    const vm = this.snippetVm.get(resourceName);
    if (vm) return vm;
    const r = this.byName.get(resourceName);
    const host = r && str(r.inputs.connection?.host);
    if (host && this.addressOf.has(host)) return this.addressOf.get(host)!;
    // A command of a component that owns exactly one (non-template) VM runs on that VM.
    for (const a of r ? this.ancestors(r) : []) {
      const own = this.vms.filter((v) => v.inputs.template !== true && this.ancestors(v).includes(a));
      if (own.length === 1) return `vm:${own[0].name}`;
      if (own.length > 1) break;
    }
    // A command that waits for one component owning exactly one VM (the fleet's load balancer
    // config after the load balancer) runs on that VM.
    for (const d of r?.dependsOn ?? []) {
      const dep = this.byName.get(d);
      if (!dep) continue;
      const own = this.vms.filter((v) => v.inputs.template !== true && (v === dep || this.ancestors(v).includes(dep)));
      if (own.length === 1) return `vm:${own[0].name}`;
    }
    if (this.hostNames.length === 1) return `host:${this.hostNames[0]}`;
    return (r && this.componentSite(r)) ?? this.defaultSite();
  }
  componentLabel(resourceName: string): string {
    const r = this.byName.get(resourceName);
    return (r && this.ancestors(r).find((a) => !a.custom)?.name) ?? resourceName;
  }

  external(hp: string): string {
    return this.graph.addNode({ id: `ext:${hp}`, kind: "external", label: hp, detail: ["not in this stack"] });
  }
  /** The node an upstream `host:port` reaches: a machine, a server on a host, else an external. */
  targetOf(host: string, port: string | undefined): string {
    const hit = this.addressOf.get(host);
    if (hit && !this.graph.isGroup(hit)) return hit;
    if (hit) {
      const onHost = [...this.graph.nodes.values()].find((n) => n.kind === "server" && n.group === hit);
      if (onHost) return onHost.id;
    }
    return this.external(port ? `${host}:${port}` : host);
  }

  /** A Knative service's node, else an in-cluster Service's (created, or extended with `port`). */
  service(ns: string, name: string, port: string | undefined, group: string | undefined): string {
    const g = this.graph;
    if (g.nodes.has(`ksvc:${ns}/${name}`)) return `ksvc:${ns}/${name}`;
    const id = `svc:${ns}/${name}`;
    if (g.nodes.has(id)) {
      if (port) g.extendNode(id, [`:${port}`]);
      return id;
    }
    return g.addNode({
      id,
      kind: "service",
      label: `svc ${name}`,
      detail: [`namespace ${ns}`, ...(port ? [`:${port}`] : [])],
      group,
    });
  }
  /** `<svc>.<ns>.svc[.cluster.local]` → a service node in the stack's only cluster. */
  inCluster(host: string, port: string | undefined): string | undefined {
    const m = /^([^.]+)\.([^.]+)\.svc(\.cluster\.local)?$/.exec(host);
    return m
      ? this.service(m[2], m[1], port, this.onlyCluster ? this.clusterGroup(this.onlyCluster) : undefined)
      : undefined;
  }

  tunnelFor(r: SynthResource, ref: unknown): string | undefined {
    const direct =
      typeof ref === "string"
        ? (this.tunnelByRef.get(ref) ?? this.tunnelByRef.get(ref.replace(/\.cfargotunnel\.com\.?$/, "")))
        : undefined;
    if (direct) return direct;
    const sameParent = this.tunnels.find((t) => t.parent !== undefined && t.parent === r.parent);
    if (sameParent) return `tunnel:${sameParent.name}`;
    return this.tunnels.length === 1 ? `tunnel:${this.tunnels[0].name}` : undefined;
  }
}

/** Proxmox hosts: every nodeName a proxmoxve resource names; addresses from bridges and the provider endpoint. */
export function extractHosts(s: Scope): void {
  const { input, hostAddresses, hostNames } = s;
  for (const r of input.resources) {
    const node = r.inputs.nodeName;
    if (r.type === "proxmoxve:network/linux/bridge:Bridge" && node !== undefined && hostAddresses.has(node)) {
      const ip = ipOf(r.inputs.address);
      if (ip) hostAddresses.get(node)!.push(`${r.inputs.name ?? "bridge"} ${r.inputs.address}`);
      s.remember(ip, `host:${node}`);
    }
  }
  for (const r of input.resources.filter((x) => x.type === "pulumi:providers:proxmoxve")) {
    const ep = str(r.inputs.endpoint);
    if (!ep) continue;
    const [h] = urlHostPort(ep);
    const host = hostNames.includes(h) ? h : hostNames.length === 1 ? hostNames[0] : undefined;
    if (host) {
      hostAddresses.get(host)!.unshift(h);
      s.remember(h, `host:${host}`);
    }
  }
  // A host sits in the site of its component, else in the one site its cluster-node VMs name.
  const hostSite = (h: string): string => {
    const onHost = input.resources.filter((r) => r.type.startsWith("proxmoxve:") && r.inputs.nodeName === h);
    const fromComponent = onHost.map((r) => s.componentSite(r)).find(Boolean);
    if (fromComponent) return fromComponent;
    const fromNodes = [
      ...new Set(
        s.vms
          .filter((r) => r.inputs.nodeName === h)
          .map((r) => s.memberOf(r)?.site)
          .filter((x): x is string => !!x),
      ),
    ];
    return fromNodes.length === 1 ? s.site(fromNodes[0]) : s.defaultSite();
  };
  for (const h of hostNames)
    s.graph.addGroup({
      id: `host:${h}`,
      kind: "host",
      label: [`Proxmox host ${h}`, ...hostAddresses.get(h)!].join(" · "),
      parent: hostSite(h),
    });
}

/** VMs and templates (which of them are cluster nodes), and template → clone edges. */
export function extractVms(s: Scope): void {
  for (const r of s.vms) {
    const i = r.inputs;
    const template = i.template === true;
    const ips = s.vmIps(r);
    const listedAs = s.memberOf(r);
    const cluster = listedAs?.cluster ?? s.clusterOf(r);
    const id = `vm:${r.name}`;
    const size = [
      i.cpu?.cores ? `${i.cpu.cores} vCPU` : undefined,
      i.memory?.dedicated ? `${i.memory.dedicated} MB` : undefined,
    ]
      .filter(Boolean)
      .join(", ");
    s.graph.addNode({
      id,
      kind: template ? "template" : cluster ? "k8s-node" : "vm",
      label: str(i.name) ?? r.name,
      detail: [
        template ? `template ${i.vmId}` : `VM ${i.vmId}${ips.length ? ` · ${ips.join(", ")}` : ""}`,
        ...(size ? [size] : []),
        ...(cluster && !template ? [k8sDetail(listedAs, cluster)] : []),
      ],
      group:
        i.nodeName !== undefined && s.hostAddresses.has(i.nodeName)
          ? `host:${i.nodeName}`
          : (s.componentSite(r) ?? s.defaultSite()),
    });
    if (cluster && !template) s.clusterMembers.get(cluster)?.push(id);
    s.vmIds.set(`${i.nodeName}/${i.vmId}`, id);
    for (const ip of ips) s.remember(ip, id);
    if (listedAs?.externalIp) s.remember(listedAs.externalIp, id);
    const ud = str(i.initialization?.userDataFileId);
    if (ud) s.snippetOwner.set(ud, id);
  }
  for (const r of s.vms) {
    const c = r.inputs.clone;
    if (!c) continue;
    const tpl = s.vmIds.get(`${c.nodeName ?? r.inputs.nodeName}/${c.vmId}`);
    if (tpl) s.graph.addEdge({ from: tpl, to: `vm:${r.name}`, kind: "clone", label: "clone" });
  }
}

/** Cluster nodes that are not Proxmox VMs (SSH hosts such as Raspberry Pis), in their sites. */
export function extractSshNodes(s: Scope): void {
  for (const n of s.listed) {
    if (s.vms.some((r) => s.memberOf(r) === n)) continue;
    const id = s.graph.addNode({
      id: `node:${n.cluster}/${n.name}`,
      kind: "k8s-node",
      label: n.name,
      detail: [[n.ip, n.externalIp].filter(Boolean).join(" · "), k8sDetail(n, n.cluster)],
      group: n.site ? s.site(n.site) : s.defaultSite(),
    });
    s.clusterMembers.get(n.cluster)?.push(id);
    s.remember(n.ip, id);
    s.remember(n.externalIp, id);
  }
}

/** Cloud-init snippets → the VM each boots (where a rendered file runs). Adds nothing to the graph. */
export function extractSnippets(s: Scope): void {
  for (const r of s.input.resources) {
    if (!isSnippet(r.type)) continue;
    const owner = s.snippetOwner.get(`${r.inputs.datastoreId}:snippets/${r.inputs.sourceRaw?.fileName}`);
    if (owner) s.snippetVm.set(r.name, owner);
  }
}

/** DNS zones (BIND) and the servers that hold them. */
export function extractZones(s: Scope): void {
  const { input, graph } = s;
  for (const a of input.artifacts.filter((x) => x.kind === "bind-zone")) {
    const text = input.files[a.path];
    if (text === undefined) continue;
    const zone = parseZone(text);
    s.zones.push(zone);
    const machine = s.machineOf(a.resource);
    graph.addNode({
      id: `dns:${zone.origin}`,
      kind: "dns",
      label: `BIND ${zone.origin}`,
      detail: zone.records
        .filter((r) => r.type === "A")
        .map((r) => `${r.name === zone.origin ? "@" : r.name.slice(0, -(zone.origin.length + 1))} → ${r.value}`),
      group: graph.isGroup(machine) ? machine : graph.nodes.get(machine)?.group,
    });
  }
}

/** Caddy servers — a VM serving a Caddyfile is the server itself; a host's Caddy gets its own node — and their routes. */
export function extractCaddyServers(s: Scope): void {
  const { input, graph } = s;
  for (const a of input.artifacts.filter((x) => x.kind === "caddyfile")) {
    const text = input.files[a.path];
    if (text === undefined) continue;
    const machine = s.machineOf(a.resource);
    const id = graph.isGroup(machine)
      ? graph.addNode({
          id: `server:${a.resource}`,
          kind: "server",
          label: `Caddy ${s.componentLabel(a.resource)}`,
          detail: [],
          group: machine,
        })
      : machine;
    s.servers.push({ id, sites: parseCaddyfile(text), machine });
  }
  for (const srv of s.servers) {
    const byTarget = new Map<string, { port?: string; names: string[] }>();
    for (const site of srv.sites) {
      for (const up of site.upstreams) {
        const [h, p] = splitHostPort(up);
        // On a cluster node, an address the stack does not know is inside the node (its
        // ingress): the node's own edges to the cluster's services stand for it.
        if (!s.addressOf.has(h) && s.isClusterMember(srv.id)) continue;
        const to = s.targetOf(h, p);
        const entry = byTarget.get(to) ?? { port: p, names: [] };
        entry.names.push(...site.addresses.filter((a) => a !== ""));
        byTarget.set(to, entry);
      }
    }
    for (const [to, { port, names }] of byTarget)
      graph.addEdge({
        from: srv.id,
        to,
        kind: "route",
        label: `${siteList([...new Set(names)])}${port ? `→ :${port}` : ""}`.trim(),
      });
  }
}

/** Public names: a site address whose DNS answer is this server's machine is an entry point. */
export function extractPublicNames(s: Scope): void {
  for (const srv of s.servers) {
    for (const site of srv.sites) {
      for (const name of site.addresses.filter((a) => a !== "")) {
        const ip = resolveName(s.zones, name.replace(/^\*\./, "_wildcard."));
        const answer = ip ? s.addressOf.get(ip) : undefined;
        if (ip && !(answer && (answer === srv.id || answer === srv.machine))) continue; // reached through another server
        s.graph.addNode({
          id: `name:${name}`,
          kind: "hostname",
          label: name,
          detail: site.responds ? ["answered by Caddy"] : [],
        });
        s.graph.addEdge({ from: `name:${name}`, to: srv.id, kind: "dns", label: ip ? `A ${ip}` : undefined });
      }
    }
  }
}

/** Workloads: Knative services, in their cluster. */
export function extractKnativeServices(s: Scope): void {
  for (const r of s.custom(isKnativeService)) {
    const md = r.inputs.metadata;
    const name = str(md?.name) ?? r.name;
    const ns = str(md?.namespace) ?? "default";
    s.graph.addNode({
      id: `ksvc:${ns}/${name}`,
      kind: "service",
      label: `ksvc ${name}`,
      detail: [`namespace ${ns}`],
      group: s.workloadGroup(r),
    });
  }
}

/** Traefik IngressRoutes: Host(`name`) rules from the cluster's Traefik to their Services. */
export function extractIngressRoutes(s: Scope): void {
  for (const r of s.custom(isIngressRoute)) {
    const ns = str(r.inputs.metadata?.namespace) ?? "default";
    const group = s.workloadGroup(r);
    const traefik = s.service("kube-system", "traefik", undefined, group);
    for (const route of r.inputs.spec?.routes ?? []) {
      const hosts = [...String(route.match ?? "").matchAll(/Host\(`([^`]+)`\)/g)].map((m) => m[1]);
      for (const svc of route.services ?? []) {
        if (typeof svc?.name !== "string") continue;
        const to = s.service(
          str(svc.namespace) ?? ns,
          svc.name,
          svc.port !== undefined ? String(svc.port) : undefined,
          group,
        );
        s.graph.addEdge({ from: traefik, to, kind: "route", label: hosts.length ? hosts.join(", ") : "IngressRoute" });
      }
    }
  }
}

/** Cloudflare tunnels: public hostnames → tunnel → origin services; proxied CNAMEs → tunnel. */
export function extractTunnels(s: Scope): void {
  const { graph } = s;
  for (const r of s.tunnels) {
    const id = graph.addNode({
      id: `tunnel:${r.name}`,
      kind: "tunnel",
      label: `Cloudflare tunnel ${str(r.inputs.name) ?? r.name}`,
      detail: [],
    });
    s.tunnelByRef.set(`${r.name}-id`, id); // synth's id for the tunnel
    s.tunnelByRef.set(r.name, id);
  }
  for (const r of s.custom(isTunnelConfig)) {
    const tunnel = s.tunnelFor(r, r.inputs.tunnelId);
    if (!tunnel) continue;
    for (const ing of r.inputs.config?.ingresses ?? []) {
      const origin = str(ing.service);
      if (!origin || origin.startsWith("http_status:")) continue;
      const hostname = str(ing.hostname);
      if (hostname) {
        graph.addNode({ id: `name:${hostname}`, kind: "hostname", label: hostname, detail: [] });
        graph.addEdge({ from: `name:${hostname}`, to: tunnel, kind: "route", label: "tunnel" });
      }
      const [h, p] = urlHostPort(origin);
      const to = s.addressOf.has(h) ? s.targetOf(h, p) : (s.inCluster(h, p) ?? s.external(p ? `${h}:${p}` : h));
      graph.addEdge({ from: tunnel, to, kind: "route", label: hostname });
      // Knative's ingress picks the service by Host header: `<name>.<namespace>.<domain>`.
      const header = str(ing.originRequest?.httpHostHeader);
      const m = header && /^([^.]+)\.([^.]+)\./.exec(header);
      if (m && graph.nodes.has(`ksvc:${m[2]}/${m[1]}`)) {
        graph.addEdge({ from: to, to: `ksvc:${m[2]}/${m[1]}`, kind: "route", label: header });
        s.knativeHostTargets.add(to);
      }
    }
  }
  for (const r of s.custom(isDnsRecord)) {
    const content = str(r.inputs.content) ?? str(r.inputs.value);
    const name = str(r.inputs.name);
    if (!name || !content || !/\.cfargotunnel\.com\.?$/.test(content)) continue;
    const tunnel = s.tunnelFor(r, content);
    if (!tunnel) continue;
    const detail = [`CNAME ${r.inputs.proxied === true ? "proxied" : "NOT proxied"}`];
    if (graph.nodes.has(`name:${name}`)) graph.extendNode(`name:${name}`, detail);
    else graph.addNode({ id: `name:${name}`, kind: "hostname", label: name, detail });
    if (!graph.edges.some((e) => e.from === `name:${name}` && e.to === tunnel))
      graph.addEdge({ from: `name:${name}`, to: tunnel, kind: "dns", label: "CNAME" });
  }
}

/**
 * Knative ingress Services without a Host-header hint, and cluster nodes that receive routed
 * traffic, lead to every Knative service of their cluster.
 */
export function extractKnativeIngress(s: Scope): void {
  const { graph } = s;
  for (const c of s.clusterNames) {
    if (!graph.groups.has(`cluster:${c}`)) continue;
    const ksvcs = [...graph.nodes.values()].filter((n) => n.id.startsWith("ksvc:") && n.group === `cluster:${c}`);
    const ingresses = [...graph.nodes.values()].filter(
      (n) =>
        n.id.startsWith("svc:") &&
        n.group === `cluster:${c}` &&
        !s.knativeHostTargets.has(n.id) &&
        knativeIngress(...(n.id.slice(4).split("/") as [string, string])),
    );
    const entries = (s.clusterMembers.get(c) ?? []).filter((id) =>
      graph.edges.some((e) => e.to === id && e.kind === "route"),
    );
    for (const from of [...ingresses.map((n) => n.id), ...entries])
      for (const k of ksvcs) graph.addEdge({ from, to: k.id, kind: "route", label: "Host header" });
  }
}

/** Servers list the sites they answer that are reached through another server. */
export function extractServerSites(s: Scope): void {
  for (const srv of s.servers) {
    const inner = srv.sites.flatMap((x) => x.addresses).filter((a) => a !== "" && !s.graph.nodes.has(`name:${a}`));
    if (inner.length > 0)
      s.graph.extendNode(srv.id, [
        `Caddy: ${inner.length <= 2 ? inner.join(", ") : `${inner[0]} … (${inner.length} sites)`}`,
      ]);
  }
}

/** The extractors in the order buildTopology runs them. */
export const EXTRACTORS: readonly ((s: Scope) => void)[] = [
  extractHosts,
  extractVms,
  extractSshNodes,
  extractSnippets,
  extractZones,
  extractCaddyServers,
  extractPublicNames,
  extractKnativeServices,
  extractIngressRoutes,
  extractTunnels,
  extractKnativeIngress,
  extractServerSites,
];
