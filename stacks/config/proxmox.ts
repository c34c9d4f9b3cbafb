/**
 * Config of the Proxmox side: the host(s) and their credentials, the internal NAT bridge, the cloud
 * image, datastores and VM templates, seed 000's conventional "kenobi" fleet and the hosts gateway
 * (BIND + root Caddy). It also keeps the VM bookkeeping (VmBook) the cluster and CI areas record
 * their VMs in, so IDs, addresses and names stay unique across the stack.
 *
 * Defaults live here, once (the `.default(...)` / `.prefault(...)` calls). Messages name the full key.
 */
import { z } from "zod";
import { allocateConsecutive, consecutiveRoom } from "../../lib/net/allocate";
import { isHostAddress, isIpv4, networkCidr, parseSubnet, subnetContains, type Ipv4Subnet } from "../../lib/net/ipv4";
import { isDnsName } from "../../lib/render/dnsName";
import {
  cidr,
  cores,
  diskGb,
  dnsLabel,
  dnsName,
  ipv4,
  keyOf,
  memoryMb,
  NAMESPACE,
  port,
  unixUser,
  vmId,
  type Fail,
  type NetworkConfig,
  type TemplateConfig,
  type VmBook,
} from "./primitives";

// ---------------------------------------------------------------------------------------------
// Schemas of the raw keys. Field comments give the meaning; `.default` is the default.

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

const storage = z.strictObject({
  /** Datastore holding the downloaded image (needs the Import content type). */
  images: z.string().min(1).default("local"),
  /** Datastore for VM disks and cloud-init drives. */
  disks: z.string().min(1).default("local-lvm"),
  /** Datastore for cloud-init snippets (needs the Snippets content type). */
  snippets: z.string().min(1).default("local"),
});

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

const loadBalancer = z.strictObject({
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
});

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
  loadBalancer: loadBalancer.prefault({}),
});

const gatewayRoute = z.strictObject({ label: dnsLabel, upstream: hostPort });

const gateway = z.strictObject({
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
});

/** The Proxmox keys of the raw schema (spread into stacks/config/load.ts's). */
export function proxmoxKeys() {
  return {
    domain: dnsName.default("hosts.pve"),
    proxmoxEndpoint: z.url({ protocol: /^https$/, message: "must be an https:// URL, e.g. https://10.15.40.20:8006/" }),
    proxmoxInsecure: z.boolean().default(false),
    proxmoxApiToken: z
      .string({ message: "is required (pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=uuid')" })
      .regex(
        /^[^@\s]+@[^!\s]+![^=\s]+=[0-9a-f-]{36}$/i,
        'must look like "user@realm!tokenid=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"',
      ),
    sshUser: unixUser.default("root"),
    sshPrivateKey: z
      .string({ message: "is required (pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519)" })
      .refine((s) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s), { message: "must be a PEM/OpenSSH private key" }),
    sshPublicKeys: z
      .array(sshPublicKey, { message: "is required: a list of OpenSSH public keys" })
      .min(1, "needs at least one key"),
    vmUser: unixUser.default("ubuntu"),
    proxmoxNodes: z
      .array(proxmoxNode, { message: "is required: a list of {name, address}" })
      .min(1, "needs at least one node"),
    network: network.prefault({}),
    image,
    storage: storage.prefault({}),
    templates: z.record(dnsLabel, template),
    fleet: fleet.optional(),
    gateway: gateway.prefault({}),
  };
}

type RawProxmox = z.output<z.ZodObject<ReturnType<typeof proxmoxKeys>>>;

// ---------------------------------------------------------------------------------------------
// The typed result components receive.

export interface ProxmoxNode {
  readonly name: string;
  readonly address: string;
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

export type ImageConfig = RawProxmox["image"] & { readonly fileName: string };
export type DatastoresConfig = RawProxmox["storage"];

/** Where a VM address or ID is claimed, to report duplicates with both owners. */
interface Claim {
  readonly key: string;
  readonly what: string;
}

/** What parseProxmox resolves, and the bookkeeping the later areas use. */
export interface ProxmoxParts {
  readonly net: NetworkConfig;
  readonly templates: Readonly<Record<string, TemplateConfig>>;
  readonly fleet?: FleetConfig;
  readonly book: VmBook;
  /** The owner of a claimed VM address, if any. */
  ipOwner(ip: string): string | undefined;
  readonly subnet: Ipv4Subnet;
}

/**
 * Validate the nodes, the network, the templates and the fleet, in that order; allocate the fleet's
 * addresses (lib/net/allocate.ts) and record every VM claim. `clean()` tells whether no problem was
 * reported so far: the fleet's VMs are laid out only then.
 */
export function parseProxmox(r: RawProxmox, fail: Fail, clean: () => boolean): ProxmoxParts {
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
    claim(ids, t.vmId, { key: keyOf(["templates", name, "vmId"]), what: `template "${name}"` }, "VM ID");
    claim(names, `template-${name}`, { key: keyOf(["templates", name]), what: `template "${name}"` }, "name");
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
    const room = consecutiveRoom(subnet, f.firstIp, net.gateway);
    const lbImplicit = f.loadBalancer.ip === undefined;
    const needed = f.size + (lbImplicit ? 1 : 0);
    if (!isHostAddress(subnet, f.firstIp)) {
      checkVmIp("fleet.firstIp", f.firstIp, "the first web VM");
    } else if (needed > room) {
      fail(
        "fleet.size",
        `${f.size} web VMs${lbImplicit ? " plus the load balancer" : ""} need ${needed} consecutive addresses from ${f.firstIp}, but ${net.cidr} has room for ${room}`,
      );
    }
    if (clean()) {
      // The web VMs' addresses, then the load balancer's when it has none of its own.
      const addresses = allocateConsecutive(subnet, f.firstIp, needed, net.gateway);
      const instances: VmSlot[] = [];
      for (let i = 1; i <= f.size; i++) {
        const slot = { name: `${f.name}-${i}`, vmId: f.firstVmId + i - 1, ip: addresses[i - 1] };
        instances.push(slot);
        const what = `web VM "${slot.name}"`;
        claim(ids, slot.vmId, { key: keyOf(["fleet", "firstVmId"]), what }, "VM ID");
        claim(ips, slot.ip, { key: keyOf(["fleet", "firstIp"]), what }, "address");
        claim(names, slot.name, { key: keyOf(["fleet", "name"]), what }, "name");
      }
      const lbRaw = f.loadBalancer;
      const lb = {
        name: lbRaw.name ?? `${f.name}-lb`,
        vmId: lbRaw.vmId ?? f.firstVmId + f.size,
        ip: lbRaw.ip ?? addresses[f.size],
        cores: lbRaw.cores,
        memoryMb: lbRaw.memoryMb,
        caddyImage: lbRaw.caddyImage,
      };
      const what = `load balancer "${lb.name}"`;
      checkVmIp("fleet.loadBalancer.ip", lb.ip, "the load balancer");
      claim(ids, lb.vmId, { key: keyOf(["fleet", "loadBalancer", "vmId"]), what }, "VM ID");
      claim(ips, lb.ip, { key: keyOf(["fleet", "loadBalancer", "ip"]), what }, "address");
      claim(names, lb.name, { key: keyOf(["fleet", "loadBalancer", "name"]), what }, "name");
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

  const book: VmBook = {
    claim: (kind, v, k, what) =>
      kind === "id"
        ? claim(ids, v as number, { key: keyOf([k]), what }, "VM ID")
        : claim(
            kind === "ip" ? ips : names,
            v as string,
            { key: keyOf([k]), what },
            kind === "ip" ? "address" : "name",
          ),
    checkVmIp,
    vmNode,
  };
  return {
    net,
    templates,
    ...(fleetCfg ? { fleet: fleetCfg } : {}),
    book,
    ipOwner: (ip) => ips.get(ip)?.what,
    subnet,
  };
}

/** Validate the hosts gateway (after every VM is claimed: its address may not be a VM's). */
export function parseGateway(r: RawProxmox, px: ProxmoxParts, fail: Fail): GatewayConfig {
  const net = px.net;
  const gwNode = px.book.vmNode("gateway.node", r.gateway.node, net.node);
  const gwAddress =
    r.gateway.address ?? r.proxmoxNodes.find((n) => n.name === gwNode)?.address ?? r.proxmoxNodes[0].address;
  const labels = new Set<string>(px.fleet ? [px.fleet.label] : []);
  r.gateway.routes.forEach((route, i) => {
    if (labels.has(route.label)) fail(`gateway.routes[${i}].label`, `"${route.label}" is routed twice`);
    labels.add(route.label);
  });
  if (subnetContains(px.subnet, gwAddress) && gwAddress !== net.gateway) {
    const owner = px.ipOwner(gwAddress);
    if (owner) fail("gateway.address", `${gwAddress} is the address of ${owner}`);
  }
  return {
    node: gwNode,
    address: gwAddress,
    // BIND's built-in ACL "localnets" (every network the gateway host has an interface on) is the LAN the
    // wildcard record sends clients from, plus the bridge; a bare <address>/32 left the LAN out.
    internalNetworks: r.gateway.internalNetworks ?? ["localnets", net.cidr],
    forwarders: r.gateway.forwarders,
    routes: r.gateway.routes,
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
