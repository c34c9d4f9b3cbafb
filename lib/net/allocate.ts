/**
 * Consecutive address allocation inside a subnet, skipping one reserved address (the gateway).
 * Pure: no Pulumi, no I/O. The fleet's web VMs and its load balancer take their addresses from here
 * (stacks/config/proxmox.ts parseProxmox), in order, from the first address the user configured.
 */
import { intToIp, ipToInt, isHostAddress, lastHost, type Ipv4Subnet } from "./ipv4";

/** Not enough consecutive host addresses for a request. */
export class AddressRoomError extends Error {
  constructor(
    readonly needed: number,
    readonly room: number,
  ) {
    super(`${needed} consecutive addresses requested, but there is room for ${room}`);
    this.name = "AddressRoomError";
  }
}

/**
 * How many host addresses `first` and the ones after it offer up to the subnet's last host,
 * not counting `skip` when it lies in that range. 0 when `first` is not a host address of the subnet.
 */
export function consecutiveRoom(subnet: Ipv4Subnet, first: string, skip: string): number {
  if (!isHostAddress(subnet, first)) return 0;
  const start = ipToInt(first);
  let room = lastHost(subnet) - start + 1;
  const s = ipToInt(skip);
  if (s >= start && s <= lastHost(subnet)) room -= 1;
  return room;
}

/**
 * `count` host addresses of `subnet` in ascending order from `first`, passing over `skip`.
 * Throws AddressRoomError when the subnet has fewer (consecutiveRoom).
 */
export function allocateConsecutive(subnet: Ipv4Subnet, first: string, count: number, skip: string): string[] {
  const room = consecutiveRoom(subnet, first, skip);
  if (count > room) throw new AddressRoomError(count, room);
  const s = ipToInt(skip);
  const out: string[] = [];
  let cursor = ipToInt(first);
  while (out.length < count) {
    if (cursor === s) cursor += 1;
    out.push(intToIp(cursor++));
  }
  return out;
}
