import * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "../connection";

/** Dial retries for an ordinary step (the host is known to be up). */
export const DIAL = { dialErrorLimit: 10, perDialTimeout: 15 } as const;
/**
 * Dial retries for the step after a reboot or on a fresh VM. The provider backs off between
 * attempts (up to 5 s apart), so 100 refused or timed-out dials last roughly 8 to 20 minutes.
 */
export const DIAL_PATIENT = { dialErrorLimit: 100, perDialTimeout: 10 } as const;

/** Where kantai reaches a machine over SSH. */
export interface SshTarget {
  readonly host: string;
  readonly user: string;
  /** Defaults to 22. */
  readonly port?: number;
  /**
   * Jump host, for VMs on the Proxmox node's internal bridge: kantai reaches them through the
   * node it already manages over SSH.
   */
  readonly jump?: { readonly host: string; readonly user: string };
}

/** An SSH connection for `remote.Command` (a secret: it holds the private key). */
export function sshConnection(
  target: SshTarget,
  privateKey: pulumi.Input<string>,
  dial: { readonly dialErrorLimit: number; readonly perDialTimeout: number } = DIAL,
): pulumi.Output<SshConnection> {
  return pulumi.secret({
    host: target.host,
    user: target.user,
    ...(target.port !== undefined && target.port !== 22 ? { port: target.port } : {}),
    privateKey,
    ...dial,
    ...(target.jump ? { proxy: { host: target.jump.host, user: target.jump.user, privateKey, ...DIAL } } : {}),
  }) as pulumi.Output<SshConnection>;
}
