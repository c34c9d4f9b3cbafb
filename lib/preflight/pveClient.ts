/**
 * The few lines of Proxmox VE API client preflight needs: authenticated GETs that unwrap pveproxy's
 * `{"data": …}` envelope. Written here rather than taken from the `proxmox-api` npm package, whose
 * GPL-3.0 licence does not fit kantai's Apache-2.0 (decision 0022).
 *
 * Upstream rules (pve-docs, "Proxmox VE API" and pveum "API Tokens"):
 * - base URL `https://<host>:8006/api2/json`, parameters of a GET in the query string;
 * - an API token authenticates with the header `Authorization: PVEAPIToken=USER@REALM!TOKENID=UUID`;
 * - every JSON answer is `{"data": …}`; an error is an HTTP status whose reason phrase carries the
 *   message (e.g. `401 authentication failure`, `501 Method 'GET /x' not implemented`).
 * No @pulumi.
 */
import { fetch, type Dispatcher } from "undici";

export interface PveTarget {
  /** e.g. https://10.15.40.20:8006/api2/json */
  readonly base: string;
  /** user@realm!tokenid */
  readonly tokenId: string;
  readonly secret: string;
  /** TLS settings (CA, insecure) live on the dispatcher. */
  readonly dispatcher?: Dispatcher;
  readonly timeoutMs: number;
}

/** GET `path` (e.g. "/nodes") and return its `data`; throws an Error naming the method, URL and status. */
export async function pveGet<T = unknown>(t: PveTarget, path: string, query?: Record<string, string>): Promise<T> {
  const url = new URL(t.base.replace(/\/$/, "") + path);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(url, {
      method: "GET",
      headers: { Authorization: `PVEAPIToken=${t.tokenId}=${t.secret}`, Accept: "application/json" },
      dispatcher: t.dispatcher,
      signal: AbortSignal.timeout(t.timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { message?: string; code?: string } };
    const cause = err.cause?.code ?? err.cause?.message;
    throw new Error(`GET ${url} failed: ${err.message}${cause ? ` (${cause})` : ""}`, { cause: e });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET ${url} returned ${res.status} ${res.statusText}`);
  }
  let body: { data?: T };
  try {
    body = (await res.json()) as { data?: T };
  } catch {
    throw new Error(`GET ${url} returned ${res.status} with a body that is not JSON`);
  }
  return body.data as T;
}
