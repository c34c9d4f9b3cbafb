/** Config of the platform keys (stacks/config/platform.ts): the edge and lab stacks' values, and every rule's exact message. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../scripts/synth/stackFile";
import { ConfigError, decodeConfigValue, parseConfig } from "../stacks/config";
import { devRaw, ROOT } from "./support/devConfig";

/** A mirror directory holding only serving-crds. */
const partialMirror = mkdtempSync(path.join(tmpdir(), "kantai-mirror-"));
mkdirSync(path.join(partialMirror, "serving/v1.23.0"), { recursive: true });
writeFileSync(path.join(partialMirror, "serving/v1.23.0/serving-crds.yaml"), "");

/** A stack file's config as parseConfig takes it, plus its secret keys. */
function stack(name: "edge" | "lab"): { raw: Record<string, any>; secretKeys: string[] } {
  const { config, secretKeys } = readStackFile(path.join(ROOT, `Pulumi.${name}.yaml`));
  const raw: Record<string, any> = {};
  for (const [k, v] of Object.entries(config)) raw[k.replace(/^kantai:/, "")] = decodeConfigValue(v);
  return { raw: structuredClone(raw), secretKeys };
}

function problems(
  name: "edge" | "lab",
  edit: (r: Record<string, any>) => void,
  secretKeys?: (keys: string[]) => string[],
): string[] {
  const s = stack(name);
  edit(s.raw);
  try {
    parseConfig(s.raw, { stack: name, secretKeys: secretKeys ? secretKeys(s.secretKeys) : s.secretKeys });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.key}: ${i.message}`);
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

describe("the edge stack's platform config", () => {
  const s = stack("edge");
  const c = parseConfig(s.raw, { stack: "edge", secretKeys: s.secretKeys });

  it("runs on the edge cluster with Knative (Kourier) and its defaults", () => {
    expect(c.composition).toBe("edge");
    expect(c.platformCluster).toBe("edge");
    expect(c.knative).toEqual({
      servingVersion: "1.23.0",
      ingress: "kourier",
      exposure: "traefik",
      domain: "kn.example.com",
      domainTemplate: undefined,
      autoscaler: {
        concurrencyTarget: 100,
        targetBurstCapacity: 200,
        stableWindow: "60s",
        scaleToZeroGracePeriod: "30s",
        enableScaleToZero: true,
        maxScale: 0,
      },
      eventing: undefined,
      tektonVersion: undefined,
      services: [
        {
          name: "fibonacci",
          namespace: "default",
          image: "node:22-alpine",
          source: "web",
          port: undefined,
          env: {},
          scale: { target: 200, min: 0, max: 5, window: "30s", targetBurstCapacity: -1 },
          resources: { requests: { cpu: "200m", memory: "512M" }, limits: { cpu: "1", memory: "512M" } },
          publicHost: "fib.example.com",
        },
      ],
    });
  });

  it("routes every public hostname through the tunnel, each with the key that asked for it", () => {
    expect(c.tunnel).toEqual({
      name: "kantai-edge",
      namespace: "cloudflared",
      replicas: 2,
      image: "cloudflare/cloudflared:2025.9.1",
      routes: [
        {
          hostname: "blog.example.com",
          service: "http://traefik.kube-system.svc.cluster.local:80",
          source: "kantai:webapps[0].hostName",
        },
        {
          hostname: "uptime.example.com",
          service: "http://traefik.kube-system.svc.cluster.local:80",
          source: "kantai:webapps[1].hostName",
        },
        {
          hostname: "lil-linko.example.com",
          service: "http://traefik.kube-system.svc.cluster.local:80",
          source: "kantai:webapps[2].hostName",
        },
        {
          hostname: "fib.example.com",
          service: "http://kourier.kourier-system.svc.cluster.local:80",
          hostHeader: "fibonacci.default.kn.example.com",
          source: "kantai:knative.services[0].public",
        },
      ],
    });
    expect(c.cloudflare).toMatchObject({
      accountId: "0123456789abcdef0123456789abcdef",
      zone: "example.com",
      zoneId: "fedcba9876543210fedcba9876543210",
    });
  });

  it("WebApps get seed 003's defaults for every variable left out", () => {
    expect(c.webapps[0]).toEqual({
      serviceName: "blog",
      namespace: "default",
      hostName: "",
      replicas: 1,
      imageUrl: "ghcr.io/kantai/blog",
      imageTag: "1.0.0",
      cpuLimit: "0.5",
      memoryLimit: "512Mi",
      cpuRequest: "250m",
      memoryRequest: "50Mi",
      healthCheckPath: "/healthz",
      port: 80,
      env: {},
      annotations: {},
      scheme: null,
      healthCheckInitialDelaySeconds: 5,
    });
  });
});

describe("a custom Knative domain template", () => {
  it("gives a published function's tunnel route the host Knative will answer", () => {
    const s = stack("edge");
    s.raw.knative.domainTemplate = "{{.Name}}-{{.Namespace}}.{{.Domain}}";
    const c = parseConfig(s.raw, { stack: "edge", secretKeys: s.secretKeys });
    expect(c.tunnel!.routes.find((r) => r.hostname === "fib.example.com")!.hostHeader).toBe(
      "fibonacci-default.kn.example.com",
    );
  });
});

describe("the lab stack's platform config (seed 001)", () => {
  it("Istio, Eventing with 3 persistent Kafka brokers on the workers (agents first), Tekton", () => {
    const s = stack("lab");
    const c = parseConfig(s.raw, { stack: "lab", secretKeys: s.secretKeys });
    expect(c.knative!.ingress).toBe("istio");
    expect(c.knative!.eventing).toEqual({
      version: "1.23.0",
      kafka: {
        strimziVersion: "0.48.0",
        version: "4.1.0",
        brokers: 3,
        storage: {
          type: "persistent",
          sizeGi: 10,
          path: "/var/lib/kantai/kafka",
          nodes: ["lab-w1", "lab-w2", "lab-w3"],
        },
      },
    });
    expect(c.knative!.tektonVersion).toBe("1.0.0");
    expect(c.tunnel).toBeUndefined();
  });
});

describe("bad platform config fails before any resource, naming the key", () => {
  const cases: [string, "edge" | "lab", (r: Record<string, any>) => void, string[]][] = [
    [
      "duplicate hostnames (two WebApps)",
      "edge",
      (r) => (r.webapps[1].hostName = "blog"),
      ['kantai:webapps[1].hostName: hostname "blog.example.com" is already exposed by kantai:webapps[0].hostName'],
    ],
    [
      "duplicate hostnames (an extra route and a function)",
      "edge",
      (r) => (r.tunnel.routes = [{ hostname: "fib.example.com", target: "knative" }]),
      [
        'kantai:tunnel.routes[0].hostname: hostname "fib.example.com" is already exposed by kantai:knative.services[0].public',
      ],
    ],
    [
      "a hostname outside the tunnel's zone",
      "edge",
      (r) => (r.tunnel.routes = [{ hostname: "shop.example.org", target: "traefik" }]),
      ['kantai:tunnel.routes[0].hostname: "shop.example.org" is outside the tunnel\'s zone "example.com"'],
    ],
    [
      "a hostname that only ends like the zone",
      "edge",
      (r) => (r.tunnel.routes = [{ hostname: "notexample.com", target: "traefik" }]),
      ['kantai:tunnel.routes[0].hostname: "notexample.com" is outside the tunnel\'s zone "example.com"'],
    ],
    [
      "no Cloudflare API token",
      "edge",
      (r) => delete r.cloudflareApiToken,
      [
        "kantai:cloudflareApiToken: is required when kantai:tunnel is set (pulumi config set --secret cloudflareApiToken <token with Tunnel and DNS edit rights>)",
      ],
    ],
    [
      "no account id",
      "edge",
      (r) => delete r.cloudflareAccountId,
      ["kantai:cloudflareAccountId: is required when kantai:tunnel is set"],
    ],
    [
      "a malformed account id",
      "edge",
      (r) => (r.cloudflareAccountId = "acme"),
      ["kantai:cloudflareAccountId: must be a 32-character hex id (Cloudflare dashboard → Overview)"],
    ],
    [
      "no zone",
      "edge",
      (r) => delete r.cloudflareZone,
      [
        "kantai:cloudflareZone: is required when kantai:tunnel or kantai:webapps is set (the public zone, e.g. example.com)",
      ],
    ],
    [
      "the edge composition without a tunnel",
      "edge",
      (r) => delete r.tunnel,
      [
        'kantai:tunnel: is required by the "edge" composition (the Cloudflare tunnel)',
        "kantai:knative.services[0].public: needs kantai:tunnel to publish the function",
        "kantai:webapps: needs kantai:tunnel: every WebApp is published through the Cloudflare tunnel",
      ],
    ],
    [
      "the edge composition without a K3s cluster",
      "edge",
      (r) => delete r.k3s,
      ['kantai:k3s: is required by the "edge" composition (a K3s cluster of Pi and VM nodes)'],
    ],
    [
      "the conventional fleet in the edge composition",
      "edge",
      (r) => (r.fleet = { template: "k3s", size: 1 }),
      ['kantai:fleet: is not part of the "edge" composition (the conventional fleet belongs to "homelab")'],
    ],
    [
      "an unknown platform cluster",
      "edge",
      (r) => (r.platformCluster = "edge2"),
      ['kantai:platformCluster: unknown K3s cluster "edge2" (kantai:k3s has "edge")'],
    ],
    [
      "two WebApps with one name",
      "edge",
      (r) => r.webapps.push({ ...r.webapps[0], hostName: "blog2" }),
      ['kantai:webapps[3].serviceName: "default/blog" is already deployed by kantai:webapps[0]'],
    ],
    [
      "a WebApp without its health check path",
      "edge",
      (r) => delete r.webapps[0].healthCheckPath,
      ["kantai:webapps[0].healthCheckPath: is required"],
    ],
    [
      "a WebApp with a bad memory limit",
      "edge",
      (r) => (r.webapps[1].memoryLimit = "lots"),
      ['kantai:webapps[1].memoryLimit: must be a memory quantity like "50Mi", "512M" or "1Gi"'],
    ],
    [
      "WebApps with Traefik disabled",
      "edge",
      (r) => (r.k3s.edge.disable = ["traefik"]),
      [
        'kantai:knative.exposure: "traefik" needs Traefik, but kantai:k3s.edge.disable turns it off: set exposure "loadBalancer" (the gateway\'s own LoadBalancer on 80/443)',
        "kantai:webapps: needs Traefik, but kantai:k3s.edge.disable turns it off (WebApps route through Traefik IngressRoutes)",
      ],
    ],
    [
      "a Knative route without Knative",
      "edge",
      (r) => {
        delete r.knative;
        r.tunnel.routes = [{ hostname: "kn.example.com", target: "knative" }];
      },
      ['kantai:tunnel.routes[0].target: "knative" needs kantai:knative'],
    ],
    [
      "a typo in the tunnel",
      "edge",
      (r) => (r.tunnel.hostnames = ["a.example.com"]),
      ['kantai:tunnel: unknown key "hostnames"'],
    ],
    [
      "min scale above max",
      "edge",
      (r) => (r.knative.services[0].scale.min = 6),
      ["kantai:knative.services[0].scale: min 6 is above max 5"],
    ],
    [
      "a window Knative refuses",
      "edge",
      (r) => (r.knative.services[0].scale.window = "2h"),
      ["kantai:knative.services[0].scale.window: must be between 6s and 1h (Knative's bounds)"],
    ],
    [
      "the HPA class on concurrency",
      "edge",
      (r) => Object.assign(r.knative.services[0].scale, { class: "hpa", metric: "concurrency" }),
      [
        'kantai:knative.services[0].scale.metric: "concurrency" needs the Knative autoscaler: the HPA class scales on "cpu"',
      ],
    ],
    [
      "the lab composition without Kafka",
      "lab",
      (r) => delete r.knative.eventing,
      ['kantai:knative.eventing.kafka: is required by the "lab" composition (seed 001: Serving, Eventing and Kafka)'],
    ],
    [
      "fewer Kafka nodes than brokers",
      "lab",
      (r) => (r.knative.eventing.kafka.storage.nodes = ["lab-w1", "lab-w2"]),
      ["kantai:knative.eventing.kafka.storage.nodes: 2 nodes for 3 brokers: list one node per broker"],
    ],
    [
      "a Kafka node that is not in the cluster",
      "lab",
      (r) => (r.knative.eventing.kafka.storage.nodes = ["lab-w1", "lab-w2", "lab-w9"]),
      [
        'kantai:knative.eventing.kafka.storage.nodes[2]: unknown node "lab-w9" (cluster "lab" has "lab-cp", "lab-w1", "lab-w2", "lab-w3")',
      ],
    ],
    [
      "one node for two brokers",
      "lab",
      (r) => (r.knative.eventing.kafka.storage.nodes = ["lab-w1", "lab-w1", "lab-w2"]),
      [
        'kantai:knative.eventing.kafka.storage.nodes[1]: node "lab-w1" is listed twice: each broker\'s local volume needs a node of its own',
      ],
    ],
    [
      "more persistent brokers than nodes",
      "lab",
      (r) => (r.knative.eventing.kafka.brokers = 5),
      ['kantai:knative.eventing.kafka.brokers: 5 brokers on local volumes need 5 nodes, but cluster "lab" has 4'],
    ],
    [
      "an unknown Kafka storage type",
      "lab",
      (r) => (r.knative.eventing.kafka.storage = { type: "nfs" }),
      ['kantai:knative.eventing.kafka.storage.type: must be {type: "ephemeral"} or {type: "persistent", sizeGi: N}'],
    ],
    [
      "a function published without a tunnel",
      "lab",
      (r) => (r.knative.services[0].public = "hello"),
      ["kantai:knative.services[0].public: needs kantai:tunnel to publish the function"],
    ],
    [
      "a domain template with a placeholder kantai cannot fill",
      "edge",
      (r) => (r.knative.domainTemplate = '{{.Name}}-{{index .Annotations "x"}}.{{.Domain}}'),
      ["kantai:knative.domainTemplate: must contain {{.Name}} and use only {{.Name}}, {{.Namespace}} and {{.Domain}}"],
    ],
    [
      "an unknown Knative ingress",
      "lab",
      (r) => (r.knative.ingress = "contour"),
      ['kantai:knative.ingress: must be "kourier" or "istio"'],
    ],
    // Issue 10 item 3: K3s' ServiceLB gives each LoadBalancer port a host port on the nodes and leaves
    // the Service Pending when none is free (https://github.com/k3s-io/klipper-lb README); Traefik holds
    // 80/443 (https://docs.k3s.io/networking/networking-services; k3s #1969).
    [
      "the gateway as a LoadBalancer next to Traefik",
      "lab",
      (r) => (r.knative.exposure = "loadBalancer"),
      [
        'kantai:knative.exposure: "loadBalancer" would ask K3s\' ServiceLB for ports 80/443, which Traefik holds on every node (k3s #1969): the gateway would stay Pending. Keep "traefik", or add "traefik" to kantai:k3s.lab.disable',
      ],
    ],
    [
      "Traefik off with the gateway behind Traefik",
      "lab",
      (r) => (r.k3s.lab.disable = ["traefik"]),
      [
        'kantai:knative.exposure: "traefik" needs Traefik, but kantai:k3s.lab.disable turns it off: set exposure "loadBalancer" (the gateway\'s own LoadBalancer on 80/443)',
      ],
    ],
    [
      "an unknown exposure",
      "lab",
      (r) => (r.knative.exposure = "nodePort"),
      ['kantai:knative.exposure: must be "traefik" or "loadBalancer"'],
    ],
    // Issue 12 §3 / issue 10 item 11: the release mirror and the sha256 pins.
    [
      "a pin for a manifest the stack does not install",
      "edge",
      (r) => (r.releases = { sha256: { "net-istio": "0".repeat(64) } }),
      [
        'kantai:releases.sha256.net-istio: unknown release manifest "net-istio" (this stack installs "serving-crds", "serving-core", "net-kourier")',
      ],
    ],
    [
      "a pin that is no sha256",
      "edge",
      (r) => (r.releases = { sha256: { "serving-crds": "abc" } }),
      ["kantai:releases.sha256.serving-crds: must be a sha256 in lower-case hex (64 characters)"],
    ],
    [
      "a relative mirror",
      "edge",
      (r) => (r.releases = { mirror: "mirror/kantai" }),
      ["kantai:releases.mirror: must be an http(s) base URL or an absolute directory path"],
    ],
    [
      "a mirror directory that does not exist",
      "edge",
      (r) => (r.releases = { mirror: "/nonexistent/kantai-mirror" }),
      ["kantai:releases.mirror: /nonexistent/kantai-mirror is not a directory"],
    ],
    [
      "a mirror directory without the stack's manifests",
      "lab",
      (r) => (r.releases = { mirror: partialMirror }),
      [
        `kantai:releases.mirror: ${partialMirror} lacks serving/v1.23.0/serving-core.yaml (serving-core), net-istio/v1.23.0/istio.yaml (istio), net-istio/v1.23.0/net-istio.yaml (net-istio), eventing/v1.23.0/eventing-crds.yaml (eventing-crds), eventing/v1.23.0/eventing-core.yaml (eventing-core), eventing-kafka-broker/v1.23.0/eventing-kafka-controller.yaml (kafka-controller), eventing-kafka-broker/v1.23.0/eventing-kafka-broker.yaml (kafka-broker), tekton-pipeline/v1.0.0/release.yaml (tekton-pipelines), strimzi/v0.48.0/strimzi-kafka-operator-0.48.0.tgz (strimzi chart); the layout is in docs/reference/config.md#release-manifests-and-mirror`,
      ],
    ],
    [
      "a mirror without Knative",
      "edge",
      (r) => {
        delete r.knative;
        r.releases = { mirror: "https://mirror.example.com/kantai" };
      },
      ["kantai:releases: needs kantai:knative (only the Knative layer installs release manifests)"],
    ],
  ];
  it.each(cases)("%s", (_what, name, edit, expected) => {
    expect(problems(name, edit)).toEqual(expected);
  });

  it("the gateway's own LoadBalancer is accepted where Traefik is off (ServiceLB has 80/443 free)", () => {
    const s = stack("lab");
    s.raw.k3s.lab.disable = ["traefik"];
    s.raw.knative.exposure = "loadBalancer";
    expect(parseConfig(s.raw, { stack: "lab", secretKeys: s.secretKeys }).knative?.exposure).toBe("loadBalancer");
  });

  it("a directory mirror with every file, and pins for known keys, are accepted", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kantai-mirror-full-"));
    for (const f of [
      "serving/v1.23.0/serving-crds.yaml",
      "serving/v1.23.0/serving-core.yaml",
      "net-kourier/v1.23.0/kourier.yaml",
      // The edge sample's storage node installs csi-driver-nfs (test/storage.releases.test.ts).
      ...["rbac-csi-nfs", "csi-nfs-driverinfo", "csi-nfs-controller", "csi-nfs-node"].map(
        (f) => `csi-driver-nfs/v4.13.4/${f}.yaml`,
      ),
      // and its observability the kube-prometheus-stack chart (test/observability.config.test.ts)
      "kube-prometheus-stack/v88.5.3/kube-prometheus-stack-88.5.3.tgz",
    ]) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), "");
    }
    const s = stack("edge");
    s.raw.releases = { mirror: dir, sha256: { "net-kourier": "a".repeat(64) } };
    expect(parseConfig(s.raw, { stack: "edge", secretKeys: s.secretKeys }).releases).toEqual({
      mirror: { kind: "dir", path: dir },
      sha256: { "net-kourier": "a".repeat(64) },
    });
    s.raw.releases = { mirror: "https://mirror.example.com/kantai/" };
    expect(parseConfig(s.raw, { stack: "edge", secretKeys: s.secretKeys }).releases).toEqual({
      mirror: { kind: "url", base: "https://mirror.example.com/kantai/" },
      sha256: {},
    });
  });

  it("a Cloudflare API token stored in plaintext", () => {
    expect(
      problems(
        "edge",
        () => {},
        (keys) => keys.filter((k) => k !== "kantai:cloudflareApiToken"),
      ),
    ).toEqual([
      "kantai:cloudflareApiToken: must be stored as a secret (pulumi config set --secret cloudflareApiToken …), not in plaintext",
    ]);
  });

  it("platform keys on a stack without a K3s cluster", () => {
    const raw = devRaw();
    raw.knative = {};
    let issues: string[] = [];
    try {
      parseConfig(raw);
    } catch (e) {
      issues = (e as ConfigError).issues.map((i) => `${i.key}: ${i.message}`);
    }
    expect(issues).toEqual(["kantai:knative: needs a K3s cluster to run on (kantai:k3s is not set)"]);
  });
});
