/** Bad config stops the program before a single resource is registered. */
import { expect, it } from "vitest";
import { recordProgram, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";

it("registers no resource when the config is invalid", async () => {
  const { config, secretKeys } = devStackConfig();
  const fleet = JSON.parse(config["kantai:fleet"]);
  fleet.size = 0;
  config["kantai:fleet"] = JSON.stringify(fleet);
  const { run } = await import("../stacks");
  const seen: RecordedResource[] = [];
  await expect(
    recordProgram(() => run(), { config, secretKeys }).then((r) => seen.push(...r.resources)),
  ).rejects.toThrow("kantai:fleet.size: the fleet needs at least 1 web VM");
  expect(seen).toEqual([]);
});
