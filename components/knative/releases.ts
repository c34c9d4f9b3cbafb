/**
 * Release manifests as the program applies them: from their upstream location or a mirror
 * (`kantai:releases.mirror`), and — where `kantai:releases.sha256.<key>` pins one — verified
 * before anything of it is applied.
 *
 * A pinned manifest is read by the program itself (a local file, or an HTTP(S) GET), hashed, and
 * written to a content-addressed file in the OS temp directory (`kantai-releases/<sha256>.yaml`);
 * the ConfigFile applies that file, so the provider reads exactly the bytes that were verified
 * (the provider runs on the same machine as the program). An unpinned manifest is handed to the
 * provider by location, as before.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { releaseLocation, type ReleaseManifest, type ReleaseMirror } from "../../lib/render/knative";

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Read a manifest's bytes from a local path or an http(s) URL. */
export async function readRelease(location: string, fetchTimeoutMs = 120_000): Promise<Uint8Array> {
  if (!/^https?:\/\//.test(location)) return readFileSync(location);
  const res = await fetch(location, { redirect: "follow", signal: AbortSignal.timeout(fetchTimeoutMs) });
  if (!res.ok) throw new Error(`GET ${location}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Read, hash and compare one pinned manifest; on success write it content-addressed under
 * `cacheDir` and return that path. Errors name the config key.
 */
export async function verifyRelease(
  r: ReleaseManifest,
  pin: string,
  mirror: ReleaseMirror | undefined,
  cacheDir = join(tmpdir(), "kantai-releases"),
): Promise<string> {
  const key = `kantai:releases.sha256.${r.key}`;
  const location = releaseLocation(r, mirror);
  let bytes: Uint8Array;
  try {
    bytes = await readRelease(location);
  } catch (e) {
    throw new pulumi.RunError(`${key}: cannot read ${location} to verify it: ${(e as Error).message}`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== pin) {
    throw new pulumi.RunError(
      `${key}: ${location} has sha256 ${actual}, not the pinned ${pin}; nothing from it was applied (fix the mirror or the pin)`,
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `${actual}.yaml`);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, bytes);
  renameSync(partial, path);
  return path;
}

/** What Knative needs to place and verify its release manifests. */
export interface ReleaseSource {
  /** A base URL or local directory standing in for every release location. Defaults to upstream. */
  readonly mirror?: ReleaseMirror;
  /** sha256 (hex) by release key; pinned manifests are verified before anything is applied. */
  readonly sha256?: Readonly<Record<string, string>>;
}

/**
 * The `file` input of each release's ConfigFile. With any pin, every file waits for every pinned
 * manifest to verify, so a mismatch stops all release manifests, not only the one that failed.
 */
export function releaseFiles(
  releases: readonly ReleaseManifest[],
  source: ReleaseSource = {},
): Record<string, pulumi.Input<string>> {
  const pins = source.sha256 ?? {};
  const pinned = releases.filter((r) => pins[r.key] !== undefined);
  if (pinned.length === 0) return Object.fromEntries(releases.map((r) => [r.key, releaseLocation(r, source.mirror)]));
  const verified = pulumi.output(
    Promise.all(pinned.map(async (r) => [r.key, await verifyRelease(r, pins[r.key], source.mirror)] as const)).then(
      (e) => Object.fromEntries(e) as Record<string, string>,
    ),
  );
  return Object.fromEntries(
    releases.map((r) => [r.key, verified.apply((v) => v[r.key] ?? releaseLocation(r, source.mirror))]),
  );
}
