import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../components/artifact";
import { CloudflareTunnel } from "../components/cloudflare/cloudflareTunnel";
import { HostsGateway } from "../components/gateway/hostsGateway";
import type { K3sCluster } from "../components/k8s/k3sCluster";
import { Knative } from "../components/knative/knative";
import { KnativeService } from "../components/knative/knativeService";
import { MeasuredLatency } from "../components/observability/measuredLatency";
import { LatencyAwareService } from "../components/routing/latencyAwareService";
import { DEFAULT_PROXY_IMAGE, latencyAwareServiceManifests, objectName } from "../lib/render/latencyAware";
import { RoutingPlan } from "../components/routing/routingPlan";
import { CorednsRewrite } from "../components/webapp/corednsRewrite";
import { WebApp } from "../components/webapp/webApp";
import { Mariadb } from "../components/storage/mariadb";
import { StorageNode } from "../components/storage/storageNode";
import type { SshConnection } from "../components/connection";
import { planRouting, type RoutingPlan as Plan } from "../lib/routing";
import { toYaml } from "../lib/render/k8s";
import { webServiceFunctionSource } from "../components/webService";
import type { StackConfig } from "./config";
import {
  k3sCluster,
  k3sProxmoxContext,
  nodeConnection,
  proxmoxFoundation,
  type ProxmoxFoundation,
  type StackResult,
} from "./homelab";
import type { ClusterPlatformOutputs, EdgeOutputs, Exported, RoutingServiceOutput, TunnelOutput } from "./outputs";

/** The Proxmox side every cluster composition shares: provider, NAT bridge, image, templates, hosts gateway. */
export interface ProxmoxBase extends ProxmoxFoundation {
  readonly gateway: HostsGateway;
  readonly artifacts: readonly Artifact[];
}

export function proxmoxBase(cfg: StackConfig): ProxmoxBase {
  const { opts, network, templates } = proxmoxFoundation(cfg);
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
  const all = cfg.k3s.map((c) =>
    k3sCluster(cfg, c, k3sProxmoxContext(cfg, base.templates, base.network.bridgeName), {
      ...base.opts,
      dependsOn: [base.network, base.gateway],
    }),
  );
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
export function platformOnCluster(cfg: StackConfig, cluster: K3sCluster, db?: Mariadb): Platform {
  const provider = cluster.provider;
  let knative: Knative | undefined;
  if (cfg.knative) {
    const k = cfg.knative;
    knative = new Knative(
      "knative",
      {
        servingVersion: k.servingVersion,
        ingress: k.ingress,
        exposure: k.exposure,
        domain: k.domain,
        domainTemplate: k.domainTemplate,
        autoscaler: k.autoscaler,
        eventing: k.eventing,
        tektonVersion: k.tektonVersion,
        prometheusMetrics: cfg.observability !== undefined,
        ...(cfg.releases ? { releaseSource: cfg.releases } : {}),
      },
      { providers: { kubernetes: provider }, dependsOn: [cluster] },
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
      },
      { providers: { kubernetes: provider, cloudflare: cf }, dependsOn: [knative ?? cluster] },
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
      },
      { providers: { kubernetes: provider }, dependsOn: [knative!] },
    );
    serviceUrls[key(s.namespace, s.name)] = s.publicHost ? `https://${s.publicHost}` : fn.url;
    return fn;
  });

  const webapps = cfg.webapps.map(({ database, ...w }) => {
    // A WebApp with `database` reads DATABASE_URL from its Secret (never a plain env value) and waits for MariaDB.
    const secretEnv = database !== undefined && db ? [db.envFor(w.serviceName)] : [];
    const app = new WebApp(
      `app-${key(w.namespace, w.serviceName)}`,
      { ...w, ...(secretEnv.length > 0 ? { secretEnv } : {}), zone: cfg.cloudflare?.zone ?? "" },
      {
        providers: { kubernetes: provider },
        dependsOn: [tunnel ?? knative ?? cluster, ...(secretEnv.length > 0 ? [db!] : [])],
      },
    );
    serviceUrls[key(w.namespace, w.serviceName)] = app.url;
    return app;
  });

  let coredns: CorednsRewrite | undefined;
  if (webapps.length > 0) {
    coredns = new CorednsRewrite(
      "coredns",
      { rewrites: webapps.map((a) => ({ from: a.host, to: a.serviceDns })), mode: "k3s" },
      { providers: { kubernetes: provider }, dependsOn: webapps },
    );
  }

  const tunnelOut: pulumi.Output<TunnelOutput> | undefined = tunnel
    ? pulumi.all([tunnel.tunnelId, tunnel.cname]).apply(([id, cname]) => ({ id, cname, hostnames: tunnel!.hostnames }))
    : undefined;
  const outputs: Exported<ClusterPlatformOutputs> = {
    cluster: cfg.platformCluster ?? cfg.k3s[0]?.name ?? "",
    apiServer: cluster.apiServer,
    kubeconfig: cluster.kubeconfig,
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      site: n.site,
      ip: n.ip,
      ...(n.externalIp ? { externalIp: n.externalIp } : {}),
      kind: n.kind,
    })),
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

export interface Routing {
  readonly plans: readonly RoutingPlan[];
  readonly services: readonly LatencyAwareService[];
  /** Prometheus, RTT agents, monitors, re-planners and Grafana (kantai:observability). */
  readonly latency?: MeasuredLatency;
  readonly artifacts: readonly Artifact[];
  /** The `routing` stack output: per service, the plan as applied. */
  readonly outputs: Readonly<Record<string, pulumi.Output<RoutingServiceOutput>>>;
}

/**
 * The plan a LatencyAwareService applies: the RoutingPlan resource's output. Under the synth's mocks
 * (scripts/synth/mocks.ts) no provider runs, so the resource has no `plan`; the program's own
 * computation — the same library on the same input, deterministic, so what the provider returns on
 * `pulumi up` — stands in and is labelled as such in the artifact.
 */
export function appliedPlan(
  resource: RoutingPlan,
  local: () => Plan,
): pulumi.Output<{ plan: Plan; simulated: boolean }> {
  return resource.plan.apply((p) => (p ? { plan: p, simulated: false } : { plan: local(), simulated: true }));
}

/**
 * Latency-aware routing (kantai:routing) on the platform cluster: per service a RoutingPlan (the
 * library runs in the dynamic provider at deploy time) and a LatencyAwareService applying it —
 * per-node Deployments pinned by hostname and per-node Envoy proxies — on the cluster's provider,
 * after the cluster. Each service's objects are one `kind: kubernetes` artifact.
 *
 * With kantai:observability, MeasuredLatency adds Prometheus, the RTT agents, a ServiceMonitor per
 * service, a re-planner per service (writing weights with `reweight.enabled`, observe-only
 * otherwise), Grafana with the dashboards, and Knative's monitors after `knative`.
 */
export function routingOnCluster(cfg: StackConfig, cluster: K3sCluster, knative?: pulumi.Resource): Routing {
  const plans: RoutingPlan[] = [];
  const services: LatencyAwareService[] = [];
  const artifacts: Artifact[] = [];
  const outputs: Record<string, pulumi.Output<RoutingServiceOutput>> = {};
  const applieds: pulumi.Output<{ plan: Plan; simulated: boolean }>[] = [];
  for (const s of cfg.routing?.services ?? []) {
    const input = s.input;
    const plan = new RoutingPlan(
      `${s.name}-plan`,
      {
        nodes: input.nodes,
        rttMs: input.rttMs as Record<string, Record<string, number>>,
        demand: input.demand,
        replicas: input.replicas,
        algorithm: s.algorithm,
        ...(s.latencyPrometheus !== undefined
          ? { latencyPrometheus: s.latencyPrometheus, hysteresis: { ...s.hysteresis } }
          : {}),
      },
      { dependsOn: [cluster] },
    );
    // With latencyPrometheus, input.rttMs is zeros (config stand-in): the synth's plan then ignores RTTs.
    const applied = appliedPlan(plan, () => planRouting(input, s.algorithm));
    applieds.push(applied);
    const nodes = input.nodes.map((n) => n.name);
    const options = {
      name: s.name,
      namespace: s.namespace,
      nodes,
      service: {
        image: s.image,
        port: s.port,
        ...(Object.keys(s.env).length > 0 ? { env: s.env } : {}),
        ...(s.args ? { args: s.args } : {}),
        resources: s.resources,
        ...(s.readinessPath ? { readinessPath: s.readinessPath } : {}),
      },
      serviceType: s.serviceType,
    };
    const svc = new LatencyAwareService(
      s.name,
      {
        ...options,
        plan: applied.apply((a) => a.plan),
        reweight: s.reweight.enabled && cfg.observability !== undefined,
      },
      { providers: { kubernetes: cluster.provider }, dependsOn: [cluster] },
    );
    plans.push(plan);
    services.push(svc);
    artifacts.push({
      path: `routing/${s.name}.yaml`,
      kind: "kubernetes",
      resource: s.name,
      content: applied.apply(({ plan: p, simulated }) => {
        const header = simulated
          ? s.latencyPrometheus !== undefined
            ? `# SIMULATED plan: computed by lib/routing at synth time with every RTT 0 (Pulumi mocks run no dynamic provider\n# and read no Prometheus); on \`pulumi up\` the RoutingPlan "${s.name}-plan" plans from ${s.latencyPrometheus}, with hysteresis.\n`
            : `# SIMULATED plan: computed by lib/routing at synth time (Pulumi mocks run no dynamic provider); on\n# \`pulumi up\` the RoutingPlan "${s.name}-plan" computes it from the same input.\n`
          : `# Plan from the RoutingPlan "${s.name}-plan".\n`;
        return (
          header +
          `# ${s.algorithm} plan, predicted mean ${p.predicted.meanMs} ms; replicas ${nodes.map((n) => `${n}=${p.replicas[n] ?? 0}`).join(" ")}; RTTs from ${s.latencySource}.\n` +
          toYaml(
            latencyAwareServiceManifests(
              { ...options, proxyImage: DEFAULT_PROXY_IMAGE, proxyPort: 8080, servicePort: 80 },
              p,
            ),
          )
        );
      }),
    });
    outputs[s.name] = pulumi.all([applied, svc.url]).apply(([{ plan: p }, url]) => ({
      namespace: s.namespace,
      algorithm: s.algorithm,
      replicas: p.replicas,
      predictedMeanMs: p.predicted.meanMs,
      url,
    }));
  }
  let latency: MeasuredLatency | undefined;
  const o = cfg.observability;
  if (o) {
    const routed = cfg.routing?.services ?? [];
    latency = new MeasuredLatency(
      "latency",
      {
        namespace: o.namespace,
        prometheus: { ...o.prometheus },
        agents: { ...o.agents },
        ...(o.grafana.enabled ? { grafana: { adminUser: o.grafana.adminUser } } : {}),
        knativeMonitor: o.knativeMonitor,
        ...(knative ? { knativeDependsOn: [knative] } : {}),
        services: routed.map((s, k) => ({
          name: s.name,
          namespace: s.namespace,
          replanner: {
            intervalMs: s.reweight.intervalMs,
            minIntervalMs: s.reweight.minIntervalMs,
            maxStep: s.reweight.maxStep,
            improvementPct: s.hysteresis.improvementPct,
            rttMoveMs: s.hysteresis.rttMoveMs,
            // Off: observe-only (exports the dashboard's weights and predicted mean, writes nothing).
            write: s.reweight.enabled,
            nodes: applieds[k].apply(({ plan }) =>
              s.input.nodes.map((n) => ({
                name: n.name,
                replicas: plan.replicas[n.name] ?? 0,
                serviceRate: n.serviceRate,
                configMap: objectName(s.name, "proxy", n.name),
              })),
            ),
          },
        })),
      },
      { providers: { kubernetes: cluster.provider }, dependsOn: [cluster] },
    );
    artifacts.push(...latency.artifacts);
  }
  return { plans, services, latency, artifacts, outputs };
}

/**
 * `edge`: a multi-site K3s cluster of Raspberry Pis and Proxmox VMs (WireGuard between sites),
 * Knative, a Cloudflare tunnel publishing WebApps (seed 003) and functions, with the Proxmox base
 * (bridge, templates, hosts gateway) for the VM nodes.
 */
export function edge(cfg: StackConfig): StackResult<Exported<EdgeOutputs>> {
  const base = proxmoxBase(cfg);
  const { all, platform } = clusters(cfg, base);
  const st = statefulOnCluster(cfg, platform);
  const p = platformOnCluster(cfg, platform, st.mariadb);
  const routing = routingOnCluster(cfg, platform, p.knative);
  return {
    // The config module requires kantai:tunnel for this composition.
    outputs: {
      composition: "edge",
      ...p.outputs,
      tunnel: p.outputs.tunnel as pulumi.Input<TunnelOutput>,
      ...(routing.services.length > 0
        ? { routing: pulumi.all(routing.outputs) as pulumi.Output<Record<string, RoutingServiceOutput>> }
        : {}),
      ...st.outputs,
    },
    artifacts: [
      ...base.artifacts,
      ...all.flatMap((c) => c.artifacts),
      ...p.artifacts,
      ...routing.artifacts,
      ...st.artifacts,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Seed 003's stateful services (issue 16): kept in one block so the stack's other parts stay as they are.

export interface Stateful {
  readonly storage?: StorageNode;
  readonly mariadb?: Mariadb;
  readonly artifacts: readonly Artifact[];
  /** No secrets: addresses and names only. */
  readonly outputs: Pick<Exported<EdgeOutputs>, "storage" | "mariadb">;
}

/**
 * kantai:storageNode and kantai:mariadb on the platform cluster: the storage node's disk and NFS
 * export over SSH (then csi-driver-nfs and the StorageClass), after the cluster; MariaDB pinned to
 * that node, after the export. WebApps with `database` depend on the MariaDB (platformOnCluster).
 */
export function statefulOnCluster(cfg: StackConfig, cluster: K3sCluster): Stateful {
  const s = cfg.storageNode;
  if (!s) return { artifacts: [], outputs: {} };
  // The config module guarantees the node is in the platform cluster and has `host:`.
  const node = cfg.k3s.find((c) => c.name === cfg.platformCluster)!.nodes.find((n) => n.name === s.node)!;
  const host = node.host!;
  const m = cfg.mariadb;
  const backupDir = `${s.export.dir}/backups/mariadb`;
  const storage = new StorageNode(
    "storage",
    {
      name: "hdd",
      disk: s.disk,
      mountPoint: s.mountPoint,
      fsType: s.fsType,
      mountOptions: s.mountOptions,
      exportDir: s.export.dir,
      clients: s.export.clients,
      exportOptions: s.export.options,
      dataDirs: m ? [m.dataDir, ...(m.backup ? [backupDir] : [])] : [],
      connection: pulumi.secret({
        host: host.address,
        user: host.user,
        port: host.port,
        privateKey: cfg.proxmox.sshPrivateKey,
        dialErrorLimit: 10,
        perDialTimeout: 15,
      }) as pulumi.Output<SshConnection>,
      server: s.server,
      ...(s.storageClass ? { storageClass: s.storageClass } : {}),
      csiDriver: s.storageClass !== undefined || m?.backup !== undefined,
      csiNfsVersion: s.csiNfsVersion,
    },
    { providers: { kubernetes: cluster.provider }, dependsOn: [cluster] },
  );
  let mariadb: Mariadb | undefined;
  if (m) {
    mariadb = new Mariadb(
      "mariadb",
      {
        image: m.image,
        namespace: m.namespace,
        node: s.node,
        tolerateTaints: node.taints,
        dataPath: `${s.mountPoint}/${m.dataDir}`,
        storageSize: m.storageSize,
        bufferPool: m.bufferPool,
        resources: m.resources,
        databases: m.databases,
        ...(m.backup
          ? {
              backup: {
                schedule: m.backup.schedule,
                keep: m.backup.keep,
                size: m.backup.size,
                server: s.server,
                share: storage.exportPath,
                subDir: "backups/mariadb",
                nodeSelector: { "topology.kubernetes.io/zone": s.site },
              },
            }
          : {}),
      },
      { providers: { kubernetes: cluster.provider }, dependsOn: storage.ready },
    );
  }
  return {
    storage,
    mariadb,
    artifacts: [...storage.artifacts, ...(mariadb?.artifacts ?? [])],
    outputs: {
      storage: {
        node: s.node,
        server: storage.server,
        exportPath: storage.exportPath,
        ...(storage.storageClassName ? { storageClass: storage.storageClassName } : {}),
      },
      ...(mariadb && m
        ? { mariadb: { host: mariadb.host, port: mariadb.port, databases: m.databases.map((d) => d.database) } }
        : {}),
    },
  };
}
