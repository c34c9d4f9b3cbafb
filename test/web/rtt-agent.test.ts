/**
 * The RTT agent's statistics and exposition (web/rtt-agent.js), with a controlled clock. Its
 * behaviour over real sockets and a real Prometheus: test/latency.prometheus.test.ts.
 * Text format rules: https://prometheus.io/docs/instrumenting/exposition_formats/ (label values
 * escape `\`, `"` and newline; `# HELP`/`# TYPE` before the samples of a family).
 */
import { describe, expect, it } from "vitest";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const agent = require("../../web/rtt-agent.js");

describe("RTT agent statistics", () => {
  it("takes the median of the answers in the window; timeouts are counted, never averaged in", () => {
    const s = new agent.PeerStats(10_000, 3, 0.3);
    [10, 12, 11].forEach((ms, k) => s.ok(1000 * k, ms));
    s.fail(3000, "timeout");
    s.fail(3500, "error");
    expect(s.view(4000)).toEqual({ medianMs: 11, ewmaMs: expect.any(Number), samples: 3, lost: 2 });
    expect([s.timeouts, s.errors, s.probes]).toEqual([1, 1, 5]);
  });

  it("counts an answer far above the median as an outlier and keeps it out of the EWMA", () => {
    const s = new agent.PeerStats(10_000, 3, 0.5);
    [10, 10, 10].forEach((ms, k) => s.ok(k, ms));
    s.ok(4, 500);
    expect(s.outliers).toBe(1);
    expect(s.view(5).ewmaMs).toBe(10);
    expect(s.view(5).medianMs).toBe(10);
  });

  it("forgets a silent peer after the window: no value at all, not 0", () => {
    const s = new agent.PeerStats(2000, 3, 0.3);
    s.ok(0, 20);
    for (let t = 500; t <= 3000; t += 500) s.fail(t, "timeout");
    expect(s.view(3000)).toBeUndefined();
  });

  it("exposes only measured pairs, escapes label values, and names the environment key on bad options", () => {
    const a = new agent.Agent(agent.optionsFrom({ NODE_NAME: 'n"1', PEERS: "b=127.0.0.1:1,c\\x=127.0.0.1:2" }));
    const [b, c] = a.peerList();
    b.stats.ok(Date.now(), 5);
    c.stats.fail(Date.now(), "timeout");
    const text: string = agent.renderMetrics(a, Date.now());
    expect(text).toContain('latency_between_nodes{from="n\\"1",to="b"} 5\n');
    expect(text).not.toMatch(/latency_between_nodes\{[^}]*to="c\\\\x"\}/);
    expect(text).toContain('rtt_agent_peer_up{from="n\\"1",to="c\\\\x"} 0\n');
    expect(text).toContain('rtt_agent_probe_timeouts_total{from="n\\"1",to="c\\\\x"} 1\n');
    expect(() => agent.optionsFrom({ PEERS: "a=h:1" })).toThrow("NODE_NAME: is required");
    expect(() => agent.optionsFrom({ NODE_NAME: "a" })).toThrow("PEERS or PEER_DNS: one is required");
    expect(() => agent.optionsFrom({ NODE_NAME: "a", PEERS: "b" })).toThrow('PEERS: "b" is not name=host:port');
    expect(() => agent.optionsFrom({ NODE_NAME: "a", PEERS: "b=h:1", INTERVAL_MS: "5000", WINDOW_MS: "1000" })).toThrow(
      "WINDOW_MS: must be at least INTERVAL_MS (5000)",
    );
  });
});
