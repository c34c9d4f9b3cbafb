import { loadConfig, type StackConfig } from "./config";
import { homelab } from "./homelab";
import { edge } from "./edge";
import { lab } from "./lab";
import type { Exported, EdgeOutputs, LabOutputs, StackOutputs } from "./outputs";
import type { StackResult } from "./parts";

/** Build the composition the config selects. */
export function build(cfg: StackConfig): StackResult<StackOutputs | Exported<EdgeOutputs> | Exported<LabOutputs>> {
  switch (cfg.composition) {
    case "homelab":
      return homelab(cfg);
    case "edge":
      return edge(cfg);
    case "lab":
      return lab(cfg);
  }
}

/** The program: read and validate config (before any resource exists), then build. */
export function run(): ReturnType<typeof build> {
  return build(loadConfig());
}
