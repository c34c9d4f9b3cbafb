import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fib, MAX_N } = require("../../web/server.js") as { fib: (n: number) => number; MAX_N: number };

describe("fib", () => {
  it.each([
    [0, 0],
    [1, 1],
    [2, 1],
    [10, 55],
    [20, 6765],
    [30, 832040],
  ])("fib(%i) = %i", (n, v) => {
    expect(fib(n)).toBe(v);
  });
});

describe("web service as a real process on loopback", () => {
  let child: ChildProcess;
  let base = "";

  beforeAll(async () => {
    child = spawn(process.execPath, [path.join(__dirname, "..", "..", "web", "server.js")], {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", INSTANCE: "kenobi-test" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const port = /:(\d+)\s*$/.exec(line.toString().trim())![1];
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it("GET / answers fib(30) exactly like the seed", async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('{"result":832040}');
    expect(r.headers.get("x-kantai-instance")).toBe("kenobi-test");
  });

  it("GET /:n answers fib(n)", async () => {
    const r = await fetch(`${base}/25`);
    expect(await r.json()).toEqual({ result: 75025 });
  });

  it.each(["abc", "-1", "1.5", String(MAX_N + 1), "1e3"])("GET /%s is a 400 with a reason", async (n) => {
    const r = await fetch(`${base}/${n}`);
    expect(r.status).toBe(400);
    expect((await r.json()).error).toMatch(/n must be an integer from 0 to 40/);
  });

  it("health check, unknown paths and methods", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/a/b`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(405);
  });
});
