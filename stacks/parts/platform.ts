/**
 * The serverless platform on a cluster, in dependency order: cluster → Knative → tunnel → apps
 * (functions after Knative, WebApps after the tunnel, the CoreDNS rewrite after the WebApps). Every
 * Kubernetes child uses the cluster's provider.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../../components/artifact";
import { CloudflareTunnel } from "../../components/cloudflare/cloudflareTunnel";
import type { K3sCluster } from "../../components/k8s/k3sCluster";
import { Knative } from "../../components/knative/knative";
import { KnativeService } from "../../components/knative/knativeService";
import type { Mariadb } from "../../components/storage/mariadb";
import { CorednsRewrite } from "../../components/webapp/corednsRewrite";
import { WebApp } from "../../components/webapp/webApp";
import { webServiceFunctionSource } from "../../components/webService";
import type { CloudflareConfig, EdgeConfig, KnativeConfig, LabConfig, TunnelConfig } from "../config";
import type { ClusterPlatformOutputs, Exported, KnativeOutput, TunnelOutput } from "../outputs";

/** The config of a cluster composition (edge, lab): what the platform parts read. */
export type ClusterStackConfig = EdgeConfig | LabConfig;

/** Knative (kantai:knative) on the cluster, after it. */
export function knativeOnCluster(cfg: ClusterStackConfig, k: KnativeConfig, cluster: K3sCluster): Knative {
  return new Knative(
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
    { providers: { kubernetes: cluster.provider }, dependsOn: [cluster] },
  );
}

/** The Cloudflare tunnel (kantai:tunnel) with its account, on the cluster, after `after` (Knative or the cluster). */
export function tunnelOnCluster(
  t: TunnelConfig,
  cf: CloudflareConfig,
  cluster: K3sCluster,
  after: pulumi.Resource,
): CloudflareTunnel {
  const provider = new cloudflare.Provider("cloudflare", { apiToken: cf.apiToken });
  return new CloudflareTunnel(
    "tunnel",
    {
      accountId: cf.accountId,
      zoneId: cf.zoneId,
      zone: cf.zone,
      tunnelName: t.name,
      namespace: t.namespace,
      replicas: t.replicas,
      image: t.image,
      routes: t.routes.map((r) => ({ hostname: r.hostname, service: r.service, hostHeader: r.hostHeader })),
    },
    { providers: { kubernetes: cluster.provider, cloudflare: provider }, dependsOn: [after] },
  );
}

/** The tunnel's stack output. */
export function tunnelOutput(tunnel: CloudflareTunnel): pulumi.Output<TunnelOutput> {
  return pulumi
    .all([tunnel.tunnelId, tunnel.cname])
    .apply(([id, cname]) => ({ id, cname, hostnames: tunnel.hostnames }));
}

export interface Apps {
  readonly functions: readonly KnativeService[];
  readonly webapps: readonly WebApp[];
  readonly coredns?: CorednsRewrite;
  /** Every service by name: a WebApp's or a published function's public URL, else a function's in-cluster URL. */
  readonly serviceUrls: Readonly<Record<string, string>>;
  readonly artifacts: readonly Artifact[];
}

const key = (namespace: string, name: string) => (namespace === "default" ? name : `${namespace}-${name}`);

/**
 * The functions of kantai:knative.services (after Knative), the WebApps of kantai:webapps (after the
 * tunnel, else Knative, else the cluster; a WebApp with `database` also after MariaDB) and the CoreDNS
 * rewrite of the WebApps' public hosts (after the WebApps).
 */
export function appsOnCluster(
  cfg: ClusterStackConfig,
  cluster: K3sCluster,
  on: {
    readonly knative?: { readonly config: KnativeConfig; readonly component: Knative };
    readonly tunnel?: CloudflareTunnel;
    readonly db?: Mariadb;
  },
): Apps {
  const provider = cluster.provider;
  const serviceUrls: Record<string, string> = {};
  const kn = on.knative;
  const functions = kn
    ? kn.config.services.map((s) => {
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
            domain: kn.config.domain,
            domainTemplate: kn.config.domainTemplate,
          },
          { providers: { kubernetes: provider }, dependsOn: [kn.component] },
        );
        serviceUrls[key(s.namespace, s.name)] = s.publicHost ? `https://${s.publicHost}` : fn.url;
        return fn;
      })
    : [];

  const db = on.db;
  const webapps = cfg.webapps.map(({ database, ...w }) => {
    // A WebApp with `database` reads DATABASE_URL from its Secret (never a plain env value) and waits for MariaDB.
    const withDb = database !== undefined && db ? db : undefined;
    const app = new WebApp(
      `app-${key(w.namespace, w.serviceName)}`,
      {
        ...w,
        ...(withDb ? { secretEnv: [withDb.envFor(w.serviceName)] } : {}),
        zone: cfg.cloudflare?.zone ?? "",
      },
      {
        providers: { kubernetes: provider },
        dependsOn: [on.tunnel ?? kn?.component ?? cluster, ...(withDb ? [withDb] : [])],
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
  return {
    functions,
    webapps,
    coredns,
    serviceUrls,
    artifacts: [
      ...functions.flatMap((f) => f.artifacts),
      ...webapps.flatMap((a) => a.artifacts),
      ...(coredns?.artifacts ?? []),
    ],
  };
}

/** The Knative stack output. */
export function knativeOutput(knative: Knative, k: KnativeConfig): KnativeOutput {
  return {
    domain: knative.domain,
    ingress: k.ingress,
    ingressService: knative.ingressService,
    releases: knative.releases.map((r) => r.url),
    ...(knative.kafkaBootstrap ? { kafkaBootstrap: knative.kafkaBootstrap } : {}),
  };
}

/** The first outputs both cluster compositions export: the platform's cluster, its API and nodes. */
export function clusterOutputs(
  cfg: ClusterStackConfig,
  cluster: K3sCluster,
): Exported<Pick<ClusterPlatformOutputs, "cluster" | "apiServer" | "kubeconfig" | "nodes">> {
  return {
    cluster: cfg.platformCluster,
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
  };
}
