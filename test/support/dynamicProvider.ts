// A dynamic provider serialized by Pulumi, then run in a fresh node process the way
// @pulumi/pulumi's dynamic-provider host loads it: require-from-string, then `handler()`
// (sdk/nodejs/cmd/dynamic-provider/index.ts). Shared by the RoutingPlan and template-guard tests.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./devConfig";

export interface SerializedRun {
  /** The serialized provider's code (what the state stores). */
  readonly text: string;
  readonly status: number | null;
  readonly stderr: string;
  /** What `body` returned, parsed from the process' stdout. */
  readonly out: any;
}

/**
 * Serialize `provider` and run `body` (the statements of an async function with `provider` and
 * `input` in scope, ending in `return <value>`) against it in another node process; `input` is
 * handed over as JSON.
 */
export async function runSerializedProvider(
  provider: () => unknown,
  body: string,
  input: unknown,
): Promise<SerializedRun> {
  const pulumi = await import("@pulumi/pulumi");
  const sf = await pulumi.runtime.serializeFunction(provider, { allowSecrets: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-dynprovider-"));
  try {
    const providerFile = path.join(dir, "provider.js");
    fs.writeFileSync(providerFile, sf.text);
    const driver = path.join(dir, "driver.js");
    fs.writeFileSync(
      driver,
      `
const Module = require("node:module");
const fs = require("node:fs");
(async () => {
  const m = new Module("", undefined);
  m.filename = "";
  m.paths = Module._nodeModulePaths(process.cwd());
  m._compile(fs.readFileSync(process.argv[2], "utf8"), "");
  const provider = m.exports.handler();
  const input = JSON.parse(process.argv[3]);
  const result = await (async () => {
${body}
  })();
  process.stdout.write(JSON.stringify(result));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const nodeBin = path.join(ROOT, "node_modules", ".bin", "node");
    const r = spawnSync(fs.existsSync(nodeBin) ? nodeBin : "node", [driver, providerFile, JSON.stringify(input)], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    return {
      text: sf.text,
      status: r.status,
      stderr: r.stderr,
      out: r.status === 0 ? JSON.parse(r.stdout) : undefined,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
