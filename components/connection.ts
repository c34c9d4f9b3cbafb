import type * as command from "@pulumi/command";

/** SSH connection to a host, as @pulumi/command takes it (stored as a secret by the provider). */
export type SshConnection = command.types.input.remote.ConnectionArgs;
