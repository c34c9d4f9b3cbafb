/**
 * Config of the serverless platform on a cluster: `kantai:knative` (Serving, Eventing + Kafka,
 * Tekton, functions), `kantai:tunnel` (Cloudflare Tunnel), `kantai:webapps` (seed 003's
 * full-deployment module), and the Cloudflare keys `cloudflareApiToken` (secret),
 * `cloudflareAccountId`, `cloudflareZone`, `cloudflareZoneId`, plus `platformCluster`.
 *
 * stacks/config/load.ts stays the one place config is read: it spreads `platformKeys(...)` into its
 * raw schema and calls `parsePlatform` after the clusters are parsed. Defaults live here, once.
 * Messages name the full key.
 */
import { existsSync, statSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  eventingReleases,
  INGRESS_SERVICE,
  isSimpleDomainTemplate,
  knativeHost,
  servingReleases,
  releaseMirrorOf,
  strimziChart,
  tektonRelease,
  type AutoscalerDefaults,
  type ContainerResources,
  type KafkaStorage,
  type KnativeExposure,
  type KnativeIngress,
  type KnativeScale,
  type ReleaseManifest,
  type ReleaseMirror,
} from "../../lib/render/knative";
import type { WebAppSpec } from "../../lib/render/webapp";
import { cpu, dnsLabel, dnsName, envName, k8sName, memory, quoted, type Fail } from "./primitives";
import { webappDatabase } from "./storage";

// ---------------------------------------------------------------------------------------------
// Pinned defaults (current releases when kantai pinned them).

export const PLATFORM_DEFAULTS = {
  /** Knative Serving / Eventing / net-kourier / net-istio / eventing-kafka-broker release train. */
  knativeVersion: "1.23.0",
  /** Strimzi operator (Helm chart oci://quay.io/strimzi-helm/strimzi-kafka-operator). */
  strimziVersion: "0.48.0",
  /** Apache Kafka run by Strimzi (KRaft). */
  kafkaVersion: "4.1.0",
  /** Tekton Pipelines. */
  tektonVersion: "1.0.0",
  /** cloudflared connector image. */
  cloudflaredImage: "cloudflare/cloudflared:2025.9.1",
} as const;

/** Defaults of kantai:knative's networking (the Knative component takes them as required args). */
export const KNATIVE_DEFAULTS = {
  ingress: "kourier",
  /** The gateway as ClusterIP behind K3s' Traefik. */
  exposure: "traefik",
  /** Route domain (config-domain), seed 000's. */
  domain: "local.knative",
} as const;

/**
 * kantai:knative.autoscaler's defaults: Knative's own, as config-autoscaler ships them (knative/serving
 * config/core/configmaps/autoscaler.yaml; https://knative.dev/docs/serving/autoscaling/). The one place
 * they are written: the Knative component takes the resolved values.
 */
export const KNATIVE_AUTOSCALER_DEFAULTS: AutoscalerDefaults = {
  concurrencyTarget: 100,
  targetBurstCapacity: 200,
  stableWindow: "60s",
  scaleToZeroGracePeriod: "30s",
  enableScaleToZero: true,
  maxScale: 0,
};

/** Where tunnel targets live inside a K3s cluster. */
export const TRAEFIK_SERVICE = "traefik.kube-system.svc.cluster.local:80";

// ---------------------------------------------------------------------------------------------
// Schemas.

const semver = z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a version like "1.23.0"');
/** A Go duration Knative accepts for windows, in s/m/h. */
const duration = z.string().regex(/^\d+(s|m|h)$/, 'must be a duration like "30s", "2m" or "1h"');
const seconds = (d: string) => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[d.slice(-1) as "s" | "m" | "h"];
const window = duration.refine((d) => seconds(d) >= 6 && seconds(d) <= 3600, {
  message: "must be between 6s and 1h (Knative's bounds)",
});
const hex32 = z.string().regex(/^[0-9a-f]{32}$/, "must be a 32-character hex id (Cloudflare dashboard → Overview)");
const resources = z.strictObject({
  requests: z.strictObject({ cpu: cpu.optional(), memory: memory.optional() }).optional(),
  limits: z.strictObject({ cpu: cpu.optional(), memory: memory.optional() }).optional(),
});

/** The platform's keys of the raw schema (spread into stacks/config/load.ts's). */
export function platformKeys() {
  const d = KNATIVE_AUTOSCALER_DEFAULTS;
  const autoscaler = z
    .strictObject({
      concurrencyTarget: z.number().int().min(1, "at least 1").default(d.concurrencyTarget),
      targetBurstCapacity: z
        .number()
        .int()
        .min(-1, "-1 (activator always in the path) or more")
        .default(d.targetBurstCapacity),
      stableWindow: window.default(d.stableWindow),
      scaleToZeroGracePeriod: duration.default(d.scaleToZeroGracePeriod),
      enableScaleToZero: z.boolean().default(d.enableScaleToZero),
      maxScale: z.number().int().min(0, "0 (unbounded) or more").default(d.maxScale),
    })
    .default({ ...d });
  const storage = z.discriminatedUnion(
    "type",
    [
      z.strictObject({ type: z.literal("ephemeral") }),
      z.strictObject({
        type: z.literal("persistent"),
        /** Size of each broker's volume, GiB. */
        sizeGi: z.number().int().min(1, "at least 1 GiB"),
        /** Directory under which kubelet creates each broker's volume directory (hostPath DirectoryOrCreate). */
        path: z
          .string()
          .regex(/^\/[A-Za-z0-9._/-]*$/, "must be an absolute path")
          .default("/var/lib/kantai/kafka"),
        /** One node per broker. Defaults to the cluster's agents, then servers, in config order. */
        nodes: z.array(dnsLabel).optional(),
      }),
    ],
    { message: 'must be {type: "ephemeral"} or {type: "persistent", sizeGi: N}' },
  );
  const kafka = z.strictObject({
    strimziVersion: semver.default(PLATFORM_DEFAULTS.strimziVersion),
    version: semver.default(PLATFORM_DEFAULTS.kafkaVersion),
    brokers: z.number().int().min(1, "at least 1 broker").max(15, "at most 15 brokers").default(3),
    storage: storage.default({ type: "ephemeral" }),
  });
  const scale = z.strictObject({
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional(),
    target: z.number().int().min(1).optional(),
    metric: z.enum(["concurrency", "rps", "cpu"]).optional(),
    window: window.optional(),
    targetBurstCapacity: z.number().int().min(-1).optional(),
    class: z.enum(["kpa", "hpa"]).optional(),
  });
  const fn = z.strictObject({
    name: k8sName,
    namespace: k8sName.default("default"),
    image: z.string().min(1, "is required"),
    /** "web": run kantai's web/server.js from a ConfigMap with `image` as the Node runtime. */
    source: z.enum(["web", "none"], { message: 'must be "web" or "none"' }).default("none"),
    port: z.number().int().min(1).max(65535).optional(),
    env: z.record(envName, z.string()).default({}),
    scale: scale.optional(),
    resources: resources.optional(),
    /** Publish at `<public>.<cloudflareZone>` through the tunnel. */
    public: dnsLabel.optional(),
  });
  const knative = z.strictObject({
    servingVersion: semver.default(PLATFORM_DEFAULTS.knativeVersion),
    ingress: z
      .enum(["kourier", "istio"], { message: 'must be "kourier" or "istio"' })
      .default(KNATIVE_DEFAULTS.ingress),
    /** "traefik": the gateway as ClusterIP behind K3s' Traefik; "loadBalancer": the upstream LoadBalancer (Traefik off). */
    exposure: z
      .enum(["traefik", "loadBalancer"], { message: 'must be "traefik" or "loadBalancer"' })
      .default(KNATIVE_DEFAULTS.exposure),
    /** Knative route domain (config-domain). */
    domain: dnsName.default(KNATIVE_DEFAULTS.domain),
    domainTemplate: z
      .string()
      .refine(isSimpleDomainTemplate, {
        message: "must contain {{.Name}} and use only {{.Name}}, {{.Namespace}} and {{.Domain}}",
      })
      .optional(),
    autoscaler,
    eventing: z
      .strictObject({ version: semver.default(PLATFORM_DEFAULTS.knativeVersion), kafka: kafka.optional() })
      .optional(),
    tekton: z.strictObject({ version: semver.default(PLATFORM_DEFAULTS.tektonVersion) }).optional(),
    services: z.array(fn).default([]),
  });
  const tunnel = z.strictObject({
    /** Tunnel name in Cloudflare. Defaults to "kantai-<stack>". */
    name: dnsLabel.optional(),
    namespace: k8sName.default("cloudflared"),
    replicas: z.number().int().min(1).max(10).default(2),
    image: z.string().min(1).default(PLATFORM_DEFAULTS.cloudflaredImage),
    /** Extra routes besides the WebApps' and the public functions'. */
    routes: z
      .array(
        z.strictObject({
          hostname: dnsName,
          target: z.enum(["traefik", "knative"], { message: 'must be "traefik" or "knative"' }),
          hostHeader: dnsName.optional(),
        }),
      )
      .default([]),
  });
  const webapp = z.strictObject({
    serviceName: k8sName,
    namespace: k8sName.default("default"),
    hostName: z.union([z.literal(""), dnsLabel]).default(""),
    replicas: z.number().int().min(0).default(1),
    imageUrl: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\-/:]*$/, "must be an image reference without tag, e.g. ghcr.io/acme/blog"),
    imageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag"),
    cpuLimit: cpu.default("0.5"),
    memoryLimit: memory.default("512Mi"),
    cpuRequest: cpu.default("250m"),
    memoryRequest: memory.default("50Mi"),
    healthCheckPath: z.string().regex(/^\/\S*$/, 'must be an absolute URL path like "/healthz"'),
    port: z.number().int().min(1).max(65535).default(80),
    env: z.record(envName, z.string()).default({}),
    annotations: z.record(z.string(), z.string()).default({}),
    scheme: z.enum(["HTTP", "HTTPS"]).nullable().default(null),
    healthCheckInitialDelaySeconds: z.number().int().min(0).default(5),
    /** A MariaDB database + user for the app; DATABASE_URL from a Secret (stacks/config/storage.ts). */
    database: webappDatabase.optional(),
  });
  const releases = z.strictObject({
    /** A base URL (http/https) or an absolute local directory standing in for every release location. */
    mirror: z
      .string()
      .refine((m) => /^https?:\/\/[^\s/]+(\/\S*)?$/.test(m) || /^\/\S*$/.test(m), {
        message: "must be an http(s) base URL or an absolute directory path",
      })
      .optional(),
    /** sha256 by release manifest key, verified before anything is applied. */
    sha256: z
      .record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 in lower-case hex (64 characters)"))
      .default({}),
  });
  return {
    platformCluster: dnsLabel.optional(),
    knative: knative.optional(),
    releases: releases.optional(),
    tunnel: tunnel.optional(),
    webapps: z.array(webapp).optional(),
    cloudflareApiToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{40}$/, "must be a Cloudflare API token (40 letters, digits, '-' or '_')")
      .optional(),
    cloudflareAccountId: hex32.optional(),
    cloudflareZone: dnsName.optional(),
    cloudflareZoneId: hex32.optional(),
  };
}

type Keys = ReturnType<typeof platformKeys>;
type RawPlatform = { readonly [K in keyof Keys]?: z.output<Keys[K]> };

// ---------------------------------------------------------------------------------------------
// Typed results.

export interface KnativeFunctionConfig {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  /** "web" runs kantai's web/server.js from a ConfigMap; "none" the image's entrypoint. */
  readonly source: "web" | "none";
  readonly port?: number;
  readonly env: Readonly<Record<string, string>>;
  readonly scale?: KnativeScale;
  readonly resources?: ContainerResources;
  /** Public hostname through the tunnel, when published. */
  readonly publicHost?: string;
}

/** kantai:releases: where release manifests come from and their pins. */
export interface ReleasesConfig {
  readonly mirror?: ReleaseMirror;
  /** sha256 by release key; empty when nothing is pinned. */
  readonly sha256: Readonly<Record<string, string>>;
}

export interface KnativeConfig {
  readonly servingVersion: string;
  readonly ingress: KnativeIngress;
  readonly exposure: KnativeExposure;
  readonly domain: string;
  readonly domainTemplate?: string;
  readonly autoscaler: AutoscalerDefaults;
  readonly eventing?: {
    readonly version: string;
    readonly kafka?: {
      readonly strimziVersion: string;
      readonly version: string;
      readonly brokers: number;
      readonly storage: KafkaStorage;
    };
  };
  readonly tektonVersion?: string;
  readonly services: readonly KnativeFunctionConfig[];
}

export interface TunnelRouteConfig {
  readonly hostname: string;
  /** Origin URL inside the cluster. */
  readonly service: string;
  readonly hostHeader?: string;
  /** The config key that asked for this hostname. */
  readonly source: string;
}

export interface TunnelConfig {
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly image: string;
  readonly routes: readonly TunnelRouteConfig[];
}

export interface CloudflareConfig {
  readonly apiToken: pulumi.Output<string>;
  readonly accountId: string;
  readonly zone: string;
  readonly zoneId?: string;
}

export type WebAppConfig = Required<Omit<WebAppSpec, "scheme" | "secretEnv">> & {
  readonly scheme: "HTTP" | "HTTPS" | null;
  readonly database?: z.output<typeof webappDatabase>;
};

export interface PlatformConfig {
  /** The K3s cluster the platform runs on (a key of kantai:k3s), when any platform key is set. */
  readonly platformCluster?: string;
  readonly knative?: KnativeConfig;
  /** Mirror and pins of the release manifests (kantai:releases); set only with kantai:knative. */
  readonly releases?: ReleasesConfig;
  readonly tunnel?: TunnelConfig;
  readonly cloudflare?: CloudflareConfig;
  readonly webapps: readonly WebAppConfig[];
}

/** What parsePlatform needs to know about the clusters (K3sClusterConfig has these fields). */
export interface PlatformClusterView {
  readonly name: string;
  readonly disable: readonly string[];
  readonly nodes: readonly { readonly name: string; readonly role: string }[];
}

export interface PlatformParseContext {
  readonly fail: Fail;
  readonly stack: string;
  /** The cluster the platform runs on (stacks/config/compositions.ts resolvePlatformCluster), when there is one. */
  readonly cluster?: PlatformClusterView;
  /** Keys set as secrets ("kantai:…"), when known. */
  readonly secretKeys?: readonly string[];
}

/** Validate the platform keys against each other and the platform's cluster; resolve defaults. */
export function parsePlatform(r: RawPlatform, ctx: PlatformParseContext): PlatformConfig {
  const { fail, cluster } = ctx;
  const zone = r.cloudflareZone?.replace(/\.$/, "").toLowerCase();
  const webappsRaw = r.webapps ?? [];
  const anySet = r.knative !== undefined || r.tunnel !== undefined || r.webapps !== undefined;

  // Cloudflare keys.
  let cloudflare: CloudflareConfig | undefined;
  if (r.tunnel !== undefined) {
    if (r.cloudflareApiToken === undefined) {
      fail(
        "cloudflareApiToken",
        "is required when kantai:tunnel is set (pulumi config set --secret cloudflareApiToken <token with Tunnel and DNS edit rights>)",
      );
    } else if (ctx.secretKeys && !ctx.secretKeys.includes("kantai:cloudflareApiToken")) {
      fail(
        "cloudflareApiToken",
        "must be stored as a secret (pulumi config set --secret cloudflareApiToken …), not in plaintext",
      );
    }
    if (r.cloudflareAccountId === undefined) fail("cloudflareAccountId", "is required when kantai:tunnel is set");
  }
  if ((r.tunnel !== undefined || r.webapps !== undefined) && zone === undefined) {
    fail(
      "cloudflareZone",
      "is required when kantai:tunnel or kantai:webapps is set (the public zone, e.g. example.com)",
    );
  }
  if (r.tunnel && r.cloudflareApiToken !== undefined && r.cloudflareAccountId !== undefined && zone !== undefined) {
    cloudflare = {
      apiToken: pulumi.secret(r.cloudflareApiToken),
      accountId: r.cloudflareAccountId,
      zone,
      zoneId: r.cloudflareZoneId,
    };
  }

  // Knative.
  let knative: KnativeConfig | undefined;
  if (r.knative) {
    const k = r.knative;
    let kafka: NonNullable<KnativeConfig["eventing"]>["kafka"];
    const kr = k.eventing?.kafka;
    if (kr) {
      let storage: KafkaStorage = { type: "ephemeral" };
      if (kr.storage.type === "persistent") {
        const base = "knative.eventing.kafka";
        const known = cluster?.nodes.map((n) => n.name) ?? [];
        let nodes: string[];
        if (kr.storage.nodes !== undefined) {
          nodes = kr.storage.nodes;
          if (nodes.length !== kr.brokers)
            fail(
              `${base}.storage.nodes`,
              `${nodes.length} node${nodes.length === 1 ? "" : "s"} for ${kr.brokers} brokers: list one node per broker`,
            );
          const seen = new Set<string>();
          nodes.forEach((n, i) => {
            if (seen.has(n))
              fail(
                `${base}.storage.nodes[${i}]`,
                `node "${n}" is listed twice: each broker's local volume needs a node of its own`,
              );
            seen.add(n);
            if (cluster && !known.includes(n))
              fail(
                `${base}.storage.nodes[${i}]`,
                `unknown node "${n}" (cluster "${cluster.name}" has ${quoted(known)})`,
              );
          });
        } else {
          const ordered = [
            ...(cluster?.nodes.filter((n) => n.role !== "server") ?? []),
            ...(cluster?.nodes.filter((n) => n.role === "server") ?? []),
          ];
          nodes = ordered.slice(0, kr.brokers).map((n) => n.name);
          if (cluster && nodes.length < kr.brokers) {
            fail(
              `${base}.brokers`,
              `${kr.brokers} brokers on local volumes need ${kr.brokers} nodes, but cluster "${cluster.name}" has ${known.length}`,
            );
          }
        }
        storage = { type: "persistent", sizeGi: kr.storage.sizeGi, path: kr.storage.path, nodes };
      }
      kafka = { strimziVersion: kr.strimziVersion, version: kr.version, brokers: kr.brokers, storage };
    }
    const services: KnativeFunctionConfig[] = [];
    const fnNames = new Map<string, number>();
    k.services.forEach((s, i) => {
      const base = `knative.services[${i}]`;
      const id = `${s.namespace}/${s.name}`;
      if (fnNames.has(id))
        fail(`${base}.name`, `"${id}" is already defined by kantai:knative.services[${fnNames.get(id)}]`);
      else fnNames.set(id, i);
      if (s.scale?.min !== undefined && s.scale.max !== undefined && s.scale.max > 0 && s.scale.min > s.scale.max) {
        fail(`${base}.scale`, `min ${s.scale.min} is above max ${s.scale.max}`);
      }
      if (s.scale?.class === "hpa" && s.scale.metric !== undefined && s.scale.metric !== "cpu") {
        fail(`${base}.scale.metric`, `"${s.scale.metric}" needs the Knative autoscaler: the HPA class scales on "cpu"`);
      }
      if (s.public !== undefined && r.tunnel === undefined)
        fail(`${base}.public`, "needs kantai:tunnel to publish the function");
      services.push({
        name: s.name,
        namespace: s.namespace,
        image: s.image,
        source: s.source,
        port: s.port,
        env: s.env,
        scale: s.scale,
        resources: s.resources,
        publicHost: s.public !== undefined && zone !== undefined ? `${s.public}.${zone}` : undefined,
      });
    });
    // The gateway's way in (K3s: Traefik holds 80/443 on every node through ServiceLB, which admits
    // one LoadBalancer per port — k3s #1969 — so a second LoadBalancer on 80/443 stays Pending).
    if (cluster && k.exposure === "traefik" && cluster.disable.includes("traefik")) {
      fail(
        "knative.exposure",
        `"traefik" needs Traefik, but kantai:k3s.${cluster.name}.disable turns it off: set exposure "loadBalancer" (the gateway's own LoadBalancer on 80/443)`,
      );
    }
    if (
      cluster &&
      k.exposure === "loadBalancer" &&
      !cluster.disable.includes("traefik") &&
      !cluster.disable.includes("servicelb")
    ) {
      fail(
        "knative.exposure",
        `"loadBalancer" would ask K3s' ServiceLB for ports 80/443, which Traefik holds on every node (k3s #1969): the gateway would stay Pending. Keep "traefik", or add "traefik" to kantai:k3s.${cluster.name}.disable`,
      );
    }
    knative = {
      servingVersion: k.servingVersion,
      ingress: k.ingress,
      exposure: k.exposure,
      domain: k.domain.replace(/\.$/, "").toLowerCase(),
      domainTemplate: k.domainTemplate,
      autoscaler: k.autoscaler,
      eventing: k.eventing ? { version: k.eventing.version, kafka } : undefined,
      tektonVersion: k.tekton?.version,
      services,
    };
  }

  // Release manifests: the mirror and the pins, checked against what this stack installs.
  let releases: ReleasesConfig | undefined;
  if (r.releases) {
    const rr = r.releases;
    if (!knative) {
      fail("releases", "needs kantai:knative (only the Knative layer installs release manifests)");
    } else {
      const all = stackReleases(knative);
      const keys = all.map((x) => x.key);
      for (const key of Object.keys(rr.sha256)) {
        if (!keys.includes(key))
          fail(`releases.sha256.${key}`, `unknown release manifest "${key}" (this stack installs ${quoted(keys)})`);
      }
      let mirror: ReleaseMirror | undefined;
      if (rr.mirror !== undefined) {
        mirror = releaseMirrorOf(rr.mirror);
        if (mirror.kind === "dir") {
          const dir = mirror.path;
          if (!existsSync(dir) || !statSync(dir).isDirectory()) {
            fail("releases.mirror", `${dir} is not a directory`);
          } else {
            const needed: { key: string; path: string }[] = all.map((x) => ({ key: x.key, path: x.mirrorPath }));
            const kafka = knative.eventing?.kafka;
            if (kafka) needed.push({ key: "strimzi chart", path: strimziChart(kafka.strimziVersion).mirrorPath });
            const missing = needed.filter((n) => !existsSync(`${dir.replace(/\/+$/, "")}/${n.path}`));
            if (missing.length > 0) {
              fail(
                "releases.mirror",
                `${dir} lacks ${missing.map((m) => `${m.path} (${m.key})`).join(", ")}; the layout is in docs/reference/config.md#release-manifests-and-mirror`,
              );
            }
          }
        }
      }
      releases = { ...(mirror ? { mirror } : {}), sha256: rr.sha256 };
    }
  }

  // WebApps.
  const webapps: WebAppConfig[] = [];
  const appIds = new Map<string, number>();
  webappsRaw.forEach((w, i) => {
    const id = `${w.namespace}/${w.serviceName}`;
    if (appIds.has(id))
      fail(`webapps[${i}].serviceName`, `"${id}" is already deployed by kantai:webapps[${appIds.get(id)}]`);
    else appIds.set(id, i);
    webapps.push({ ...w });
  });
  if (webappsRaw.length > 0) {
    if (r.tunnel === undefined)
      fail("webapps", "needs kantai:tunnel: every WebApp is published through the Cloudflare tunnel");
    if (cluster?.disable.includes("traefik")) {
      fail(
        "webapps",
        `needs Traefik, but kantai:k3s.${cluster.name}.disable turns it off (WebApps route through Traefik IngressRoutes)`,
      );
    }
  }

  // Tunnel routes: the WebApps', the public functions', then the extra ones; one owner per hostname.
  let tunnel: TunnelConfig | undefined;
  if (r.tunnel) {
    const t = r.tunnel;
    const routes: TunnelRouteConfig[] = [];
    const owners = new Map<string, string>();
    const add = (key: string, hostname: string, route: Omit<TunnelRouteConfig, "hostname" | "source">) => {
      const h = hostname.replace(/\.$/, "").toLowerCase();
      if (zone !== undefined && h !== zone && !h.endsWith(`.${zone}`)) {
        fail(key, `"${h}" is outside the tunnel's zone "${zone}"`);
        return;
      }
      const prev = owners.get(h);
      if (prev) {
        fail(key, `hostname "${h}" is already exposed by ${prev}`);
        return;
      }
      owners.set(h, `kantai:${key}`);
      routes.push({ hostname: h, ...route, source: `kantai:${key}` });
    };
    if (zone !== undefined) {
      webapps.forEach((w, i) =>
        add(`webapps[${i}].hostName`, `${w.hostName || w.serviceName}.${zone}`, {
          service: `http://${TRAEFIK_SERVICE}`,
        }),
      );
      const kn = knative;
      kn?.services.forEach((s, i) => {
        if (s.publicHost) {
          add(`knative.services[${i}].public`, s.publicHost, {
            service: `http://${INGRESS_SERVICE[kn.ingress]}`,
            hostHeader: knativeHost(s.name, s.namespace, kn.domain, kn.domainTemplate),
          });
        }
      });
    }
    const kn = knative;
    t.routes.forEach((rt, i) => {
      if (rt.target === "knative" && kn === undefined) {
        fail(`tunnel.routes[${i}].target`, '"knative" needs kantai:knative');
        return;
      }
      if (rt.target === "traefik" && cluster?.disable.includes("traefik")) {
        fail(`tunnel.routes[${i}].target`, `"traefik" is disabled in kantai:k3s.${cluster.name}.disable`);
        return;
      }
      add(`tunnel.routes[${i}].hostname`, rt.hostname, {
        service: kn && rt.target === "knative" ? `http://${INGRESS_SERVICE[kn.ingress]}` : `http://${TRAEFIK_SERVICE}`,
        ...(rt.hostHeader ? { hostHeader: rt.hostHeader } : {}),
      });
    });
    tunnel = {
      name: t.name ?? `kantai-${ctx.stack}`,
      namespace: t.namespace,
      replicas: t.replicas,
      image: t.image,
      routes,
    };
  }

  return {
    platformCluster: anySet || r.platformCluster !== undefined ? cluster?.name : undefined,
    knative,
    ...(releases ? { releases } : {}),
    tunnel,
    cloudflare,
    webapps,
  };
}

/** Every release manifest a Knative config installs, in install order (what kantai:releases refers to). */
export function stackReleases(
  k: Pick<KnativeConfig, "servingVersion" | "ingress" | "eventing" | "tektonVersion">,
): ReleaseManifest[] {
  return [
    ...servingReleases({ serving: k.servingVersion }, k.ingress),
    ...(k.eventing ? eventingReleases(k.eventing.version, k.eventing.kafka ? k.eventing.version : undefined) : []),
    ...(k.tektonVersion !== undefined ? [tektonRelease(k.tektonVersion)] : []),
  ];
}
