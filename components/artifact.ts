import type * as pulumi from "@pulumi/pulumi";

/** What a rendered file is, so tools know which validator applies. */
export type ArtifactKind =
  "cloud-init" | "caddyfile" | "named-conf" | "bind-zone" | "kubernetes" | "shell" | "fstab" | "exports" | "other";

/**
 * A file a component renders and hands to a resource (a snippet, a script, a config written by a
 * script). Components list them so `npm run synth` can write them out and tests can validate them
 * with the real tools. The content is exactly what the resource receives.
 */
export interface Artifact {
  /** Relative path under synth's `files/`, e.g. "kenobi/kenobi-1.user-data.yaml". */
  readonly path: string;
  readonly kind: ArtifactKind;
  /** Name of the resource that carries the content. */
  readonly resource: string;
  readonly content: pulumi.Input<string>;
}
