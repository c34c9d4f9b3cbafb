/**
 * Config of the Kubernetes clusters: `kantai:grogu` (seed 000's Minikube + Knative VM) and
 * `kantai:k3s` (K3s clusters of Raspberry Pis, other SSH hosts and Proxmox VMs, across sites).
 *
 * Read by stacks/config/load.ts (the one place config is read), which calls `parseClusters` with the
 * VM bookkeeping (VmBook), so VM IDs, addresses and names stay unique across templates, the fleet,
 * grogu and cluster VMs.
 * Defaults live here, once. Messages name the full key.
 */
import { z } from "zod";
import type { K3sNode } from "../../components/k8s/k3sCluster";
import { isHostAddress, isIpv4, parseSubnet, subnetContains, type Ipv4Subnet } from "../../lib/net/ipv4";
import * as pulumi from "@pulumi/pulumi";
import type { FlannelBackend, K3sEtcdSnapshots } from "../../lib/render/k3s";
import { isDnsName } from "../../lib/render/dnsName";
import {
  cidr,
  cores,
  dnsLabel,
  dnsName,
  ipv4,
  memoryMb,
  port,
  quoted as list,
  unixUser,
  vmId,
  type Fail,
  type NetworkConfig,
  type TemplateConfig,
  type VmBook,
} from "./primitives";

// ---------------------------------------------------------------------------------------------
// Pinned defaults (current stable releases when kantai pinned them).

/** K3s release installed on every node unless `kantai:k3s.<cluster>.version` says otherwise. */
export const K3S_VERSION = "v1.34.1+k3s1";
/** What an S3 access or secret key may contain (it is written into K3s' YAML config by a shell script). */
const S3_KEY = /^[A-Za-z0-9+/=._-]+$/;
const S3_KEY_MESSAGE = "must be a non-empty S3 key of letters, digits and + / = . _ -";
/** Rolling-upgrade defaults of `kantai:k3s.<cluster>.upgrade`. */
export const UPGRADE_DEFAULTS = { drainTimeoutSeconds: 300, maxUnavailable: 1 } as const;
/** etcd snapshot defaults of `kantai:k3s.<cluster>.snapshots` (K3s' own: https://docs.k3s.io/cli/etcd-snapshot). */
export const SNAPSHOT_DEFAULTS = { schedule: "0 */12 * * *", retention: 5 } as const;
/** grogu's pins. */
export const GROGU_DEFAULTS = {
  minikubeVersion: "v1.37.0",
  kubernetesVersion: "v1.34.0",
  kubectlVersion: "v1.34.1",
  servingVersion: "1.23.0",
  kourierVersion: "1.23.0",
} as const;

const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
/** A Kubernetes label key: `[prefix/]name`, prefix a DNS subdomain (≤ 253), name ≤ 63. */
export function isLabelKey(k: string): boolean {
  const i = k.lastIndexOf("/");
  const [prefix, name] = i < 0 ? [undefined, k] : [k.slice(0, i), k.slice(i + 1)];
  return LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
}
/** A Kubernetes label value: empty or ≤ 63 alphanumerics with inner `-_.`. */
export function isLabelValue(v: string): boolean {
  return v === "" || LABEL_NAME.test(v);
}
/** A taint as K3s' --node-taint takes it: `key[=value]:NoSchedule|PreferNoSchedule|NoExecute`. */
export function isTaint(t: string): boolean {
  const m = /^([^=:]+)(=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
  return !!m && isLabelKey(m[1]) && (m[3] === undefined || isLabelValue(m[3]));
}

/** The `grogu` and `k3s` keys of the raw schema. */
export function clusterKeys() {
  const nodePort = z.number().int().min(30000, "NodePorts start at 30000").max(32767, "NodePorts end at 32767");
  const release = (example: string) => z.string().regex(/^v\d+\.\d+\.\d+$/, `must be a release tag like "${example}"`);
  const knativeVersion = z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a Knative release like "1.23.0"');
  const hostOrIp = z
    .string()
    .refine((s) => isIpv4(s) || isDnsName(s), { message: "must be an IPv4 address or a DNS name" });

  const minikubeDefaults = {
    version: GROGU_DEFAULTS.minikubeVersion,
    kubernetesVersion: GROGU_DEFAULTS.kubernetesVersion,
    staticIp: "192.168.49.2",
    apiServerPort: 8443,
    addons: ["dashboard", "metrics-server"],
  };
  const knativeDefaults = {
    servingVersion: GROGU_DEFAULTS.servingVersion,
    kourierVersion: GROGU_DEFAULTS.kourierVersion,
    domain: "local.knative",
    kourierNodePort: 31080,
  };
  const grogu = z.strictObject({
    /** VM and host name. */
    name: dnsLabel.default("grogu"),
    vmId: vmId.default(600),
    /** Address on the bridge (seed 000: 10.0.0.10). */
    ip: ipv4.default("10.0.0.10"),
    /** Template to clone (a key of `templates`). */
    template: z.string().default("knative"),
    /** Defaults to the template's cores (6). */
    cores: cores.optional(),
    /** Defaults to the template's memory (8192). */
    memoryMb: memoryMb.optional(),
    /** Root-proxy label: `*.<label>.<domain>` reaches grogu's Caddy. */
    label: dnsLabel.default("grogu"),
    kubectlVersion: release("v1.34.1").default(GROGU_DEFAULTS.kubectlVersion),
    minikube: z
      .strictObject({
        version: release("v1.37.0").default(minikubeDefaults.version),
        kubernetesVersion: release("v1.34.0").default(minikubeDefaults.kubernetesVersion),
        /** Minikube's address on grogu's Docker network (`--static-ip`); grogu's Caddy proxies to it. */
        staticIp: ipv4.default(minikubeDefaults.staticIp),
        /** Port the API server is published on, on grogu's address. */
        apiServerPort: port.default(minikubeDefaults.apiServerPort),
        addons: z
          .array(z.string().regex(/^[a-z0-9-]+$/, "must be a Minikube addon name"))
          .default(minikubeDefaults.addons),
      })
      .default(minikubeDefaults),
    knative: z
      .strictObject({
        servingVersion: knativeVersion.default(knativeDefaults.servingVersion),
        kourierVersion: knativeVersion.default(knativeDefaults.kourierVersion),
        /** Knative's own domain (`config-domain`); services are `<svc>.default.<domain>` inside. */
        domain: dnsName.default(knativeDefaults.domain),
        /** Fixed NodePort of Kourier's HTTP listener, the upstream of grogu's Caddy. */
        kourierNodePort: nodePort.default(knativeDefaults.kourierNodePort),
      })
      .default(knativeDefaults),
    /** NodePort of the Kubernetes dashboard; null leaves the dashboard's service alone. */
    dashboardNodePort: nodePort.nullable().default(30000),
    caddyImage: z.string().min(1).default("caddy:2.10"),
    /** Seed 000's `fibonacci-behavior` Knative service, deployed on grogu as a demo. */
    demo: z
      .strictObject({
        name: dnsLabel.default("fibonacci-behavior"),
        /** Image of the function: the Node runtime for kantai's web/server.js (source "web"), or an image serving fib on $PORT itself (source "none"). */
        image: z.string().min(1).default("node:22-alpine"),
        /** "web": run kantai's web/server.js from a ConfigMap; "none": the image's own entrypoint. */
        source: z.enum(["web", "none"], { message: 'must be "web" or "none"' }).default("web"),
      })
      .optional(),
  });

  const host = z.strictObject({
    /** Address or DNS name kantai dials. Defaults to the node's ip. */
    address: hostOrIp.optional(),
    /** SSH user with passwordless sudo (Raspberry Pi OS: the user made at imaging). */
    user: unixUser,
    port: port.default(22),
    /** Raspberry Pi OS: cgroup flags in cmdline.txt, reboot when missing. */
    raspberryPi: z.boolean().default(false),
    /** iptables-legacy: true = always, false = never; unset = where needed (Debian stretch/buster). */
    iptablesLegacy: z.boolean().optional(),
  });
  const vm = z.strictObject({
    vmId: vmId,
    /** Template to clone (a key of `templates`). */
    template: z.string(),
    /** Proxmox node. Defaults to the template's node. */
    node: dnsLabel.optional(),
    /** Defaults to the template's cores. */
    cores: cores.optional(),
    /** Defaults to the template's memory. */
    memoryMb: memoryMb.optional(),
  });
  const node = z.strictObject({
    name: dnsLabel,
    role: z.enum(["server", "agent"], { message: 'must be "server" or "agent"' }),
    /** A key of the cluster's `sites`. */
    site: dnsLabel,
    /** Address on the site's network (`--node-ip`). */
    ip: ipv4,
    /** Address the other sites reach this node at (`--node-external-ip`). */
    externalIp: ipv4.optional(),
    host: host.optional(),
    vm: vm.optional(),
  });
  const site = z.strictObject({
    /** The site's network; its nodes' addresses are inside it. */
    cidr: cidr,
    /** True when the other sites can reach this network's addresses directly (routed, not NATed). */
    routable: z.boolean().default(false),
  });
  const labelKey = z.string().refine(isLabelKey, { message: "must be a Kubernetes label key ([prefix/]name)" });
  const labelValue = z
    .string()
    .refine(isLabelValue, { message: "must be a Kubernetes label value (up to 63 letters, digits, '-', '_', '.')" });
  const taint = z
    .string()
    .refine(isTaint, { message: 'must be a taint "key[=value]:NoSchedule|PreferNoSchedule|NoExecute"' });
  const cluster = z.strictObject({
    version: z
      .string()
      .regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, 'must be a K3s release like "v1.34.1+k3s1"')
      .default(K3S_VERSION),
    sites: z.record(dnsLabel, site).refine((s) => Object.keys(s).length > 0, { message: "needs at least one site" }),
    nodes: z.array(node).min(1, "needs at least one node"),
    /** Extra labels by node name. */
    labels: z.record(z.string(), z.record(labelKey, labelValue)).default({}),
    /** Taints by node name. */
    taints: z.record(z.string(), z.array(taint)).default({}),
    /** Defaults to "wireguard-native" when nodes are on more than one site, else "vxlan". */
    flannelBackend: z.enum(["vxlan", "wireguard-native", "host-gw"]).optional(),
    /** Address in the kubeconfig and the API certificate. Defaults to the forward's Proxmox host, else the first server's externalIp, else its ip. */
    apiAddress: hostOrIp.optional(),
    /**
     * DNAT on the Proxmox host from `port` to the first server's API (6443). Default: on (port 6443)
     * when the first server is a VM and apiAddress is unset; null turns it off.
     */
    apiForward: z
      .strictObject({ port: port.default(6443) })
      .nullable()
      .optional(),
    /** Packaged K3s components to leave out, e.g. ["servicelb"]. */
    disable: z
      .array(z.enum(["coredns", "servicelb", "traefik", "local-storage", "metrics-server", "runtimes"]))
      .default([]),
    /** Rolling upgrades and node removal (docs/how-to/day-2.md). */
    upgrade: z
      .strictObject({
        /** Seconds a drain may take (PodDisruptionBudgets respected) before the roll stops at that node. */
        drainTimeoutSeconds: z
          .number()
          .int()
          .min(30, "must be at least 30")
          .max(3600, "must be at most 3600")
          .default(UPGRADE_DEFAULTS.drainTimeoutSeconds),
        /** Agents upgraded at once (servers: always one). */
        maxUnavailable: z.number().int().min(1, "must be at least 1").default(UPGRADE_DEFAULTS.maxUnavailable),
      })
      .default(UPGRADE_DEFAULTS),
    /** HA API address (more than one server): a kube-vip virtual IP in ARP mode on the servers of the site whose cidr holds it. */
    vip: z
      .strictObject({
        address: ipv4,
        /** Network interface the servers announce it on. */
        interface: z
          .string()
          .regex(/^[A-Za-z0-9_.:-]{1,15}$/, "must be a network interface name")
          .default("eth0"),
      })
      .optional(),
    /** Embedded etcd snapshots (more than one server). */
    snapshots: z
      .strictObject({
        /** Cron expression (etcd-snapshot-schedule-cron). */
        schedule: z
          .string()
          .regex(/^\S+( \S+){4}$/, 'must be a five-field cron expression like "0 */6 * * *"')
          .default(SNAPSHOT_DEFAULTS.schedule),
        /** Snapshots kept (etcd-snapshot-retention). */
        retention: z.number().int().min(1, "must be at least 1").default(SNAPSHOT_DEFAULTS.retention),
        /** S3-compatible target; credentials are the secrets kantai:etcdS3AccessKey and kantai:etcdS3SecretKey. */
        s3: z
          .strictObject({
            endpoint: hostOrIp.or(z.string().regex(/^[A-Za-z0-9.-]+:\d+$/, "must be host or host:port")),
            bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
            region: z.string().min(1).optional(),
            folder: z
              .string()
              .regex(/^[A-Za-z0-9._/-]+$/, "must be a folder name")
              .optional(),
          })
          .optional(),
      })
      .optional(),
    /**
     * The servers deployed now (before this change), by name: lets config refuse removing the last
     * server or more etcd members than quorum allows in one change. Set it when removing servers.
     */
    previousServers: z.array(dnsLabel).optional(),
  });
  return {
    grogu: grogu.optional(),
    k3s: z.record(dnsLabel, cluster).optional(),
    /** Secrets for `kantai:k3s.<c>.snapshots.s3`. */
    etcdS3AccessKey: z.string().regex(S3_KEY, S3_KEY_MESSAGE).optional(),
    etcdS3SecretKey: z.string().regex(S3_KEY, S3_KEY_MESSAGE).optional(),
  };
}

type Keys = ReturnType<typeof clusterKeys>;
type RawGrogu = NonNullable<z.output<Keys["grogu"]>>;
type RawK3s = NonNullable<z.output<Keys["k3s"]>>;

// ---------------------------------------------------------------------------------------------
// Typed results.

export interface GroguConfig {
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
  readonly template: string;
  /** Proxmox node (the template's). */
  readonly node: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly label: string;
  readonly kubectlVersion: string;
  readonly minikube: RawGrogu["minikube"];
  readonly knative: RawGrogu["knative"];
  readonly dashboardNodePort: number | null;
  readonly caddyImage: string;
  readonly demo?: { readonly name: string; readonly image: string; readonly source: "web" | "none" };
}

export interface K3sSiteConfig {
  readonly cidr: string;
  readonly routable: boolean;
}

export interface K3sClusterConfig {
  /** Key in `kantai:k3s`; names the component and prefixes its children. */
  readonly name: string;
  readonly version: string;
  readonly flannelBackend: FlannelBackend;
  readonly apiAddress?: string;
  /** Port-forward to the first server's API on this Proxmox node (its address is then the API address by default). */
  readonly apiForward?: { readonly port: number; readonly node: string };
  readonly disable: readonly string[];
  readonly sites: Readonly<Record<string, K3sSiteConfig>>;
  /** Servers first (in config order), then agents. */
  readonly nodes: readonly K3sNode[];
  readonly upgrade: { readonly drainTimeoutSeconds: number; readonly maxUnavailable: number };
  /** kube-vip virtual API address, on the servers of `site`. */
  readonly vip?: { readonly address: string; readonly interface: string; readonly site: string };
  readonly snapshots?: K3sEtcdSnapshots;
  /** An even server count allowed for one change: one server fewer than previousServers (the first of two one-at-a-time removals). */
  readonly serverStepDown: boolean;
  /** Credentials of snapshots.s3 (secrets). */
  readonly s3Credentials?: { readonly accessKey: pulumi.Output<string>; readonly secretKey: pulumi.Output<string> };
}

export interface ClustersConfig {
  readonly grogu?: GroguConfig;
  /** Every K3s cluster, in config order; empty when `kantai:k3s` is unset. */
  readonly k3s: readonly K3sClusterConfig[];
}

/** What parseClusters needs from the rest of the config. Keys are without the "kantai:" prefix. */
export interface ClusterParseContext {
  readonly fail: Fail;
  /** The VM bookkeeping of stacks/config/proxmox.ts. */
  readonly book: VmBook;
  readonly templates: Readonly<Record<string, TemplateConfig>>;
  readonly net: NetworkConfig;
  /** Labels the root proxy already routes (the fleet's). */
  readonly routedLabels: readonly string[];
  /** Keys Pulumi holds as secrets ("kantai:…"), when known. */
  readonly secretKeys?: readonly string[];
}

/** Ports a Proxmox VE host already serves (https://pve.proxmox.com/wiki/Ports). */
const RESERVED_HOST_PORTS: Readonly<Record<number, string>> = {
  22: "SSH",
  111: "rpcbind",
  85: "pvedaemon (local)",
  3128: "the SPICE proxy",
  8006: "the Proxmox web UI and API",
};

/** Validate `grogu` and `k3s`, resolve their defaults, and record their VM claims. */
export function parseClusters(
  r: {
    readonly grogu?: RawGrogu;
    readonly k3s?: RawK3s;
    readonly etcdS3AccessKey?: string;
    readonly etcdS3SecretKey?: string;
    readonly gateway: { readonly routes: readonly { readonly label: string }[] };
  },
  ctx: ClusterParseContext,
): ClustersConfig {
  const { fail } = ctx;
  const template = (k: string, name: string): TemplateConfig | undefined => {
    const t = ctx.templates[name];
    if (!t) fail(k, `unknown template "${name}" (templates has ${list(Object.keys(ctx.templates)) || "none"})`);
    return t;
  };

  let grogu: GroguConfig | undefined;
  if (r.grogu) {
    const g = r.grogu;
    const t = template("grogu.template", g.template);
    const what = `grogu "${g.name}"`;
    ctx.book.checkVmIp("grogu.ip", g.ip, "grogu");
    ctx.book.claim("id", g.vmId, "grogu.vmId", what);
    ctx.book.claim("ip", g.ip, "grogu.ip", what);
    ctx.book.claim("name", g.name, "grogu.name", what);
    if (ctx.routedLabels.includes(g.label)) fail("grogu.label", `"${g.label}" is already routed to the fleet`);
    r.gateway.routes.forEach((route, i) => {
      if (route.label === g.label) {
        fail(
          `gateway.routes[${i}].label`,
          `"${route.label}" is grogu's route (kantai:grogu.label): grogu adds it itself, remove it here`,
        );
      }
    });
    if (g.dashboardNodePort !== null && g.dashboardNodePort === g.knative.kourierNodePort) {
      fail("grogu.dashboardNodePort", `${g.dashboardNodePort} is also kantai:grogu.knative.kourierNodePort`);
    }
    grogu = {
      name: g.name,
      vmId: g.vmId,
      ip: g.ip,
      template: g.template,
      node: t?.node ?? ctx.net.node,
      cores: g.cores ?? t?.cores ?? 6,
      memoryMb: g.memoryMb ?? t?.memoryMb ?? 8192,
      label: g.label,
      kubectlVersion: g.kubectlVersion,
      minikube: g.minikube,
      knative: g.knative,
      dashboardNodePort: g.dashboardNodePort,
      caddyImage: g.caddyImage,
      ...(g.demo ? { demo: g.demo } : {}),
    };
  }

  const k3s: K3sClusterConfig[] = [];
  /** Host ports taken by API forwards, by Proxmox node. */
  const forwarded = new Map<string, string>();
  for (const [cname, c] of Object.entries(r.k3s ?? {})) {
    const base = `k3s.${cname}`;
    const subnets = new Map<string, Ipv4Subnet>();
    for (const [s, site] of Object.entries(c.sites)) subnets.set(s, parseSubnet(site.cidr)!);

    const names = new Map<string, number>();
    const ips = new Map<string, string>();
    const externalIps = new Map<string, string>();
    const nodes: K3sNode[] = [];
    c.nodes.forEach((n, i) => {
      const k = `${base}.nodes[${i}]`;
      const what = `K3s node "${n.name}"`;
      if (names.has(n.name))
        fail(`${k}.name`, `duplicate node name "${n.name}" (also kantai:${base}.nodes[${names.get(n.name)}])`);
      else names.set(n.name, i);
      const prevIp = ips.get(n.ip);
      if (prevIp) fail(`${k}.ip`, `address ${n.ip} of node "${n.name}" is already used by node "${prevIp}"`);
      else ips.set(n.ip, n.name);
      if (n.externalIp) {
        const prev = externalIps.get(n.externalIp);
        if (prev)
          fail(
            `${k}.externalIp`,
            `external address ${n.externalIp} of node "${n.name}" is already used by node "${prev}" (WireGuard needs one endpoint per node)`,
          );
        else externalIps.set(n.externalIp, n.name);
      }

      const subnet = subnets.get(n.site);
      if (!subnet) {
        fail(`${k}.site`, `unknown site "${n.site}" (sites has ${list(subnets.keys())})`);
      } else if (!subnetContains(subnet, n.ip)) {
        fail(`${k}.ip`, `${n.ip} is outside site "${n.site}" (${c.sites[n.site].cidr})`);
      }
      if (n.externalIp) {
        for (const [other, sub] of subnets) {
          if (other !== n.site && subnetContains(sub, n.externalIp)) {
            fail(
              `${k}.externalIp`,
              `${n.externalIp} is inside site "${other}" (${c.sites[other].cidr}), but node "${n.name}" is on site "${n.site}"`,
            );
          }
        }
      }

      if (!n.host === !n.vm) {
        fail(
          k,
          `needs exactly one of "host" (an existing machine reached over SSH) and "vm" (a Proxmox clone), ${n.host ? "not both" : "found neither"}`,
        );
        return;
      }
      let vmPlacement: K3sNode["vm"];
      if (n.vm) {
        const t = template(`${k}.vm.template`, n.vm.template);
        ctx.book.checkVmIp(`${k}.ip`, n.ip, what);
        ctx.book.claim("id", n.vm.vmId, `${k}.vm.vmId`, what);
        if (!prevIp) ctx.book.claim("ip", n.ip, `${k}.ip`, what);
        if (names.get(n.name) === i) ctx.book.claim("name", n.name, `${k}.name`, what);
        vmPlacement = {
          vmId: n.vm.vmId,
          template: n.vm.template,
          node: ctx.book.vmNode(`${k}.vm.node`, n.vm.node, t?.node ?? ctx.net.node),
          cores: n.vm.cores ?? t?.cores ?? 1,
          memoryMb: n.vm.memoryMb ?? t?.memoryMb ?? 1024,
        };
      }
      nodes.push({
        name: n.name,
        role: n.role,
        site: n.site,
        ip: n.ip,
        ...(n.externalIp ? { externalIp: n.externalIp } : {}),
        labels: {},
        taints: [],
        ...(n.host
          ? {
              host: {
                address: n.host.address ?? n.ip,
                user: n.host.user,
                port: n.host.port,
                raspberryPi: n.host.raspberryPi,
                ...(n.host.iptablesLegacy !== undefined ? { iptablesLegacy: n.host.iptablesLegacy } : {}),
              },
            }
          : { vm: vmPlacement }),
      });
    });

    // Servers: at least one; more than one means embedded etcd, which needs an odd count — except
    // one below an odd previous count, the first of two one-at-a-time removals (5 → 4 → 3).
    const serverNames = c.nodes.filter((n) => n.role === "server").map((n) => n.name);
    const servers = serverNames.length;
    const prev = c.previousServers;
    const stepDown = prev !== undefined && servers === prev.length - 1;
    if (prev && prev.length > 0) {
      const removed = prev.filter((s) => !serverNames.includes(s));
      const kept = prev.length - removed.length;
      const quorum = Math.floor(prev.length / 2) + 1;
      if (servers === 0 || kept === 0) {
        fail(
          `${base}.nodes`,
          `removes the last server${removed.length > 1 ? "s" : ""} (${list(removed)}; kantai:${base}.previousServers lists ${list(prev)}): a cluster keeps at least one of its servers; to delete the cluster, remove kantai:${base}`,
        );
      } else if (prev.length > 1 && kept < quorum) {
        fail(
          `${base}.nodes`,
          `removes ${removed.length} of ${prev.length} etcd servers (${list(removed)}) in one change: etcd keeps quorum only with ${quorum} of its ${prev.length} members; remove at most ${prev.length - quorum} per pulumi up`,
        );
      } else if (removed.includes(prev[0])) {
        fail(
          `${base}.nodes`,
          `removes the first server "${prev[0]}", which the other nodes join through and which holds cluster-init; remove the other servers instead`,
        );
      } else if (serverNames[0] !== prev[0] && kept > 0) {
        fail(
          `${base}.nodes`,
          `the first server must stay "${prev[0]}" (kantai:${base}.previousServers[0]); list it first among the servers`,
        );
      }
    }
    if (servers === 0) {
      if (!prev || prev.length === 0) fail(`${base}.nodes`, "the cluster needs at least one server (role: server)");
    } else if (servers > 1 && servers % 2 === 0 && !stepDown) {
      fail(
        `${base}.nodes`,
        `${servers} servers means embedded etcd, which needs an odd number of servers (1, 3, 5…) to keep quorum`,
      );
    }

    // Labels and taints name known nodes; the zone label comes from the site.
    const known = new Set(c.nodes.map((n) => n.name));
    const byName = new Map(nodes.map((n) => [n.name, n]));
    for (const [what, map] of [
      ["labels", c.labels],
      ["taints", c.taints],
    ] as const) {
      for (const nodeName of Object.keys(map)) {
        if (!known.has(nodeName))
          fail(`${base}.${what}.${nodeName}`, `unknown node "${nodeName}" (nodes are ${list(known)})`);
      }
    }
    for (const [nodeName, labels] of Object.entries(c.labels)) {
      if ("topology.kubernetes.io/zone" in labels) {
        fail(
          `${base}.labels.${nodeName}`,
          '"topology.kubernetes.io/zone" is set from the node\'s site; remove it here',
        );
      }
      const n = byName.get(nodeName);
      if (n) byName.set(nodeName, { ...n, labels });
    }
    for (const [nodeName, taints] of Object.entries(c.taints)) {
      const n = byName.get(nodeName);
      if (n) byName.set(nodeName, { ...n, taints });
    }

    // Sites: nodes on more than one site talk over WireGuard, to addresses the other sites reach.
    const usedSites = [...new Set(c.nodes.map((n) => n.site))].filter((s) => subnets.has(s));
    const multiSite = usedSites.length > 1;
    if (multiSite && c.flannelBackend !== undefined && c.flannelBackend !== "wireguard-native") {
      fail(
        `${base}.flannelBackend`,
        `nodes on ${usedSites.length} sites (${list(usedSites)}) need "wireguard-native": "${c.flannelBackend}" is neither encrypted nor routed between networks`,
      );
    }
    if (multiSite) {
      for (const s of usedSites) {
        if (c.sites[s].routable) continue;
        const unreachable = c.nodes.filter((n) => n.site === s && !n.externalIp).map((n) => n.name);
        if (unreachable.length > 0) {
          fail(
            `${base}.sites.${s}`,
            `no address the other sites can reach for node${unreachable.length > 1 ? "s" : ""} ${list(unreachable)}: give each an externalIp, or set routable: true if the site's addresses are routed between sites`,
          );
        }
      }
    }

    // The API, reachable from where `pulumi up` runs: a VM first server sits on the internal bridge.
    let apiForward: K3sClusterConfig["apiForward"];
    const firstServer = nodes.find((n) => n.role === "server");
    if (
      firstServer &&
      c.apiForward !== null &&
      (c.apiForward !== undefined || (firstServer.vm && c.apiAddress === undefined && c.vip === undefined))
    ) {
      const port = c.apiForward?.port ?? 6443;
      if (!firstServer.vm) {
        fail(
          `${base}.apiForward`,
          `forwards to the first server, "${firstServer.name}", which is not a Proxmox VM (it is reached at its own address): remove apiForward`,
        );
      } else if (RESERVED_HOST_PORTS[port]) {
        fail(
          `${base}.apiForward.port`,
          `${port} is ${RESERVED_HOST_PORTS[port]} on the Proxmox host; choose another port`,
        );
      } else {
        const key = `${firstServer.vm.node}:${port}`;
        const prev = forwarded.get(key);
        if (prev)
          fail(
            `${base}.apiForward.port`,
            `port ${port} on Proxmox node "${firstServer.vm.node}" already forwards to cluster "${prev}"; give this cluster another port`,
          );
        else forwarded.set(key, cname);
        apiForward = { port, node: firstServer.vm.node };
      }
    }

    // The HA API address: inside the site of the servers that announce it, no node's address.
    let vip: K3sClusterConfig["vip"];
    if (c.vip) {
      const a = c.vip.address;
      const site = [...subnets.entries()].find(([, sub]) => subnetContains(sub, a))?.[0];
      const owner = c.nodes.find((n) => n.ip === a || n.externalIp === a);
      const onSite = site ? c.nodes.filter((n) => n.role === "server" && n.site === site).map((n) => n.name) : [];
      if (servers < 2)
        fail(
          `${base}.vip`,
          `a virtual API address needs more than one server (the cluster has ${servers}); remove vip`,
        );
      else if (!site)
        fail(
          `${base}.vip.address`,
          `${a} is outside every site of the cluster (${[...Object.entries(c.sites)].map(([k, v]) => `${k} ${v.cidr}`).join(", ")}): kube-vip announces it with ARP on the servers' own network`,
        );
      else if (owner) fail(`${base}.vip.address`, `${a} is already the address of node "${owner.name}"`);
      else if (onSite.length < 2)
        fail(
          `${base}.vip.address`,
          `${a} is on site "${site}", which has ${onSite.length === 0 ? "no server" : `one server (${list(onSite)})`}: the address can move only between at least two servers on its network`,
        );
      else if (c.apiForward && c.nodes.find((n) => n.role === "server")?.vm)
        fail(`${base}.apiForward`, "a virtual API address (vip) replaces the forward: remove apiForward");
      else if (c.apiAddress)
        fail(`${base}.apiAddress`, "the virtual API address (vip) is the API address: remove apiAddress");
      else if (!isHostAddress(subnets.get(site)!, a))
        fail(
          `${base}.vip.address`,
          `${a} is the network or broadcast address of site "${site}" (${c.sites[site].cidr})`,
        );
      else vip = { address: a, interface: c.vip.interface, site };
    }
    let snapshots: K3sEtcdSnapshots | undefined;
    let s3Credentials: K3sClusterConfig["s3Credentials"];
    if (c.snapshots) {
      if (servers < 2)
        fail(
          `${base}.snapshots`,
          `etcd snapshots need embedded etcd, i.e. more than one server (the cluster has ${servers}); a single server keeps its data in SQLite`,
        );
      const s3 = c.snapshots.s3;
      if (s3) {
        for (const k of ["etcdS3AccessKey", "etcdS3SecretKey"] as const) {
          if (!r[k]) fail(k, `is required by kantai:${base}.snapshots.s3 (pulumi config set --secret ${k} …)`);
          else if (ctx.secretKeys && !ctx.secretKeys.includes(`kantai:${k}`))
            fail(k, `must be a secret (pulumi config set --secret ${k} …)`);
        }
        if (r.etcdS3AccessKey && r.etcdS3SecretKey)
          s3Credentials = { accessKey: pulumi.secret(r.etcdS3AccessKey), secretKey: pulumi.secret(r.etcdS3SecretKey) };
      }
      snapshots = {
        schedule: c.snapshots.schedule,
        retention: c.snapshots.retention,
        ...(s3
          ? {
              s3: {
                endpoint: s3.endpoint,
                bucket: s3.bucket,
                ...(s3.region ? { region: s3.region } : {}),
                ...(s3.folder ? { folder: s3.folder } : {}),
              },
            }
          : {}),
      };
    }

    const ordered = [...byName.values()];
    k3s.push({
      name: cname,
      version: c.version,
      flannelBackend: c.flannelBackend ?? (multiSite ? "wireguard-native" : "vxlan"),
      ...(c.apiAddress ? { apiAddress: c.apiAddress } : {}),
      ...(apiForward ? { apiForward } : {}),
      disable: c.disable,
      sites: c.sites,
      nodes: [...ordered.filter((n) => n.role === "server"), ...ordered.filter((n) => n.role === "agent")],
      upgrade: c.upgrade,
      serverStepDown: stepDown && servers % 2 === 0,
      ...(vip ? { vip } : {}),
      ...(snapshots ? { snapshots } : {}),
      ...(s3Credentials ? { s3Credentials } : {}),
    });
  }

  return { ...(grogu ? { grogu } : {}), k3s };
}
