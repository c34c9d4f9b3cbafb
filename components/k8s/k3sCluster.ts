import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { BASE_PACKAGES, renderUserData } from "../../lib/render/cloudInit";
import {
  K3S_API_PORT,
  renderK3sBootCheck,
  renderK3sConfig,
  renderK3sInstall,
  renderK3sKubeconfigRead,
  renderK3sNodes,
  renderK3sPrepare,
  renderK3sUninstall,
  type FlannelBackend,
  type K3sRole,
} from "../../lib/render/k3s";
import { renderApiForwardCreate, renderApiForwardDelete } from "../../lib/render/apiForward";
import { rewriteKubeconfig } from "../../lib/render/k3sKubeconfig";
import { asRoot } from "../../lib/render/k3sShell";
import type { Artifact } from "../artifact";
import { ClonedVm } from "../proxmox/clonedVm";
import type { VmDatastores, VmDns } from "../proxmox/vmCommon";
import { DIAL, DIAL_PATIENT, sshConnection, type SshTarget } from "./connections";

/** The label K3sCluster sets on every node from its site. */
export const ZONE_LABEL = "topology.kubernetes.io/zone";

/** An existing machine reached over SSH (a Raspberry Pi, a NUC, a cloud VM). */
export interface K3sHostAccess {
  /** Address or DNS name kantai dials. */
  readonly address: string;
  /** SSH user with passwordless sudo. */
  readonly user: string;
  readonly port: number;
  /** Raspberry Pi OS: cgroup flags in cmdline.txt and a reboot when they are missing. */
  readonly raspberryPi: boolean;
  /** iptables-legacy: true = always, false = never, undefined = where needed (Debian stretch/buster). */
  readonly iptablesLegacy?: boolean;
}

/** A Proxmox VM cloned from a template for the node. */
export interface K3sVmPlacement {
  readonly vmId: number;
  /** Key of the template in `proxmox.templateVmIds`. */
  readonly template: string;
  /** Proxmox node the VM runs on. */
  readonly node: string;
  readonly cores: number;
  readonly memoryMb: number;
}

/** One K3s node; exactly one of `host` and `vm` is set. */
export interface K3sNode {
  /** Node and host name (a DNS label). Stable key of its child resources. */
  readonly name: string;
  readonly role: K3sRole;
  /** Site (network) the node is on; becomes its `topology.kubernetes.io/zone` label. */
  readonly site: string;
  /** Address on its site's network (`--node-ip`; the VM's static address). */
  readonly ip: string;
  /** Address other sites reach it at (`--node-external-ip`). */
  readonly externalIp?: string;
  /** Labels besides the zone. */
  readonly labels: Readonly<Record<string, string>>;
  /** Taints, `key=value:Effect`. */
  readonly taints: readonly string[];
  readonly host?: K3sHostAccess;
  readonly vm?: K3sVmPlacement;
}

/** What VM nodes need from the Proxmox side of the stack. */
export interface K3sProxmoxContext {
  /** Template VM IDs by template key (VmTemplate.vmId, so clones wait for templates). */
  readonly templateVmIds: Readonly<Record<string, pulumi.Input<number>>>;
  /** Address of each Proxmox node by name: VM connections jump through it. */
  readonly nodeAddresses: Readonly<Record<string, string>>;
  /** SSH user on the Proxmox nodes. */
  readonly nodeUser: string;
  /** Prefix length of the bridge subnet. */
  readonly prefix: number;
  readonly gateway: string;
  readonly dns: VmDns;
  readonly bridge: pulumi.Input<string>;
  readonly datastores: VmDatastores;
  /** Login user created by cloud-init. */
  readonly user: string;
  readonly sshAuthorizedKeys: readonly string[];
}

export interface K3sClusterArgs {
  /** Pinned K3s release, e.g. "v1.34.1+k3s1". */
  readonly version: string;
  /** Servers and agents; the first server initialises the cluster. */
  readonly nodes: readonly K3sNode[];
  /** Flannel backend. "wireguard-native" when nodes are on different sites. */
  readonly flannelBackend: FlannelBackend;
  /**
   * Address written into the kubeconfig and the API certificate. Defaults to the forward's Proxmox
   * node address with `apiForward`, else the first server's externalIp, else its ip.
   */
  readonly apiAddress?: string;
  /**
   * A DNAT port-forward on this Proxmox node from `port` to the first server's API (the first server
   * must be a VM on the internal bridge, which the machine running `pulumi up` cannot reach).
   * The kubeconfig then points at `<apiAddress>:<port>`. Defaults to none.
   */
  readonly apiForward?: { readonly port: number; readonly node: string };
  /** Packaged K3s components to leave out (e.g. ["servicelb"]). Defaults to none. */
  readonly disable?: readonly string[];
  /** Private key for SSH to every node (and the jump hosts). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Needed when any node is a VM. */
  readonly proxmox?: K3sProxmoxContext;
}

/** Public facts about a node, for stack outputs. */
export interface K3sNodeInfo {
  readonly name: string;
  readonly role: K3sRole;
  readonly site: string;
  readonly ip: string;
  readonly externalIp?: string;
  /** "host" for an existing machine, "vm" for a Proxmox clone. */
  readonly kind: "host" | "vm";
}

/** User-data of a K3s VM node: SSH keys only, the guest agent and curl; K3s itself comes over SSH. */
export function renderK3sVmUserData(a: { hostname: string; domain: string; user: string; sshAuthorizedKeys: readonly string[] }): string {
  return renderUserData({
    hostname: a.hostname,
    domain: a.domain,
    user: a.user,
    sshAuthorizedKeys: a.sshAuthorizedKeys,
    packages: BASE_PACKAGES.filter((p) => p !== "docker.io"),
    runcmd: [["systemctl", "enable", "--now", "qemu-guest-agent"]],
  });
}

/**
 * A K3s cluster on existing SSH hosts (Raspberry Pis and others) and Proxmox VMs, in any mix and
 * across sites. Servers come up one after another (the first initialises; with more than one
 * server, embedded etcd), then the agents; every node joins with a generated token that travels
 * on standard input, never in a command line or a log. Nodes carry their site as
 * `topology.kubernetes.io/zone`. The kubeconfig comes back over SSH as a secret, pointed at
 * `apiServer`, and `provider` is a Kubernetes provider built from it: use it for everything in
 * the cluster.
 */
export class K3sCluster extends pulumi.ComponentResource {
  /** Admin kubeconfig (secret), server = `apiServer`, cluster/context/user named after the cluster. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** Kubernetes provider for this cluster. */
  public readonly provider: k8s.Provider;
  /** `https://<address>:6443`. */
  public readonly apiServer: string;
  /** The join token (its `result` is secret). */
  public readonly token: random.RandomPassword;
  /** The Proxmox VMs, by node name. */
  public readonly vms: Readonly<Record<string, ClonedVm>>;
  /** Each node's install step, by node name. */
  public readonly installs: Readonly<Record<string, command.remote.Command>>;
  /** The last step before the kubeconfig: every node Ready, labels and taints applied. */
  public readonly nodesReady: command.remote.Command;
  public readonly nodes: readonly K3sNodeInfo[];
  public readonly artifacts: Artifact[];

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:k8s:K3sCluster", name, {}, opts);
    const servers = args.nodes.filter((n) => n.role === "server");
    const agents = args.nodes.filter((n) => n.role === "agent");
    if (servers.length === 0) throw new Error(`K3sCluster ${name}: at least one server is required`);
    if (servers.length > 1 && servers.length % 2 === 0) {
      throw new Error(`K3sCluster ${name}: ${servers.length} servers with embedded etcd; use an odd number`);
    }
    const first = servers[0];
    const etcd = servers.length > 1;
    const wireguard = args.flannelBackend === "wireguard-native";
    const fwd = args.apiForward;
    if (fwd && (!first.vm || !args.proxmox?.nodeAddresses[fwd.node])) {
      throw new Error(`K3sCluster ${name}: apiForward needs the first server (${first.name}) to be a VM and Proxmox node "${fwd.node}" to be known`);
    }
    const apiAddress = args.apiAddress ?? (fwd ? args.proxmox!.nodeAddresses[fwd.node] : (first.externalIp ?? first.ip));
    this.apiServer = `https://${apiAddress}:${fwd?.port ?? K3S_API_PORT}`;
    const artifacts: Artifact[] = [];

    this.token = new random.RandomPassword(`${name}-token`, { length: 48, special: false }, { parent: this });

    const targetOf = (n: K3sNode): SshTarget => {
      if (n.host) return { host: n.host.address, user: n.host.user, port: n.host.port };
      const px = args.proxmox;
      if (!px || !n.vm) throw new Error(`K3sCluster ${name}: node ${n.name} is a VM but no Proxmox context was given`);
      return { host: n.ip, user: px.user, jump: { host: px.nodeAddresses[n.vm.node], user: px.nodeUser } };
    };
    const hostLabel = (n: K3sNode) => `${n.name} (${n.host?.address ?? n.ip})`;
    const connection = (n: K3sNode, patient = false) => sshConnection(targetOf(n), args.sshPrivateKey, patient ? DIAL_PATIENT : DIAL);
    const joinAddress = (n: K3sNode) => (n.site === first.site ? first.ip : (first.externalIp ?? first.ip));
    const labelsOf = (n: K3sNode): Record<string, string> => ({ ...n.labels, [ZONE_LABEL]: n.site });

    // VMs.
    const vms: Record<string, ClonedVm> = {};
    for (const n of args.nodes) {
      if (!n.vm) continue;
      const px = args.proxmox!;
      const userData = renderK3sVmUserData({ hostname: n.name, domain: px.dns.domain, user: px.user, sshAuthorizedKeys: px.sshAuthorizedKeys });
      vms[n.name] = new ClonedVm(
        `${name}-${n.name}`,
        {
          node: n.vm.node,
          vmId: n.vm.vmId,
          hostname: n.name,
          templateVmId: px.templateVmIds[n.vm.template],
          address: `${n.ip}/${px.prefix}`,
          gateway: px.gateway,
          dns: px.dns,
          cores: n.vm.cores,
          memoryMb: n.vm.memoryMb,
          bridge: px.bridge,
          datastores: px.datastores,
          userData,
          artifactPath: `${name}/${n.name}.user-data.yaml`,
          tags: ["kantai", name, `k3s-${n.role}`],
          startupOrder: n.role === "server" ? 5 : 6,
        },
        { parent: this },
      );
      artifacts.push(...vms[n.name].artifacts);
    }
    this.vms = vms;
    // A step on a VM runs against that VM instance: when the provider replaces the VM (a user-data
    // edit, bpg #1636), its steps are replaced too and so run again on the new machine (replaceWith;
    // update commands re-run only on input changes, and the VM's ID and address do not change).
    // deletedWith: a step's delete (the K3s uninstall) is skipped when its VM is being deleted anyway —
    // so the old step's delete never runs against the new VM at the same address.
    const onVm = (n: K3sNode): pulumi.CustomResourceOptions =>
      n.vm ? { replaceWith: [vms[n.name].vm], deletedWith: vms[n.name].vm } : {};
    const allVms = Object.values(vms).map((v) => v.vm);

    // Per node: prepare (and, on a Pi, the boot check after a reboot), then install.
    const installs: Record<string, command.remote.Command> = {};
    const serverInstalls: command.remote.Command[] = [];
    for (const n of [...servers, ...agents]) {
      const host = hostLabel(n);
      const prepareScript = renderK3sPrepare({
        host,
        raspberryPi: n.host?.raspberryPi ?? false,
        iptablesLegacy: n.host?.iptablesLegacy,
        wireguard,
        cloudInit: n.vm !== undefined,
      });
      const prepare = new command.remote.Command(
        `${name}-${n.name}-prepare`,
        {
          connection: connection(n, n.vm !== undefined),
          create: asRoot(prepareScript, `kantai-prepare-${n.name}`),
          update: asRoot(prepareScript, `kantai-prepare-${n.name}`),
        },
        { parent: this, dependsOn: n.vm ? [vms[n.name]] : [], customTimeouts: { create: "30m", update: "30m" }, ...onVm(n) },
      );
      artifacts.push({ path: `${name}/${n.name}.prepare.sh`, kind: "shell", resource: `${name}-${n.name}-prepare`, content: prepareScript });

      let ready: command.remote.Command = prepare;
      if (n.host?.raspberryPi) {
        const bootScript = renderK3sBootCheck(host);
        ready = new command.remote.Command(
          `${name}-${n.name}-boot`,
          {
            connection: connection(n, true),
            create: asRoot(bootScript, `kantai-boot-${n.name}`),
            update: asRoot(bootScript, `kantai-boot-${n.name}`),
            // The prepare step prints the boot id and whether it rebooted: a new reboot re-runs the check.
            triggers: [prepare.stdout],
          },
          { parent: this, dependsOn: [prepare], customTimeouts: { create: "15m", update: "15m" } },
        );
        artifacts.push({ path: `${name}/${n.name}.boot-check.sh`, kind: "shell", resource: `${name}-${n.name}-boot`, content: bootScript });
      }

      const isFirst = n === first;
      const config = renderK3sConfig({
        nodeName: n.name,
        role: n.role,
        server: isFirst ? undefined : `https://${joinAddress(n)}:${K3S_API_PORT}`,
        clusterInit: isFirst && etcd,
        nodeIp: n.ip,
        nodeExternalIp: n.externalIp,
        flannelBackend: args.flannelBackend,
        tlsSans: n.role === "server" ? [...new Set([apiAddress, n.ip, ...(n.externalIp ? [n.externalIp] : [])])] : [],
        disable: args.disable ?? [],
        labels: labelsOf(n),
        taints: n.taints,
      });
      const installScript = renderK3sInstall({ host, nodeName: n.name, role: n.role, version: args.version, config });
      const uninstallScript = renderK3sUninstall(host, n.role);
      // Servers join one at a time after the first; agents after every server.
      const after = [...serverInstalls];
      const install = new command.remote.Command(
        `${name}-${n.name}-install`,
        {
          connection: connection(n),
          create: asRoot(installScript, `kantai-install-${n.name}`),
          update: asRoot(installScript, `kantai-install-${n.name}`),
          delete: asRoot(uninstallScript, `kantai-uninstall-${n.name}`),
          stdin: pulumi.secret(this.token.result),
          // The token travels on stdin; nothing the scripts print contains it, stdout is not logged.
          logging: "stderr",
        },
        { parent: this, dependsOn: [ready, ...after], customTimeouts: { create: "20m", update: "20m", delete: "10m" }, ...onVm(n) },
      );
      artifacts.push(
        { path: `${name}/${n.name}.config.yaml`, kind: "other", resource: `${name}-${n.name}-install`, content: config },
        { path: `${name}/${n.name}.install.sh`, kind: "shell", resource: `${name}-${n.name}-install`, content: installScript },
        { path: `${name}/${n.name}.uninstall.sh`, kind: "shell", resource: `${name}-${n.name}-install`, content: uninstallScript },
      );
      installs[n.name] = install;
      if (n.role === "server") serverInstalls.push(install);
    }
    this.installs = installs;

    // Cluster-wide, on the first server: all nodes Ready, labels and taints converged; then the kubeconfig.
    const firstHost = hostLabel(first);
    const nodesScript = renderK3sNodes({
      host: firstHost,
      nodes: args.nodes.map((n) => ({ name: n.name, labels: labelsOf(n), taints: n.taints })),
    });
    this.nodesReady = new command.remote.Command(
      `${name}-nodes`,
      { connection: connection(first), create: asRoot(nodesScript, "kantai-nodes"), update: asRoot(nodesScript, "kantai-nodes") },
      // Any replaced VM is a new node to wait for and label.
      { parent: this, dependsOn: Object.values(installs), customTimeouts: { create: "20m", update: "20m" }, ...(allVms.length > 0 ? { replaceWith: allVms } : {}) },
    );
    const kubeconfigScript = renderK3sKubeconfigRead(firstHost);
    const read = new command.remote.Command(
      `${name}-kubeconfig`,
      {
        connection: connection(first),
        create: asRoot(kubeconfigScript, "kantai-kubeconfig"),
        update: asRoot(kubeconfigScript, "kantai-kubeconfig"),
        triggers: [args.version, apiAddress],
        logging: "none",
      },
      // A replaced first server has a new kubeconfig (new CA and admin credentials): read it again.
      {
        parent: this,
        dependsOn: [this.nodesReady],
        additionalSecretOutputs: ["stdout"],
        customTimeouts: { create: "5m", update: "5m" },
        ...(first.vm ? { replaceWith: [vms[first.name].vm] } : {}),
      },
    );
    artifacts.push(
      { path: `${name}/nodes.sh`, kind: "shell", resource: `${name}-nodes`, content: nodesScript },
      { path: `${name}/kubeconfig.sh`, kind: "shell", resource: `${name}-kubeconfig`, content: kubeconfigScript },
    );
    // The API forward on the Proxmox host; the kubeconfig (and so every object on the cluster) waits for it.
    let forwardReady: pulumi.Output<string> = pulumi.output("");
    if (fwd) {
      const px = args.proxmox!;
      const spec = { cluster: name, port: fwd.port, target: first.ip, targetPort: K3S_API_PORT };
      const create = renderApiForwardCreate(spec);
      const del = renderApiForwardDelete(spec);
      const forward = new command.remote.Command(
        `${name}-api-forward`,
        { connection: sshConnection({ host: px.nodeAddresses[fwd.node], user: px.nodeUser }, args.sshPrivateKey, DIAL), create, update: create, delete: del },
        { parent: this, customTimeouts: { create: "5m", update: "5m", delete: "5m" } },
      );
      forwardReady = forward.stdout;
      artifacts.push(
        { path: `${name}/api-forward-create.sh`, kind: "shell", resource: `${name}-api-forward`, content: create },
        { path: `${name}/api-forward-delete.sh`, kind: "shell", resource: `${name}-api-forward`, content: del },
      );
    }
    this.kubeconfig = pulumi.secret(pulumi.all([read.stdout, forwardReady]).apply(([s]) => rewriteKubeconfig(s, this.apiServer, name)));
    // enableConfigMapMutable: without it pulumi-kubernetes replaces (deletes, then recreates under the
    // same name) every ConfigMap whose data changes (provider/pkg/provider/diff.go; the provider
    // schema's enableConfigMapMutable); kantai's ConfigMaps are updated in place and the Deployments
    // that mount them roll by their config-hash annotation. Changing it is a provider update, not a
    // replacement (DiffConfig replaces only when the cluster identity changes).
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true, enableConfigMapMutable: true }, { parent: this });

    this.nodes = args.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      site: n.site,
      ip: n.ip,
      ...(n.externalIp ? { externalIp: n.externalIp } : {}),
      kind: n.vm ? ("vm" as const) : ("host" as const),
    }));
    this.artifacts = artifacts;
    this.registerOutputs({ apiServer: this.apiServer, kubeconfig: this.kubeconfig, nodes: this.nodes });
  }
}
