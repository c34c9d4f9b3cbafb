/**
 * When the data plane cannot start — here the load balancer's Caddy rejects its file — the
 * processes already started are stopped and the work dir is removed before the error surfaces.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { liveProcesses, LocalFleet, synthInto } from "../../lib/e2e/localFleet";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-cleanup-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("LocalFleet start failure", () => {
  it("stops named and the web instances already running and removes the work dir", async () => {
    const synth = path.join(tmp, "synth");
    synthInto("dev", synth);
    const lb = path.join(synth, "files", "kenobi", "kenobi-6.Caddyfile");
    fs.writeFileSync(lb, fs.readFileSync(lb, "utf8").replace("lb_policy least_conn", "lb_policy no_such_policy"));

    const err = await LocalFleet.start({ synthDir: synth, instances: 2 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /^caddy-lb exited before listening on 127\.0\.0\.1:\d+: code 1 signal null; log (\S+)\/logs\/caddy-lb\.log:\n/,
    );
    expect(err?.message).toContain("no_such_policy");
    const dir = /; log (\S+)\/logs\/caddy-lb\.log/.exec(err!.message)![1];
    expect(dir.startsWith(path.join(os.tmpdir(), "kantai-fleet-"))).toBe(true);
    expect(liveProcesses()).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
