/**
 * csi-driver-nfs' manifests through kantai:releases (docs/decisions/0013): the storage node's four
 * ConfigFiles read from a mirror — a temp directory, or an HTTP server on 127.0.0.1 (loopback only)
 * — laid out `csi-driver-nfs/v<version>/<file>`, and sha256 pins verified before anything is
 * applied. StorageNode is recorded under Pulumi mocks (SIMULATED: no provider runs, nothing is
 * applied); the manifests here are stand-in ConfigMaps, not csi-driver-nfs' real files.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReleaseManifest } from "../lib/render/knative";
import { PROMETHEUS_STACK_CHART, prometheusStackChart } from "../lib/render/latency";
import { csiNfsReleases } from "../lib/render/storage";
import type { RecordedResource } from "../scripts/synth/recorder";
import { stackReleases } from "../stacks/config";
import { parsedStack, stackProblems } from "./support/configProblems";
import { devStackConfig } from "./support/devConfig";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const CSI = csiNfsReleases("4.13.4");
const body = (r: ReleaseManifest) =>
  `# ${r.key}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${r.key}\n  namespace: kube-system\n`;
const rbac = CSI[0];

const dir = mkdtempSync(path.join(tmpdir(), "kantai-csi-mirror-"));
const lay = (rs: readonly ReleaseManifest[]) => {
  for (const r of rs) {
    mkdirSync(path.dirname(path.join(dir, r.mirrorPath)), { recursive: true });
    writeFileSync(path.join(dir, r.mirrorPath), body(r));
  }
};
lay(CSI);

let server: Server;
let base = "";

/**
 * Hold back the one expected rejection of a pin's Outputs (see test/platformReleases.test.ts); under
 * mocks the serializer re-raises it wrapped ("error serializing property …"), so match inside.
 */
async function holding<T>(expected: string, run: () => Promise<T>): Promise<T> {
  const listeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const hold = (reason: unknown, p: Promise<unknown>) => {
    if (!(reason instanceof Error && reason.message.includes(expected))) for (const l of listeners) l(reason, p);
  };
  process.on("unhandledRejection", hold);
  try {
    const r = await run();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return r;
  } finally {
    process.off("unhandledRejection", hold);
    for (const l of listeners) process.on("unhandledRejection", l);
  }
}

/** Record storage nodes with a StorageClass (so csi-driver-nfs is installed), one per release source. */
async function record(sources: Record<string, unknown>): Promise<RecordedResource[]> {
  const { recordProgram } = await import("../scripts/synth/recorder");
  const kubernetes = await import("@pulumi/kubernetes");
  const { StorageNode } = await import("../components/storage/storageNode");
  const rec = await recordProgram(() => {
    const provider = new kubernetes.Provider("cluster-k8s", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
    for (const [name, releaseSource] of Object.entries(sources)) {
      new StorageNode(
        name,
        {
          name: "hdd",
          disk: { label: "kantai-hdd" },
          clients: ["192.168.1.0/24"],
          connection: { host: "192.168.1.23", user: "root" },
          server: "192.168.1.23",
          storageClass: {},
          ...(releaseSource ? { releaseSource } : {}),
        } as ConstructorParameters<typeof StorageNode>[1],
        { providers: { kubernetes: provider } },
      );
    }
  });
  return rec.resources;
}

let resources: RecordedResource[] = [];
const file = (n: string) => {
  const r = resources.find((x) => x.name === n) as (RecordedResource & { inputs: any }) | undefined;
  if (!r) throw new Error(`no resource ${n}`);
  return r.inputs.file as string;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const f = path.join(dir, decodeURIComponent((req.url ?? "/").replace(/^\/kantai\//, "")));
    try {
      res.writeHead(200, { "content-type": "application/yaml" }).end(readFileSync(f));
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kantai/`;
  resources = await record({
    upstream: undefined,
    fromdir: { mirror: { kind: "dir", path: dir }, sha256: { "rbac-csi-nfs": sha(body(rbac)) } },
    fromurl: { mirror: { kind: "url", base }, sha256: { "csi-nfs-node": sha(body(CSI[3])) } },
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("StorageNode: csi-driver-nfs through kantai:releases (recorded)", () => {
  it("without a release source: the upstream release URLs, in install-driver.sh's order", () => {
    // deploy/install-driver.sh (github.com/kubernetes-csi/csi-driver-nfs v4.13.4) applies rbac,
    // driverinfo, controller, node from deploy/v<version>/.
    expect(CSI.map((r) => file(`upstream-${r.key}`))).toEqual(
      ["rbac-csi-nfs", "csi-nfs-driverinfo", "csi-nfs-controller", "csi-nfs-node"].map(
        (f) => `https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/v4.13.4/deploy/v4.13.4/${f}.yaml`,
      ),
    );
  });

  it("a directory mirror with a matching pin: the pinned file from its verified copy, the rest from the mirror", () => {
    expect(file("fromdir-rbac-csi-nfs")).toMatch(new RegExp(`/kantai-releases/${sha(body(rbac))}\\.yaml$`));
    expect(readFileSync(file("fromdir-rbac-csi-nfs"), "utf8")).toBe(body(rbac));
    for (const r of CSI.slice(1))
      expect(file(`fromdir-${r.key}`), r.key).toBe(path.join(dir, `csi-driver-nfs/v4.13.4/${r.key}.yaml`));
  });

  it("a URL mirror on loopback with a matching pin: fetched, verified; the rest by mirror URL", () => {
    expect(readFileSync(file("fromurl-csi-nfs-node"), "utf8")).toBe(body(CSI[3]));
    for (const r of CSI.slice(0, 3)) expect(file(`fromurl-${r.key}`), r.key).toBe(`${base}${r.mirrorPath}`);
    expect(`${base}${CSI[2].mirrorPath}`).toBe(`${base}csi-driver-nfs/v4.13.4/csi-nfs-controller.yaml`);
  });

  it("a mismatching pin: nothing of csi-driver-nfs is applied, the error names the config key", async () => {
    const wrong = "0".repeat(64);
    const loc = `${base}csi-driver-nfs/v4.13.4/csi-nfs-controller.yaml`;
    const expected = `kantai:releases.sha256.csi-nfs-controller: ${loc} has sha256 ${sha(body(CSI[2]))}, not the pinned ${wrong}; nothing from it was applied (fix the mirror or the pin)`;
    await holding("kantai:releases.sha256.csi-nfs-controller:", () =>
      expect(
        record({ bad: { mirror: { kind: "url", base }, sha256: { "csi-nfs-controller": wrong } } }),
      ).rejects.toThrow(expected),
    );
    // Every one of the four waits for the pin: none reaches the provider.
    const { releaseFiles } = await import("../components/knative/releases");
    const files = releaseFiles(CSI, { mirror: { kind: "url", base }, sha256: { "csi-nfs-controller": wrong } });
    await holding("kantai:releases.sha256.csi-nfs-controller:", async () => {
      for (const r of CSI)
        await expect((files[r.key] as unknown as { promise(): Promise<string> }).promise(), r.key).rejects.toThrow(
          expected,
        );
    });
  });
});

/** The edge sample's observability chart in a directory mirror (test/observability.config.test.ts checks its absence). */
const layChart = (d: string) => {
  const f = path.join(d, prometheusStackChart(PROMETHEUS_STACK_CHART.version).mirrorPath);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, "");
};

describe("kantai:releases for csi-driver-nfs (stacks/config/storage.ts)", () => {
  // The edge sample installs Knative and observability too: the directory mirror holds theirs as well.
  lay(stackReleases(parsedStack().knative!));
  layChart(dir);

  it("the mirror and csi-driver-nfs' pins reach the storage node; the platform keeps only its own pins", () => {
    const pin = sha(body(rbac));
    const c = parsedStack((r) => (r.releases = { mirror: dir, sha256: { "rbac-csi-nfs": pin } }));
    expect(c.storageNode!.releases).toEqual({ mirror: { kind: "dir", path: dir }, sha256: { "rbac-csi-nfs": pin } });
    expect(c.releases).toEqual({ mirror: { kind: "dir", path: dir }, sha256: {} });
  });

  it("a URL mirror without pins", () => {
    const c = parsedStack((r) => (r.releases = { mirror: "https://mirror.example.com/kantai/" }));
    expect(c.storageNode!.releases).toEqual({
      mirror: { kind: "url", base: "https://mirror.example.com/kantai/" },
      sha256: {},
    });
  });

  it("a directory mirror without csi-driver-nfs' files: the key and the missing paths", () => {
    const bare = mkdtempSync(path.join(tmpdir(), "kantai-csi-bare-"));
    layChart(bare);
    for (const r of stackReleases(parsedStack().knative!)) {
      mkdirSync(path.dirname(path.join(bare, r.mirrorPath)), { recursive: true });
      writeFileSync(path.join(bare, r.mirrorPath), body(r));
    }
    expect(stackProblems((r) => (r.releases = { mirror: bare }))).toEqual([
      `kantai:releases.mirror: ${bare} lacks ${CSI.map((r) => `${r.mirrorPath} (${r.key})`).join(", ")}; the layout is in docs/reference/config.md#release-manifests-and-mirror`,
    ]);
  });

  it("without a StorageClass or backups no csi-driver-nfs is installed: the mirror need not hold it", () => {
    const bare = mkdtempSync(path.join(tmpdir(), "kantai-csi-none-"));
    layChart(bare);
    for (const r of stackReleases(parsedStack().knative!)) {
      mkdirSync(path.dirname(path.join(bare, r.mirrorPath)), { recursive: true });
      writeFileSync(path.join(bare, r.mirrorPath), body(r));
    }
    const c = parsedStack((r) => {
      delete r.storageNode.storageClass;
      delete r.mariadb.backup;
      r.releases = { mirror: bare };
    });
    expect(c.storageNode!.releases).toEqual({ mirror: { kind: "dir", path: bare }, sha256: {} });
  });

  it("a csi-driver-nfs pin in a stack that installs no csi-driver-nfs", () => {
    expect(
      stackProblems((r) => {
        delete r.storageNode.storageClass;
        delete r.mariadb.backup;
        r.releases = { sha256: { "csi-nfs-node": "a".repeat(64) } };
      }),
    ).toEqual([
      "kantai:releases.sha256.csi-nfs-node: pins a csi-driver-nfs manifest, but this stack installs no csi-driver-nfs (it needs kantai:storageNode with a storageClass or kantai:mariadb.backup)",
    ]);
  });
});

describe("the edge stack with kantai:releases.mirror (recorded): config → stacks/parts/storage.ts → StorageNode", () => {
  it("the storage node's four ConfigFiles read from the mirror URL", async () => {
    const { config, secretKeys } = devStackConfig("Pulumi.edge.yaml");
    const { recordProgram } = await import("../scripts/synth/recorder");
    const { run } = await import("../stacks");
    const mirror = "https://mirror.example.com/kantai/";
    const rec = await recordProgram(() => run(), {
      config: { ...config, "kantai:releases": JSON.stringify({ mirror }) },
      secretKeys,
      stack: "edge",
    });
    const files = CSI.map((r) => (rec.resources.find((x) => x.name === `storage-${r.key}`) as any)?.inputs.file);
    expect(files).toEqual(CSI.map((r) => `${mirror}csi-driver-nfs/v4.13.4/${r.key}.yaml`));
  }, 120_000);
});
