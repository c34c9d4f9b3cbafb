/** Properties of the consecutive address allocator (lib/net/allocate.ts), with fast-check. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddressRoomError, allocateConsecutive, consecutiveRoom } from "../../lib/net/allocate";
import { intToIp, ipToInt, isHostAddress, lastHost, parseSubnet, type Ipv4Subnet } from "../../lib/net/ipv4";

/** A subnet (/22../30 inside 10.0.0.0/8), a first host address and a gateway host address in it. */
const setup = fc
  .record({ base: fc.integer({ min: 0, max: 2 ** 24 - 1 }), prefix: fc.integer({ min: 22, max: 30 }) })
  .chain(({ base, prefix }) => {
    const subnet = parseSubnet(`${intToIp(((10 << 24) >>> 0) + base)}/${prefix}`) as Ipv4Subnet;
    const host = fc.integer({ min: subnet.network + 1, max: lastHost(subnet) }).map(intToIp);
    return fc.record({ subnet: fc.constant(subnet), first: host, gateway: host });
  });

describe("allocateConsecutive", () => {
  it("gives distinct host addresses of the subnet, never the gateway, consecutive but for the gateway", () => {
    fc.assert(
      fc.property(setup, fc.integer({ min: 0, max: 1100 }), ({ subnet, first, gateway }, want) => {
        const room = consecutiveRoom(subnet, first, gateway);
        const count = Math.min(want, room);
        const got = allocateConsecutive(subnet, first, count, gateway);
        expect(got).toHaveLength(count);
        expect(new Set(got).size).toBe(count);
        for (const ip of got) {
          expect(isHostAddress(subnet, ip)).toBe(true);
          expect(ip).not.toBe(gateway);
        }
        if (count > 0) expect(got[0]).toBe(first === gateway ? intToIp(ipToInt(first) + 1) : first);
        for (let i = 1; i < got.length; i++) {
          const step = ipToInt(got[i]) - ipToInt(got[i - 1]);
          // One step, or two when the gateway sits between them.
          expect(step === 1 || (step === 2 && ipToInt(gateway) === ipToInt(got[i - 1]) + 1)).toBe(true);
        }
      }),
    );
  });

  it("uses the whole room: the address after the last one (or after the gateway) is outside the hosts", () => {
    fc.assert(
      fc.property(setup, ({ subnet, first, gateway }) => {
        const room = consecutiveRoom(subnet, first, gateway);
        const got = allocateConsecutive(subnet, first, room, gateway);
        const after = got.length > 0 ? ipToInt(got[got.length - 1]) + 1 : ipToInt(first);
        const next = after === ipToInt(gateway) ? after + 1 : after;
        expect(next).toBeGreaterThan(lastHost(subnet));
      }),
    );
  });

  it("refuses one address more than the room, saying how much room there is", () => {
    fc.assert(
      fc.property(setup, ({ subnet, first, gateway }) => {
        const room = consecutiveRoom(subnet, first, gateway);
        expect(() => allocateConsecutive(subnet, first, room + 1, gateway)).toThrow(
          new AddressRoomError(room + 1, room),
        );
      }),
    );
  });

  it("table: 10.0.0.0/24 from .30 with the gateway at .1, and a gateway inside the range", () => {
    const net = parseSubnet("10.0.0.0/24") as Ipv4Subnet;
    expect(allocateConsecutive(net, "10.0.0.30", 3, "10.0.0.1")).toEqual(["10.0.0.30", "10.0.0.31", "10.0.0.32"]);
    expect(allocateConsecutive(net, "10.0.0.30", 3, "10.0.0.31")).toEqual(["10.0.0.30", "10.0.0.32", "10.0.0.33"]);
    expect(consecutiveRoom(net, "10.0.0.250", "10.0.0.1")).toBe(5);
    expect(consecutiveRoom(net, "10.0.0.250", "10.0.0.252")).toBe(4);
    expect(consecutiveRoom(net, "10.0.1.5", "10.0.0.1")).toBe(0);
    expect(() => allocateConsecutive(net, "10.0.0.250", 6, "10.0.0.1")).toThrow(
      "6 consecutive addresses requested, but there is room for 5",
    );
  });
});
