import { ActionsRunner } from "../components/ci/actionsRunner";
import { ConventionalFleet } from "../components/fleet/conventionalFleet";
import { GroguNode } from "../components/k8s/groguNode";
import { KnativeService } from "../components/knative/knativeService";
import { webServiceFunctionSource } from "../components/webService";
import { FIBONACCI_BEHAVIOR } from "../lib/render/knative";
import type { HomelabConfig } from "./config";
import type { GroguOutputs, HomelabOutputs } from "./outputs";
import { exported, k3sClusterOutputs, k3sClusters, proxmoxBase, vmJump, type StackResult } from "./parts";

/**
 * Seed 000's homelab: one Proxmox host with the internal NAT bridge, cloud-image templates, the
 * conventional "kenobi" fleet behind a Caddy load balancer, grogu (Minikube + Knative), the lab's CI
 * runner, K3s clusters, and the hosts gateway (BIND + root Caddy) routing to the fleet and grogu.
 */
export function homelab(cfg: HomelabConfig): StackResult<HomelabOutputs> {
  const net = cfg.network;
  const dnsServers = [cfg.gateway.address];
  // The gateway is built before the VMs, so the fleet's and grogu's routes come from config.
  const base = proxmoxBase(cfg, [
    ...(cfg.fleet ? [{ label: cfg.fleet.label, upstream: `${cfg.fleet.loadBalancer.ip}:80` }] : []),
    ...(cfg.grogu ? [{ label: cfg.grogu.label, upstream: `${cfg.grogu.ip}:80` }] : []),
  ]);
  const { network, templates, gateway, afterGateway } = base;
  /** What every VM on the bridge takes alike: its network, datastores, login and the SSH key kantai connects with. */
  const onBridge = {
    prefix: net.prefix,
    gateway: net.gateway,
    bridge: network.bridgeName,
    datastores: cfg.storage,
    user: cfg.access.vmUser,
    sshAuthorizedKeys: cfg.access.sshPublicKeys,
    sshPrivateKey: cfg.proxmox.sshPrivateKey,
  };

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
        ...onBridge,
        dnsServers,
        jump: vmJump(cfg, f.node),
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
        ...onBridge,
        dns: { servers: dnsServers, domain: cfg.domain },
        cores: g.cores,
        memoryMb: g.memoryMb,
        jump: vmJump(cfg, g.node),
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
        ...onBridge,
        dns: { servers: dnsServers, domain: cfg.domain },
        cores: c.cores,
        memoryMb: c.memoryMb,
        jump: vmJump(cfg, c.node),
        repository: c.repository,
        labels: c.labels,
        apiUrl: c.apiUrl,
        githubToken: c.githubToken,
      },
      afterGateway,
    );
  }

  // K3s clusters (kantai:k3s), when configured.
  const clusters = k3sClusters(cfg, base).all;

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
    ...(clusters.length > 0 ? { k3s: clusters.map((c) => k3sClusterOutputs(c.cluster, c.config)) } : {}),
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
      ...clusters.flatMap((c) => c.cluster.artifacts),
      ...(runner?.artifacts ?? []),
      ...gateway.artifacts,
    ],
  };
}
