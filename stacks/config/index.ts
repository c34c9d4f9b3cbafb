/**
 * kantai's configuration, the one place `kantai:*` keys are read and validated (stacks/config/):
 *
 * - `load.ts`: the raw schema of every key, `parseConfig` / `loadConfig`;
 * - `compositions.ts`: what each composition requires and forbids, the platform cluster resolved
 *   once, and `StackConfig`, the union of `HomelabConfig | EdgeConfig | LabConfig`;
 * - one file per area: `proxmox.ts` (host, network, image, templates, fleet, gateway), `clusters.ts`
 *   (grogu, K3s), `platform.ts` (Knative, tunnel, WebApps), `routing.ts`, `ci.ts`,
 *   `observability.ts`, `storage.ts`;
 * - `primitives.ts`: ConfigError, the schema primitives and the types the areas share (no area
 *   imports another's parser, so there is no import cycle);
 * - `placeholders.ts`: the refusal of the committed placeholders on real runs.
 *
 * Import from here (`./config`, `../stacks/config`), not from the files.
 */
export * from "./primitives";
export * from "./compositions";
export * from "./load";
export * from "./proxmox";
export * from "./clusters";
export * from "./platform";
export * from "./routing";
export * from "./ci";
export * from "./observability";
export * from "./storage";
export * from "./placeholders";
