import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  renderGroguCaddyfile,
  renderGroguCaddyInstall,
  renderGroguTools,
  renderGroguUserData,
  renderKnativeOnMinikube,
  renderMinikubeKubeconfigRead,
  renderMinikubeStart,
} from "../../lib/render/grogu";
import { rewriteKubeconfig } from "../../lib/render/kubeconfig";
import { asRoot, asUser } from "../../lib/render/remoteShell";
import type { Artifact } from "../artifact";
import { bridgeVmPlacement, ClonedVm, type BridgeVmArgs } from "../proxmox/clonedVm";
import { DIAL, DIAL_PATIENT, sshConnection } from "./connections";

/**
 * The grogu VM (seed: VM 600 "grogu" at 10.0.0.10, 6 cores, 8192 MB, cloned from the "knative"
 * template; `user` runs Minikube) and what runs on it.
 */
export interface GroguNodeArgs extends BridgeVmArgs {
  /** Base domain and grogu's label: services answer at `<svc>.<label>.<domain>`. */
  readonly domain: string;
  readonly label: string;
  readonly kubectlVersion: string;
  readonly minikube: {
    readonly version: string;
    readonly kubernetesVersion: string;
    readonly staticIp: string;
    readonly apiServerPort: number;
    readonly addons: readonly string[];
  };
  readonly knative: {
    readonly servingVersion: string;
    readonly kourierVersion: string;
    /** Knative's own domain. Seed: "local.knative". */
    readonly domain: string;
    readonly kourierNodePort: number;
  };
  /** Dashboard NodePort (seed: 30000), or null. */
  readonly dashboardNodePort: number | null;
  /** Caddy image of grogu's proxy. */
  readonly caddyImage: string;
}

/**
 * Seed 000's grogu: a VM cloned from the "knative" template that runs Minikube with Knative
 * Serving and Kourier. Cloud-init installs Docker, kubectl and Minikube; SSH steps (idempotent,
 * bounded, naming host and step on failure) start Minikube, install Knative, and run grogu's Caddy,
 * which maps `<svc>.<label>.<domain>` onto Knative's `<svc>.default.<knative domain>`. The
 * kubeconfig comes back over SSH as a secret, pointed at `https://<ip>:<apiServerPort>`;
 * `provider` is built from it. `route` is what the root gateway proxies `*.<label>.<domain>` to.
 */
export class GroguNode extends pulumi.ComponentResource {
  public readonly vm: ClonedVm;
  public readonly minikube: command.remote.Command;
  public readonly knative: command.remote.Command;
  public readonly caddy: command.remote.Command;
  /** Admin kubeconfig (secret), server = `apiServer`, names "grogu". */
  public readonly kubeconfig: pulumi.Output<string>;
  /** Kubernetes provider for grogu's Minikube (Knative is installed before it can be used). */
  public readonly provider: k8s.Provider;
  public readonly apiServer: string;
  /** The root gateway's route to grogu: `*.<label>.<domain>` → `<ip>:80`. */
  public readonly route: { readonly label: string; readonly upstream: string };
  /** Knative's internal domain (`<svc>.default.<knativeDomain>`). */
  public readonly knativeDomain: string;
  public readonly caddyfile: string;
  /** Base domain of `route`. */
  public readonly domain: string;
  public readonly artifacts: Artifact[];

  constructor(name: string, args: GroguNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:k8s:GroguNode", name, {}, opts);
    const host = `${args.hostname} (${args.ip})`;
    const target = { host: args.ip, user: args.user, jump: args.jump };

    const tools = renderGroguTools({
      kubectlVersion: args.kubectlVersion,
      minikubeVersion: args.minikube.version,
      user: args.user,
    });
    const userData = renderGroguUserData({
      hostname: args.hostname,
      domain: args.dns.domain,
      user: args.user,
      sshAuthorizedKeys: args.sshAuthorizedKeys,
      tools,
    });
    this.vm = new ClonedVm(
      `${name}-vm`,
      {
        ...bridgeVmPlacement(args),
        userData,
        artifactPath: `${name}/${args.hostname}.user-data.yaml`,
        tags: ["kantai", "grogu", "knative"],
        startupOrder: 10,
      },
      { parent: this },
    );

    // Every step runs against this VM instance: when the provider replaces the VM (a user-data edit,
    // bpg #1636) the steps are replaced with it and run again on the new machine (replaceWith).
    const onVm: pulumi.CustomResourceOptions = { replaceWith: [this.vm.vm] };
    const minikubeScript = renderMinikubeStart({
      host,
      user: args.user,
      vmIp: args.ip,
      kubernetesVersion: args.minikube.kubernetesVersion,
      staticIp: args.minikube.staticIp,
      apiServerPort: args.minikube.apiServerPort,
      addons: args.minikube.addons,
    });
    this.minikube = new command.remote.Command(
      `${name}-minikube`,
      {
        connection: sshConnection(target, args.sshPrivateKey, DIAL_PATIENT),
        create: asUser(minikubeScript, "kantai-minikube"),
        update: asUser(minikubeScript, "kantai-minikube"),
      },
      { parent: this, dependsOn: [this.vm], customTimeouts: { create: "60m", update: "60m" }, ...onVm },
    );

    const knativeScript = renderKnativeOnMinikube({
      host,
      servingVersion: args.knative.servingVersion,
      kourierVersion: args.knative.kourierVersion,
      domain: args.knative.domain,
      kourierNodePort: args.knative.kourierNodePort,
      dashboardNodePort: args.dashboardNodePort,
    });
    this.knative = new command.remote.Command(
      `${name}-knative`,
      {
        connection: sshConnection(target, args.sshPrivateKey, DIAL),
        create: asUser(knativeScript, "kantai-knative"),
        update: asUser(knativeScript, "kantai-knative"),
      },
      { parent: this, dependsOn: [this.minikube], customTimeouts: { create: "30m", update: "30m" }, ...onVm },
    );

    this.caddyfile = renderGroguCaddyfile({
      domain: args.domain,
      label: args.label,
      knativeDomain: args.knative.domain,
      minikubeIp: args.minikube.staticIp,
      kourierNodePort: args.knative.kourierNodePort,
    });
    const caddyScript = renderGroguCaddyInstall({ host, caddyfile: this.caddyfile, caddyImage: args.caddyImage });
    this.caddy = new command.remote.Command(
      `${name}-caddy`,
      {
        connection: sshConnection(target, args.sshPrivateKey, DIAL),
        create: asRoot(caddyScript, "kantai-caddy"),
        update: asRoot(caddyScript, "kantai-caddy"),
      },
      { parent: this, dependsOn: [this.knative], customTimeouts: { create: "10m", update: "10m" }, ...onVm },
    );

    const kubeconfigScript = renderMinikubeKubeconfigRead(host);
    const read = new command.remote.Command(
      `${name}-kubeconfig`,
      {
        connection: sshConnection(target, args.sshPrivateKey, DIAL),
        create: asUser(kubeconfigScript, "kantai-kubeconfig"),
        update: asUser(kubeconfigScript, "kantai-kubeconfig"),
        triggers: [args.minikube.kubernetesVersion, args.minikube.apiServerPort],
        logging: "none",
      },
      {
        parent: this,
        dependsOn: [this.knative],
        additionalSecretOutputs: ["stdout"],
        customTimeouts: { create: "5m", update: "5m" },
        ...onVm,
      },
    );
    this.apiServer = `https://${args.ip}:${args.minikube.apiServerPort}`;
    this.kubeconfig = pulumi.secret(read.stdout.apply((s) => rewriteKubeconfig(s, this.apiServer, args.hostname)));
    // enableConfigMapMutable: without it pulumi-kubernetes replaces (deletes, then recreates under the
    // same name) every ConfigMap whose data changes (provider/pkg/provider/diff.go; the provider
    // schema's enableConfigMapMutable); kantai's ConfigMaps are updated in place and the Deployments
    // that mount them roll by their config-hash annotation. Changing it is a provider update, not a
    // replacement (DiffConfig replaces only when the cluster identity changes).
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true, enableConfigMapMutable: true },
      { parent: this },
    );

    this.route = { label: args.label, upstream: `${args.ip}:80` };
    this.knativeDomain = args.knative.domain;
    this.domain = args.domain;
    this.artifacts = [
      ...this.vm.artifacts,
      { path: `${name}/tools.sh`, kind: "shell", resource: `${name}-vm-user-data`, content: tools },
      { path: `${name}/minikube-start.sh`, kind: "shell", resource: `${name}-minikube`, content: minikubeScript },
      { path: `${name}/knative.sh`, kind: "shell", resource: `${name}-knative`, content: knativeScript },
      { path: `${name}/Caddyfile`, kind: "caddyfile", resource: `${name}-caddy`, content: this.caddyfile },
      { path: `${name}/caddy.sh`, kind: "shell", resource: `${name}-caddy`, content: caddyScript },
      { path: `${name}/kubeconfig.sh`, kind: "shell", resource: `${name}-kubeconfig`, content: kubeconfigScript },
    ];
    this.registerOutputs({ apiServer: this.apiServer, kubeconfig: this.kubeconfig, route: this.route });
  }

  /** The URL of a Knative service (in "default") through the gateway: `http://<svc>.<label>.<domain>`. */
  public serviceUrl(service: string): string {
    return `http://${service}.${this.route.label}.${this.domain}`;
  }
}
