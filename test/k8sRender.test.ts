/** Pure renderers of Kubernetes objects: exact outputs, and every object validates against its schema. */
import { describe, expect, it } from "vitest";
import { parseCorefile, renderCorefile, renderRewriteRules } from "../lib/render/coredns";
import { parseManifests, toYaml, type K8sObject } from "../lib/render/k8s";
import { renderCloudflared, renderTunnelIngress, renderTunnelSecret } from "../lib/render/k8sCloudflared";
import {
  eventingReleases,
  FIBONACCI_BEHAVIOR,
  isSimpleDomainTemplate,
  knativeHost,
  renderIstioExtras,
  renderKafka,
  renderKafkaBroker,
  renderKnativeService,
  renderServingConfig,
  releaseLocation,
  servingReleases,
  strimziChart,
  tektonRelease,
} from "../lib/render/knative";
import { renderWebApp, WEBAPP_DEFAULTS } from "../lib/render/webapp";
import { validateAll, validateObject } from "./support/k8sSchemas";

const AUTOSCALER = {
  concurrencyTarget: 100,
  targetBurstCapacity: 200,
  stableWindow: "60s",
  scaleToZeroGracePeriod: "30s",
  enableScaleToZero: true,
  maxScale: 0,
};
const LABELS = (part: string, extra: Record<string, string> = {}) => ({
  "app.kubernetes.io/managed-by": "kantai",
  "app.kubernetes.io/part-of": part,
  ...extra,
});

// Issue 10 item 11: the current upstream locations. Knative's install docs
// (https://knative.dev/docs/install/yaml-install/serving/install-serving-with-yaml/) fetch net-kourier and
// net-istio from the knative-extensions org; Tekton's releases moved from the GCS bucket to
// infra.tekton.dev (https://github.com/tektoncd/pipeline/issues/9566, https://github.com/tektoncd/pipeline/pull/9569).
describe("Knative release manifests", () => {
  it("Serving with Kourier: CRDs, core, then net-kourier (knative-extensions), and each file's path under a mirror", () => {
    expect(servingReleases({ serving: "1.23.0" }, "kourier")).toEqual([
      {
        key: "serving-crds",
        url: "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-crds.yaml",
        mirrorPath: "serving/v1.23.0/serving-crds.yaml",
      },
      {
        key: "serving-core",
        url: "https://github.com/knative/serving/releases/download/knative-v1.23.0/serving-core.yaml",
        mirrorPath: "serving/v1.23.0/serving-core.yaml",
      },
      {
        key: "net-kourier",
        url: "https://github.com/knative-extensions/net-kourier/releases/download/knative-v1.23.0/kourier.yaml",
        mirrorPath: "net-kourier/v1.23.0/kourier.yaml",
      },
    ]);
  });
  it("Serving with Istio: Istio itself, then net-istio (knative-extensions)", () => {
    expect(
      servingReleases({ serving: "1.23.0" }, "istio")
        .slice(2)
        .map((r) => [r.url, r.mirrorPath]),
    ).toEqual([
      [
        "https://github.com/knative-extensions/net-istio/releases/download/knative-v1.23.0/istio.yaml",
        "net-istio/v1.23.0/istio.yaml",
      ],
      [
        "https://github.com/knative-extensions/net-istio/releases/download/knative-v1.23.0/net-istio.yaml",
        "net-istio/v1.23.0/net-istio.yaml",
      ],
    ]);
  });
  it("Eventing with the Kafka broker, and Tekton from infra.tekton.dev", () => {
    expect(eventingReleases("1.23.0", "1.23.0").map((r) => r.key)).toEqual([
      "eventing-crds",
      "eventing-core",
      "kafka-controller",
      "kafka-broker",
    ]);
    expect(eventingReleases("1.23.0", "1.23.0")[3]).toEqual({
      key: "kafka-broker",
      url: "https://github.com/knative-extensions/eventing-kafka-broker/releases/download/knative-v1.23.0/eventing-kafka-broker.yaml",
      mirrorPath: "eventing-kafka-broker/v1.23.0/eventing-kafka-broker.yaml",
    });
    expect(eventingReleases("1.23.0", undefined).map((r) => r.key)).toEqual(["eventing-crds", "eventing-core"]);
    expect(tektonRelease("1.0.0")).toEqual({
      key: "tekton-pipelines",
      url: "https://infra.tekton.dev/tekton-releases/pipeline/previous/v1.0.0/release.yaml",
      mirrorPath: "tekton-pipeline/v1.0.0/release.yaml",
    });
    for (const r of [
      ...servingReleases({ serving: "1.23.0" }, "kourier"),
      ...servingReleases({ serving: "1.23.0" }, "istio"),
      tektonRelease("1.0.0"),
    ]) {
      expect(r.url).not.toMatch(/storage\.googleapis\.com|github\.com\/knative\/net-/);
    }
  });
  it("a mirror stands in for every location: <base>/<mirrorPath> for a URL or a directory; Strimzi's chart as the .tgz helm pull writes", () => {
    const r = tektonRelease("1.0.0");
    expect(releaseLocation(r)).toBe(r.url);
    expect(releaseLocation(r, { kind: "url", base: "http://127.0.0.1:8080/kantai/" })).toBe(
      "http://127.0.0.1:8080/kantai/tekton-pipeline/v1.0.0/release.yaml",
    );
    expect(releaseLocation(r, { kind: "dir", path: "/srv/mirror" })).toBe(
      "/srv/mirror/tekton-pipeline/v1.0.0/release.yaml",
    );
    expect(strimziChart("0.48.0")).toEqual({
      chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator",
      mirrorPath: "strimzi/v0.48.0/strimzi-kafka-operator-0.48.0.tgz",
    });
    expect(strimziChart("0.48.0", { kind: "dir", path: "/srv/mirror/" }).chart).toBe(
      "/srv/mirror/strimzi/v0.48.0/strimzi-kafka-operator-0.48.0.tgz",
    );
  });
});

describe("Knative hosts", () => {
  it.each([
    [undefined, "fib.default.kn.example.com"],
    ["{{.Name}}.{{.Domain}}", "fib.kn.example.com"],
    ["{{.Name}}-{{.Namespace}}.{{.Domain}}", "fib-default.kn.example.com"],
  ])("template %s gives %s", (template, host) => {
    expect(knativeHost("fib", "default", "kn.example.com", template)).toBe(host);
  });
  it.each([
    ["{{.Name}}.{{.Namespace}}.{{.Domain}}", true],
    ["{{.Name}}.{{.Domain}}", true],
    ["{{.Namespace}}.{{.Domain}}", false],
    ['{{.Name}}.{{index .Annotations "x"}}.{{.Domain}}', false],
  ])("%s is one kantai can fill: %s", (template, ok) => {
    expect(isSimpleDomainTemplate(template)).toBe(ok);
  });
});

describe("Knative configuration objects", () => {
  it("config-network, config-domain and config-autoscaler (seed 000: Kourier, local.knative)", () => {
    const [network, domain, autoscaler] = renderServingConfig({
      ingress: "kourier",
      domain: "local.knative",
      autoscaler: AUTOSCALER,
    });
    expect(network.data).toEqual({
      "ingress-class": "kourier.ingress.networking.knative.dev",
      "domain-template": "{{.Name}}.{{.Namespace}}.{{.Domain}}",
    });
    expect(domain).toMatchObject({
      metadata: { name: "config-domain", namespace: "knative-serving" },
      data: { "local.knative": "" },
    });
    expect(autoscaler.data).toEqual({
      "container-concurrency-target-default": "100",
      "target-burst-capacity": "200",
      "stable-window": "60s",
      "scale-to-zero-grace-period": "30s",
      "enable-scale-to-zero": "true",
      "max-scale": "0",
    });
  });
  it("config-observability only with Prometheus metrics: both protocols to prometheus (Knative's default is none)", () => {
    // knative/serving config/core/configmaps/observability.yaml: metrics-protocol and
    // request-metrics-protocol default to "none" (nothing to scrape); "prometheus" serves them.
    expect(
      renderServingConfig({ ingress: "kourier", domain: "d", autoscaler: AUTOSCALER }).map((c) => c.metadata.name),
    ).not.toContain("config-observability");
    const obs = renderServingConfig({
      ingress: "kourier",
      domain: "d",
      autoscaler: AUTOSCALER,
      prometheusMetrics: true,
    }).find((c) => c.metadata.name === "config-observability");
    expect(obs).toMatchObject({
      metadata: { namespace: "knative-serving" },
      data: { "metrics-protocol": "prometheus", "request-metrics-protocol": "prometheus" },
    });
  });
  it("Istio (seed 001): PeerAuthentication PERMISSIVE in knative-serving, injection on default", () => {
    const { peerAuthentication, defaultNamespacePatch } = renderIstioExtras();
    expect(peerAuthentication).toEqual({
      apiVersion: "security.istio.io/v1beta1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "knative-serving", labels: LABELS("knative") },
      spec: { mtls: { mode: "PERMISSIVE" } },
    });
    expect(defaultNamespacePatch.metadata).toEqual({ name: "default", labels: { "istio-injection": "enabled" } });
  });
  it("fibonacci-behavior: the seed's annotations and resources", () => {
    const svc = renderKnativeService({ ...FIBONACCI_BEHAVIOR, image: "fib:1" }) as any;
    expect(svc.spec.template.metadata.annotations).toEqual({
      "autoscaling.knative.dev/target": "200",
      "autoscaling.knative.dev/min-scale": "0",
      "autoscaling.knative.dev/max-scale": "5",
      "autoscaling.knative.dev/window": "30s",
      "autoscaling.knative.dev/target-burst-capacity": "-1",
    });
    expect(svc.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: "200m", memory: "512M" },
      limits: { cpu: "1", memory: "512M" },
    });
  });
  it("an HPA function on CPU carries class and metric", () => {
    const svc = renderKnativeService({
      name: "f",
      image: "i",
      scale: { class: "hpa", metric: "cpu", target: 80 },
    }) as any;
    expect(svc.spec.template.metadata.annotations).toEqual({
      "autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev",
      "autoscaling.knative.dev/metric": "cpu",
      "autoscaling.knative.dev/target": "80",
    });
  });
});

describe("Kafka through Strimzi (seed 001)", () => {
  const base = { name: "kantai", namespace: "kafka", version: "4.1.0", brokers: 3 };
  it("ephemeral: a KRaft Kafka and one dual-role node pool of 3", () => {
    const [kafka, pool] = renderKafka({ ...base, storage: { type: "ephemeral" } }) as any[];
    expect(kafka.metadata.annotations).toEqual({ "strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled" });
    expect(kafka.spec.kafka.config).toEqual({
      "offsets.topic.replication.factor": 3,
      "transaction.state.log.replication.factor": 3,
      "transaction.state.log.min.isr": 2,
      "default.replication.factor": 3,
      "min.insync.replicas": 2,
    });
    expect(pool.spec).toEqual({ replicas: 3, roles: ["controller", "broker"], storage: { type: "ephemeral" } });
    expect(pool.metadata.labels["strimzi.io/cluster"]).toBe("kantai");
  });
  // Issue 10 item 5: a `local` PV's path must already exist on the node — kubelet does not create it
  // (https://kubernetes.io/docs/concepts/storage/volumes/#local: "a local volume represents a mounted
  // local storage device such as a disk, partition or directory"; no create semantics), and nothing in
  // kantai made /var/lib/kantai/kafka. hostPath `DirectoryOrCreate` makes kubelet create it
  // (https://kubernetes.io/docs/concepts/storage/volumes/#hostpath-volume-types), the shape K3s'
  // local-path provisioner gives its own PVs: hostPath + required nodeAffinity on kubernetes.io/hostname
  // (https://github.com/rancher/local-path-provisioner/blob/master/provisioner.go, getPathAndNodeForPV).
  it("persistent: a no-provisioner StorageClass (WaitForFirstConsumer, Retain) and one PV per broker on its node, created by kubelet", () => {
    const objs = renderKafka({
      ...base,
      storage: { type: "persistent", sizeGi: 20, path: "/var/lib/kantai/kafka", nodes: ["w1", "w2", "w3"] },
    }) as any[];
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "StorageClass/kafka-local",
      "PersistentVolume/kantai-kafka-0",
      "PersistentVolume/kantai-kafka-1",
      "PersistentVolume/kantai-kafka-2",
      "Kafka/kantai",
      "KafkaNodePool/dual-role",
    ]);
    expect(objs[0]).toMatchObject({
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Retain",
    });
    expect(objs[2].spec).toEqual({
      capacity: { storage: "20Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "kafka-local",
      volumeMode: "Filesystem",
      hostPath: { path: "/var/lib/kantai/kafka/kantai-kafka-1", type: "DirectoryOrCreate" },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["w2"] }] },
          ],
        },
      },
    });
    // No PV relies on a directory existing beforehand; each broker has a directory of its own.
    const pvs = objs.filter((o) => o.kind === "PersistentVolume");
    for (const pv of pvs) expect(pv.spec.local).toBeUndefined();
    expect(new Set(pvs.map((pv) => pv.spec.hostPath.path)).size).toBe(3);
    expect(objs[5].spec.storage).toEqual({
      type: "jbod",
      volumes: [
        {
          id: 0,
          type: "persistent-claim",
          size: "20Gi",
          class: "kafka-local",
          deleteClaim: false,
          kraftMetadata: "shared",
        },
      ],
    });
  });
  it("one broker: replication factor and min ISR 1", () => {
    const [kafka] = renderKafka({ ...base, brokers: 1, storage: { type: "ephemeral" } }) as any[];
    expect(kafka.spec.kafka.config["default.replication.factor"]).toBe(1);
    expect(kafka.spec.kafka.config["min.insync.replicas"]).toBe(1);
  });
  it("the Knative Kafka Broker points at the Strimzi bootstrap service", () => {
    const [cm, broker] = renderKafkaBroker({ kafka: base }) as any[];
    expect(cm.data).toEqual({
      "default.topic.partitions": "10",
      "default.topic.replication.factor": "3",
      "bootstrap.servers": "kantai-kafka-bootstrap.kafka.svc.cluster.local:9092",
    });
    expect(broker.metadata.annotations).toEqual({ "eventing.knative.dev/broker.class": "Kafka" });
    expect(broker.spec.config).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "kafka-broker-config",
      namespace: "knative-eventing",
    });
  });
});

describe("WebApp (seed 003's full-deployment module)", () => {
  it("the module's defaults", () => {
    expect(WEBAPP_DEFAULTS).toEqual({
      namespace: "default",
      replicas: 1,
      cpuLimit: "0.5",
      memoryLimit: "512Mi",
      cpuRequest: "250m",
      memoryRequest: "50Mi",
      port: 80,
      scheme: null,
      healthCheckInitialDelaySeconds: 5,
    });
  });
  it("Deployment, ClusterIP Service 8080 → port and IngressRoute for <service>.<zone> with only the required variables", () => {
    const [dep, svc, route] = renderWebApp(
      { serviceName: "blog", imageUrl: "ghcr.io/acme/blog", imageTag: "1.2.0", healthCheckPath: "/healthz" },
      "example.com",
    ) as any[];
    const labels = LABELS("webapp", { app: "blog" });
    expect(dep).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "blog", namespace: "default", labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "blog" } },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "blog",
                image: "ghcr.io/acme/blog:1.2.0",
                ports: [{ name: "http", containerPort: 80 }],
                resources: { limits: { cpu: "0.5", memory: "512Mi" }, requests: { cpu: "250m", memory: "50Mi" } },
                livenessProbe: { httpGet: { path: "/healthz", port: 80 }, initialDelaySeconds: 5 },
              },
            ],
          },
        },
      },
    });
    expect(svc.spec).toEqual({
      type: "ClusterIP",
      selector: { app: "blog" },
      ports: [{ name: "http", port: 8080, targetPort: 80, protocol: "TCP" }],
    });
    expect(route).toEqual({
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: { name: "blog", namespace: "default", labels },
      spec: {
        entryPoints: ["web", "websecure"],
        routes: [{ match: "Host(`blog.example.com`)", kind: "Rule", services: [{ name: "blog", port: 8080 }] }],
      },
    });
  });
  it("every variable set: host name, replicas, env, annotations, scheme, delay", () => {
    const [dep, , route] = renderWebApp(
      {
        serviceName: "api",
        namespace: "apps",
        hostName: "www",
        replicas: 3,
        imageUrl: "acme/api",
        imageTag: "2",
        cpuLimit: "1",
        memoryLimit: "1Gi",
        cpuRequest: "100m",
        memoryRequest: "128Mi",
        healthCheckPath: "/health",
        port: 8443,
        env: { MODE: "prod" },
        annotations: { "prometheus.io/scrape": "true" },
        scheme: "HTTPS",
        healthCheckInitialDelaySeconds: 20,
      },
      "example.com",
    ) as any[];
    const c = dep.spec.template.spec.containers[0];
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.template.metadata.annotations).toEqual({ "prometheus.io/scrape": "true" });
    expect(c.env).toEqual([{ name: "MODE", value: "prod" }]);
    expect(c.livenessProbe).toEqual({
      httpGet: { path: "/health", port: 8443, scheme: "HTTPS" },
      initialDelaySeconds: 20,
    });
    expect(route.spec.routes[0].match).toBe("Host(`www.example.com`)");
  });
});

describe("CoreDNS rewrite (seed 003, merged into the main server block)", () => {
  const rewrites = [{ from: "blog.example.com", to: "blog.default.svc.cluster.local" }];
  it("rules rewrite the question to the service and the answer back", () => {
    expect(renderRewriteRules(rewrites, "")).toBe(
      [
        "rewrite stop {",
        "    name regex ^blog\\.example\\.com\\.$ blog.default.svc.cluster.local.",
        "    answer name ^blog\\.default\\.svc\\.cluster\\.local\\.$ blog.example.com.",
        "}",
      ].join("\n"),
    );
  });
  it("the complete Corefile has one server block (.:53) holding the rewrite and the kubernetes plugin", () => {
    const { blocks, imports } = parseCorefile(renderCorefile({ rewrites }));
    expect(blocks.map((b) => b.keys)).toEqual([[".:53"]]);
    const names = blocks[0].directives.map((d) => d[0]);
    expect(names).toEqual([
      "errors",
      "health",
      "ready",
      "rewrite",
      "kubernetes",
      "hosts",
      "prometheus",
      "forward",
      "cache",
      "loop",
      "reload",
      "loadbalance",
      "import",
    ]);
    expect(blocks[0].directives.find((d) => d[0] === "kubernetes")).toEqual([
      "kubernetes",
      "cluster.local",
      "in-addr.arpa",
      "ip6.arpa",
    ]);
    expect(blocks[0].directives.at(-1)).toEqual(["import", "/etc/coredns/custom/*.override"]);
    expect(imports).toEqual(["/etc/coredns/custom/*.server"]);
  });
  it("the parser rejects what CoreDNS would: unbalanced braces, a directive outside a block", () => {
    expect(() => parseCorefile(".:53 {\n  errors\n")).toThrow("unbalanced braces: 1 block(s) left open");
    expect(() => parseCorefile("rewrite name a b\n")).toThrow('line 1: "rewrite name a b" outside a server block');
  });
});

describe("Cloudflare tunnel", () => {
  it("ingress: one rule per hostname, sorted, ending with http_status:404", () => {
    expect(
      renderTunnelIngress([
        { hostname: "www.example.com", service: "http://traefik.kube-system.svc.cluster.local:80" },
        {
          hostname: "fib.example.com",
          service: "http://kourier.kourier-system.svc.cluster.local:80",
          hostHeader: "fib.default.kn.example.com",
        },
      ]),
    ).toEqual([
      {
        hostname: "fib.example.com",
        service: "http://kourier.kourier-system.svc.cluster.local:80",
        originRequest: { httpHostHeader: "fib.default.kn.example.com" },
      },
      { hostname: "www.example.com", service: "http://traefik.kube-system.svc.cluster.local:80" },
      { service: "http_status:404" },
    ]);
  });
  it("cloudflared reads the token from the Secret", () => {
    const [, dep] = renderCloudflared({
      namespace: "cloudflared",
      image: "cloudflare/cloudflared:2025.9.1",
      replicas: 2,
      secretName: "cloudflared-token",
    }) as any[];
    const c = dep.spec.template.spec.containers[0];
    expect(c.args).toEqual(["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"]);
    expect(c.env).toEqual([
      { name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: "cloudflared-token", key: "token" } } },
    ]);
  });
});

describe("schemas", () => {
  const all: K8sObject[] = [
    ...renderServingConfig({ ingress: "istio", domain: "kn.example.com", autoscaler: AUTOSCALER }),
    renderIstioExtras().peerAuthentication,
    renderIstioExtras().defaultNamespacePatch,
    renderKnativeService({
      ...FIBONACCI_BEHAVIOR,
      image: "fib:1",
      env: { A: "b" },
      port: 3000,
      containerConcurrency: 10,
    }),
    ...renderKafka({
      name: "kantai",
      namespace: "kafka",
      version: "4.1.0",
      brokers: 3,
      storage: { type: "persistent", sizeGi: 5, path: "/data", nodes: ["a", "b", "c"] },
    }),
    ...renderKafka({ name: "eph", namespace: "kafka", version: "4.1.0", brokers: 1, storage: { type: "ephemeral" } }),
    ...renderKafkaBroker({ kafka: { name: "kantai", namespace: "kafka", brokers: 3 } }),
    ...renderWebApp(
      {
        serviceName: "blog",
        imageUrl: "a/b",
        imageTag: "1",
        healthCheckPath: "/",
        env: { X: "1" },
        annotations: { a: "b" },
        scheme: "HTTP",
      },
      "example.com",
    ),
    ...renderCloudflared({
      namespace: "cloudflared",
      image: "cloudflare/cloudflared:2025.9.1",
      replicas: 2,
      secretName: "t",
    }),
    renderTunnelSecret("cloudflared", "t", "[secret]"),
  ];
  it("every rendered object validates, and survives a YAML round trip", async () => {
    expect(await validateAll(all)).toEqual([]);
    expect(parseManifests(toYaml(all))).toEqual(all);
  });
  it("the validators reject broken objects (the checks can fail)", async () => {
    const [dep, , route] = renderWebApp(
      { serviceName: "blog", imageUrl: "a/b", imageTag: "1", healthCheckPath: "/" },
      "example.com",
    ) as any[];
    const badDep = structuredClone(dep);
    badDep.spec.replicas = "one";
    const badRoute = structuredClone(route);
    badRoute.spec.entryPoints = "web";
    const [kafka] = renderKafka({
      name: "k",
      namespace: "kafka",
      version: "4.1.0",
      brokers: 3,
      storage: { type: "ephemeral" },
    }) as any[];
    const badKafka = structuredClone(kafka);
    badKafka.spec.kafka.listeners[0].type = "public";
    badKafka.spec.kafka.listners = [];
    const problems = await validateAll([
      badDep,
      badRoute,
      badKafka,
      { apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "x" } },
    ]);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^apps\/v1 Deployment default\/blog: .*replicas must be integer/);
    expect(problems[1]).toMatch(/^traefik\.io\/v1alpha1 IngressRoute default\/blog: .*entryPoints must be array/);
    expect(problems[2]).toBe(
      "kafka.strimzi.io/v1beta2 Kafka kafka/k: Kafka/spec/kafka must NOT have additional properties, Kafka/spec/kafka/listeners/0/type must be equal to one of the allowed values",
    );
    expect(problems[3]).toBe("example.com/v1 Thing x: no schema for API group of example.com/v1");
    await expect(validateObject({ apiVersion: "v1", kind: "Nope", metadata: { name: "x" } })).rejects.toThrow(
      "v1 Nope x: kubernetes-models/v1 has no kind Nope",
    );
  });
});
