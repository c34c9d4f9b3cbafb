/**
 * Issue 10 item 3: a working way in to Knative on K3s, checked on the objects as applied.
 *
 * The upstream rule: K3s' ServiceLB (klipper-lb) "works by using a host port for each service load
 * balancer … If there are no free host ports, the service load balancer will stay in pending"
 * (https://github.com/k3s-io/klipper-lb README); K3s' Traefik takes ports 80 and 443 on every node
 * (https://docs.k3s.io/networking/networking-services, "Traefik Ingress Controller"); so Kourier's
 * and Istio's gateway Services — type LoadBalancer on 80/443 in their release manifests
 * (knative-extensions/net-kourier config/300-gateway.yaml; net-istio's istio.yaml) — stay Pending and
 * the install waits for its timeout (https://github.com/k3s-io/k3s/issues/1969).
 *
 * kantai's answer (exposure "traefik", the default): the gateway Service becomes ClusterIP through a
 * Pulumi transform on the networking ConfigFile (transforms reach packaged components' children:
 * https://www.pulumi.com/docs/iac/concepts/resources/options/transforms/), and a Traefik IngressRoute
 * sends every host under the Knative domain to it. Under mocks the ConfigFile's children are not
 * expanded (SIMULATED), so the transform is run here on the upstream Service as the manifest ships it.
 */
import { describe, expect, it } from "vitest";
import { ingressGatewayTransform } from "../components/knative/knative";
import type { K8sObject } from "../lib/render/k8s";
import {
  INGRESS_GATEWAY,
  INGRESS_SERVICE,
  ingressGatewayOverride,
  knativeHost,
  renderKnativeTraefikRoute,
  type KnativeIngress,
} from "../lib/render/knative";
import { validateAll } from "./support/k8sSchemas";

/** The gateway Services as the upstream release manifests ship them (fields as in the files cited above). */
const UPSTREAM: Record<KnativeIngress, K8sObject> = {
  kourier: {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kourier",
      namespace: "kourier-system",
      labels: { "networking.knative.dev/ingress-provider": "kourier" },
    },
    spec: {
      ports: [
        { name: "http2", port: 80, protocol: "TCP", targetPort: 8080 },
        { name: "https", port: 443, protocol: "TCP", targetPort: 8443 },
      ],
      selector: { app: "3scale-kourier-gateway" },
      type: "LoadBalancer",
    },
  },
  istio: {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "istio-ingressgateway",
      namespace: "istio-system",
      labels: { app: "istio-ingressgateway", istio: "ingressgateway" },
    },
    spec: {
      type: "LoadBalancer",
      externalTrafficPolicy: "Cluster",
      selector: { app: "istio-ingressgateway", istio: "ingressgateway" },
      ports: [
        { name: "status-port", port: 15021, protocol: "TCP", targetPort: 15021, nodePort: 31021 },
        { name: "http2", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 31080 },
        { name: "https", port: 443, protocol: "TCP", targetPort: 8443, nodePort: 31443 },
      ],
    },
  },
};

/** K3s' Traefik Service (kube-system/traefik, LoadBalancer on 80 and 443). */
const TRAEFIK: K8sObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "traefik", namespace: "kube-system" },
  spec: {
    type: "LoadBalancer",
    ports: [
      { name: "web", port: 80 },
      { name: "websecure", port: 443 },
    ],
    selector: { "app.kubernetes.io/name": "traefik" },
  },
};

/**
 * klipper-lb's rule, as a check: each LoadBalancer Service port needs that host port on a node, and a
 * port already taken by another LoadBalancer Service leaves the later Service Pending.
 */
function pendingLoadBalancers(services: readonly K8sObject[]): string[] {
  const owner = new Map<number, string>();
  const pending: string[] = [];
  for (const s of services) {
    const spec = (s as any).spec;
    if (spec?.type !== "LoadBalancer") continue;
    const id = `${s.metadata.namespace}/${s.metadata.name}`;
    const clash = (spec.ports as { port: number }[]).filter((p) => owner.has(p.port));
    if (clash.length > 0)
      pending.push(`${id} (port ${clash.map((p) => `${p.port} held by ${owner.get(p.port)}`).join(", ")})`);
    else for (const p of spec.ports) owner.set(p.port, id);
  }
  return pending;
}

const transformed = (ingress: KnativeIngress, exposure: "traefik" | "loadBalancer" = "traefik"): K8sObject => {
  const r = ingressGatewayTransform(
    ingress,
    exposure,
  )({ type: "kubernetes:core/v1:Service", name: `knative-${ingress}`, props: UPSTREAM[ingress], opts: {} } as any);
  return (r ? (r as any).props : UPSTREAM[ingress]) as K8sObject;
};

describe.each(["kourier", "istio"] as const)("the %s gateway on K3s", (ingress) => {
  it("upstream, it would stay Pending next to Traefik (the check can fail)", () => {
    expect(pendingLoadBalancers([TRAEFIK, UPSTREAM[ingress]])).toEqual([
      `${INGRESS_GATEWAY[ingress].namespace}/${INGRESS_GATEWAY[ingress].name} (port 80 held by kube-system/traefik, 443 held by kube-system/traefik)`,
    ]);
  });

  it("as applied (exposure traefik): ClusterIP, no LoadBalancer-only fields or node ports, nothing Pending, valid", async () => {
    const svc = transformed(ingress) as any;
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.externalTrafficPolicy).toBeUndefined();
    for (const p of svc.spec.ports) expect(p.nodePort).toBeUndefined();
    expect(svc.spec.ports.map((p: any) => p.port)).toEqual(
      (UPSTREAM[ingress] as any).spec.ports.map((p: any) => p.port),
    );
    expect(svc.spec.selector).toEqual((UPSTREAM[ingress] as any).spec.selector);
    expect(pendingLoadBalancers([TRAEFIK, svc])).toEqual([]);
    expect(await validateAll([svc])).toEqual([]);
    // The upstream object is not mutated (the transform returns a copy).
    expect((UPSTREAM[ingress] as any).spec.type).toBe("LoadBalancer");
  });

  it("the Traefik route reaches it: same namespace, its name and HTTP port; the tunnel's target is that Service", async () => {
    const route = renderKnativeTraefikRoute({ ingress, domain: "kn.example.com" }) as any;
    const svc = transformed(ingress) as any;
    expect(route.metadata.namespace).toBe(svc.metadata.namespace);
    const [backend] = route.spec.routes[0].services;
    expect(backend.name).toBe(svc.metadata.name);
    expect(svc.spec.ports.map((p: any) => p.port)).toContain(backend.port);
    expect(INGRESS_SERVICE[ingress]).toBe(
      `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local:${backend.port}`,
    );
    expect(route.spec.entryPoints).toEqual(["web"]);
    expect(await validateAll([route])).toEqual([]);
  });

  it("with exposure loadBalancer (Traefik off) the upstream Service is left as shipped", () => {
    expect(transformed(ingress, "loadBalancer")).toBe(UPSTREAM[ingress]);
    expect(pendingLoadBalancers([UPSTREAM[ingress]])).toEqual([]);
  });
});

describe("the transform touches only the gateway Service", () => {
  it("other Services, and the gateway's namesake elsewhere, pass unchanged", () => {
    const t = ingressGatewayTransform("kourier", "traefik");
    const internal = { ...UPSTREAM.kourier, metadata: { name: "kourier-internal", namespace: "kourier-system" } };
    const elsewhere = { ...UPSTREAM.kourier, metadata: { name: "kourier", namespace: "default" } };
    expect(t({ type: "kubernetes:core/v1:Service", name: "x", props: internal, opts: {} } as any)).toBeUndefined();
    expect(t({ type: "kubernetes:core/v1:Service", name: "x", props: elsewhere, opts: {} } as any)).toBeUndefined();
    expect(
      t({ type: "kubernetes:apps/v1:Deployment", name: "x", props: UPSTREAM.kourier, opts: {} } as any),
    ).toBeUndefined();
    expect(ingressGatewayOverride(UPSTREAM.istio, "kourier", "traefik")).toBeUndefined();
  });
});

describe("the route's host match (Traefik v3 HostRegexp, Go RE2; this pattern reads the same in JS)", () => {
  const route = renderKnativeTraefikRoute({ ingress: "kourier", domain: "kn.example.com" }) as any;
  const match = /^HostRegexp\(`(.*)`\)$/.exec(route.spec.routes[0].match);
  const re = new RegExp(match![1]);
  it("every Knative host under the domain, at any depth, matches", () => {
    for (const h of [
      knativeHost("fibonacci", "default", "kn.example.com"),
      knativeHost("a", "team-1", "kn.example.com"),
      "x.kn.example.com",
    ])
      expect(h).toMatch(re);
  });
  it("hosts outside the domain do not (the WebApps' hosts stay with their own routes)", () => {
    for (const h of [
      "kn.example.com",
      "blog.example.com",
      "fibonacci.default.kn.example.com.evil.net",
      "xkn.example.com",
      "fib.default.knxexample.com",
    ])
      expect(h).not.toMatch(re);
  });
});
