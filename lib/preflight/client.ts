/**
 * Asks the Proxmox API what preflight needs, through kantai's own small GET client
 * (lib/preflight/pveClient.ts: `Authorization: PVEAPIToken=<id>=<secret>`, `{"data": …}` unwrapped).
 * No @pulumi. Every call is a GET; a failed call is recorded, not thrown.
 */
import { Agent } from "undici";
import type { ApiSnapshot } from "./api";
import type { PreflightTarget } from "./findings";
import { pveGet } from "./pveClient";
import { requiredPaths, requirements } from "./requirements";

export interface ClientOptions {
  /** kantai:proxmoxEndpoint, e.g. https://10.15.40.20:8006/ */
  readonly endpoint: string;
  /** kantai:proxmoxApiToken, "user@realm!tokenid=<uuid>". */
  readonly token: string;
  /** kantai:proxmoxInsecure: accept any certificate. */
  readonly insecure: boolean;
  /** Extra CA certificate(s) to trust (PEM), e.g. the node's /etc/pve/pve-root-ca.pem. */
  readonly ca?: string;
  /** Per-request timeout, ms. Defaults to 15 s. */
  readonly timeoutMs?: number;
}

/** Split "user@realm!tokenid=secret" as Proxmox writes it (the id holds no "="). */
export function splitToken(token: string): { id: string; secret: string } | undefined {
  const i = token.indexOf("=");
  if (i < 0) return undefined;
  const id = token.slice(0, i);
  const secret = token.slice(i + 1);
  // the token shape pveum prints: user@realm!tokenid=<uuid> (pve-docs, pveum "API Tokens")
  if (
    !/^[^@\s]+@[^!\s]+![^=\s]+$/.test(id) ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(secret)
  )
    return undefined;
  return { id, secret };
}

function message(e: unknown): string {
  const err = e as Error & { cause?: { message?: string; code?: string; cause?: { code?: string; message?: string } } };
  const cause = err.cause?.cause?.code ?? err.cause?.code ?? err.cause?.cause?.message ?? err.cause?.message;
  return `${err.message ?? String(e)}${cause && !String(err.message).includes(cause) ? ` (${cause})` : ""}`.replace(
    /PVEAPIToken=[^\s"]+/g,
    "PVEAPIToken=[secret]",
  );
}

/** Call the API for everything the target needs checked. */
export async function collectSnapshot(t: PreflightTarget, opts: ClientOptions): Promise<ApiSnapshot> {
  const url = new URL(opts.endpoint);
  const tok = splitToken(opts.token);
  const failures: Record<string, string> = {};
  // Filled as answers come; the response types are the API's (lib/preflight/api.ts), not checked here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const snap: { -readonly [K in keyof ApiSnapshot]?: any } & {
    nodeStorage: Record<string, unknown>;
    permissions: Record<string, unknown>;
    repositories: Record<string, unknown>;
    subscription: Record<string, unknown>;
  } = {
    nodeStorage: {},
    permissions: {},
    repositories: {},
    subscription: {},
    failures,
  };
  if (!tok) {
    failures["kantai:proxmoxApiToken"] = 'is not "user@realm!tokenid=<lowercase uuid>": no API call made';
    return snap as unknown as ApiSnapshot;
  }
  const dispatcher = new Agent({
    connect: opts.insecure ? { rejectUnauthorized: false } : opts.ca ? { ca: opts.ca } : {},
  });
  const base = `${url.protocol === "http:" ? "http" : "https"}://${url.hostname}:${url.port || 8006}/api2/json`;
  const get = <T = unknown>(p: string, query?: Record<string, string>) =>
    pveGet<T>({ base, tokenId: tok.id, secret: tok.secret, dispatcher, timeoutMs: opts.timeoutMs ?? 15_000 }, p, query);
  const call = async <T>(where: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      failures[where] = message(e);
      return undefined;
    }
  };
  try {
    snap.version = await call("GET /version", () => get("/version"));
    if (!snap.version) return snap as unknown as ApiSnapshot; // unreachable or refused: the rest would fail alike
    snap.nodes = await call("GET /nodes", () => get("/nodes"));
    snap.storageConfig = await call("GET /storage", () => get("/storage"));
    const nodes = [
      ...new Set([
        t.image.node,
        t.networkNode,
        ...t.templates.map((x) => x.node),
        ...t.vms.map((x) => x.node),
        ...t.nodes.map((n) => n.name),
      ]),
    ];
    for (const n of nodes) {
      const list = await call(`GET /nodes/${n}/storage`, () => get(`/nodes/${n}/storage`));
      if (list) snap.nodeStorage[n] = list;
    }
    for (const p of requiredPaths(requirements(t))) {
      const perms = (await call(`GET /access/permissions?path=${p}`, () => get("/access/permissions", { path: p }))) as
        Record<string, Record<string, number>> | undefined;
      if (perms) snap.permissions[p] = perms[p] ?? {};
    }
    snap.resources = await call("GET /cluster/resources?type=vm", () => get("/cluster/resources", { type: "vm" }));
    snap.imageContent = await call(
      `GET /nodes/${t.image.node}/storage/${t.storage.images}/content?content=import`,
      () => get(`/nodes/${t.image.node}/storage/${t.storage.images}/content`, { content: "import" }),
    );
    for (const n of t.nodes.map((x) => x.name)) {
      const repos = await call(`GET /nodes/${n}/apt/repositories`, () => get(`/nodes/${n}/apt/repositories`));
      if (repos) snap.repositories[n] = repos;
      const sub = await call(`GET /nodes/${n}/subscription`, () => get(`/nodes/${n}/subscription`));
      if (sub) snap.subscription[n] = sub;
    }
    return snap as unknown as ApiSnapshot;
  } finally {
    await dispatcher.close();
  }
}
