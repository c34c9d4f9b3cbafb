/**
 * cloudflared in the cluster (the connector of a remotely-managed Cloudflare Tunnel) and the
 * tunnel's ingress rules. Pure: the token itself never passes through here.
 */
import { kantaiLabels, type K8sObject } from "./k8s";

export interface TunnelRoute {
  /** Public hostname, e.g. "blog.example.com". */
  readonly hostname: string;
  /** Origin inside the cluster, e.g. "http://traefik.kube-system.svc.cluster.local:80". */
  readonly service: string;
  /** Host header sent to the origin. Defaults to the public hostname. */
  readonly hostHeader?: string;
}

export interface TunnelIngressRule {
  readonly hostname?: string;
  readonly service: string;
  readonly originRequest?: { readonly httpHostHeader: string };
}

/** One rule per hostname (sorted, so reordering config changes nothing), then the catch-all 404. */
export function renderTunnelIngress(routes: readonly TunnelRoute[]): TunnelIngressRule[] {
  return [
    ...[...routes]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map((r) => ({
        hostname: r.hostname,
        service: r.service,
        ...(r.hostHeader && r.hostHeader !== r.hostname ? { originRequest: { httpHostHeader: r.hostHeader } } : {}),
      })),
    { service: "http_status:404" },
  ];
}

export interface CloudflaredSpec {
  readonly namespace: string;
  readonly image: string;
  readonly replicas: number;
  /** Secret holding the tunnel token under key "token". */
  readonly secretName: string;
}

/** Namespace and Deployment of cloudflared; the token comes from the Secret as TUNNEL_TOKEN. */
export function renderCloudflared(spec: CloudflaredSpec): K8sObject[] {
  const selector = { app: "cloudflared" };
  const labels = kantaiLabels("cloudflare-tunnel", selector);
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: spec.namespace, labels: kantaiLabels("cloudflare-tunnel") },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "cloudflared", namespace: spec.namespace, labels },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              sysctls: [{ name: "net.ipv4.ping_group_range", value: "65532 65532" }],
            },
            containers: [
              {
                name: "cloudflared",
                image: spec.image,
                args: ["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"],
                env: [{ name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: spec.secretName, key: "token" } } }],
                ports: [{ name: "metrics", containerPort: 2000 }],
                livenessProbe: {
                  httpGet: { path: "/ready", port: 2000 },
                  initialDelaySeconds: 10,
                  periodSeconds: 10,
                  failureThreshold: 1,
                },
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
              },
            ],
          },
        },
      },
    },
  ];
}

/** The token Secret with `token` as given (the component passes the secret; artifacts pass a placeholder). */
export function renderTunnelSecret(namespace: string, secretName: string, token: string): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName, namespace, labels: kantaiLabels("cloudflare-tunnel") },
    type: "Opaque",
    stringData: { token },
  };
}
