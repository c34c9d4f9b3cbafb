import { loadConfig, type StackConfig } from "./config";
import { homelab, type StackResult } from "./homelab";
import type { StackOutputs } from "./outputs";

/** Build the composition the config selects. */
export function build(cfg: StackConfig): StackResult<StackOutputs> {
  switch (cfg.composition) {
    case "homelab":
      return homelab(cfg);
  }
}

/** The program: read and validate config (before any resource exists), then build. */
export function run(): StackResult<StackOutputs> {
  return build(loadConfig());
}
