/**
 * Envoy's own rules for the per-node proxies' bootstraps (lib/render/latencyAware.ts).
 *
 * No Envoy binary exists here (docs: ../shared ENGINE.md "Not available here"), so the validator
 * is Envoy's API itself: tools/envoy-validate unmarshals each bootstrap with strict protojson
 * into envoy.config.bootstrap.v3.Bootstrap (github.com/envoyproxy/go-control-plane/envoy v1.40.0,
 * generated from envoy/api) and runs the protoc-gen-validate rules with ValidateAll() — what
 * Envoy does on load: MessageUtil::loadFromYaml rejects unknown fields and unresolvable Any
 * types, MessageUtil::validate applies the PGV rules
 * (https://github.com/envoyproxy/envoy/blob/main/source/common/protobuf/utility.h).
 * Built by scripts/setup.sh (`scripts/engine.sh tool envoy-validate`), cached outside the repo.
 *
 * Every bootstrap every stack renders (each root Pulumi.<stack>.yaml, synthesized under
 * Pulumi's mock runtime) goes through it; a broken one is shown to be rejected.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROXY_IMAGE, renderProxyConfig, type LatencyAwareManifestOptions } from "../lib/render/latencyAware";
import { runSynth } from "./support/tools";

const ROOT = path.resolve(__dirname, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-envoy-"));
let validator = "";

function validate(files: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(validator, files, { encoding: "utf8", timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function writeBootstrap(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

beforeAll(() => {
  // builds it when missing (cold: ~1-3 min); scripts/setup.sh normally has
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "engine.sh"), "tool", "envoy-validate"], {
    encoding: "utf8",
    timeout: 30 * 60_000,
  });
  if (r.status !== 0)
    throw new Error(
      `scripts/engine.sh tool envoy-validate failed (exit ${r.status}); scripts/setup.sh builds it:\n${r.stderr}`,
    );
  validator = path.join(r.stdout.trim().split("\n").pop()!, "envoy-validate");
}, 30 * 60_000);

const stacks = fs
  .readdirSync(ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => Boolean(s))
  .sort();

describe("every Envoy bootstrap the stacks render passes Envoy's own rules", () => {
  const found: Record<string, string[]> = {};

  for (const stack of stacks) {
    it(`stack ${stack}`, () => {
      const out = path.join(tmp, `synth-${stack}`);
      const s = runSynth(["--stack", stack, "--out", out]);
      expect(s.status, s.stderr).toBe(0);
      const resources: { type: string; name: string; inputs: any }[] = JSON.parse(
        fs.readFileSync(path.join(out, "resources.json"), "utf8"),
      );
      const files: string[] = [];
      for (const r of resources) {
        const text = r.inputs?.data?.["envoy.yaml"];
        if (r.type !== "kubernetes:core/v1:ConfigMap" || typeof text !== "string") continue;
        files.push(writeBootstrap(`${stack}-${r.name}.yaml`, text));
      }
      found[stack] = files;
      if (files.length === 0) return; // this stack runs no latency-aware service
      const v = validate(files);
      expect(v.stderr).toBe("");
      expect(v.status).toBe(0);
      for (const f of files) expect(v.stdout).toContain(`${f}: valid envoy.config.bootstrap.v3.Bootstrap`);
      console.log(
        `envoy-validate ${stack}: ${files.length} bootstraps valid (${files.map((f) => path.basename(f)).join(", ")})`,
      );
    }, 240_000);
  }

  it("found the edge stack's per-node proxies (one bootstrap per cluster node of the routing service)", () => {
    // Pulumi.edge.yaml: routing service "whoami" over pi-1, pi-2, edge-vm-1, edge-vm-2 (and the
    // other cluster nodes: one proxy per node of the cluster)
    expect((found.edge ?? []).length).toBeGreaterThanOrEqual(4);
  });
});

describe("envoy-validate rejects what Envoy would reject", () => {
  const opts: LatencyAwareManifestOptions = {
    name: "svc",
    namespace: "apps",
    nodes: ["a", "b"],
    service: { image: "x", port: 8080 },
    proxyImage: DEFAULT_PROXY_IMAGE,
    proxyPort: 10000,
    servicePort: 80,
    serviceType: "ClusterIP",
  };
  const good = () => parse(renderProxyConfig(opts, "a", { a: 0.25, b: 0.75 }));

  it("accepts the rendered bootstrap as is", () => {
    const v = validate([writeBootstrap("good.yaml", stringify(good()))]);
    expect(v.stderr).toBe("");
    expect(v.status).toBe(0);
  });

  // each break names the Envoy rule it violates (envoy/api .proto files)
  const breaks: [string, (b: any) => void, RegExp][] = [
    [
      "an unknown field (strict unmarshal: Envoy rejects unknown fields in static config)",
      (b) => (b.static_resources.clusters[0].lb_polciy = "LEAST_REQUEST"),
      /unknown field "lb_polciy"/,
    ],
    [
      "an enum value that does not exist (config/cluster/v3/cluster.proto LbPolicy)",
      (b) => (b.static_resources.clusters[0].lb_policy = "LEAST_REQUESTS"),
      /invalid value for enum.*LEAST_REQUESTS|LEAST_REQUESTS/,
    ],
    [
      "a typed_config whose @type is not an Envoy extension (unresolvable Any)",
      (b) =>
        (b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config["@type"] =
          "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManagr"),
      /unable to resolve|HttpConnectionManagr/,
    ],
    [
      "a port above 65535 (config/core/v3/address.proto: port_value lte 65535)",
      (b) => (b.static_resources.listeners[0].address.socket_address.port_value = 70000),
      /PortValue: value must be less than or equal to 65535/,
    ],
    [
      // inside typed_config: PGV's ValidateAll stops at an Any, Envoy validates the unpacked config
      "a virtual host with no domains, inside the HttpConnectionManager's typed_config (config/route/v3/route_components.proto: domains min_items 1)",
      (b) =>
        (b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains =
          []),
      /Domains: value must contain at least 1 item/,
    ],
    [
      "a zero connect timeout (config/cluster/v3/cluster.proto: connect_timeout gt 0s)",
      (b) => (b.static_resources.clusters[0].connect_timeout = "0s"),
      /ConnectTimeout: value must be greater than 0s/,
    ],
  ];
  for (const [what, mutate, message] of breaks) {
    it(`rejects ${what}`, () => {
      const b = good();
      mutate(b);
      const f = writeBootstrap(`broken-${breaks.findIndex((x) => x[0] === what)}.yaml`, stringify(b));
      const v = validate([f]);
      expect(v.status).toBe(1);
      expect(v.stderr).toContain(`${f}: invalid:`);
      expect(v.stderr).toMatch(message);
      expect(v.stdout).toBe("");
    });
  }
});
