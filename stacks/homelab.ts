import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../components/artifact";
import type { SshConnection } from "../components/connection";
import { ActionsRunner } from "../components/ci/actionsRunner";
import { ConventionalFleet } from "../components/fleet/conventionalFleet";
import { HostsGateway } from "../components/gateway/hostsGateway";
import { GroguNode } from "../components/k8s/groguNode";
import { K3sCluster, type K3sProxmoxContext } from "../components/k8s/k3sCluster";
import { KnativeService } from "../components/knative/knativeService";
import { CloudImage } from "../components/proxmox/cloudImage";
import { ProxmoxNetwork } from "../components/proxmox/network";
import { VmTemplate } from "../components/proxmox/vmTemplate";
import { FIBONACCI_BEHAVIOR } from "../lib/render/knative";
import { webServiceFunctionSource } from "../components/webService";
import type { StackConfig } from "./config";
import type { K3sClusterConfig } from "./configClusters";
import type { GroguOutputs, HomelabOutputs, K3sClusterOutputs } from "./outputs";

export interface StackResult<O> {
  readonly outputs: O;
  readonly artifacts: readonly Artifact[];
}

/** SSH connection to a Proxmox node by name (validated to exist by the config module). */
export function nodeConnection(cfg: StackConfig, node: string): pulumi.Output<SshConnection> {
  const address = cfg.proxmox.nodes.find((n) => n.name === node)!.address;
  return pulumi.secret({
    host: address,
    user: cfg.proxmox.sshUser,
    privateKey: cfg.proxmox.sshPrivateKey,
    dialErrorLimit: 10,
    perDialTimeout: 15,
  }) as pulumi.Output<SshConnection>;
}

/** What K3s VM nodes need from the stack's Proxmox side (templates, bridge, access). */
export function k3sProxmoxContext(
  cfg: StackConfig,
  templates: Readonly<Record<string, VmTemplate>>,
  bridge: pulumi.Input<string>,
): K3sProxmoxContext {
  return {
    templateVmIds: Object.fromEntries(Object.entries(templates).map(([k, t]) => [k, t.vmId])),
    nodeAddresses: Object.fromEntries(cfg.proxmox.nodes.map((n) => [n.name, n.address])),
    nodeUser: cfg.proxmox.sshUser,
    prefix: cfg.network.prefix,
    gateway: cfg.network.gateway,
    dns: { servers: [cfg.gateway.address], domain: cfg.domain },
    bridge,
    datastores: cfg.storage,
    user: cfg.access.vmUser,
    sshAuthorizedKeys: cfg.access.sshPublicKeys,
  };
}

/** One configured K3s cluster (kantai:k3s.<name>) as a K3sCluster component. */
export function k3sCluster(
  cfg: StackConfig,
  c: K3sClusterConfig,
  proxmox: K3sProxmoxContext | undefined,
  opts?: pulumi.ComponentResourceOptions,
): K3sCluster {
  return new K3sCluster(
    c.name,
    {
      version: c.version,
      nodes: c.nodes,
      flannelBackend: c.flannelBackend,
      apiAddress: c.apiAddress,
      apiForward: c.apiForward,
      disable: c.disable,
      upgrade: c.upgrade,
      evenServersForRemoval: c.serverStepDown,
      ...(c.vip ? { vip: c.vip } : {}),
      ...(c.snapshots ? { etcdSnapshots: c.snapshots } : {}),
      ...(c.s3Credentials ? { s3Credentials: c.s3Credentials } : {}),
      sshPrivateKey: cfg.proxmox.sshPrivateKey,
      proxmox,
    },
    opts,
  );
}

/**
 * An Output placed in the outputs object as the value consumers read (Pulumi resolves nested
 * Outputs on export and keeps a secret one secret, field by field).
 */
const exported = <T>(o: pulumi.Output<T>): T => o as unknown as T;

/** The outputs of one K3s cluster. */
export function k3sClusterOutputs(cluster: K3sCluster, c: K3sClusterConfig): K3sClusterOutputs {
  return {
    name: c.name,
    apiServer: cluster.apiServer,
    kubeconfig: exported(cluster.kubeconfig),
    version: c.version,
    flannelBackend: c.flannelBackend,
    nodes: cluster.nodes,
  };
}

/** The Proxmox side every composition starts from: the provider, the NAT bridge, the cloud image and the VM templates. */
export interface ProxmoxFoundation {
  readonly opts: pulumi.ComponentResourceOptions;
  readonly network: ProxmoxNetwork;
  readonly templates: Readonly<Record<string, VmTemplate>>;
}

export function proxmoxFoundation(cfg: StackConfig): ProxmoxFoundation {
  const provider = new proxmox.Provider("proxmox", {
    endpoint: cfg.proxmox.endpoint,
    apiToken: cfg.proxmox.apiToken,
    insecure: cfg.proxmox.insecure,
    ssh: {
      username: cfg.proxmox.sshUser,
      privateKey: cfg.proxmox.sshPrivateKey,
      nodes: cfg.proxmox.nodes.map((n) => ({ name: n.name, address: n.address })),
    },
  });
  const opts = { providers: { proxmoxve: provider } };
  const net = cfg.network;

  const network = new ProxmoxNetwork(
    "lan",
    {
      node: net.node,
      bridge: net.bridge,
      subnet: net.cidr,
      gateway: net.gateway,
      prefix: net.prefix,
      uplink: net.uplink,
      connection: nodeConnection(cfg, net.node),
    },
    opts,
  );

  const image = new CloudImage(
    "ubuntu-jammy",
    {
      node: net.node,
      datastore: cfg.storage.images,
      url: cfg.image.url,
      fileName: cfg.image.fileName,
      checksum: cfg.image.checksum,
      checksumAlgorithm: cfg.image.checksumAlgorithm,
    },
    opts,
  );

  const dnsServers = [cfg.gateway.address];
  const templates: Record<string, VmTemplate> = {};
  for (const t of Object.values(cfg.templates)) {
    templates[t.key] = new VmTemplate(
      t.key,
      {
        node: t.node,
        vmId: t.vmId,
        cores: t.cores,
        memoryMb: t.memoryMb,
        diskGb: t.diskGb,
        importFrom: image.fileId,
        imageIdentity: [cfg.image.url, cfg.image.fileName, cfg.image.checksum ?? ""].join(" "),
        bridge: network.bridgeName,
        datastores: cfg.storage,
        dns: { servers: dnsServers, domain: cfg.domain },
        allowReplace: t.allowReplace,
      },
      opts,
    );
  }
  return { opts, network, templates };
}

/**
 * Seed 000's homelab: one Proxmox host with the internal NAT bridge, cloud-image templates, the
 * conventional "kenobi" fleet behind a Caddy load balancer, and the hosts gateway (BIND + root Caddy).
 */
export function homelab(cfg: StackConfig): StackResult<HomelabOutputs> {
  const { opts, network, templates } = proxmoxFoundation(cfg);
  const net = cfg.network;
  const dnsServers = [cfg.gateway.address];

  // The hosts gateway first: it is every VM's only resolver, so VMs are created after it is up and
  // cloud-init can resolve package mirrors on first boot (issue 10 item 4).
  const gateway = new HostsGateway(
    "hosts",
    {
      domain: cfg.domain,
      address: cfg.gateway.address,
      internalNetworks: cfg.gateway.internalNetworks,
      forwarders: cfg.gateway.forwarders,
      routes: [
        ...(cfg.fleet ? [{ label: cfg.fleet.label, upstream: `${cfg.fleet.loadBalancer.ip}:80` }] : []),
        // grogu's route (GroguNode.route), from config: the gateway is built before the VMs.
        ...(cfg.grogu ? [{ label: cfg.grogu.label, upstream: `${cfg.grogu.ip}:80` }] : []),
        ...cfg.gateway.routes,
      ],
      connection: nodeConnection(cfg, cfg.gateway.node),
    },
    opts,
  );

  const afterGateway = { ...opts, dependsOn: [network, gateway] };

  let fleet: ConventionalFleet | undefined;
  if (cfg.fleet) {
    const f = cfg.fleet;
    fleet = new ConventionalFleet(
      f.name,
      {
        node: f.node,
        templateVmId: templates[f.template].vmId,
        instances: f.instances,
        cores: f.cores,
        memoryMb: f.memoryMb,
        port: f.port,
        image: f.image,
        loadBalancer: f.loadBalancer,
        domain: cfg.domain,
        label: f.label,
        prefix: net.prefix,
        gateway: net.gateway,
        dnsServers,
        bridge: network.bridgeName,
        datastores: cfg.storage,
        user: cfg.access.vmUser,
        sshAuthorizedKeys: cfg.access.sshPublicKeys,
        sshPrivateKey: cfg.proxmox.sshPrivateKey,
        jump: { host: cfg.proxmox.nodes.find((n) => n.name === f.node)!.address, user: cfg.proxmox.sshUser },
      },
      afterGateway,
    );
  }

  // grogu (kantai:grogu): Minikube + Knative, and the seed's demo function on it.
  let grogu: GroguNode | undefined;
  let demo: KnativeService | undefined;
  if (cfg.grogu) {
    const g = cfg.grogu;
    grogu = new GroguNode(
      g.name,
      {
        node: g.node,
        vmId: g.vmId,
        hostname: g.name,
        templateVmId: templates[g.template].vmId,
        ip: g.ip,
        prefix: net.prefix,
        gateway: net.gateway,
        dns: { servers: dnsServers, domain: cfg.domain },
        cores: g.cores,
        memoryMb: g.memoryMb,
        bridge: network.bridgeName,
        datastores: cfg.storage,
        user: cfg.access.vmUser,
        sshAuthorizedKeys: cfg.access.sshPublicKeys,
        sshPrivateKey: cfg.proxmox.sshPrivateKey,
        jump: { host: cfg.proxmox.nodes.find((n) => n.name === g.node)!.address, user: cfg.proxmox.sshUser },
        domain: cfg.domain,
        label: g.label,
        kubectlVersion: g.kubectlVersion,
        minikube: g.minikube,
        knative: g.knative,
        dashboardNodePort: g.dashboardNodePort,
        caddyImage: g.caddyImage,
      },
      afterGateway,
    );
    if (g.demo) {
      demo = new KnativeService(
        g.demo.name,
        // Seed 000's fibonacci-behavior: concurrency 200, 0–5 pods, 30 s window, burst -1, 200m/512M.
        {
          image: g.demo.image,
          ...(g.demo.source === "web" ? { source: webServiceFunctionSource() } : {}),
          scale: FIBONACCI_BEHAVIOR.scale,
          resources: FIBONACCI_BEHAVIOR.resources,
          domain: g.knative.domain,
        },
        { providers: { kubernetes: grogu.provider }, dependsOn: [grogu] },
      );
    }
  }

  // The lab's CI runner (kantai:ciRunner): previews and deployments from GitHub run inside the lab.
  let runner: ActionsRunner | undefined;
  if (cfg.ciRunner) {
    const c = cfg.ciRunner;
    runner = new ActionsRunner(
      c.name,
      {
        node: c.node,
        vmId: c.vmId,
        hostname: c.name,
        templateVmId: templates[c.template].vmId,
        ip: c.ip,
        prefix: net.prefix,
        gateway: net.gateway,
        dns: { servers: dnsServers, domain: cfg.domain },
        cores: c.cores,
        memoryMb: c.memoryMb,
        bridge: network.bridgeName,
        datastores: cfg.storage,
        user: cfg.access.vmUser,
        sshAuthorizedKeys: cfg.access.sshPublicKeys,
        sshPrivateKey: cfg.proxmox.sshPrivateKey,
        jump: { host: cfg.proxmox.nodes.find((n) => n.name === c.node)!.address, user: cfg.proxmox.sshUser },
        repository: c.repository,
        labels: c.labels,
        apiUrl: c.apiUrl,
        githubToken: c.githubToken,
      },
      afterGateway,
    );
  }

  // K3s clusters (kantai:k3s), when configured.
  const clusters = cfg.k3s.map((c) =>
    k3sCluster(cfg, c, k3sProxmoxContext(cfg, templates, network.bridgeName), afterGateway),
  );

  const outputs: HomelabOutputs = {
    composition: "homelab",
    domain: cfg.domain,
    nameserver: gateway.nameserver,
    network: { bridge: net.bridge, cidr: net.cidr, gateway: net.gateway },
    templates: Object.fromEntries(Object.values(cfg.templates).map((t) => [t.key, t.vmId])),
    ...(cfg.fleet && fleet
      ? {
          fleet: {
            instances: cfg.fleet.instances.map((s) => ({ name: s.name, vmId: s.vmId, ip: s.ip })),
            loadBalancer: {
              name: cfg.fleet.loadBalancer.name,
              vmId: cfg.fleet.loadBalancer.vmId,
              ip: cfg.fleet.loadBalancer.ip,
            },
            siteUrls: fleet.siteUrls,
          },
        }
      : {}),
    testUrl: `http://test.${cfg.domain}`,
    ...(cfg.grogu && grogu
      ? {
          grogu: {
            name: cfg.grogu.name,
            vmId: cfg.grogu.vmId,
            ip: cfg.grogu.ip,
            apiServer: grogu.apiServer,
            kubeconfig: exported(grogu.kubeconfig),
            knativeDomain: grogu.knativeDomain,
            serviceUrlTemplate: grogu.serviceUrl("{service}"),
            serviceUrls: demo && cfg.grogu.demo ? { [cfg.grogu.demo.name]: grogu.serviceUrl(cfg.grogu.demo.name) } : {},
          } satisfies GroguOutputs,
        }
      : {}),
    ...(clusters.length > 0 ? { k3s: clusters.map((c, i) => k3sClusterOutputs(c, cfg.k3s[i])) } : {}),
    ...(cfg.ciRunner && runner
      ? {
          ciRunner: {
            name: cfg.ciRunner.name,
            vmId: cfg.ciRunner.vmId,
            ip: runner.ip,
            repository: cfg.ciRunner.repository,
            labels: runner.labels,
          },
        }
      : {}),
  };

  return {
    outputs,
    artifacts: [
      ...network.artifacts,
      ...Object.values(templates).flatMap((t) => t.artifacts),
      ...(fleet?.artifacts ?? []),
      ...(grogu?.artifacts ?? []),
      ...(demo?.artifacts ?? []),
      ...clusters.flatMap((c) => c.artifacts),
      ...(runner?.artifacts ?? []),
      ...gateway.artifacts,
    ],
  };
}
