import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toYaml } from "../../lib/render/k8s";
import { renderWebApp, webAppHost, webAppServiceDns, type WebAppSpec } from "../../lib/render/webapp";
import type { Artifact } from "../artifact";
import { childOptions } from "../childOptions";

export type { WebAppSpec } from "../../lib/render/webapp";

export interface WebAppArgs extends WebAppSpec {
  /** Public DNS zone, e.g. "example.com"; the app answers `Host(<host>.<zone>)`. */
  readonly zone: string;
}

/**
 * Seed 003's full-deployment module: Deployment (limits/requests, HTTP liveness probe), ClusterIP
 * Service 8080 → port, Traefik IngressRoute on web+websecure for `<host>.<zone>`. Its public DNS
 * name is a route of the CloudflareTunnel (pass the tunnel in `opts.dependsOn`). The cluster's
 * provider comes in `opts.providers`.
 */
export class WebApp extends pulumi.ComponentResource {
  /** `<host>.<zone>`. */
  public readonly host: string;
  public readonly url: string;
  /** `<service>.<namespace>.svc.cluster.local`. */
  public readonly serviceDns: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: WebAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:webapp:WebApp", name, {}, opts);
    const { zone, ...spec } = args;
    const [deployment, service, route] = renderWebApp(spec, zone);
    const dep = new kubernetes.apps.v1.Deployment(
      `${name}-deployment`,
      { metadata: deployment.metadata, spec: deployment.spec as kubernetes.types.input.apps.v1.DeploymentSpec },
      childOptions(this),
    );
    const svc = new kubernetes.core.v1.Service(
      `${name}-service`,
      { metadata: service.metadata, spec: service.spec as kubernetes.types.input.core.v1.ServiceSpec },
      childOptions(this, [dep]),
    );
    new kubernetes.apiextensions.CustomResource(
      `${name}-ingress-route`,
      { apiVersion: route.apiVersion, kind: route.kind, metadata: route.metadata, spec: route.spec },
      childOptions(this, [svc]),
    );
    this.host = webAppHost(spec, zone);
    this.url = `https://${this.host}`;
    this.serviceDns = webAppServiceDns(spec);
    this.artifacts = [
      {
        path: `${name}/webapp.yaml`,
        kind: "kubernetes",
        resource: `${name}-deployment`,
        content: toYaml([deployment, service, route]),
      },
    ];
    this.registerOutputs({ host: this.host, url: this.url });
  }
}
