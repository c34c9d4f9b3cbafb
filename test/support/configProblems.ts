import { expect } from "vitest";
import { ConfigError, parseConfig } from "../../stacks/config";

/** Parse and return the "key: message" lines of the ConfigError (the test fails if none is thrown). */
export function problems(raw: Record<string, unknown>, ctx?: Parameters<typeof parseConfig>[1]): string[] {
  try {
    parseConfig(raw, ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.key}: ${i.message}`);
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}
