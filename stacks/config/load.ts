/**
 * The one place where kantai reads and validates configuration.
 *
 * `loadConfig()` reads every `kantai:*` key of the selected stack, validates it with zod plus
 * cross-field rules (addresses inside subnets, unique VM ids/IPs/names, room in the subnet, known
 * template and node names, DNS names, ranges, required secrets, what each composition requires and
 * forbids) and returns a typed StackConfig (stacks/config/compositions.ts). A bad value throws a
 * ConfigError naming every offending key path before any resource exists. Components never read
 * config: they receive the typed values.
 *
 * Defaults live in the area files, once (the `.default(...)` calls). Pulumi.yaml declares the scalar
 * keys with the same defaults; a test keeps the two in step.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ciKeys, parseCi } from "./ci";
import { clusterKeys, parseClusters } from "./clusters";
import {
  assembleComposition,
  COMPOSITIONS,
  compositionRules,
  edgeOnly,
  resolvePlatformCluster,
  type StackConfig,
} from "./compositions";
import { observabilityKeys, parseObservability } from "./observability";
import { refusePlaceholders } from "./placeholders";
import { parsePlatform, platformKeys } from "./platform";
import { ConfigError, keyOf, NAMESPACE, type ConfigIssue } from "./primitives";
import { importFileName, parseGateway, parseProxmox, proxmoxKeys } from "./proxmox";
import { parseRouting, routingKeys } from "./routing";
import { isStorageReleaseKey, parseStorage, storageKeys } from "./storage";

/** Keys that must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["proxmoxApiToken", "sshPrivateKey"] as const;

/** Every key kantai reads, with its schema. Unknown `kantai:` keys are an error (typos). */
const rawSchema = z.strictObject({
  composition: z.enum(COMPOSITIONS).default("homelab"),
  ...proxmoxKeys(),
  ...clusterKeys(),
  ...platformKeys(),
  ...routingKeys(),
  ...ciKeys(),
  ...observabilityKeys(),
  ...storageKeys(),
});

function zodIssues(err: z.ZodError): ConfigIssue[] {
  return err.issues.map((i) => {
    if (i.code === "unrecognized_keys") {
      return {
        key: keyOf(i.path),
        message: `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}`,
      };
    }
    if (i.code === "invalid_type" && /is required|received undefined/.test(i.message)) {
      return { key: keyOf(i.path), message: /is required/.test(i.message) ? i.message : "is required" };
    }
    return { key: keyOf(i.path), message: i.message };
  });
}

/**
 * Validate raw config values (already JSON-decoded; keys without the namespace) and resolve
 * derived defaults. Pure apart from wrapping the secrets with `pulumi.secret`.
 * `secretKeys` lists the keys that were set as secrets; a required secret set in plaintext is an error.
 */
export function parseConfig(
  raw: Record<string, unknown>,
  ctx: { project?: string; stack?: string; secretKeys?: readonly string[] } = {},
): StackConfig {
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error));
  const r = parsed.data;
  const issues: ConfigIssue[] = [];
  const fail = (k: string, message: string) => issues.push({ key: `${NAMESPACE}:${k}`, message });

  if (ctx.secretKeys) {
    for (const s of SECRET_KEYS) {
      if (!ctx.secretKeys.includes(`${NAMESPACE}:${s}`)) {
        fail(s, `must be stored as a secret (pulumi config set --secret ${s} …), not in plaintext`);
      }
    }
  }

  // The areas, in the order their messages are reported.
  const px = parseProxmox(r, fail, () => issues.length === 0);
  const clusters = parseClusters(r, {
    fail,
    book: px.book,
    templates: px.templates,
    net: px.net,
    routedLabels: px.fleet ? [px.fleet.label] : [],
    secretKeys: ctx.secretKeys,
  });
  compositionRules(
    {
      composition: r.composition,
      k3sClusters: clusters.k3s.length,
      tunnel: r.tunnel !== undefined,
      fleet: r.fleet !== undefined,
      grogu: r.grogu !== undefined,
      kafka: r.knative?.eventing?.kafka !== undefined,
    },
    fail,
  );
  const cluster = resolvePlatformCluster(r, clusters.k3s, r.composition, fail);
  // csi-driver-nfs' pins are the storage area's (parseStorage); the platform checks the rest of kantai:releases.
  const platformRaw = r.releases
    ? {
        ...r,
        releases: {
          ...r.releases,
          sha256: Object.fromEntries(Object.entries(r.releases.sha256).filter(([k]) => !isStorageReleaseKey(k))),
        },
      }
    : r;
  const platform = parsePlatform(platformRaw, {
    fail,
    stack: ctx.stack ?? "dev",
    cluster,
    secretKeys: ctx.secretKeys,
  });
  const routing = edgeOnly("routing", r.routing !== undefined, r.composition, fail)
    ? parseRouting(r, { fail, cluster, platform })
    : {};
  const ci = parseCi(r, { fail, book: px.book, templates: px.templates, secretKeys: ctx.secretKeys });
  const observability = edgeOnly("observability", r.observability !== undefined, r.composition, fail)
    ? parseObservability(r, {
        fail,
        routing: r.routing,
        knative: platform.knative !== undefined,
        releasesMirror: r.releases?.mirror,
      })
    : {};
  const stateful = parseStorage(r, {
    fail,
    storageNodeAllowed: edgeOnly("storageNode", r.storageNode !== undefined, r.composition, fail),
    // The platform's cluster once the platform is configured (kantai:platformCluster or a platform key).
    cluster: platform.platformCluster !== undefined ? cluster : undefined,
    webapps: platform.webapps,
  });
  const gateway = parseGateway(r, px, fail);

  if (issues.length > 0) throw new ConfigError(issues);

  return assembleComposition(
    {
      project: ctx.project ?? NAMESPACE,
      stack: ctx.stack ?? "dev",
      composition: r.composition,
      domain: r.domain.replace(/\.$/, "").toLowerCase(),
      proxmox: {
        endpoint: r.proxmoxEndpoint,
        insecure: r.proxmoxInsecure,
        apiToken: pulumi.secret(r.proxmoxApiToken),
        sshUser: r.sshUser,
        sshPrivateKey: pulumi.secret(r.sshPrivateKey),
        nodes: r.proxmoxNodes,
        addresses: Object.fromEntries(r.proxmoxNodes.map((n) => [n.name, n.address])),
      },
      access: { vmUser: r.vmUser, sshPublicKeys: r.sshPublicKeys },
      network: px.net,
      image: { ...r.image, fileName: r.image.fileName ?? importFileName(r.image.url) },
      storage: r.storage,
      templates: px.templates,
      fleet: px.fleet,
      gateway,
      ...clusters,
      ...platform,
      ...routing,
      ...ci,
      ...observability,
      ...stateful,
    },
    cluster,
  );
}

/** Decode one config value as Pulumi stores it (objects, arrays, numbers and booleans are JSON). */
export function decodeConfigValue(v: string): unknown {
  const t = v.trim();
  if (/^[[{]/.test(t) || /^-?\d+(\.\d+)?$/.test(t) || t === "true" || t === "false") {
    try {
      return JSON.parse(t);
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * The `kantai:*` keys of a Pulumi config map, decoded, without the namespace. An empty string means
 * "unset": Pulumi makes a key declared in Pulumi.yaml without a default mandatory, so optional
 * declared keys carry the default "".
 */
export function rawFromConfigMap(all: Readonly<Record<string, string>>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${NAMESPACE}:`) || v === "") continue;
    raw[k.slice(NAMESPACE.length + 1)] = decodeConfigValue(v);
  }
  return raw;
}

/** Read every `kantai:*` key of the current stack and validate it. Call once, before creating resources. */
export function loadConfig(): StackConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    allConfig(): Record<string, string>;
    isConfigSecret?(k: string): boolean;
  };
  const all = runtimeConfig.allConfig();
  const raw = rawFromConfigMap(all);
  refusePlaceholders(raw, { stack: pulumi.getStack() }); // real runs only (stacks/config/placeholders.ts)
  const secretKeys = Object.keys(all).filter((k) => runtimeConfig.isConfigSecret?.(k));
  return parseConfig(raw, {
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    secretKeys: runtimeConfig.isConfigSecret ? secretKeys : undefined,
  });
}
