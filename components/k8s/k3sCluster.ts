import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  K3S_API_PORT,
  renderK3sBootCheck,
  renderK3sConfig,
  renderK3sInstall,
  renderK3sKubeconfigRead,
  renderK3sNodes,
  renderK3sPrepare,
  renderK3sUninstall,
  renderK3sVmUserData,
  type FlannelBackend,
  type K3sEtcdSnapshots,
  type K3sRole,
} from "../../lib/render/k3s";
import {
  renderK3sDrain,
  renderK3sEtcdRestore,
  renderK3sForget,
  renderK3sGate,
  renderK3sPreUpgradeSnapshot,
  renderK3sRemoveDrain,
  renderK3sUpgrade,
  renderKubeVipManifest,
} from "../../lib/render/k3sDay2";
import { renderApiForwardCreate, renderApiForwardDelete } from "../../lib/render/apiForward";
import { rewriteKubeconfig } from "../../lib/render/kubeconfig";
import { asRoot } from "../../lib/render/remoteShell";
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
  /** Packaged K3s components to leave out, e.g. ["servicelb"] (kantai:k3s.<cluster>.disable; default in stacks/config/clusters.ts: none). */
  readonly disable: readonly string[];
  /** Allow an even server count for one change: a server is being removed on the way to the next odd count. Defaults to false. */
  readonly evenServersForRemoval?: boolean;
  /**
   * Rolling upgrades and node removal: drain timeout (s) and agents upgraded at once
   * (kantai:k3s.<cluster>.upgrade; defaults in stacks/config/clusters.ts, UPGRADE_DEFAULTS).
   */
  readonly upgrade: { readonly drainTimeoutSeconds: number; readonly maxUnavailable: number };
  /**
   * HA API address (more than one server): kube-vip as a static pod in ARP mode on the servers of
   * `site`, announcing `address` on `interface`. It becomes the API address (kubeconfig, provider,
   * every server's tls-san). Defaults to none.
   */
  readonly vip?: { readonly address: string; readonly interface: string; readonly site: string };
  /** Embedded etcd (more than one server): scheduled snapshots, optional S3 target. Defaults to K3s' own (12-hourly, 5 kept). */
  readonly etcdSnapshots?: K3sEtcdSnapshots;
  /** Credentials of `etcdSnapshots.s3` (secrets; they reach the servers on stdin). */
  readonly s3Credentials?: { readonly accessKey: pulumi.Input<string>; readonly secretKey: pulumi.Input<string> };
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
  /** Each node's configure step (token, config.yaml, static pods; uninstall on delete), by node name. */
  public readonly installs: Readonly<Record<string, command.remote.Command>>;
  /** Each node's rolling-upgrade steps, by node name: drain (on a server) → upgrade (on the node) → gate (on a server). */
  public readonly roll: Readonly<
    Record<
      string,
      {
        readonly drain: command.remote.Command;
        readonly upgrade: command.remote.Command;
        readonly gate: command.remote.Command;
      }
    >
  >;
  /** The on-demand etcd snapshot before a roll (embedded etcd only). */
  public readonly snapshot?: command.remote.Command;
  /** The last step before the kubeconfig: every node Ready, labels and taints applied. */
  public readonly nodesReady: command.remote.Command;
  public readonly nodes: readonly K3sNodeInfo[];
  public readonly artifacts: Artifact[];

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:k8s:K3sCluster", name, {}, opts);
    const servers = args.nodes.filter((n) => n.role === "server");
    const agents = args.nodes.filter((n) => n.role === "agent");
    if (servers.length === 0) throw new Error(`K3sCluster ${name}: at least one server is required`);
    if (servers.length > 1 && servers.length % 2 === 0 && !args.evenServersForRemoval) {
      throw new Error(`K3sCluster ${name}: ${servers.length} servers with embedded etcd; use an odd number`);
    }
    const first = servers[0];
    const etcd = servers.length > 1;
    const wireguard = args.flannelBackend === "wireguard-native";
    const fwd = args.apiForward;
    if (fwd && (!first.vm || !args.proxmox?.nodeAddresses[fwd.node])) {
      throw new Error(
        `K3sCluster ${name}: apiForward needs the first server (${first.name}) to be a VM and Proxmox node "${fwd.node}" to be known`,
      );
    }
    const vip = args.vip;
    if (vip && !etcd) throw new Error(`K3sCluster ${name}: a virtual API address needs more than one server`);
    if (vip && fwd) throw new Error(`K3sCluster ${name}: a virtual API address and apiForward exclude each other`);
    if (args.etcdSnapshots && !etcd)
      throw new Error(`K3sCluster ${name}: etcd snapshots need embedded etcd (more than one server)`);
    const apiAddress =
      vip?.address ?? args.apiAddress ?? (fwd ? args.proxmox!.nodeAddresses[fwd.node] : (first.externalIp ?? first.ip));
    this.apiServer = `https://${apiAddress}:${fwd?.port ?? K3S_API_PORT}`;
    const kubeVip = vip ? renderKubeVipManifest({ address: vip.address, interface: vip.interface }) : undefined;
    const staticPodFor = (n: K3sNode) => kubeVip !== undefined && n.role === "server" && n.site === vip!.site;
    const s3 = args.etcdSnapshots?.s3 !== undefined;
    if (s3 && !args.s3Credentials) throw new Error(`K3sCluster ${name}: etcdSnapshots.s3 needs s3Credentials`);
    const artifacts: Artifact[] = [];

    this.token = new random.RandomPassword(`${name}-token`, { length: 48, special: false }, { parent: this });

    const targetOf = (n: K3sNode): SshTarget => {
      if (n.host) return { host: n.host.address, user: n.host.user, port: n.host.port };
      const px = args.proxmox;
      if (!px || !n.vm) throw new Error(`K3sCluster ${name}: node ${n.name} is a VM but no Proxmox context was given`);
      return { host: n.ip, user: px.user, jump: { host: px.nodeAddresses[n.vm.node], user: px.nodeUser } };
    };
    const hostLabel = (n: K3sNode) => `${n.name} (${n.host?.address ?? n.ip})`;
    const connection = (n: K3sNode, patient = false) =>
      sshConnection(targetOf(n), args.sshPrivateKey, patient ? DIAL_PATIENT : DIAL);
    const joinAddress = (n: K3sNode) => (n.site === first.site ? first.ip : (first.externalIp ?? first.ip));
    const labelsOf = (n: K3sNode): Record<string, string> => ({ ...n.labels, [ZONE_LABEL]: n.site });

    // VMs.
    // Removing a node: its forget step's delete (on the first server: delete the Node object, which
    // also removes a server's etcd member) must run once K3s no longer runs on the node, or its
    // kubelet registers the Node again. A VM node's forget step is a dependency of the VM (deleted
    // after the VM is destroyed); a host's, of its install step (deleted after the uninstall).
    const forgets: Record<string, command.remote.Command> = {};
    const forgetStep = (n: K3sNode, dependsOn: pulumi.Resource[]) => {
      const forgetScript = renderK3sForget({
        host: hostLabel(first),
        node: n.name,
        etcdMember: n.role === "server" && etcd,
      });
      forgets[n.name] = new command.remote.Command(
        `${name}-${n.name}-forget`,
        { connection: connection(first), delete: asRoot(forgetScript, `kantai-forget-${n.name}`) },
        { parent: this, dependsOn, customTimeouts: { delete: "10m" } },
      );
      artifacts.push({
        path: `${name}/${n.name}.forget.sh`,
        kind: "shell",
        resource: `${name}-${n.name}-forget`,
        content: forgetScript,
      });
      return forgets[n.name];
    };
    const vms: Record<string, ClonedVm> = {};
    for (const n of args.nodes) {
      if (!n.vm) continue;
      const forget = n === first ? undefined : forgetStep(n, []);
      const px = args.proxmox!;
      const userData = renderK3sVmUserData({
        hostname: n.name,
        domain: px.dns.domain,
        user: px.user,
        sshAuthorizedKeys: px.sshAuthorizedKeys,
      });
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
        { parent: this, ...(forget ? { dependsOn: [forget] } : {}) },
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
    const firstHost = hostLabel(first);
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
        {
          parent: this,
          dependsOn: n.vm ? [vms[n.name]] : [],
          customTimeouts: { create: "30m", update: "30m" },
          ...onVm(n),
        },
      );
      artifacts.push({
        path: `${name}/${n.name}.prepare.sh`,
        kind: "shell",
        resource: `${name}-${n.name}-prepare`,
        content: prepareScript,
      });

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
        artifacts.push({
          path: `${name}/${n.name}.boot-check.sh`,
          kind: "shell",
          resource: `${name}-${n.name}-boot`,
          content: bootScript,
        });
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
        disable: args.disable,
        labels: labelsOf(n),
        taints: n.taints,
        ...(n.role === "server" && args.etcdSnapshots ? { etcdSnapshots: args.etcdSnapshots } : {}),
      });
      const withS3 = s3 && n.role === "server";
      const staticPod = staticPodFor(n) ? { name: "kube-vip", content: kubeVip! } : undefined;
      const installScript = renderK3sInstall({
        host,
        nodeName: n.name,
        role: n.role,
        config,
        s3Credentials: withS3,
        ...(staticPod ? { staticPod } : {}),
      });
      const uninstallScript = renderK3sUninstall(host, n.role);
      // Configure steps: servers one at a time after the first (a config change restarts them one by
      // one), agents after every server. Every node but the first has a forget step before it
      // (deleted after its uninstall: the Node object goes once K3s no longer runs there).
      const after = [...serverInstalls];
      if (!isFirst && !n.vm) after.push(forgetStep(n, [ready, installs[first.name]]));
      const stdin = withS3
        ? pulumi.secret(
            pulumi
              .all([this.token.result, args.s3Credentials!.accessKey, args.s3Credentials!.secretKey])
              .apply((xs) => xs.join("\n") + "\n"),
          )
        : pulumi.secret(this.token.result);
      const install = new command.remote.Command(
        `${name}-${n.name}-install`,
        {
          connection: connection(n),
          create: asRoot(installScript, `kantai-install-${n.name}`),
          update: asRoot(installScript, `kantai-install-${n.name}`),
          delete: asRoot(uninstallScript, `kantai-uninstall-${n.name}`),
          stdin,
          // The token (and S3 credentials) travel on stdin; nothing the scripts print contains it, stdout is not logged.
          logging: "stderr",
        },
        {
          parent: this,
          dependsOn: [ready, ...after],
          customTimeouts: { create: "20m", update: "20m", delete: "10m" },
          ...onVm(n),
        },
      );
      artifacts.push(
        {
          path: `${name}/${n.name}.config.yaml`,
          kind: "other",
          resource: `${name}-${n.name}-install`,
          content: config,
        },
        {
          path: `${name}/${n.name}.install.sh`,
          kind: "shell",
          resource: `${name}-${n.name}-install`,
          content: installScript,
        },
        {
          path: `${name}/${n.name}.uninstall.sh`,
          kind: "shell",
          resource: `${name}-${n.name}-install`,
          content: uninstallScript,
        },
      );
      installs[n.name] = install;
      if (n.role === "server") serverInstalls.push(install);
    }
    this.installs = installs;

    // The rolling upgrade (docs/decisions/0020): an etcd snapshot, then per node, servers first, then
    // agents (`maxUnavailable` at a time), in config order: drain (on the first server) → upgrade (on
    // the node: the only step that carries the version, and a new node's first install) → gate (on
    // the first server: Ready at the version, /readyz, uncordon). Each batch waits for the previous
    // one's gates, so a failure stops the roll there. A drain's delete drains a removed node.
    const drainTimeout = args.upgrade.drainTimeoutSeconds;
    const maxUnavailable = args.upgrade.maxUnavailable;
    const gateTimeout = 600;
    const minutes = (seconds: number) => `${Math.ceil(seconds / 60) + 5}m`;
    if (etcd) {
      const snapScript = renderK3sPreUpgradeSnapshot({ host: firstHost, version: args.version });
      this.snapshot = new command.remote.Command(
        `${name}-etcd-snapshot`,
        {
          connection: connection(first),
          create: asRoot(snapScript, "kantai-etcd-snapshot"),
          update: asRoot(snapScript, "kantai-etcd-snapshot"),
          logging: "stderr",
        },
        { parent: this, dependsOn: [installs[first.name]], customTimeouts: { create: "10m", update: "10m" } },
      );
      artifacts.push({
        path: `${name}/etcd-snapshot.sh`,
        kind: "shell",
        resource: `${name}-etcd-snapshot`,
        content: snapScript,
      });
      const restore = renderK3sEtcdRestore();
      artifacts.push({ path: `${name}/etcd-restore.sh`, kind: "shell", resource: name, content: restore });
    }
    const batches: K3sNode[][] = servers.map((n) => [n]);
    for (let i = 0; i < agents.length; i += maxUnavailable) batches.push(agents.slice(i, i + maxUnavailable));
    const roll: Record<
      string,
      { drain: command.remote.Command; upgrade: command.remote.Command; gate: command.remote.Command }
    > = {};
    let previous: pulumi.Resource[] = this.snapshot ? [this.snapshot] : [];
    for (const batch of batches) {
      const gates: command.remote.Command[] = [];
      for (const n of batch) {
        const spec = { host: firstHost, node: n.name, version: args.version };
        const drainScript = renderK3sDrain({ ...spec, timeoutSeconds: drainTimeout });
        const removeScript =
          n === first
            ? undefined
            : renderK3sRemoveDrain({ host: firstHost, node: n.name, timeoutSeconds: drainTimeout });
        const drain = new command.remote.Command(
          `${name}-${n.name}-drain`,
          {
            connection: connection(first),
            create: asRoot(drainScript, `kantai-drain-${n.name}`),
            update: asRoot(drainScript, `kantai-drain-${n.name}`),
            ...(removeScript ? { delete: asRoot(removeScript, `kantai-remove-drain-${n.name}`) } : {}),
          },
          {
            parent: this,
            dependsOn: [installs[n.name], ...previous],
            customTimeouts: {
              create: minutes(drainTimeout),
              update: minutes(drainTimeout),
              delete: minutes(drainTimeout),
            },
          },
        );
        const upScript = renderK3sUpgrade({ host: hostLabel(n), node: n.name, role: n.role, version: args.version });
        const upgrade = new command.remote.Command(
          `${name}-${n.name}-upgrade`,
          {
            connection: connection(n),
            create: asRoot(upScript, `kantai-upgrade-${n.name}`),
            update: asRoot(upScript, `kantai-upgrade-${n.name}`),
            logging: "stderr",
          },
          {
            parent: this,
            dependsOn: [drain],
            customTimeouts: { create: "20m", update: "20m" },
            ...(n.vm ? { replaceWith: [vms[n.name].vm] } : {}),
          },
        );
        const gateScript = renderK3sGate({ ...spec, timeoutSeconds: gateTimeout });
        const gate = new command.remote.Command(
          `${name}-${n.name}-gate`,
          {
            connection: connection(first),
            create: asRoot(gateScript, `kantai-gate-${n.name}`),
            update: asRoot(gateScript, `kantai-gate-${n.name}`),
          },
          {
            parent: this,
            dependsOn: [upgrade],
            customTimeouts: { create: minutes(2 * gateTimeout), update: minutes(2 * gateTimeout) },
            ...(n.vm ? { replaceWith: [vms[n.name].vm] } : {}),
          },
        );
        artifacts.push(
          {
            path: `${name}/${n.name}.drain.sh`,
            kind: "shell",
            resource: `${name}-${n.name}-drain`,
            content: drainScript,
          },
          ...(removeScript
            ? [
                {
                  path: `${name}/${n.name}.remove-drain.sh`,
                  kind: "shell" as const,
                  resource: `${name}-${n.name}-drain`,
                  content: removeScript,
                },
              ]
            : []),
          {
            path: `${name}/${n.name}.upgrade.sh`,
            kind: "shell",
            resource: `${name}-${n.name}-upgrade`,
            content: upScript,
          },
          { path: `${name}/${n.name}.gate.sh`, kind: "shell", resource: `${name}-${n.name}-gate`, content: gateScript },
        );
        if (staticPodFor(n))
          artifacts.push({
            path: `${name}/${n.name}.kube-vip.yaml`,
            kind: "kubernetes",
            resource: `${name}-${n.name}-install`,
            content: kubeVip!,
          });
        roll[n.name] = { drain, upgrade, gate };
        gates.push(gate);
      }
      previous = gates;
    }
    this.roll = roll;

    // Cluster-wide, on the first server: all nodes Ready, labels and taints converged; then the kubeconfig.
    const nodesScript = renderK3sNodes({
      host: firstHost,
      nodes: args.nodes.map((n) => ({ name: n.name, labels: labelsOf(n), taints: n.taints })),
    });
    this.nodesReady = new command.remote.Command(
      `${name}-nodes`,
      {
        connection: connection(first),
        create: asRoot(nodesScript, "kantai-nodes"),
        update: asRoot(nodesScript, "kantai-nodes"),
      },
      // Any replaced VM is a new node to wait for and label.
      {
        parent: this,
        dependsOn: Object.values(roll).map((r) => r.gate),
        customTimeouts: { create: "20m", update: "20m" },
        ...(allVms.length > 0 ? { replaceWith: allVms } : {}),
      },
    );
    const kubeconfigScript = renderK3sKubeconfigRead(firstHost);
    const read = new command.remote.Command(
      `${name}-kubeconfig`,
      {
        connection: connection(first),
        create: asRoot(kubeconfigScript, "kantai-kubeconfig"),
        update: asRoot(kubeconfigScript, "kantai-kubeconfig"),
        // Not the K3s version: a read that runs again is unknown in a preview, and the Kubernetes
        // provider then previews itself and every object on the cluster as replaced (pulumi-kubernetes
        // provider/pkg/provider/provider.go DiffConfig on a computed kubeconfig), so a version bump's
        // preview would not show what the roll changes (test/engine/k8sEdge.test.ts). An upgrade
        // keeps the cluster's CA and the admin credentials.
        triggers: [apiAddress],
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
        {
          connection: sshConnection({ host: px.nodeAddresses[fwd.node], user: px.nodeUser }, args.sshPrivateKey, DIAL),
          create,
          update: create,
          delete: del,
        },
        { parent: this, customTimeouts: { create: "5m", update: "5m", delete: "5m" } },
      );
      forwardReady = forward.stdout;
      artifacts.push(
        { path: `${name}/api-forward-create.sh`, kind: "shell", resource: `${name}-api-forward`, content: create },
        { path: `${name}/api-forward-delete.sh`, kind: "shell", resource: `${name}-api-forward`, content: del },
      );
    }
    this.kubeconfig = pulumi.secret(
      pulumi.all([read.stdout, forwardReady]).apply(([s]) => rewriteKubeconfig(s, this.apiServer, name)),
    );
    // enableConfigMapMutable: without it pulumi-kubernetes replaces (deletes, then recreates under the
    // same name) every ConfigMap whose data changes (provider/pkg/provider/diff.go; the provider
    // schema's enableConfigMapMutable); kantai's ConfigMaps are updated in place and the Deployments
    // that mount them roll by their config-hash annotation. Changing it is a provider update, not a
    // replacement (DiffConfig replaces only when the cluster identity changes).
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true, enableConfigMapMutable: true },
      { parent: this },
    );

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
