import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The repo's web service (web/server.js): what the fleet's VMs and the demo functions run. */
export function webServiceSource(): string {
  return fs.readFileSync(path.join(__dirname, "..", "web", "server.js"), "utf8");
}

/** Source files and start command for running web/server.js from a ConfigMap in a Node image. */
export interface FunctionSource {
  /** File name → content, mounted read-only at `mountPath`. */
  readonly files: Readonly<Record<string, string>>;
  /** Container command. */
  readonly command: readonly string[];
  /** Mount path. Defaults to "/app". */
  readonly mountPath?: string;
}

/** web/server.js as a function source: `node /app/server.js` (it listens on $PORT, which Knative sets). */
export function webServiceFunctionSource(): FunctionSource {
  return { files: { "server.js": webServiceSource() }, command: ["node", "/app/server.js"] };
}

/** sha256 over file names and contents, stable under key order. */
export function sourceSha256(files: Readonly<Record<string, string>>): string {
  const h = createHash("sha256");
  for (const k of Object.keys(files).sort()) h.update(k).update("\0").update(files[k]).update("\0");
  return h.digest("hex");
}
