import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../components/artifact";
import { CloudflareTunnel } from "../components/cloudflare/cloudflareTunnel";
import { HostsGateway } from "../components/gateway/hostsGateway";
import type { K3sCluster } from "../components/k8s/k3sCluster";
import { Knative } from "../components/knative/knative";
import { KnativeService } from "../components/knative/knativeService";
import { CloudImage } from "../components/proxmox/cloudImage";
import { ProxmoxNetwork } from "../components/proxmox/network";
import { VmTemplate } from "../components/proxmox/vmTemplate";
import { CorednsRewrite } from "../components/webapp/corednsRewrite";
import { WebApp } from "../components/webapp/webApp";
import { webServiceFunctionSource } from "../components/webService";
import type { StackConfig } from "./config";
import { k3sCluster, k3sProxmoxContext, nodeConnection, type StackResult } from "./homelab";
import type { ClusterPlatformOutputs, EdgeOutputs, Exported, TunnelOutput } from "./outputs";

/** The Proxmox side every cluster composition shares: provider, NAT bridge, image, templates, hosts gateway. */
export interface ProxmoxBase {
  readonly opts: pulumi.ComponentResourceOptions;
  readonly network: ProxmoxNetwork;
  readonly templates: Readonly<Record<string, VmTemplate>>;
  readonly gateway: HostsGateway;
  readonly artifacts: readonly Artifact[];
}

export function proxmoxBase(cfg: StackConfig): ProxmoxBase {
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
    { node: net.node, bridge: net.bridge, subnet: net.cidr, gateway: net.gateway, prefix: net.prefix, uplink: net.uplink, connection: nodeConnection(cfg, net.node) },
    opts,
  );
  const image = new CloudImage(
    "ubuntu-jammy",
    { node: net.node, datastore: cfg.storage.images, url: cfg.image.url, fileName: cfg.image.fileName, checksum: cfg.image.checksum, checksumAlgorithm: cfg.image.checksumAlgorithm },
    opts,
  );
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
        bridge: network.bridgeName,
        datastores: cfg.storage,
        user: cfg.access.vmUser,
        sshAuthorizedKeys: cfg.access.sshPublicKeys,
        dns: { servers: [cfg.gateway.address], domain: cfg.domain },
      },
      opts,
    );
  }
  const gateway = new HostsGateway(
    "hosts",
    {
      domain: cfg.domain,
      address: cfg.gateway.address,
      internalNetworks: cfg.gateway.internalNetworks,
      forwarders: cfg.gateway.forwarders,
      routes: cfg.gateway.routes,
      connection: nodeConnection(cfg, cfg.gateway.node),
    },
    opts,
  );
  return {
    opts,
    network,
    templates,
    gateway,
    artifacts: [...network.artifacts, ...Object.values(templates).flatMap((t) => t.artifacts), ...gateway.artifacts],
  };
}

/** The K3s clusters of kantai:k3s, and the one the platform runs on. */
export function clusters(cfg: StackConfig, base: ProxmoxBase): { all: K3sCluster[]; platform: K3sCluster } {
  const all = cfg.k3s.map((c) => k3sCluster(cfg, c, k3sProxmoxContext(cfg, base.templates, base.network.bridgeName), { ...base.opts, dependsOn: [base.network] }));
  // The config module guarantees a platform cluster for the edge and lab compositions.
  const platform = all.find((c, i) => cfg.k3s[i].name === cfg.platformCluster) ?? all[0];
  return { all, platform };
}

export interface Platform {
  readonly knative?: Knative;
  readonly tunnel?: CloudflareTunnel;
  readonly functions: readonly KnativeService[];
  readonly webapps: readonly WebApp[];
  readonly coredns?: CorednsRewrite;
  readonly artifacts: readonly Artifact[];
  /** Outputs common to the cluster compositions. */
  readonly outputs: Exported<ClusterPlatformOutputs>;
}

const key = (namespace: string, name: string) => (namespace === "default" ? name : `${namespace}-${name}`);

/**
 * Knative, the Cloudflare tunnel, functions, WebApps and the CoreDNS rewrite on one cluster, in
 * dependency order: cluster → Knative → tunnel → apps (functions after Knative, WebApps after the
 * tunnel, the CoreDNS rewrite after the WebApps). Every Kubernetes child uses the cluster's provider.
 */
export function platformOnCluster(cfg: StackConfig, cluster: K3sCluster): Platform {
  const provider = cluster.provider;
  let knative: Knative | undefined;
  if (cfg.knative) {
    const k = cfg.knative;
    knative = new Knative(
      "knative",
      {
        servingVersion: k.servingVersion,
        ingress: k.ingress,
        domain: k.domain,
        domainTemplate: k.domainTemplate,
        autoscaler: k.autoscaler,
        eventing: k.eventing,
        tektonVersion: k.tektonVersion,
        provider,
      },
      { dependsOn: [cluster] },
    );
  }

  let tunnel: CloudflareTunnel | undefined;
  if (cfg.tunnel && cfg.cloudflare) {
    const cf = new cloudflare.Provider("cloudflare", { apiToken: cfg.cloudflare.apiToken });
    tunnel = new CloudflareTunnel(
      "tunnel",
      {
        accountId: cfg.cloudflare.accountId,
        zoneId: cfg.cloudflare.zoneId,
        zone: cfg.cloudflare.zone,
        tunnelName: cfg.tunnel.name,
        namespace: cfg.tunnel.namespace,
        replicas: cfg.tunnel.replicas,
        image: cfg.tunnel.image,
        routes: cfg.tunnel.routes.map((r) => ({ hostname: r.hostname, service: r.service, hostHeader: r.hostHeader })),
        provider,
        cloudflareProvider: cf,
      },
      { dependsOn: [knative ?? cluster] },
    );
  }

  const serviceUrls: Record<string, string> = {};
  const functions = (cfg.knative?.services ?? []).map((s) => {
    const fn = new KnativeService(
      `fn-${key(s.namespace, s.name)}`,
      {
        serviceName: s.name,
        namespace: s.namespace,
        image: s.image,
        ...(s.source === "web" ? { source: webServiceFunctionSource() } : {}),
        port: s.port,
        env: s.env,
        scale: s.scale,
        resources: s.resources,
        domain: cfg.knative!.domain,
        domainTemplate: cfg.knative!.domainTemplate,
        provider,
      },
      { dependsOn: [knative!] },
    );
    serviceUrls[key(s.namespace, s.name)] = s.publicHost ? `https://${s.publicHost}` : fn.url;
    return fn;
  });

  const webapps = cfg.webapps.map((w) => {
    const app = new WebApp(`app-${key(w.namespace, w.serviceName)}`, { ...w, zone: cfg.cloudflare?.zone ?? "", provider }, { dependsOn: [tunnel ?? knative ?? cluster] });
    serviceUrls[key(w.namespace, w.serviceName)] = app.url;
    return app;
  });

  let coredns: CorednsRewrite | undefined;
  if (webapps.length > 0) {
    coredns = new CorednsRewrite("coredns", { rewrites: webapps.map((a) => ({ from: a.host, to: a.serviceDns })), mode: "k3s", provider }, { dependsOn: webapps });
  }

  const tunnelOut: pulumi.Output<TunnelOutput> | undefined = tunnel
    ? pulumi.all([tunnel.tunnelId, tunnel.cname]).apply(([id, cname]) => ({ id, cname, hostnames: tunnel!.hostnames }))
    : undefined;
  const outputs: Exported<ClusterPlatformOutputs> = {
    cluster: cfg.platformCluster ?? cfg.k3s[0]?.name ?? "",
    apiServer: cluster.apiServer,
    kubeconfig: cluster.kubeconfig,
    nodes: cluster.nodes.map((n) => ({ name: n.name, role: n.role, site: n.site, ip: n.ip, ...(n.externalIp ? { externalIp: n.externalIp } : {}), kind: n.kind })),
    ...(knative && cfg.knative
      ? {
          knative: {
            domain: knative.domain,
            ingress: cfg.knative.ingress,
            ingressService: knative.ingressService,
            releases: knative.releases.map((r) => r.url),
            ...(knative.kafkaBootstrap ? { kafkaBootstrap: knative.kafkaBootstrap } : {}),
          },
        }
      : {}),
    ...(tunnelOut ? { tunnel: tunnelOut } : {}),
    serviceUrls,
  };

  return {
    knative,
    tunnel,
    functions,
    webapps,
    coredns,
    outputs,
    artifacts: [
      ...(knative?.artifacts ?? []),
      ...(tunnel?.artifacts ?? []),
      ...functions.flatMap((f) => f.artifacts),
      ...webapps.flatMap((a) => a.artifacts),
      ...(coredns?.artifacts ?? []),
    ],
  };
}

/**
 * `edge`: a multi-site K3s cluster of Raspberry Pis and Proxmox VMs (WireGuard between sites),
 * Knative, a Cloudflare tunnel publishing WebApps (seed 003) and functions, with the Proxmox base
 * (bridge, templates, hosts gateway) for the VM nodes.
 */
export function edge(cfg: StackConfig): StackResult<Exported<EdgeOutputs>> {
  const base = proxmoxBase(cfg);
  const { all, platform } = clusters(cfg, base);
  const p = platformOnCluster(cfg, platform);
  return {
    // The config module requires kantai:tunnel for this composition.
    outputs: { composition: "edge", ...p.outputs, tunnel: p.outputs.tunnel as pulumi.Input<TunnelOutput> },
    artifacts: [...base.artifacts, ...all.flatMap((c) => c.artifacts), ...p.artifacts],
  };
}
