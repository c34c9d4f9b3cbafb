/**
 * Bad config stops the program before a single resource is registered.
 *
 * Two registration hooks record every resource, and both record even when the program throws:
 * - a stack transformation (pulumi.runtime.registerStackTransformation, installed before the
 *   program runs): Pulumi calls it synchronously inside every Resource constructor, before the
 *   registration is sent;
 * - the mock monitor's newResource (Pulumi's mock runtime, SIMULATED engine): every registration
 *   that reaches the "engine", including one made while a module is imported.
 * Both lists are filled as a side effect, never in a `.then` that a rejection would skip.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect, it, vi } from "vitest";
import { synthMocks } from "../scripts/synth/mocks";
import { recordProgram } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";

it("registers no resource when the config is invalid", async () => {
  const { config, secretKeys } = devStackConfig();
  const fleet = JSON.parse(config["kantai:fleet"]);
  fleet.size = 0;
  config["kantai:fleet"] = JSON.stringify(fleet);

  const transformed: string[] = [];
  const sentToEngine = vi.spyOn(synthMocks, "newResource");
  const { run } = await import("../stacks");
  const program = () => {
    pulumi.runtime.registerStackTransformation((a) => {
      transformed.push(`${a.type}::${a.name}`);
      return undefined;
    });
    return run();
  };

  await expect(recordProgram(program, { config, secretKeys })).rejects.toThrow(
    "kantai:fleet.size: the fleet needs at least 1 web VM",
  );
  expect(transformed).toEqual([]);
  // The root Stack is registered by the runtime before the program starts; nothing else may be.
  expect(sentToEngine.mock.calls.map(([a]) => `${a.type}::${a.name}`)).toEqual(["pulumi:pulumi:Stack::kantai-dev"]);
});
