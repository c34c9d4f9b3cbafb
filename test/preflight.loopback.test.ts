// preflight's real request path: lib/preflight/pveClient.ts (undici fetch, TLS, token header) against
// a real HTTPS server on 127.0.0.1 that answers with the recorded PVE 8.4 responses
// (test/fixtures/preflight). The server is a SIMULATED Proxmox API: it serves recorded data and
// checks only the token; what it proves is the client side (requests, TLS, parsing of the
// `{"data": …}` envelope with pveproxy's content type "application/json;charset=UTF-8").
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiChecks } from "../lib/preflight/api";
import { collectSnapshot } from "../lib/preflight/client";
import { formatFindings } from "../lib/preflight/findings";
import { preflight } from "../scripts/preflight";
import { readStackFile } from "../scripts/synth/stackFile";
import { devTarget, RECORDING, snapshotOf } from "./support/preflight";

const REPO = path.resolve(__dirname, "..");
const SECRET = crypto.randomUUID();
const TOKEN = `kantai@pve!deploy=${SECRET}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-preflight-tls-"));
const requests: { method: string; url: string; auth?: string }[] = [];
let server: https.Server;
let endpoint: string;
let cert: string;

beforeAll(async () => {
  // a self-signed certificate for 127.0.0.1, made by the real openssl
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=pve.test",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      path.join(tmp, "key.pem"),
      "-out",
      path.join(tmp, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  cert = fs.readFileSync(path.join(tmp, "cert.pem"), "utf8");
  server = https.createServer({ key: fs.readFileSync(path.join(tmp, "key.pem")), cert }, (req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization });
    const send = (status: number, reason: string, body: unknown) => {
      res.writeHead(status, reason, { "Content-Type": "application/json;charset=UTF-8" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `PVEAPIToken=${TOKEN}`)
      return send(401, "authentication failure", { data: null });
    const u = new URL(req.url ?? "/", "https://127.0.0.1");
    const query = [...u.searchParams].map(([k, v]) => `${k}=${v}`).join("&");
    const key = u.pathname.replace(/^\/api2\/json/, "") + (query ? `?${query}` : "");
    if (!(key in RECORDING)) return send(501, `Method 'GET ${key}' not implemented`, { data: null });
    send(200, "OK", { data: RECORDING[key] });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("preflight through its Proxmox API client on loopback HTTPS", () => {
  const t = devTarget();

  it("collects the same snapshot the recording holds, with GETs carrying the token", async () => {
    requests.length = 0;
    const snap = await collectSnapshot({ ...t, endpoint }, { endpoint, token: TOKEN, insecure: false, ca: cert });
    expect(snap).toEqual(snapshotOf(t, RECORDING));
    expect(new Set(requests.map((r) => r.method))).toEqual(new Set(["GET"]));
    expect(requests.every((r) => r.auth === `PVEAPIToken=${TOKEN}`)).toBe(true);
    expect(requests[0].url).toBe("/api2/json/version");
    expect(requests.map((r) => r.url)).toContain(
      "/api2/json/access/permissions?path=%2Fsdn%2Fzones%2Flocalnetwork%2Fvmbr2",
    );
    expect(problemsOf(apiChecks(t, snap))).toEqual([]);
  });

  it("an untrusted certificate is refused unless proxmoxInsecure", async () => {
    const snap = await collectSnapshot(t, { endpoint, token: TOKEN, insecure: false });
    expect(Object.keys(snap.failures)).toEqual(["GET /version"]);
    expect(snap.failures["GET /version"]).toMatch(
      /^GET https:\/\/127\.0\.0\.1:\d+\/api2\/json\/version failed: .*(SELF_SIGNED|self-signed)/,
    );
    const [f] = apiChecks(t, snap);
    expect(f.fix).toBe(
      "the API's certificate is not trusted: install a trusted one, or pulumi config set proxmoxInsecure true --stack dev",
    );
    const insecure = await collectSnapshot(t, { endpoint, token: TOKEN, insecure: true });
    expect(insecure.failures).toEqual({});
  });

  it("a wrong token: the 401 is reported, the secret is not", async () => {
    const wrong = `kantai@pve!deploy=${crypto.randomUUID()}`;
    const snap = await collectSnapshot(t, { endpoint, token: wrong, insecure: false, ca: cert });
    expect(Object.keys(snap.failures)).toEqual(["GET /version"]);
    expect(snap.failures["GET /version"]).toMatch(/returned 401 authentication failure/);
    expect(JSON.stringify(snap.failures)).not.toContain(wrong.split("=")[1]);
    expect(apiChecks(t, snap)[0].fix).toBe(
      "check kantai:proxmoxApiToken: pulumi config set --secret proxmoxApiToken 'user@realm!tokenid=<secret uuid>' --stack dev",
    );
  });

  it("nothing listening: the fix names the endpoint and the route", async () => {
    const closed = https.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const snap = await collectSnapshot(t, {
      endpoint: `https://127.0.0.1:${port}/`,
      token: TOKEN,
      insecure: true,
      timeoutMs: 5000,
    });
    const [f] = apiChecks({ ...t, endpoint: `https://127.0.0.1:${port}/` }, snap);
    expect(f.message).toMatch(/ECONNREFUSED/);
    expect(f.fix).toBe(
      `cannot reach https://127.0.0.1:${port}/: check kantai:proxmoxEndpoint and the route from this machine to port 8006`,
    );
  });

  it("npm run preflight's whole path for the dev stack (token from PROXMOX_VE_API_TOKEN, SSH off)", async () => {
    const { config, secretKeys } = readStackFile(path.join(REPO, "Pulumi.dev.yaml"));
    config["kantai:proxmoxEndpoint"] = endpoint;
    config["kantai:proxmoxInsecure"] = "false";
    const caFile = path.join(tmp, "cert.pem");
    const findings = await preflight({
      stack: "dev",
      root: REPO,
      api: true,
      ssh: false,
      ca: caFile,
      env: { PROXMOX_VE_API_TOKEN: TOKEN },
      loaded: { config, secretKeys, secretsKnown: false, source: "test" },
    });
    const text = formatFindings(findings);
    // what is left are the stack file's own placeholders: the host is fine
    expect(problemsOf(findings).map((f) => `${f.level} ${f.where}`)).toEqual([
      "error Pulumi.dev.yaml encryptionsalt",
      "error kantai:sshPublicKeys[0]",
    ]);
    expect(text).toContain("ok    [version] /version: Proxmox VE 8.4 (pve-manager 8.4.1)");
    expect(text).toContain("skip  [ssh] nodes: --no-ssh");
    expect(text.split("\n").pop()).toMatch(/^preflight: 2 error\(s\), 0 warning\(s\), \d+ passed, 2 skipped$/);
  });
});

function problemsOf(fs: ReturnType<typeof apiChecks>) {
  return fs.filter((f) => f.level === "error" || f.level === "warning");
}
