/** The loopback mapping as pure functions: exact rewrites of the renderers' output, and its refusals. */
import { describe, expect, it } from "vitest";
import {
  caddyUpstreams,
  mapLoadBalancerCaddyfile,
  mapNamedConf,
  mapRootCaddyfile,
  planMapping,
  resolveEndpoint,
  zoneFiles,
  type LoopbackPorts,
  type MappingOutputs,
} from "../../lib/e2e/mapping";
import { renderLoadBalancerCaddyfile, renderRootCaddyfile } from "../../lib/render/caddy";
import { renderNamedConf } from "../../lib/render/bind";

const OUTPUTS: MappingOutputs = {
  domain: "hosts.pve",
  nameserver: "10.15.40.20",
  fleet: {
    instances: [
      { name: "kenobi-1", ip: "10.0.0.30" },
      { name: "kenobi-2", ip: "10.0.0.31" },
    ],
    loadBalancer: { name: "kenobi-6", ip: "10.0.0.35" },
  },
};
const PORTS: LoopbackPorts = {
  dns: 20053,
  gateway: 20080,
  loadBalancer: 20081,
  instances: [23000, 23001],
  unreachable: 20099,
};
const M = planMapping(OUTPUTS, 3000, PORTS, "/tmp/w/bind");

describe("planMapping", () => {
  it("maps every endpoint of the fleet to one loopback port", () => {
    expect(M).toEqual({
      workDir: "/tmp/w/bind",
      dnsPort: 20053,
      endpoints: {
        "10.15.40.20:80": 20080,
        "10.0.0.35:80": 20081,
        "10.0.0.30:3000": 23000,
        "10.0.0.31:3000": 23001,
      },
      unreachablePort: 20099,
      gateway: "10.15.40.20",
      loadBalancer: "10.0.0.35",
      instances: [
        { name: "kenobi-1", endpoint: "10.0.0.30:3000", port: 23000 },
        { name: "kenobi-2", endpoint: "10.0.0.31:3000", port: 23001 },
      ],
    });
    expect(resolveEndpoint(M, "10.15.40.20", 80)).toEqual({ host: "127.0.0.1", port: 20080 });
    expect(() => resolveEndpoint(M, "10.0.0.10", 80)).toThrow(
      "loopback mapping: no loopback endpoint for 10.0.0.10:80",
    );
  });

  it.each([
    [
      { ...OUTPUTS, fleet: undefined },
      PORTS,
      "/w",
      "loopback mapping: the stack has no conventional fleet (outputs.fleet is missing)",
    ],
    [OUTPUTS, { ...PORTS, instances: [23000] }, "/w", "loopback mapping: 2 instances need 2 ports, got 1"],
    [OUTPUTS, { ...PORTS, dns: 53 }, "/w", "loopback mapping: port 53 is not an unprivileged port (1024-65535)"],
    [
      OUTPUTS,
      { ...PORTS, gateway: 20081 },
      "/w",
      "loopback mapping: ports must be distinct, got 20053, 20081, 20081, 20099, 23000, 23001",
    ],
    [OUTPUTS, PORTS, "w", 'loopback mapping: workDir must be absolute, got "w"'],
  ])("refuses %#", (outputs, ports, dir, message) => {
    expect(() => planMapping(outputs as MappingOutputs, 3000, ports, dir)).toThrow(message);
  });
});

describe("named.conf", () => {
  const rendered = renderNamedConf({
    domain: "hosts.pve",
    zoneFile: "/var/lib/bind/db.hosts.pve",
    internalNetworks: ["10.15.40.0/24", "10.0.0.0/24"],
    forwarders: ["1.1.1.1", "1.0.0.1"],
  });

  it("listens on 127.0.0.1 at the DNS port, keeps its files in the work dir, has no egress and no rndc channel", () => {
    expect(mapNamedConf(rendered, M)).toBe(
      [
        "controls { };",
        "// Rendered by kantai. Changes here are overwritten on the next `pulumi up`.",
        "acl internal {",
        "\t10.15.40.0/24;",
        "\t10.0.0.0/24;",
        "\tlocalhost;",
        "};",
        "",
        "options {",
        '\tdirectory "/tmp/w/bind";',
        '\tpid-file "/tmp/w/bind/named.pid";',
        '\tsession-keyfile "/tmp/w/bind/session.key";',
        '\tmanaged-keys-directory "/tmp/w/bind";',
        "\tlisten-on port 20053 { 127.0.0.1; };",
        "\tlisten-on-v6 { none; };",
        "\tallow-query { internal; };",
        "\trecursion no;",
        "\tallow-transfer { none; };",
        "\tdnssec-validation no;",
        "};",
        "",
        'zone "hosts.pve" {',
        "\ttype master;",
        '\tfile "/tmp/w/bind/db.hosts.pve";',
        "\tnotify no;",
        "};",
        "",
      ].join("\n"),
    );
    expect(zoneFiles(rendered)).toEqual(["db.hosts.pve"]);
  });

  it("fails loudly when a line it rewrites is missing (a renderer change must update the mapping)", () => {
    expect(() => mapNamedConf(rendered.replace(/\tforwarders[^\n]*\n/, ""), M)).toThrow(
      "loopback mapping: expected exactly one forwarders option, found 0",
    );
    expect(() => mapNamedConf(rendered.replace("listen-on port 53", "listen-on"), M)).toThrow(
      "loopback mapping: expected exactly one listen-on option, found 0",
    );
  });
});

describe("Caddyfiles", () => {
  const lb = renderLoadBalancerCaddyfile({ domain: "hosts.pve", backends: ["10.0.0.30:3000", "10.0.0.31:3000"] });
  const root = renderRootCaddyfile({
    domain: "hosts.pve",
    routes: [
      { label: "standalone", upstream: "10.0.0.35:80" },
      { label: "grogu", upstream: "10.0.0.10:80" },
    ],
  });

  it("the load balancer: its :80 port and 127.0.0.1 in the global options, backends mapped, everything else as rendered", () => {
    const mapped = mapLoadBalancerCaddyfile(lb, M);
    expect(mapped.split("\n").slice(0, 6)).toEqual([
      "{",
      "\tadmin off",
      "\thttp_port 20081",
      "\tdefault_bind 127.0.0.1",
      "}",
      "",
    ]);
    expect(caddyUpstreams(mapped)).toEqual(["127.0.0.1:23000", "127.0.0.1:23000", "127.0.0.1:23001"]);
    const lines = (t: string) => t.split("\n").filter((l) => !/reverse_proxy|http_port|default_bind/.test(l));
    expect(lines(mapped)).toEqual(lines(lb));
  });

  it("the root proxy: the gateway's port; an upstream the data plane does not run goes to the closed port", () => {
    const mapped = mapRootCaddyfile(root, M);
    expect(mapped).toContain("\thttp_port 20080\n\tdefault_bind 127.0.0.1\n");
    expect(mapped).toContain("http://*.standalone.hosts.pve {\n\treverse_proxy 127.0.0.1:20081\n}");
    expect(mapped).toContain("http://*.grogu.hosts.pve {\n\treverse_proxy 127.0.0.1:20099\n}");
    expect(mapped).not.toMatch(/10\.\d+\.\d+\.\d+/);
  });

  it("refuses what it cannot map", () => {
    const withPort = renderLoadBalancerCaddyfile({
      domain: "hosts.pve",
      backends: ["10.0.0.30:3000"],
      listenPort: 8080,
    });
    expect(() => mapLoadBalancerCaddyfile(withPort, M)).toThrow(
      'loopback mapping: site "http://one.standalone.hosts.pve:8080" has an explicit port; the mapping moves only :80 sites',
    );
    expect(() => mapRootCaddyfile(root.replace("http://test.hosts.pve", "https://test.hosts.pve"), M)).toThrow(
      "loopback mapping: HTTPS sites are not mapped",
    );
    expect(() => mapRootCaddyfile(root.replace("\tadmin off\n", ""), M)).toThrow(
      "loopback mapping: expected exactly one global options block starting with `admin off`, found 0",
    );
    expect(() => mapRootCaddyfile(root.replace("10.0.0.35:80", "kenobi-6"), M)).toThrow(
      'loopback mapping: upstream "kenobi-6" has no host:port',
    );
  });
});
