/**
 * The one place where kantai reads and validates configuration.
 *
 * `loadConfig()` reads every `kantai:*` key of the selected stack, validates it with zod plus
 * cross-field rules (addresses inside subnets, unique VM ids/IPs/names, room in the subnet, known
 * template and node names, DNS names, ranges, required secrets) and returns a typed StackConfig.
 * A bad value throws a ConfigError naming every offending key path before any resource exists.
 * Components never read config: they receive the typed values below.
 *
 * Defaults live here, once (the `.default(...)` calls). Pulumi.yaml declares the scalar keys with
 * the same defaults; a test keeps the two in step.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  addOffset,
  intToIp,
  ipToInt,
  isHostAddress,
  isIpv4,
  lastHost,
  networkCidr,
  parseSubnet,
  subnetContains,
  type Ipv4Subnet,
} from "../../lib/net/ipv4";
import { isDnsLabel, isDnsName } from "../../lib/render/dnsName";
import { clusterKeys, parseClusters, type ClustersConfig } from "./clusters";
import { parsePlatform, platformKeys, type PlatformConfig } from "./platform";
import { parseRouting, routingKeys, type RoutingConfig } from "./routing";
import { ciKeys, parseCi, type CiConfig } from "./ci";
import { refusePlaceholders } from "./placeholders";
import { observabilityKeys, parseObservability, type ObservabilityConfig } from "./observability";
import { parseStorage, storageKeys, type StorageConfig } from "./storage";

/** The config namespace (the project name in Pulumi.yaml). */
export const NAMESPACE = "kantai";

/** Stack compositions kantai knows. */
export const COMPOSITIONS = ["homelab", "edge", "lab"] as const;
export type Composition = (typeof COMPOSITIONS)[number];

/** Keys that must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["proxmoxApiToken", "sshPrivateKey"] as const;

/** A config problem, with the full key path (e.g. `kantai:fleet.loadBalancer.ip`). */
export interface ConfigIssue {
  readonly key: string;
  readonly message: string;
}

/** Thrown for any invalid configuration; the message lists every issue, one per line. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `invalid kantai configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  - ${i.key}: ${i.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas of the raw keys. Field comments give the meaning; `.default` is the default.

const ipv4 = z.string().refine(isIpv4, { message: "must be an IPv4 address like 10.0.0.30" });
const cidr = z.string().refine((s) => parseSubnet(s) !== undefined, {
  message: "must be an IPv4 CIDR like 10.0.0.0/24",
});
const dnsName = z.string().refine(isDnsName, {
  message: "must be a DNS name (dot-separated labels of letters, digits and inner hyphens)",
});
const dnsLabel = z.string().refine(isDnsLabel, {
  message: "must be a DNS label (1-63 letters, digits and inner hyphens)",
});
const vmId = z.number().int().min(100, "VM IDs start at 100").max(999_999_999);
const cores = z.number().int("must be a whole number").min(1, "at least 1 core").max(128, "at most 128 cores");
const memoryMb = z.number().int("must be a whole number").min(256, "at least 256 MB").max(1_048_576, "at most 1 TiB");
const diskGb = z.number().int().min(4, "at least 4 GB").max(65_536);
const port = z.number().int().min(1).max(65_535);
const hostPort = z.string().refine(
  (s) => {
    const m = /^(.+):(\d{1,5})$/.exec(s);
    return !!m && (isIpv4(m[1]) || isDnsName(m[1])) && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
  },
  { message: 'must be "host:port", e.g. 10.0.0.10:80' },
);
const sshPublicKey = z
  .string()
  .regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/, {
    message: "must be an OpenSSH public key (ssh-ed25519 AAAA… comment)",
  });

const proxmoxNode = z.strictObject({
  /** Proxmox node name as the cluster knows it, e.g. "pve". */
  name: dnsLabel,
  /** Address kantai reaches the node at over SSH (and the API, unless proxmoxEndpoint says otherwise). */
  address: ipv4,
});

const network = z.strictObject({
  /** Node that carries the bridge. Defaults to the first of proxmoxNodes. */
  node: dnsLabel.optional(),
  /** Internal bridge name. */
  bridge: z
    .string()
    .regex(/^vmbr\d{1,4}$/, 'must be a Proxmox bridge name like "vmbr2"')
    .default("vmbr2"),
  /** Internal subnet. */
  cidr: cidr.default("10.0.0.0/24"),
  /** Bridge address = gateway of the VMs (NAT). */
  gateway: ipv4.default("10.0.0.1"),
  /** Host interface the NAT masquerades to. */
  uplink: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, "must be a Linux interface name")
    .default("vmbr0"),
});

const image = z.strictObject({
  /** Cloud image URL (Ubuntu 22.04 "jammy"). */
  url: z.url({ message: "must be an http(s) URL", protocol: /^https?$/ }),
  /**
   * File name on the datastore. Proxmox's `import` content takes only .qcow2/.raw/.vmdk/.ova and reads
   * the disk format from the extension (UPLOAD_IMPORT_EXT_RE_1 in pve-storage's PVE/Storage.pm).
   * Defaults to the URL's file name with ".img" replaced by ".qcow2" (Ubuntu's .img images are qcow2).
   */
  fileName: z
    .string()
    .regex(
      /^[A-Za-z0-9._+=-]+\.(qcow2|raw|vmdk|ova)$/,
      'must be a file name ending in ".qcow2", ".raw", ".vmdk" or ".ova" (the extensions Proxmox\'s import content type accepts)',
    )
    .optional(),
  /** Expected checksum of the download (hex). */
  checksum: z
    .string()
    .regex(/^[0-9a-f]{32,128}$/i, "must be a hex digest")
    .optional(),
  /** Algorithm of `checksum`. */
  checksumAlgorithm: z.enum(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]).default("sha256"),
});

const storage = z
  .strictObject({
    /** Datastore holding the downloaded image (needs the Import content type). */
    images: z.string().min(1).default("local"),
    /** Datastore for VM disks and cloud-init drives. */
    disks: z.string().min(1).default("local-lvm"),
    /** Datastore for cloud-init snippets (needs the Snippets content type). */
    snippets: z.string().min(1).default("local"),
  })
  .default({ images: "local", disks: "local-lvm", snippets: "local" });

const template = z.strictObject({
  /** Proxmox VM ID of the template. */
  vmId,
  /** Cores of VMs cloned from it (default profile). */
  cores,
  /** Memory of VMs cloned from it, MB. */
  memoryMb,
  /** Size of the imported disk after resize, GB. */
  diskGb: diskGb.default(10),
  /** Node the template lives on. Defaults to network.node. */
  node: dnsLabel.optional(),
  /**
   * Let the next `pulumi up` replace the template (it is protected; an edit of its node, vmId, the
   * image, the disk datastore or a smaller diskGb otherwise fails in preview). Set it for one run.
   */
  allowReplace: z.boolean().default(false),
});

const loadBalancer = z
  .strictObject({
    /** VM and host name of the load balancer. Defaults to "<fleet.name>-lb". */
    name: dnsLabel.optional(),
    /** VM ID. Defaults to fleet.firstVmId + fleet.size. */
    vmId: vmId.optional(),
    /** Address. Defaults to fleet.firstIp + fleet.size. */
    ip: ipv4.optional(),
    cores: cores.default(1),
    memoryMb: memoryMb.default(1024),
    /** Caddy container image. */
    caddyImage: z.string().min(1).default("caddy:2.10"),
  })
  .default({ cores: 1, memoryMb: 1024, caddyImage: "caddy:2.10" });

const fleet = z.strictObject({
  /** Fleet and VM name prefix. */
  name: dnsLabel.default("kenobi"),
  /** Number of web VMs. */
  size: z.number().int().min(1, "the fleet needs at least 1 web VM").default(5),
  /** Template the VMs are cloned from (a key of `templates`). */
  template: z.string().default("standalone"),
  /** VM ID of the first web VM; the others follow. */
  firstVmId: vmId.default(800),
  /** Address of the first web VM; the others follow. */
  firstIp: ipv4.default("10.0.0.30"),
  cores: cores.default(1),
  memoryMb: memoryMb.default(512),
  /** HTTP port of the web service. */
  port: port.default(3000),
  /** Container image that runs the web service (any Node.js >= 12). */
  image: z.string().min(1).default("node:22-alpine"),
  /** Sub-domain of the fleet's sites: `<n>.<label>.<domain>`. */
  label: dnsLabel.default("standalone"),
  loadBalancer,
});

const gatewayRoute = z.strictObject({ label: dnsLabel, upstream: hostPort });

const gateway = z
  .strictObject({
    /** Address the DNS records point to and clients use. Defaults to the gateway node's address. */
    address: ipv4.optional(),
    /** Node that runs BIND and the root Caddy. Defaults to network.node. */
    node: dnsLabel.optional(),
    /** Networks allowed to query (ACL "internal"). Defaults to BIND's "localnets" (the gateway host's own networks: its LAN) and network.cidr. */
    internalNetworks: z.array(cidr).min(1).optional(),
    /** Upstream resolvers. */
    forwarders: z.array(ipv4).default(["1.1.1.1", "1.0.0.1"]),
    /** Extra `*.<label>.<domain>` routes of the root proxy (e.g. grogu until kantai manages it). */
    routes: z.array(gatewayRoute).default([]),
  })
  .default({ forwarders: ["1.1.1.1", "1.0.0.1"], routes: [] });

/** Every key kantai reads, with its schema. Unknown `kantai:` keys are an error (typos). */
const rawSchema = z.strictObject({
  composition: z.enum(COMPOSITIONS).default("homelab"),
  domain: dnsName.default("hosts.pve"),
  proxmoxEndpoint: z.url({ protocol: /^https$/, message: "must be an https:// URL, e.g. https://10.15.40.20:8006/" }),
  proxmoxInsecure: z.boolean().default(false),
  proxmoxApiToken: z
    .string({ message: "is required (pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=uuid')" })
    .regex(
      /^[^@\s]+@[^!\s]+![^=\s]+=[0-9a-f-]{36}$/i,
      'must look like "user@realm!tokenid=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"',
    ),
  sshUser: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name")
    .default("root"),
  sshPrivateKey: z
    .string({ message: "is required (pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519)" })
    .refine((s) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s), { message: "must be a PEM/OpenSSH private key" }),
  sshPublicKeys: z
    .array(sshPublicKey, { message: "is required: a list of OpenSSH public keys" })
    .min(1, "needs at least one key"),
  vmUser: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name")
    .default("ubuntu"),
  proxmoxNodes: z
    .array(proxmoxNode, { message: "is required: a list of {name, address}" })
    .min(1, "needs at least one node"),
  network: network.default({ bridge: "vmbr2", cidr: "10.0.0.0/24", gateway: "10.0.0.1", uplink: "vmbr0" }),
  image,
  storage,
  templates: z.record(dnsLabel, template),
  fleet: fleet.optional(),
  gateway,
  ...clusterKeys({ ipv4, cidr, dnsName, dnsLabel, vmId, cores, memoryMb, port }),
  ...platformKeys({ dnsName, dnsLabel }),
  ...routingKeys(),
  ...ciKeys({ vmId, ipv4, dnsLabel, cores, memoryMb }),
  ...observabilityKeys(),
  ...storageKeys({ cidr }),
});

type Raw = z.output<typeof rawSchema>;

// ---------------------------------------------------------------------------------------------
// The typed result components receive.

export interface ProxmoxNode {
  readonly name: string;
  readonly address: string;
}

export interface NetworkConfig {
  readonly node: string;
  readonly bridge: string;
  /** Canonical network CIDR, e.g. "10.0.0.0/24". */
  readonly cidr: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly uplink: string;
}

export interface TemplateConfig {
  /** Key in `templates`, e.g. "standalone". */
  readonly key: string;
  readonly vmId: number;
  readonly cores: number;
  readonly memoryMb: number;
  readonly diskGb: number;
  readonly node: string;
  /** Unprotect for this run and let an edit replace the template. */
  readonly allowReplace: boolean;
}

export interface VmSlot {
  /** Stable key and host name, e.g. "kenobi-1". */
  readonly name: string;
  readonly vmId: number;
  readonly ip: string;
}

export interface FleetConfig {
  readonly name: string;
  readonly template: string;
  readonly node: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly port: number;
  readonly image: string;
  readonly label: string;
  readonly instances: readonly VmSlot[];
  readonly loadBalancer: VmSlot & { readonly cores: number; readonly memoryMb: number; readonly caddyImage: string };
}

export interface GatewayConfig {
  readonly node: string;
  readonly address: string;
  readonly internalNetworks: readonly string[];
  readonly forwarders: readonly string[];
  readonly routes: readonly { readonly label: string; readonly upstream: string }[];
}

export interface StackConfig
  extends ClustersConfig, PlatformConfig, RoutingConfig, CiConfig, ObservabilityConfig, StorageConfig {
  readonly project: string;
  readonly stack: string;
  readonly composition: Composition;
  readonly domain: string;
  readonly proxmox: {
    readonly endpoint: string;
    readonly insecure: boolean;
    readonly apiToken: pulumi.Output<string>;
    readonly sshUser: string;
    readonly sshPrivateKey: pulumi.Output<string>;
    readonly nodes: readonly ProxmoxNode[];
  };
  readonly access: { readonly vmUser: string; readonly sshPublicKeys: readonly string[] };
  readonly network: NetworkConfig;
  readonly image: Raw["image"] & { readonly fileName: string };
  readonly storage: Raw["storage"];
  readonly templates: Readonly<Record<string, TemplateConfig>>;
  readonly fleet?: FleetConfig;
  readonly gateway: GatewayConfig;
}

// ---------------------------------------------------------------------------------------------

function key(path: readonly PropertyKey[]): string {
  if (path.length === 0) return NAMESPACE;
  let out = NAMESPACE + ":";
  path.forEach((p, i) => {
    if (typeof p === "number") out += `[${p}]`;
    else out += (i === 0 ? "" : ".") + String(p);
  });
  return out;
}

function zodIssues(err: z.ZodError): ConfigIssue[] {
  return err.issues.map((i) => {
    if (i.code === "unrecognized_keys") {
      return {
        key: key(i.path),
        message: `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}`,
      };
    }
    if (i.code === "invalid_type" && /is required|received undefined/.test(i.message)) {
      return { key: key(i.path), message: /is required/.test(i.message) ? i.message : "is required" };
    }
    return { key: key(i.path), message: i.message };
  });
}

/** Where a VM address or ID is claimed, to report duplicates with both owners. */
interface Claim {
  readonly key: string;
  readonly what: string;
}

/**
 * Validate raw config values (already JSON-decoded; keys without the namespace) and resolve
 * derived defaults. Pure apart from wrapping the secrets with `pulumi.secret`.
 * `secretKeys` lists the keys that were set as secrets; a required secret set in plaintext is an error.
 */
export function parseConfig(
  raw: Record<string, unknown>,
  ctx: { project?: string; stack?: string; secretKeys?: readonly string[] } = {},
): StackConfig {
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error));
  const r = parsed.data;
  const issues: ConfigIssue[] = [];
  const fail = (k: string, message: string) => issues.push({ key: `${NAMESPACE}:${k}`, message });

  if (ctx.secretKeys) {
    for (const s of SECRET_KEYS) {
      if (!ctx.secretKeys.includes(`${NAMESPACE}:${s}`)) {
        fail(s, `must be stored as a secret (pulumi config set --secret ${s} …), not in plaintext`);
      }
    }
  }

  // Nodes.
  const nodeNames = new Set<string>();
  r.proxmoxNodes.forEach((n, i) => {
    if (nodeNames.has(n.name)) fail(`proxmoxNodes[${i}].name`, `duplicate node name "${n.name}"`);
    nodeNames.add(n.name);
  });
  const defaultNode = r.proxmoxNodes[0].name;
  /** Check an explicitly configured node name; a defaulted one was checked where it came from. */
  const knownNode = (k: string, name: string | undefined, fallback: string): string => {
    if (name === undefined) return fallback;
    if (!nodeNames.has(name))
      fail(k, `unknown node "${name}" (proxmoxNodes has ${[...nodeNames].map((x) => `"${x}"`).join(", ")})`);
    return name;
  };

  // Network.
  const subnet = parseSubnet(r.network.cidr) as Ipv4Subnet;
  const netNode = knownNode("network.node", r.network.node, defaultNode);
  if (!isHostAddress(subnet, r.network.gateway)) {
    fail(
      "network.gateway",
      `${r.network.gateway} is outside ${networkCidr(subnet)} or is its network/broadcast address`,
    );
  }
  /**
   * A node for a template, VM or the gateway. kantai supports one Proxmox node for those: the bridge,
   * its NAT and the cloud image exist only on network.node, a clone is made on its template's node,
   * and the gateway's Caddy proxies to addresses on the bridge (docs/decisions/0011).
   */
  const vmNode = (k: string, name: string | undefined, fallback: string): string => {
    const n = knownNode(k, name, fallback);
    if (n !== netNode && nodeNames.has(n)) {
      fail(
        k,
        `"${n}" is not network.node "${netNode}": multi-node Proxmox is not supported (the bridge ${r.network.bridge}, its NAT and the cloud image exist only on "${netNode}", and clones are made on their template's node); use "${netNode}" or remove the key`,
      );
    }
    return n;
  };
  const net: NetworkConfig = {
    node: netNode,
    bridge: r.network.bridge,
    cidr: networkCidr(subnet),
    prefix: subnet.prefix,
    gateway: r.network.gateway,
    uplink: r.network.uplink,
  };

  // VM identity claims: IDs, IPs, names must be unique across templates, fleet and load balancer.
  const ids = new Map<number, Claim>();
  const ips = new Map<string, Claim>();
  const names = new Map<string, Claim>();
  const claim = <T>(map: Map<T, Claim>, v: T, c: Claim, label: string) => {
    const prev = map.get(v);
    if (prev)
      fail(
        c.key.slice(NAMESPACE.length + 1),
        `${label} ${String(v)} of ${c.what} is already used by ${prev.what} (${prev.key})`,
      );
    else map.set(v, c);
  };
  const checkVmIp = (k: string, ip: string, what: string) => {
    if (!isHostAddress(subnet, ip))
      fail(k, `${ip} (${what}) is outside the bridge subnet ${net.cidr} or is its network/broadcast address`);
    else if (ip === net.gateway) fail(k, `${ip} (${what}) is the gateway address`);
  };

  const templates: Record<string, TemplateConfig> = {};
  for (const [name, t] of Object.entries(r.templates)) {
    const node = vmNode(`templates.${name}.node`, t.node, net.node);
    templates[name] = {
      key: name,
      vmId: t.vmId,
      cores: t.cores,
      memoryMb: t.memoryMb,
      diskGb: t.diskGb,
      node,
      allowReplace: t.allowReplace,
    };
    claim(ids, t.vmId, { key: key(["templates", name, "vmId"]), what: `template "${name}"` }, "VM ID");
    claim(names, `template-${name}`, { key: key(["templates", name]), what: `template "${name}"` }, "name");
  }

  let fleetCfg: FleetConfig | undefined;
  if (r.fleet) {
    const f = r.fleet;
    if (!templates[f.template]) {
      fail(
        "fleet.template",
        `unknown template "${f.template}" (templates has ${
          Object.keys(templates)
            .map((x) => `"${x}"`)
            .join(", ") || "none"
        })`,
      );
    }
    const node = templates[f.template]?.node ?? net.node;
    // Room: consecutive host addresses from firstIp to the end of the subnet, minus the gateway.
    let room = 0;
    if (isHostAddress(subnet, f.firstIp)) {
      const first = ipToInt(f.firstIp);
      room = lastHost(subnet) - first + 1;
      const gw = ipToInt(net.gateway);
      if (gw >= first && gw <= lastHost(subnet)) room -= 1;
    }
    const lbImplicit = r.fleet.loadBalancer.ip === undefined;
    const needed = f.size + (lbImplicit ? 1 : 0);
    if (!isHostAddress(subnet, f.firstIp)) {
      checkVmIp("fleet.firstIp", f.firstIp, "the first web VM");
    } else if (needed > room) {
      fail(
        "fleet.size",
        `${f.size} web VMs${lbImplicit ? " plus the load balancer" : ""} need ${needed} consecutive addresses from ${f.firstIp}, but ${net.cidr} has room for ${room}`,
      );
    }
    const instances: VmSlot[] = [];
    if (issues.length === 0) {
      let ipCursor = ipToInt(f.firstIp);
      const nextIp = () => {
        if (ipCursor === ipToInt(net.gateway)) ipCursor += 1;
        return intToIp(ipCursor++);
      };
      for (let i = 1; i <= f.size; i++) {
        const slot = { name: `${f.name}-${i}`, vmId: f.firstVmId + i - 1, ip: nextIp() };
        instances.push(slot);
        const what = `web VM "${slot.name}"`;
        claim(ids, slot.vmId, { key: key(["fleet", "firstVmId"]), what }, "VM ID");
        claim(ips, slot.ip, { key: key(["fleet", "firstIp"]), what }, "address");
        claim(names, slot.name, { key: key(["fleet", "name"]), what }, "name");
      }
      const lbRaw = f.loadBalancer;
      const lb = {
        name: lbRaw.name ?? `${f.name}-lb`,
        vmId: lbRaw.vmId ?? f.firstVmId + f.size,
        ip: lbRaw.ip ?? nextIp(),
        cores: lbRaw.cores,
        memoryMb: lbRaw.memoryMb,
        caddyImage: lbRaw.caddyImage,
      };
      const what = `load balancer "${lb.name}"`;
      checkVmIp("fleet.loadBalancer.ip", lb.ip, "the load balancer");
      claim(ids, lb.vmId, { key: key(["fleet", "loadBalancer", "vmId"]), what }, "VM ID");
      claim(ips, lb.ip, { key: key(["fleet", "loadBalancer", "ip"]), what }, "address");
      claim(names, lb.name, { key: key(["fleet", "loadBalancer", "name"]), what }, "name");
      fleetCfg = {
        name: f.name,
        template: f.template,
        node,
        cores: f.cores,
        memoryMb: f.memoryMb,
        port: f.port,
        image: f.image,
        label: f.label,
        instances,
        loadBalancer: lb,
      };
    }
  }

  const claimKind = (kind: "id" | "ip" | "name", v: number | string, k: string, what: string) =>
    kind === "id"
      ? claim(ids, v as number, { key: key([k]), what }, "VM ID")
      : claim(kind === "ip" ? ips : names, v as string, { key: key([k]), what }, kind === "ip" ? "address" : "name");
  const clusters = parseClusters(r, {
    fail,
    claim: claimKind,
    checkVmIp,
    knownNode: vmNode,
    templates,
    net,
    routedLabels: fleetCfg ? [fleetCfg.label] : [],
    secretKeys: ctx.secretKeys,
  });
  const platform = parsePlatform(r, {
    fail,
    composition: r.composition,
    stack: ctx.stack ?? "dev",
    k3s: clusters.k3s,
    secretKeys: ctx.secretKeys,
  });
  const routing = parseRouting(r, { fail, composition: r.composition, k3s: clusters.k3s, platform });
  const ci = parseCi(r, { fail, claim: claimKind, checkVmIp, templates, secretKeys: ctx.secretKeys });
  const observability = parseObservability(r, {
    fail,
    composition: r.composition,
    routing: r.routing,
    knative: platform.knative !== undefined,
  });
  const stateful = parseStorage(r, {
    fail,
    composition: r.composition,
    platformCluster: platform.platformCluster,
    k3s: clusters.k3s,
    webapps: platform.webapps,
  });

  // Gateway.
  const gwNode = vmNode("gateway.node", r.gateway.node, net.node);
  const gwAddress =
    r.gateway.address ?? r.proxmoxNodes.find((n) => n.name === gwNode)?.address ?? r.proxmoxNodes[0].address;
  const labels = new Set<string>(fleetCfg ? [fleetCfg.label] : []);
  r.gateway.routes.forEach((route, i) => {
    if (labels.has(route.label)) fail(`gateway.routes[${i}].label`, `"${route.label}" is routed twice`);
    labels.add(route.label);
  });
  const gw: GatewayConfig = {
    node: gwNode,
    address: gwAddress,
    // BIND's built-in ACL "localnets" (every network the gateway host has an interface on) is the LAN the
    // wildcard record sends clients from, plus the bridge; a bare <address>/32 left the LAN out.
    internalNetworks: r.gateway.internalNetworks ?? ["localnets", net.cidr],
    forwarders: r.gateway.forwarders,
    routes: r.gateway.routes,
  };
  if (subnetContains(subnet, gwAddress) && gwAddress !== net.gateway) {
    const owner = [...ips.entries()].find(([ip]) => ip === gwAddress);
    if (owner) fail("gateway.address", `${gwAddress} is the address of ${owner[1].what}`);
  }

  if (issues.length > 0) throw new ConfigError(issues);

  return {
    project: ctx.project ?? NAMESPACE,
    stack: ctx.stack ?? "dev",
    composition: r.composition,
    domain: r.domain.replace(/\.$/, "").toLowerCase(),
    proxmox: {
      endpoint: r.proxmoxEndpoint,
      insecure: r.proxmoxInsecure,
      apiToken: pulumi.secret(r.proxmoxApiToken),
      sshUser: r.sshUser,
      sshPrivateKey: pulumi.secret(r.sshPrivateKey),
      nodes: r.proxmoxNodes,
    },
    access: { vmUser: r.vmUser, sshPublicKeys: r.sshPublicKeys },
    network: net,
    image: { ...r.image, fileName: r.image.fileName ?? importFileName(r.image.url) },
    storage: r.storage,
    templates,
    fleet: fleetCfg,
    gateway: gw,
    ...clusters,
    ...platform,
    ...routing,
    ...ci,
    ...observability,
    ...stateful,
  };
}

/**
 * The default stored name of a cloud image: the URL's last path segment, kept when it already ends in
 * an extension Proxmox's `import` content type accepts, otherwise with its extension (".img") replaced
 * by ".qcow2". Proxmox reads the format from the extension, and Ubuntu's ".img" cloud images are qcow2.
 */
export function importFileName(url: string): string {
  const base = decodeURIComponent(new URL(url).pathname.split("/").pop() || "cloud-image").replace(
    /[^A-Za-z0-9._+=-]/g,
    "-",
  );
  if (/\.(qcow2|raw|vmdk|ova)$/.test(base)) return base;
  return base.replace(/\.[A-Za-z0-9]+$/, "") + ".qcow2";
}

/** Decode one config value as Pulumi stores it (objects, arrays, numbers and booleans are JSON). */
export function decodeConfigValue(v: string): unknown {
  const t = v.trim();
  if (/^[[{]/.test(t) || /^-?\d+(\.\d+)?$/.test(t) || t === "true" || t === "false") {
    try {
      return JSON.parse(t);
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * The `kantai:*` keys of a Pulumi config map, decoded, without the namespace. An empty string means
 * "unset": Pulumi makes a key declared in Pulumi.yaml without a default mandatory, so optional
 * declared keys carry the default "".
 */
export function rawFromConfigMap(all: Readonly<Record<string, string>>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${NAMESPACE}:`) || v === "") continue;
    raw[k.slice(NAMESPACE.length + 1)] = decodeConfigValue(v);
  }
  return raw;
}

/** Read every `kantai:*` key of the current stack and validate it. Call once, before creating resources. */
export function loadConfig(): StackConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    allConfig(): Record<string, string>;
    isConfigSecret?(k: string): boolean;
  };
  const all = runtimeConfig.allConfig();
  const raw = rawFromConfigMap(all);
  refusePlaceholders(raw, { stack: pulumi.getStack() }); // real runs only (stacks/placeholders.ts)
  const secretKeys = Object.keys(all).filter((k) => runtimeConfig.isConfigSecret?.(k));
  return parseConfig(raw, {
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    secretKeys: runtimeConfig.isConfigSecret ? secretKeys : undefined,
  });
}

/** Convenience for consumers: the address of a slot with the subnet's prefix ("10.0.0.30/24"). */
export function slotCidr(net: NetworkConfig, ip: string): string {
  return `${ip}/${net.prefix}`;
}
