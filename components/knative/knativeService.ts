import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toYaml } from "../../lib/render/k8s";
import {
  knativeHost,
  renderKnativeService,
  renderSourceConfigMap,
  type ContainerResources,
  type KnativeScale,
} from "../../lib/render/knative";
import type { Artifact } from "../artifact";
import { childOptions } from "../childOptions";
import { sourceSha256, type FunctionSource } from "../webService";

export type { ContainerResources, KnativeScale } from "../../lib/render/knative";

export interface KnativeServiceArgs {
  /** Container image, e.g. "ghcr.io/acme/fib:1.0". */
  readonly image: string;
  /** Namespace. Defaults to "default". */
  readonly namespace?: string;
  /** Service name. Defaults to the component name. */
  readonly serviceName?: string;
  /** Container port. Defaults to Knative's (8080, passed to the container as $PORT). */
  readonly port?: number;
  /** Environment variables. Defaults to none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Autoscaling: bounds, target, metric, window, target-burst-capacity. Defaults to the cluster's autoscaler defaults. */
  readonly scale?: KnativeScale;
  /** CPU/memory requests and limits. Defaults to none. */
  readonly resources?: ContainerResources;
  /** Hard per-pod concurrency limit. Defaults to Knative's 0 (unlimited). */
  readonly containerConcurrency?: number;
  /** Extra labels. Defaults to none. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The cluster's Knative route domain, to compute `url` (kantai:knative.domain or kantai:grogu.knative.domain;
   * defaults in stacks/config/platform.ts, KNATIVE_DEFAULTS, and stacks/config/clusters.ts).
   */
  readonly domain: string;
  /** The cluster's Knative `domain-template`, to compute `url`. Defaults to Knative's "{{.Name}}.{{.Namespace}}.{{.Domain}}". */
  readonly domainTemplate?: string;
  /**
   * Source files to run with `image` as the runtime: kept in a ConfigMap `<service>-source`,
   * mounted read-only, started with `command`; a source change rolls a new revision.
   * Defaults to none (the image's own entrypoint).
   */
  readonly source?: FunctionSource;
}

/**
 * One Knative Service (a function): `serving.knative.dev/v1` Service with scale annotations on
 * its revision template, rendered by `renderKnativeService` and applied as a custom resource.
 * Needs Knative Serving in the cluster: pass the `Knative` component in `opts.dependsOn`, the
 * cluster's provider in `opts.providers`.
 */
export class KnativeService extends pulumi.ComponentResource {
  public readonly service: kubernetes.apiextensions.CustomResource;
  /** The rendered object, exactly as applied. */
  public readonly manifest: Record<string, unknown>;
  /** `http://<host>`, the host from the domain template (default `<name>.<namespace>.<domain>`). */
  public readonly url: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: KnativeServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:knative:KnativeService", name, {}, opts);
    const serviceName = args.serviceName ?? name;
    const namespace = args.namespace ?? "default";
    const sourceObj = args.source
      ? renderSourceConfigMap(`${serviceName}-source`, namespace, args.source.files)
      : undefined;
    const sourceMap = sourceObj
      ? new kubernetes.core.v1.ConfigMap(
          `${name}-source`,
          {
            metadata: sourceObj.metadata as kubernetes.types.input.meta.v1.ObjectMeta,
            data: sourceObj.data as Record<string, string>,
          },
          childOptions(this),
        )
      : undefined;
    const obj = renderKnativeService({
      name: serviceName,
      namespace,
      image: args.image,
      ...(args.source
        ? {
            source: {
              configMap: `${serviceName}-source`,
              mountPath: args.source.mountPath,
              command: args.source.command,
              sha256: sourceSha256(args.source.files),
            },
          }
        : {}),
      port: args.port,
      env: args.env,
      scale: args.scale,
      resources: args.resources,
      containerConcurrency: args.containerConcurrency,
      labels: args.labels,
    });
    this.manifest = obj;
    const { apiVersion, kind, metadata, ...rest } = obj;
    this.service = new kubernetes.apiextensions.CustomResource(
      `${name}-service`,
      { apiVersion, kind, metadata, ...rest },
      childOptions(this, sourceMap ? [sourceMap] : []),
    );
    this.url = `http://${knativeHost(serviceName, namespace, args.domain, args.domainTemplate)}`;
    this.artifacts = [
      {
        path: `${name}/knative-service.yaml`,
        kind: "kubernetes",
        resource: `${name}-service`,
        content: toYaml(sourceObj ? [sourceObj, obj] : [obj]),
      },
    ];
    this.registerOutputs({ url: this.url });
  }
}
