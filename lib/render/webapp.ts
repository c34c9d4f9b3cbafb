/**
 * Seed 003's "full-deployment" module as plain manifests: a Deployment with resources and an
 * HTTP liveness probe, a ClusterIP Service (8080 → port), and a Traefik IngressRoute for
 * `<host>.<zone>`. Variables and defaults are the module's. Pure.
 */
import { kantaiLabels, type K8sObject } from "./k8s";

/** The module's variables (snake_case in the seed), with its defaults in `WEBAPP_DEFAULTS`. */
export interface WebAppSpec {
  /** Required. */
  readonly serviceName: string;
  /** Defaults to "default". */
  readonly namespace?: string;
  /** Sub-domain under the zone. Defaults to serviceName (the seed's "" means "use service_name"). */
  readonly hostName?: string;
  /** Defaults to 1. */
  readonly replicas?: number;
  /** Required, e.g. "ghcr.io/acme/blog". */
  readonly imageUrl: string;
  /** Required, e.g. "1.4.2". */
  readonly imageTag: string;
  /** Defaults to "0.5". */
  readonly cpuLimit?: string;
  /** Defaults to "512Mi". */
  readonly memoryLimit?: string;
  /** Defaults to "250m". */
  readonly cpuRequest?: string;
  /** Defaults to "50Mi". */
  readonly memoryRequest?: string;
  /** Required: path of the HTTP liveness probe. */
  readonly healthCheckPath: string;
  /** Container port. Defaults to 80. */
  readonly port?: number;
  /** Defaults to {}. */
  readonly env?: Readonly<Record<string, string>>;
  /** Pod annotations. Defaults to {}. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Liveness probe scheme ("HTTP" | "HTTPS"). Defaults to null (Kubernetes' HTTP). */
  readonly scheme?: "HTTP" | "HTTPS" | null;
  /** Defaults to 5. */
  readonly healthCheckInitialDelaySeconds?: number;
  /** Env entries read from Secrets (e.g. DATABASE_URL), after `env`. Defaults to []. */
  readonly secretEnv?: readonly {
    readonly name: string;
    readonly valueFrom: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
  }[];
}

export const WEBAPP_DEFAULTS = {
  namespace: "default",
  replicas: 1,
  cpuLimit: "0.5",
  memoryLimit: "512Mi",
  cpuRequest: "250m",
  memoryRequest: "50Mi",
  port: 80,
  scheme: null,
  healthCheckInitialDelaySeconds: 5,
} as const;

/** Port of the ClusterIP Service (the seed's 8080). */
export const WEBAPP_SERVICE_PORT = 8080;

/** The public host of an app: `<hostName or serviceName>.<zone>`. */
export function webAppHost(spec: Pick<WebAppSpec, "serviceName" | "hostName">, zone: string): string {
  return `${spec.hostName || spec.serviceName}.${zone}`;
}

/** The in-cluster DNS name of the app's Service. */
export function webAppServiceDns(
  spec: Pick<WebAppSpec, "serviceName" | "namespace">,
  clusterDomain = "cluster.local",
): string {
  return `${spec.serviceName}.${spec.namespace ?? WEBAPP_DEFAULTS.namespace}.svc.${clusterDomain}`;
}

/** Deployment, Service and IngressRoute for one app. */
export function renderWebApp(spec: WebAppSpec, zone: string): K8sObject[] {
  const d = {
    ...WEBAPP_DEFAULTS,
    ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)),
  } as Required<WebAppSpec>;
  const name = spec.serviceName;
  const selector = { app: name };
  const labels = kantaiLabels("webapp", selector);
  const env = [
    ...Object.entries(d.env ?? {}).map(([k, value]) => ({ name: k, value })),
    ...(spec.secretEnv ?? []).map((e) => ({
      name: e.name,
      valueFrom: { secretKeyRef: { ...e.valueFrom.secretKeyRef } },
    })),
  ];
  const annotations = d.annotations ?? {};
  const deployment: K8sObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: d.namespace, labels },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}) },
        spec: {
          containers: [
            {
              name,
              image: `${d.imageUrl}:${d.imageTag}`,
              ports: [{ name: "http", containerPort: d.port }],
              ...(env.length > 0 ? { env } : {}),
              resources: {
                limits: { cpu: d.cpuLimit, memory: d.memoryLimit },
                requests: { cpu: d.cpuRequest, memory: d.memoryRequest },
              },
              livenessProbe: {
                httpGet: { path: d.healthCheckPath, port: d.port, ...(d.scheme ? { scheme: d.scheme } : {}) },
                initialDelaySeconds: d.healthCheckInitialDelaySeconds,
              },
            },
          ],
        },
      },
    },
  };
  const service: K8sObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: d.namespace, labels },
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: "http", port: WEBAPP_SERVICE_PORT, targetPort: d.port, protocol: "TCP" }],
    },
  };
  const ingressRoute: K8sObject = {
    apiVersion: "traefik.io/v1alpha1",
    kind: "IngressRoute",
    metadata: { name, namespace: d.namespace, labels },
    spec: {
      entryPoints: ["web", "websecure"],
      routes: [
        { match: `Host(\`${webAppHost(spec, zone)}\`)`, kind: "Rule", services: [{ name, port: WEBAPP_SERVICE_PORT }] },
      ],
    },
  };
  return [deployment, service, ingressRoute];
}
