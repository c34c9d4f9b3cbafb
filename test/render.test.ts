import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contentSerial, renderZone } from "../lib/render/bind";
import { renderLoadBalancerCaddyfile, siteWords } from "../lib/render/caddy";
import { renderUserData } from "../lib/render/cloudInit";
import { isDnsLabel, isDnsName, numberWord } from "../lib/render/dnsName";
import { heredocFile } from "../lib/render/hostScripts";
import { intToIp, ipToInt, isHostAddress, parseSubnet, subnetContains } from "../lib/net/ipv4";

describe("zone serial", () => {
  const base = { domain: "hosts.pve", gatewayAddress: "10.15.40.20" };
  const serialOf = (z: string) => Number(/^\s+(\d+)\s+; serial/m.exec(z)![1]);

  it("is stable for the same content and changes when any record or timer changes", () => {
    const s = serialOf(renderZone(base));
    expect(serialOf(renderZone(base))).toBe(s);
    expect(serialOf(renderZone({ ...base, gatewayAddress: "10.15.40.21" }))).not.toBe(s);
    expect(serialOf(renderZone({ ...base, ttl: "1d" }))).not.toBe(s);
    expect(serialOf(renderZone({ ...base, records: { grogu: "10.0.0.10" } }))).not.toBe(s);
  });

  it("stays in the valid serial range", () => {
    fc.assert(
      fc.property(fc.string(), (body) => {
        const s = contentSerial(body);
        return Number.isInteger(s) && s >= 1 && s <= 0x7fffffff;
      }),
    );
  });
});

describe("site names", () => {
  it.each([
    [1, "one"],
    [5, "five"],
    [13, "thirteen"],
    [21, "twenty-one"],
    [40, "forty"],
    [105, "one-hundred-five"],
    [999, "nine-hundred-ninety-nine"],
  ])("%i → %s", (n, w) => expect(numberWord(n)).toBe(w));

  it("are distinct valid DNS labels for every fleet size", () => {
    const words = siteWords(999);
    expect(new Set(words).size).toBe(999);
    for (const w of words) expect(isDnsLabel(w), w).toBe(true);
  });

  it("site k of the load balancer lists exactly the first k backends", () => {
    const backends = ["10.0.0.30:3000", "10.0.0.31:3000", "10.0.0.32:3000"];
    const text = renderLoadBalancerCaddyfile({ domain: "d.test", backends });
    expect(text).toContain("http://one.standalone.d.test {\n\treverse_proxy 10.0.0.30:3000 {");
    expect(text).toContain(
      "http://three.standalone.d.test {\n\treverse_proxy 10.0.0.30:3000 10.0.0.31:3000 10.0.0.32:3000 {",
    );
    expect(text).not.toContain("four.");
  });
});

describe("DNS names", () => {
  it.each(["hosts.pve", "a.b-c.example", "x", "hosts.pve."])("accepts %s", (n) => expect(isDnsName(n)).toBe(true));
  it.each(["", "hosts..pve", "-a.pve", "a-.pve", "a_b.pve", "a".repeat(64) + ".pve"])("rejects %j", (n) =>
    expect(isDnsName(n)).toBe(false),
  );
});

describe("IPv4 helpers", () => {
  it("round-trip every address", () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => intToIp(ipToInt(ip)) === ip));
  });

  it("agree with ipaddr.js on subnet membership", async () => {
    const ipaddr = await import("ipaddr.js");
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (net, ip, prefix) => {
        const s = parseSubnet(`${net}/${prefix}`)!;
        const expected = ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parse(net), prefix);
        return subnetContains(s, ip) === expected;
      }),
    );
  });

  it("excludes network and broadcast addresses from hosts", () => {
    const s = parseSubnet("10.0.0.0/24")!;
    expect(isHostAddress(s, "10.0.0.0")).toBe(false);
    expect(isHostAddress(s, "10.0.0.255")).toBe(false);
    expect(isHostAddress(s, "10.0.0.1")).toBe(true);
    expect(parseSubnet("10.0.0.0/33")).toBeUndefined();
    expect(parseSubnet("10.0.0/24")).toBeUndefined();
  });
});

describe("cloud-init", () => {
  it("refuses to render a VM nobody can log in to", () => {
    expect(() => renderUserData({ hostname: "x", sshAuthorizedKeys: [] })).toThrow(
      "at least one SSH public key is required",
    );
  });
});

describe("heredoc embedding", () => {
  it("refuses content that contains its delimiter", () => {
    expect(() => heredocFile("/x", "a\nKANTAI_EOF\nb")).toThrow("contains the delimiter KANTAI_EOF");
  });
});
