import * as cloudflare from "@pulumi/cloudflare";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { toYaml } from "../../lib/render/k8s";
import {
  renderCloudflared,
  renderTunnelIngress,
  renderTunnelSecret,
  type TunnelRoute,
} from "../../lib/render/k8sCloudflared";
import type { Artifact } from "../artifact";
import { childOptions } from "../childOptions";

export type { TunnelRoute } from "../../lib/render/k8sCloudflared";

export interface CloudflareTunnelArgs {
  /** Cloudflare account id. */
  readonly accountId: string;
  /** Zone id for the DNS records. Defaults to a lookup of `zone` by name (getZone). */
  readonly zoneId?: pulumi.Input<string>;
  /** Zone name, e.g. "example.com"; every route's hostname lies inside it (checked by config). */
  readonly zone: string;
  /** One ingress rule and one proxied CNAME per route. */
  readonly routes: readonly TunnelRoute[];
  /** Tunnel name in Cloudflare. Defaults to the component name. */
  readonly tunnelName?: string;
  /** Namespace of cloudflared (kantai:tunnel.namespace; its default lives in stacks/config/platform.ts). */
  readonly namespace: string;
  /** cloudflared replicas (kantai:tunnel.replicas; default in stacks/config/platform.ts). */
  readonly replicas: number;
  /** cloudflared image (kantai:tunnel.image; default in stacks/config/platform.ts). */
  readonly image: string;
}

const SECRET_NAME = "cloudflared-token";

/**
 * A remotely-managed Cloudflare Tunnel into the cluster: tunnel with a generated 32-byte secret,
 * its ingress rules (one per hostname, then 404), a proxied CNAME per hostname to
 * `<tunnel-id>.cfargotunnel.com`, and cloudflared running in the cluster with the tunnel token
 * (a Pulumi secret) in a Kubernetes Secret. The cluster's and Cloudflare's providers come in
 * `opts.providers` (`{ kubernetes, cloudflare }`); the lookups (getZone, the tunnel token) use the
 * Cloudflare one through `parent`.
 */
export class CloudflareTunnel extends pulumi.ComponentResource {
  public readonly tunnelId: pulumi.Output<string>;
  /** `<tunnel-id>.cfargotunnel.com`. */
  public readonly cname: pulumi.Output<string>;
  /** Public hostnames, sorted. */
  public readonly hostnames: string[];
  public readonly artifacts: Artifact[];

  constructor(name: string, args: CloudflareTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:cloudflare:CloudflareTunnel", name, {}, opts);
    const namespace = args.namespace;

    const secret = new random.RandomBytes(`${name}-secret`, { length: 32 }, { parent: this });
    const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
      `${name}-tunnel`,
      {
        accountId: args.accountId,
        name: args.tunnelName ?? name,
        configSrc: "cloudflare",
        tunnelSecret: secret.base64,
      },
      childOptions(this),
    );
    this.tunnelId = tunnel.id;
    this.cname = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;

    const ingresses = renderTunnelIngress(args.routes);
    const config = new cloudflare.ZeroTrustTunnelCloudflaredConfig(
      `${name}-config`,
      { accountId: args.accountId, tunnelId: tunnel.id, config: { ingresses } },
      childOptions(this),
    );

    const zoneId = args.zoneId ?? cloudflare.getZoneOutput({ filter: { name: args.zone } }, { parent: this }).id;
    this.hostnames = ingresses.flatMap((r) => (r.hostname ? [r.hostname] : []));
    for (const hostname of this.hostnames) {
      new cloudflare.DnsRecord(
        `${name}-dns-${hostname.replace(/\./g, "-")}`,
        {
          zoneId,
          name: hostname,
          type: "CNAME",
          ttl: 1,
          content: this.cname,
          proxied: true,
          comment: `kantai tunnel ${args.tunnelName ?? name}`,
        },
        childOptions(this),
      );
    }

    const token = pulumi.secret(
      cloudflare.getZeroTrustTunnelCloudflaredTokenOutput(
        { accountId: args.accountId, tunnelId: tunnel.id },
        { parent: this },
      ).token,
    );
    const [nsObj, deploymentObj] = renderCloudflared({
      namespace,
      image: args.image,
      replicas: args.replicas,
      secretName: SECRET_NAME,
    });
    const ns = new kubernetes.core.v1.Namespace(`${name}-namespace`, { metadata: nsObj.metadata }, childOptions(this));
    const secretObj = renderTunnelSecret(namespace, SECRET_NAME, "[secret]");
    const tokenSecret = new kubernetes.core.v1.Secret(
      `${name}-token`,
      { metadata: secretObj.metadata, type: "Opaque", stringData: { token } },
      childOptions(this, [ns]),
    );
    new kubernetes.apps.v1.Deployment(
      `${name}-cloudflared`,
      { metadata: deploymentObj.metadata, spec: deploymentObj.spec as kubernetes.types.input.apps.v1.DeploymentSpec },
      childOptions(this, [tokenSecret, config]),
    );

    this.artifacts = [
      {
        path: `${name}/cloudflared.yaml`,
        kind: "kubernetes",
        resource: `${name}-cloudflared`,
        content: toYaml([nsObj, secretObj, deploymentObj]),
      },
    ];
    this.registerOutputs({ tunnelId: this.tunnelId, cname: this.cname, hostnames: this.hostnames });
  }
}
