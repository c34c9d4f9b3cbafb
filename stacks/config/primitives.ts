/**
 * What every config area shares: the error type and its key paths, the schema primitives (written
 * once), the VM bookkeeping the Proxmox, cluster and CI areas record their claims in, and the
 * resolved types more than one area reads (the network, the templates). Imports no other config
 * file, so the areas import this one and not each other: there is no import cycle.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { isIpv4, parseSubnet } from "../../lib/net/ipv4";
import { isDnsLabel, isDnsName } from "../../lib/render/dnsName";
import { CPU_QUANTITY, K8S_NAME, MEMORY_QUANTITY } from "../../lib/render/k8s";

/** The config namespace (the project name in Pulumi.yaml). */
export const NAMESPACE = "kantai";

/** A config problem, with the full key path (e.g. `kantai:fleet.loadBalancer.ip`). */
export interface ConfigIssue {
  readonly key: string;
  readonly message: string;
}

/**
 * Thrown for any invalid configuration; the message lists every issue, one per line. A RunError, so
 * `pulumi preview`/`up` print the message alone, never a stack trace (@pulumi/pulumi cmd/run/run.js:
 * "Always hide the stack for RunErrors"; any other Error is printed as "Running program … failed
 * with an unhandled exception" with its stack).
 */
export class ConfigError extends pulumi.RunError {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `invalid kantai configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  - ${i.key}: ${i.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Records one problem; `key` is without the "kantai:" prefix. */
export type Fail = (key: string, message: string) => void;

/** The full key of a path: `kantai:fleet.loadBalancer.ip`, `kantai:webapps[0].port`. */
export function keyOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return NAMESPACE;
  let out = NAMESPACE + ":";
  path.forEach((p, i) => {
    if (typeof p === "number") out += `[${p}]`;
    else out += (i === 0 ? "" : ".") + String(p);
  });
  return out;
}

/** `"a", "b"`: names in a message. */
export const quoted = (xs: Iterable<string>): string => [...xs].map((x) => `"${x}"`).join(", ");

// ---------------------------------------------------------------------------------------------
// Schema primitives.

export const ipv4 = z.string().refine(isIpv4, { message: "must be an IPv4 address like 10.0.0.30" });
export const cidr = z.string().refine((s) => parseSubnet(s) !== undefined, {
  message: "must be an IPv4 CIDR like 10.0.0.0/24",
});
export const dnsName = z.string().refine(isDnsName, {
  message: "must be a DNS name (dot-separated labels of letters, digits and inner hyphens)",
});
export const dnsLabel = z.string().refine(isDnsLabel, {
  message: "must be a DNS label (1-63 letters, digits and inner hyphens)",
});
export const vmId = z.number().int().min(100, "VM IDs start at 100").max(999_999_999);
export const cores = z.number().int("must be a whole number").min(1, "at least 1 core").max(128, "at most 128 cores");
export const memoryMb = z
  .number()
  .int("must be a whole number")
  .min(256, "at least 256 MB")
  .max(1_048_576, "at most 1 TiB");
export const diskGb = z.number().int().min(4, "at least 4 GB").max(65_536);
export const port = z.number().int().min(1).max(65_535);
export const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name");
export const k8sName = z
  .string()
  .regex(K8S_NAME, "must be a Kubernetes name (lower-case letters, digits and inner '-', at most 63)");
export const cpu = z.string().regex(CPU_QUANTITY, 'must be a CPU quantity like "250m", "0.5" or "1"');
export const memory = z.string().regex(MEMORY_QUANTITY, 'must be a memory quantity like "50Mi", "512M" or "1Gi"');
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

// ---------------------------------------------------------------------------------------------
// Resolved values more than one area reads.

export interface NetworkConfig {
  readonly node: string;
  readonly bridge: string;
  /** Canonical network CIDR, e.g. "10.0.0.0/24". */
  readonly cidr: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly uplink: string;
}

export interface TemplateConfig {
  /** Key in `templates`, e.g. "standalone". */
  readonly key: string;
  readonly vmId: number;
  readonly cores: number;
  readonly memoryMb: number;
  readonly diskGb: number;
  readonly node: string;
  /** Unprotect for this run and let an edit replace the template. */
  readonly allowReplace: boolean;
}

/**
 * The VMs' bookkeeping (stacks/config/proxmox.ts keeps it): VM IDs, addresses and names are unique
 * across templates, the fleet, grogu, cluster VMs and the CI runner; addresses are on the bridge.
 */
export interface VmBook {
  /** Claim a VM's ID, address or name across the whole stack (reports duplicates with both owners). */
  claim(kind: "id" | "ip" | "name", value: number | string, key: string, what: string): void;
  /** Report a VM address outside the bridge subnet or equal to the gateway. */
  checkVmIp(key: string, ip: string, what: string): void;
  /** Check a configured Proxmox node name for a VM (known, and network.node); returns it or the fallback. */
  vmNode(key: string, name: string | undefined, fallback: string): string;
}
