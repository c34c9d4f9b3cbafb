/** What preflight reports: one line per problem, with its fix. Pure. */

export type Level = "error" | "warning" | "ok" | "skipped";

export interface Finding {
  readonly level: Level;
  /** Which check: "config", "version", "storage", "privileges", "vm-ids", "template", "image", "repository", "ssh". */
  readonly check: string;
  /** What it is about: a config key, an API path, a storage or VM id. */
  readonly where: string;
  readonly message: string;
  /** What to do (a command where there is one). */
  readonly fix?: string;
}

/** What preflight knows about a stack's Proxmox side, taken from the validated config. */
export interface PreflightTarget {
  readonly stack: string;
  readonly endpoint: string;
  readonly insecure: boolean;
  /** `user@realm!tokenid` (no secret), when the token is known. */
  readonly tokenId?: string;
  readonly sshUser: string;
  readonly nodes: readonly { readonly name: string; readonly address: string }[];
  readonly bridge: string;
  readonly networkNode: string;
  readonly storage: { readonly images: string; readonly disks: string; readonly snippets: string };
  /** Node the cloud image is downloaded to and its file name on `storage.images`. */
  readonly image: { readonly node: string; readonly fileName: string };
  readonly templates: readonly {
    readonly key: string;
    readonly vmId: number;
    readonly node: string;
    readonly name: string;
  }[];
  /** Every VM the stack clones (fleet, load balancer, grogu, K3s VM nodes). */
  readonly vms: readonly {
    readonly vmId: number;
    readonly name: string;
    readonly node: string;
    readonly key: string;
  }[];
}

const TAG: Record<Level, string> = { error: "ERROR", warning: "WARN ", ok: "ok   ", skipped: "skip " };

/** Human-readable report, problems first, then what passed. */
export function formatFindings(findings: readonly Finding[]): string {
  const order: Level[] = ["error", "warning", "skipped", "ok"];
  const sorted = [...findings].sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level));
  const lines = sorted.map(
    (f) => `${TAG[f.level]} [${f.check}] ${f.where}: ${f.message}${f.fix ? `\n        fix: ${f.fix}` : ""}`,
  );
  const n = (l: Level) => findings.filter((f) => f.level === l).length;
  lines.push(
    `preflight: ${n("error")} error(s), ${n("warning")} warning(s), ${n("ok")} passed, ${n("skipped")} skipped`,
  );
  return lines.join("\n");
}
