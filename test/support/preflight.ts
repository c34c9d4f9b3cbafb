// Shared by test/preflight.api.test.ts and test/preflight.loopback.test.ts: the dev stack's
// preflight target and the snapshot lib/preflight/client.ts makes of a recording.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ApiSnapshot } from "../../lib/preflight/api";
import type { PreflightTarget } from "../../lib/preflight/findings";
import { requiredPaths, requirements } from "../../lib/preflight/requirements";
import { parseConfig, rawFromConfigMap } from "../../stacks/config";
import { targetOf } from "../../scripts/preflight";
import { readStackFile } from "../../scripts/synth/stackFile";

const REPO = path.resolve(__dirname, "..", "..");
export type Recording = Record<string, any>;
export const RECORDING: Recording = JSON.parse(
  fs.readFileSync(path.join(REPO, "test/fixtures/preflight/pve84-dev-host.json"), "utf8"),
);

export function devTarget(): PreflightTarget {
  const { config, secretKeys } = readStackFile(path.join(REPO, "Pulumi.dev.yaml"));
  const cfg = parseConfig(rawFromConfigMap(config), { stack: "dev", secretKeys });
  return targetOf(cfg, "kantai@pve!deploy");
}

/** The snapshot lib/preflight/client.ts makes of these answers (test/preflight.loopback.test.ts checks that it does). */
export function snapshotOf(t: PreflightTarget, rec: Recording): ApiSnapshot {
  const nodes = [
    ...new Set([
      t.image.node,
      t.networkNode,
      ...t.templates.map((x) => x.node),
      ...t.vms.map((x) => x.node),
      ...t.nodes.map((n) => n.name),
    ]),
  ];
  const permissions: Record<string, Record<string, number>> = {};
  for (const p of requiredPaths(requirements(t))) {
    const r = rec[`/access/permissions?path=${p}`];
    if (r) permissions[p] = r[p] ?? {};
  }
  const pick = (k: string) => rec[k];
  return {
    version: pick("/version"),
    nodes: pick("/nodes"),
    storageConfig: pick("/storage"),
    nodeStorage: Object.fromEntries(
      nodes.filter((n) => rec[`/nodes/${n}/storage`]).map((n) => [n, rec[`/nodes/${n}/storage`]]),
    ),
    permissions,
    resources: pick("/cluster/resources?type=vm"),
    imageContent: pick(`/nodes/${t.image.node}/storage/${t.storage.images}/content?content=import`),
    repositories: Object.fromEntries(
      t.nodes
        .filter((n) => rec[`/nodes/${n.name}/apt/repositories`])
        .map((n) => [n.name, rec[`/nodes/${n.name}/apt/repositories`]]),
    ),
    subscription: Object.fromEntries(
      t.nodes
        .filter((n) => rec[`/nodes/${n.name}/subscription`])
        .map((n) => [n.name, rec[`/nodes/${n.name}/subscription`]]),
    ),
    failures: {},
  };
}
