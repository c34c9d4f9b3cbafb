/**
 * A FAKE Kubernetes API for the re-planner's tests — its boundary, recorded: an HTTP server on
 * loopback that keeps ConfigMaps in memory, answers GET and PATCH
 * /api/v1/namespaces/{ns}/configmaps/{name} like the API server does for these two calls
 * (404 Status for an unknown object; PATCH applies an RFC 7386 JSON merge patch and insists on
 * `Content-Type: application/merge-patch+json`,
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply), and records
 * every request. It is not an API server: the local control plane is another issue's work; once
 * it exists the same test can point the re-planner at it.
 */
import * as http from "node:http";

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly authorization?: string;
  readonly body?: any;
}

function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export async function startFakeKube(
  configMaps: Record<string, any>,
): Promise<{ url: string; requests: RecordedRequest[]; store: Record<string, any>; close(): Promise<void> }> {
  const store: Record<string, any> = structuredClone(configMaps);
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const parsed = body ? JSON.parse(body) : undefined;
      requests.push({
        method: req.method!,
        path: req.url!,
        contentType: req.headers["content-type"],
        authorization: req.headers.authorization,
        body: parsed,
      });
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(obj));
      };
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/?]+)$/.exec(req.url ?? "");
      if (!m) return send(404, { kind: "Status", status: "Failure", reason: "NotFound", code: 404 });
      const key = `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`;
      if (!store[key])
        return send(404, {
          kind: "Status",
          status: "Failure",
          message: `configmaps "${m[2]}" not found`,
          reason: "NotFound",
          code: 404,
        });
      if (req.method === "GET") return send(200, store[key]);
      if (req.method === "PATCH") {
        if (req.headers["content-type"] !== "application/merge-patch+json")
          return send(415, { kind: "Status", status: "Failure", reason: "UnsupportedMediaType", code: 415 });
        store[key] = mergePatch(store[key], parsed);
        return send(200, store[key]);
      }
      send(405, { kind: "Status", status: "Failure", reason: "MethodNotAllowed", code: 405 });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, store, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * A stand-in for the proxies' Envoy stats (SIMULATED: no Envoy runs here): a loopback endpoint
 * exposing `envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="ingress"}` as a
 * counter growing at `rps` requests per second, the metric the re-planner's demand query reads.
 */
export async function startDemandExporter(
  host: string,
  rps: number,
): Promise<{ address: string; close(): Promise<void> }> {
  const t0 = Date.now();
  const server = http.createServer((_req, res) => {
    const v = Math.floor((rps * (Date.now() - t0)) / 1000);
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(
      `# TYPE envoy_http_downstream_rq_total counter\nenvoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="ingress"} ${v}\n`,
    );
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const { port } = server.address() as { port: number };
  return { address: `${host}:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
