import { describe, expect, it } from "vitest";
import { parseMonlat } from "../../lib/routing/monlat";
import { RoutingInputError } from "../../lib/routing/types";

const TEXT = `# HELP latency_between_nodes RTT in ms
# TYPE latency_between_nodes gauge
latency_between_nodes{from="edge",to="cloud1"} 51.5
latency_between_nodes{from="cloud1",to="edge"} 49.5
latency_between_nodes{from="cloud1",to="cloud2",instance="10.0.0.2:9090"} 0.8
latency_between_nodes{from="cloud2",to="edge"} 100 1700000000000
up{job="monlat"} 1
`;

describe("monlat parsing", () => {
  it("builds the RTT matrix, filling the missing direction and the diagonal", () => {
    expect(parseMonlat(TEXT)).toEqual({
      cloud1: { cloud1: 0, cloud2: 0.8, edge: 49.5 },
      cloud2: { cloud1: 0.8, cloud2: 0, edge: 100 },
      edge: { cloud1: 51.5, cloud2: 100, edge: 0 },
    });
  });

  it("keeps the last or the mean of repeated samples", () => {
    const text = 'latency_between_nodes{from="a",to="b"} 10\nlatency_between_nodes{from="a",to="b"} 20\n';
    expect(parseMonlat(text).a.b).toBe(20);
    expect(parseMonlat(text, { combine: "mean" }).a.b).toBe(15);
  });

  it("reports malformed lines by line number and missing pairs by field", () => {
    expect(() => parseMonlat('latency_between_nodes{from="a",to="b"} -1')).toThrow(
      "monlat:1: latency must be a non-negative number, got -1",
    );
    expect(() => parseMonlat('latency_between_nodes{from="a"} 3')).toThrow(
      "monlat:1: sample needs both from and to labels",
    );
    expect(() => parseMonlat('x\nlatency_between_nodes{from="a",to="b"} fast')).toThrow(
      "monlat:2: latency must be a non-negative number, got fast",
    );
    try {
      parseMonlat('latency_between_nodes{from="a",to="b"} 3', { nodes: ["a", "b", "c"] });
      throw new Error("expected an error");
    } catch (e) {
      expect(e).toBeInstanceOf(RoutingInputError);
      expect((e as RoutingInputError).issues.map((i) => i.path)).toEqual([
        "rttMs.a.c",
        "rttMs.b.c",
        "rttMs.c.a",
        "rttMs.c.b",
      ]);
    }
  });

  it("can require both directions", () => {
    expect(() => parseMonlat('latency_between_nodes{from="a",to="b"} 3', { symmetric: false })).toThrow(
      'rttMs.b.a: no monlat sample from "b" to "a"',
    );
  });
});
