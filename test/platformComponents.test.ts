/**
 * Knative, CloudflareTunnel, WebApp and CorednsRewrite on a cluster, recorded under Pulumi mocks
 * (SIMULATED, see scripts/synth/mocks.ts): exact inputs, child names, and the dependency chain
 * cluster → Knative → tunnel → apps.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseManifests } from "../lib/render/k8s";
import type { RecordedResource } from "../scripts/synth/recorder";
import { validateAll } from "./support/k8sSchemas";

let resources: RecordedResource[] = [];
let result: any;

beforeAll(async () => {
  const { recordProgram, resolveDeep } = await import("../scripts/synth/recorder");
  const pulumi = await import("@pulumi/pulumi");
  const kubernetes = await import("@pulumi/kubernetes");
  const cloudflare = await import("@pulumi/cloudflare");
  const { Knative } = await import("../components/knative/knative");
  const { CloudflareTunnel } = await import("../components/cloudflare/cloudflareTunnel");
  const { WebApp } = await import("../components/webapp/webApp");
  const { CorednsRewrite } = await import("../components/webapp/corednsRewrite");
  // The defaults live in config only (stacks/config/platform.ts); the components take resolved values.
  const { KNATIVE_AUTOSCALER_DEFAULTS, KNATIVE_DEFAULTS, PLATFORM_DEFAULTS } = await import("../stacks/config");
  const rec = await recordProgram(() => {
    class Cluster extends pulumi.ComponentResource {
      constructor() {
        super("test:k8s:Cluster", "cluster", {});
        this.registerOutputs({});
      }
    }
    const cluster = new Cluster();
    const provider = new kubernetes.Provider(
      "cluster-k8s",
      { kubeconfig: "apiVersion: v1\nkind: Config\n" },
      { dependsOn: [cluster] },
    );
    const cf = new cloudflare.Provider("cloudflare", { apiToken: pulumi.secret("x".repeat(40)) });
    const knative = new Knative(
      "knative",
      {
        servingVersion: "1.23.0",
        ingress: "istio",
        exposure: KNATIVE_DEFAULTS.exposure,
        domain: "kn.example.com",
        autoscaler: { ...KNATIVE_AUTOSCALER_DEFAULTS, concurrencyTarget: 50 },
        eventing: {
          version: "1.23.0",
          kafka: {
            strimziVersion: "0.48.0",
            version: "4.1.0",
            brokers: 3,
            storage: { type: "persistent", sizeGi: 10, path: "/var/lib/kantai/kafka", nodes: ["w1", "w2", "w3"] },
          },
        },
        tektonVersion: "1.0.0",
      },
      { providers: { kubernetes: provider }, dependsOn: [cluster] },
    );
    const tunnel = new CloudflareTunnel(
      "edge-tunnel",
      {
        accountId: "0123456789abcdef0123456789abcdef",
        zoneId: "fedcba9876543210fedcba9876543210",
        zone: "example.com",
        tunnelName: "kantai-edge",
        namespace: "cloudflared",
        replicas: 2,
        image: PLATFORM_DEFAULTS.cloudflaredImage,
        routes: [
          { hostname: "blog.example.com", service: "http://traefik.kube-system.svc.cluster.local:80" },
          {
            hostname: "fib.example.com",
            service: "http://istio-ingressgateway.istio-system.svc.cluster.local:80",
            hostHeader: "fib.default.kn.example.com",
          },
        ],
      },
      { providers: { kubernetes: provider, cloudflare: cf }, dependsOn: [knative] },
    );
    const blog = new WebApp(
      "blog",
      {
        serviceName: "blog",
        imageUrl: "ghcr.io/acme/blog",
        imageTag: "1.2.0",
        healthCheckPath: "/healthz",
        zone: "example.com",
      },
      { providers: { kubernetes: provider }, dependsOn: [tunnel] },
    );
    const dns = new CorednsRewrite(
      "coredns",
      { rewrites: [{ from: blog.host, to: blog.serviceDns }] },
      { providers: { kubernetes: provider }, dependsOn: [blog] },
    );
    return { knative, tunnel, blog, dns };
  });
  resources = rec.resources;
  result = {
    ...rec.result,
    tunnelId: await resolveDeep(rec.result.tunnel.tunnelId),
    cname: await resolveDeep(rec.result.tunnel.cname),
  };
});

const byName = (n: string) => {
  const r = resources.find((x) => x.name === n);
  if (!r) throw new Error(`no resource ${n}; have ${resources.map((x) => x.name).join(", ")}`);
  return r as RecordedResource & { inputs: any };
};

describe("Knative", () => {
  it("installs the releases in order: Serving CRDs → core → Istio → net-istio → config; Eventing after Serving; Kafka after Strimzi", () => {
    const chain = (n: string) => byName(n).dependsOn;
    expect(byName("knative").dependsOn).toEqual(["cluster"]);
    expect(chain("knative-serving-crds")).toEqual([]);
    expect(chain("knative-serving-core")).toEqual(["knative-serving-crds"]);
    expect(chain("knative-istio")).toEqual(["knative-serving-core"]);
    expect(chain("knative-net-istio")).toEqual(["knative-istio"]);
    for (const cm of ["config-network", "config-domain", "config-autoscaler"])
      expect(chain(`knative-${cm}`)).toEqual(["knative-net-istio"]);
    expect(chain("knative-peer-authentication")).toEqual(["knative-net-istio"]);
    expect(chain("knative-eventing-crds")).toEqual(["knative-net-istio"]);
    expect(chain("knative-eventing-core")).toEqual(["knative-eventing-crds"]);
    expect(chain("knative-kafka-controller")).toEqual(["knative-eventing-core"]);
    expect(chain("knative-kafka-broker")).toEqual(["knative-kafka-controller"]);
    expect(chain("knative-strimzi")).toEqual(["knative-kafka-namespace"]);
    expect(chain("knative-kafka")).toEqual(["knative-strimzi"]);
    expect(chain("knative-kafka-broker-objects")).toEqual(["knative-kafka-broker", "knative-kafka"]);
  });

  it("release manifests come from pinned URLs (yaml/v2 ConfigFile)", () => {
    expect(byName("knative-serving-crds")).toMatchObject({
      type: "kubernetes:yaml/v2:ConfigFile",
      inputs: { file: "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-crds.yaml" },
    });
    // Tekton's current location (tektoncd/pipeline #9566, #9569).
    expect(byName("knative-tekton-pipelines").inputs.file).toBe(
      "https://infra.tekton.dev/tekton-releases/pipeline/previous/v1.0.0/release.yaml",
    );
    expect(byName("knative-istio").inputs.file).toBe(
      "https://github.com/knative-extensions/net-istio/releases/download/knative-v1.23.0/istio.yaml",
    );
  });

  it("the networking layer's ConfigFile carries the gateway transform; Traefik routes the Knative domain to the gateway after it", () => {
    // the networking layer: the aggregated-rules transform and the gateway's; every other release
    // only the aggregated-rules one (components/upstreamTransforms.ts, test/upstreamTransforms.test.ts)
    expect(byName("knative-istio").transforms).toBe(2);
    for (const k of ["serving-crds", "serving-core", "net-istio", "eventing-core", "tekton-pipelines", "strimzi"])
      expect(byName(`knative-${k}`).transforms, k).toBe(1);
    expect(byName("knative-traefik-route")).toMatchObject({
      type: "kubernetes:traefik.io/v1alpha1:IngressRoute",
      dependsOn: ["knative-net-istio"],
      inputs: {
        metadata: { name: "knative-ingress", namespace: "istio-system" },
        spec: { routes: [{ services: [{ name: "istio-ingressgateway", port: 80 }] }] },
      },
    });
  });

  it("patches config-network/-domain/-autoscaler server-side (the objects serving-core created)", () => {
    expect(byName("knative-config-network")).toMatchObject({
      type: "kubernetes:core/v1:ConfigMapPatch",
      inputs: {
        metadata: {
          name: "config-network",
          namespace: "knative-serving",
          annotations: { "pulumi.com/patchForce": "true" },
        },
        data: {
          "ingress-class": "istio.ingress.networking.knative.dev",
          "domain-template": "{{.Name}}.{{.Namespace}}.{{.Domain}}",
        },
      },
    });
    expect(byName("knative-config-domain").inputs.data).toEqual({ "kn.example.com": "" });
    expect(byName("knative-config-autoscaler").inputs.data["container-concurrency-target-default"]).toBe("50");
    expect(byName("knative-config-autoscaler").inputs.data["stable-window"]).toBe("60s");
    expect(byName("knative-default-namespace")).toMatchObject({
      type: "kubernetes:core/v1:NamespacePatch",
      inputs: { metadata: { name: "default", labels: { "istio-injection": "enabled" } } },
    });
  });

  it("Strimzi from its maintained Helm chart, then Kafka (persistent, 3 brokers) and the Kafka Broker", () => {
    expect(byName("knative-strimzi")).toMatchObject({
      type: "kubernetes:helm.sh/v4:Chart",
      inputs: { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "0.48.0", namespace: "kafka" },
    });
    const kafka = byName("knative-kafka");
    expect(kafka.type).toBe("kubernetes:yaml/v2:ConfigGroup");
    expect(kafka.inputs.objs.map((o: any) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "StorageClass/kafka-local",
      "PersistentVolume/kantai-kafka-0",
      "PersistentVolume/kantai-kafka-1",
      "PersistentVolume/kantai-kafka-2",
      "Kafka/kantai",
      "KafkaNodePool/dual-role",
    ]);
    expect(byName("knative-kafka-broker-objects").inputs.objs.map((o: any) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ConfigMap/kafka-broker-config",
      "Broker/default",
    ]);
    expect(result.knative.kafkaBootstrap).toBe("kantai-kafka-bootstrap.kafka.svc.cluster.local:9092");
  });

  it("lists every object it generates as one kubernetes artifact, all valid", async () => {
    expect(result.knative.artifacts.map((a: any) => [a.path, a.kind])).toEqual([
      ["knative/objects.yaml", "kubernetes"],
    ]);
    const objs = parseManifests(result.knative.artifacts[0].content);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "IngressRoute/knative-ingress",
      "ConfigMap/config-network",
      "ConfigMap/config-domain",
      "ConfigMap/config-autoscaler",
      "PeerAuthentication/default",
      "Namespace/default",
      "Namespace/kafka",
      "StorageClass/kafka-local",
      "PersistentVolume/kantai-kafka-0",
      "PersistentVolume/kantai-kafka-1",
      "PersistentVolume/kantai-kafka-2",
      "Kafka/kantai",
      "KafkaNodePool/dual-role",
      "ConfigMap/kafka-broker-config",
      "Broker/default",
    ]);
    expect(await validateAll(objs)).toEqual([]);
  });
});

describe("CloudflareTunnel", () => {
  it("waits for Knative", () => {
    expect(byName("edge-tunnel").dependsOn).toEqual(["knative"]);
  });

  it("a tunnel with a generated 32-byte secret, remotely configured", () => {
    expect(byName("edge-tunnel-secret")).toMatchObject({
      type: "random:index/randomBytes:RandomBytes",
      inputs: { length: 32 },
    });
    expect(byName("edge-tunnel-tunnel")).toMatchObject({
      type: "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
      inputs: {
        accountId: "0123456789abcdef0123456789abcdef",
        name: "kantai-edge",
        configSrc: "cloudflare",
        tunnelSecret: "[secret]",
      },
    });
  });

  it("ingress rules: one per hostname, then http_status:404", () => {
    expect(byName("edge-tunnel-config").inputs).toEqual({
      accountId: "0123456789abcdef0123456789abcdef",
      tunnelId: "edge-tunnel-tunnel-id",
      config: {
        ingresses: [
          { hostname: "blog.example.com", service: "http://traefik.kube-system.svc.cluster.local:80" },
          {
            hostname: "fib.example.com",
            service: "http://istio-ingressgateway.istio-system.svc.cluster.local:80",
            originRequest: { httpHostHeader: "fib.default.kn.example.com" },
          },
          { service: "http_status:404" },
        ],
      },
    });
  });

  it("a proxied CNAME per hostname to <tunnel-id>.cfargotunnel.com", () => {
    for (const h of ["blog", "fib"]) {
      expect(byName(`edge-tunnel-dns-${h}-example-com`).inputs).toEqual({
        zoneId: "fedcba9876543210fedcba9876543210",
        name: `${h}.example.com`,
        type: "CNAME",
        ttl: 1,
        content: "edge-tunnel-tunnel-id.cfargotunnel.com",
        proxied: true,
        comment: "kantai tunnel kantai-edge",
      });
    }
    expect(result.cname).toBe("edge-tunnel-tunnel-id.cfargotunnel.com");
    expect(result.tunnel.hostnames).toEqual(["blog.example.com", "fib.example.com"]);
  });

  it("cloudflared in the cluster, with the token as a secret in a Kubernetes Secret", () => {
    expect(byName("edge-tunnel-token")).toMatchObject({
      type: "kubernetes:core/v1:Secret",
      inputs: {
        metadata: { name: "cloudflared-token", namespace: "cloudflared" },
        type: "Opaque",
        stringData: "[secret]",
      },
    });
    expect(byName("edge-tunnel-token").dependsOn).toEqual(["edge-tunnel-namespace"]);
    const dep = byName("edge-tunnel-cloudflared");
    expect(dep.type).toBe("kubernetes:apps/v1:Deployment");
    expect(dep.dependsOn).toEqual(["edge-tunnel-token", "edge-tunnel-config"]);
    expect(dep.inputs.spec.replicas).toBe(2);
    expect(dep.inputs.spec.template.spec.containers[0].image).toBe("cloudflare/cloudflared:2025.9.1");
  });
});

describe("WebApp and CoreDNS", () => {
  it("the app waits for the tunnel; its children follow Deployment → Service → IngressRoute", () => {
    expect(byName("blog").dependsOn).toEqual(["edge-tunnel"]);
    expect(byName("blog-service").dependsOn).toEqual(["blog-deployment"]);
    expect(byName("blog-ingress-route").dependsOn).toEqual(["blog-service"]);
    expect(byName("blog-ingress-route").inputs).toEqual({
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: {
        name: "blog",
        namespace: "default",
        labels: { "app.kubernetes.io/managed-by": "kantai", "app.kubernetes.io/part-of": "webapp", app: "blog" },
      },
      spec: {
        entryPoints: ["web", "websecure"],
        routes: [{ match: "Host(`blog.example.com`)", kind: "Rule", services: [{ name: "blog", port: 8080 }] }],
      },
    });
    expect(result.blog.url).toBe("https://blog.example.com");
  });

  it("K3s: the rewrite goes in coredns-custom as an .override, which K3s imports into the main block", () => {
    expect(byName("coredns-coredns-custom").inputs).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "coredns-custom",
        namespace: "kube-system",
        labels: { "app.kubernetes.io/managed-by": "kantai", "app.kubernetes.io/part-of": "coredns" },
      },
      data: {
        "kantai.override": [
          "rewrite stop {",
          "    name regex ^blog\\.example\\.com\\.$ blog.default.svc.cluster.local.",
          "    answer name ^blog\\.default\\.svc\\.cluster\\.local\\.$ blog.example.com.",
          "}",
          "",
        ].join("\n"),
      },
    });
    expect(result.dns.corefile).toContain("import /etc/coredns/custom/*.override\n}");
  });

  it("every child is named after its component", () => {
    for (const r of resources.filter((x) => x.parent))
      expect(r.name.startsWith(`${r.parent}-`), `${r.name} under ${r.parent}`).toBe(true);
  });
});
